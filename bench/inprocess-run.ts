/**
 * One run of the in-process suite (lib/inprocess-suite.ts), in a process of
 * its own: a hub and our client's buses in this one process, connected by
 * hub.connect() ('inprocess') or over loopback TCP ('tcp'), then one
 * workload. Prints one JSON line: the metrics.
 *
 *   node dist/bench/inprocess-run.js '{"transport":"inprocess","workload":"w1",…}'
 *
 * W1: one publisher, one subscriber; the publisher awaits a flush every
 * `batch` messages with at most `inflight` unanswered, and stays at most
 * `window` messages ahead of the subscriber. msgs/s is counted at the
 * subscriber from the warm-up'th message to the last.
 * W4: `concurrency` requesters, each awaiting one request() at a time for
 * `durationMs`, against one handler; round trips per second.
 * `process µs/msg` (or /rt) is this process's CPU time (hub and clients
 * together) per message delivered or round trip, over the measured span.
 */
import { createHub, connect, type Bus, type Hub } from '../src/index.js';

interface RunSpec {
  transport: 'inprocess' | 'tcp';
  workload: 'w1' | 'w4';
  messages: number;
  size: number;
  batch: number;
  inflight: number;
  window: number;
  durationMs: number;
  concurrency: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as RunSpec;

async function bus(hub: Hub, name: string): Promise<Bus> {
  return spec.transport === 'inprocess' ? hub.connect({ name }) : connect({ servers: hub.url, name });
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function w1(hub: Hub): Promise<Record<string, number>> {
  const pub = await bus(hub, 'w1-pub');
  const sub = await bus(hub, 'w1-sub');
  const n = spec.messages;
  const warmup = Math.min(50_000, Math.floor(n / 10));
  let received = 0;
  let t0 = 0;
  let c0 = 0;
  let wake: (() => void) | null = null;
  const done = new Promise<{ ms: number; cpu: number }>((resolve) => {
    sub.on(
      'bench.w1',
      () => {
        received++;
        if (received === warmup) {
          t0 = performance.now();
          c0 = cpuUs();
        }
        if (wake !== null && spec.window > 0) {
          const w = wake;
          wake = null;
          w();
        }
        if (received === n) resolve({ ms: performance.now() - t0, cpu: cpuUs() - c0 });
      },
      { raw: true },
    );
  });
  await sub.flush();
  const payload = Buffer.alloc(spec.size, 0x61);
  const flushes: Promise<void>[] = [];
  for (let sent = 0; sent < n; ) {
    const end = Math.min(n, sent + spec.batch);
    for (; sent < end; sent++) pub.emit('bench.w1', payload);
    flushes.push(pub.flush());
    if (flushes.length >= spec.inflight) await flushes.shift();
    while (sent - received > spec.window) await new Promise<void>((r) => (wake = r));
  }
  await Promise.all(flushes);
  const { ms, cpu } = await done;
  const counted = n - warmup;
  await Promise.all([pub.close(), sub.close()]);
  return { 'msgs/s': (counted / ms) * 1000, 'MB/s': (counted * spec.size) / ms / 1000, 'process µs/msg': cpu / counted };
}

async function w4(hub: Hub): Promise<Record<string, number>> {
  const responder = await bus(hub, 'w4-responder');
  responder.handle('bench.w4', (p: Buffer) => p);
  await responder.flush();
  const requesters = await Promise.all(Array.from({ length: spec.concurrency }, (_, i) => bus(hub, `w4-req-${i}`)));
  const payload = Buffer.alloc(spec.size, 0x61);
  // Warm-up: a second of round trips, not counted.
  const loop = async (b: Bus, until: number): Promise<number> => {
    let n = 0;
    while (performance.now() < until) {
      await b.request('bench.w4', payload, { timeout: 10_000 });
      n++;
    }
    return n;
  };
  await Promise.all(requesters.map((b) => loop(b, performance.now() + 1000)));
  const c0 = cpuUs();
  const t0 = performance.now();
  const counts = await Promise.all(requesters.map((b) => loop(b, t0 + spec.durationMs)));
  const ms = performance.now() - t0;
  const cpu = cpuUs() - c0;
  const total = counts.reduce((a, b) => a + b, 0);
  await Promise.all([responder, ...requesters].map((b) => b.close()));
  return { 'rt/s': (total / ms) * 1000, 'process µs/rt': cpu / total };
}

const hub = createHub(spec.transport === 'inprocess' ? { listen: [] } : { host: '127.0.0.1', port: 0 });
await hub.listen();
const metrics = spec.workload === 'w1' ? await w1(hub) : await w4(hub);
await hub.close({ grace: 0 });
console.log(JSON.stringify(metrics));
process.exit(0);
