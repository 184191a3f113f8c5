/**
 * A bench client process: publisher, subscriber(s), latency probe,
 * requester, responder, a crowd of idle connections, connections set up
 * one after another, a pinger timed while others log in, or durable
 * publishers awaiting their PubAcks (see lib/jobs.ts); the scale bench's jobs
 * are in lib/scale-client.ts.
 * Started by the harness, never by hand.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { BenchClient, ClientKind } from './lib/clients.js';
import type { Login } from './lib/security.js';
import { percentile } from './lib/stats.js';
import { timeSetups } from './lib/setup-client.js';
import { measureStall } from './lib/stall-client.js';
import { runScaleJob } from './lib/scale-client.js';
import { publishDurably } from './lib/durable-client.js';
import type { FromWorker, IdleProtocol, Job, ToWorker } from './lib/jobs.js';

const job = JSON.parse(process.argv[2]!) as Job;

/**
 * The clients module loads every client and the netemitter library (half a
 * second on a busy machine); a worker loads it only for a job that uses it
 * (the scale jobs use nats.js alone, and start several workers per point).
 */
async function openClient(kind: ClientKind, url: string, login?: Login): Promise<BenchClient> {
  return (await import('./lib/clients.js')).openClient(kind, url, login);
}

function send(m: FromWorker): void {
  process.send?.(m);
}

const now = (): number => Number(process.hrtime.bigint());

let onGo: (() => void) | null = null;
let onStop: (() => void) | null = null;
let onCredit: ((acked: number) => void) | null = null;
process.on('message', (m: ToWorker) => {
  if (m.type === 'go') onGo?.();
  else if (m.type === 'credit') onCredit?.(m.acked);
  else if (m.type === 'stop') onStop?.();
});
// The harness gone means we are done too.
process.on('disconnect', () => process.exit(0));

const go = (): Promise<void> => new Promise((r) => (onGo = r));
const stopped = (): Promise<void> => new Promise((r) => (onStop = r));

async function finish(clients: BenchClient[]): Promise<never> {
  await Promise.race([Promise.allSettled(clients.map((c) => c.close())), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

async function runSub(j: Extract<Job, { role: 'sub' }>): Promise<void> {
  const clients: BenchClient[] = [];
  const received = new Array<number>(j.conns).fill(0);
  const tWarm = new Array<number>(j.conns).fill(NaN);
  const tEnd = new Array<number>(j.conns).fill(NaN);
  let reported = 0;
  let complete = 0;
  let resolveDone!: () => void;
  const allDone = new Promise<void>((r) => (resolveDone = r));
  for (let k = 0; k < j.conns; k++) {
    const c = await openClient(j.client, j.url, j.login);
    clients.push(c);
    await c.subscribe(j.subject, () => {
      const n = ++received[k]!;
      if (n === j.warmup) tWarm[k] = now();
      if (n % j.progressEvery === 0 || n === j.count) {
        tEnd[k] = now();
        const min = Math.min(...received);
        if (min > reported) {
          reported = min;
          send({ type: 'progress', n: min });
        }
      }
      if (n === j.count) {
        tEnd[k] = now();
        if (++complete === j.conns) resolveDone();
      }
    });
  }
  send({ type: 'ready' });
  const stop = stopped();
  await Promise.race([allDone, stop]);
  send({ type: 'done', result: { received, tWarm, tEnd } });
  await stop;
  await finish(clients);
}

async function runPub(j: Extract<Job, { role: 'pub' }>): Promise<void> {
  const c = await openClient(j.client, j.url, j.login);
  const payload = j.payload === undefined ? Buffer.alloc(j.size, 0x61) : Buffer.from(j.payload);
  let acked = 0;
  let wake: (() => void) | null = null;
  onCredit = (n) => {
    acked = n;
    wake?.();
  };
  send({ type: 'ready' });
  await go();
  const tStart = now();
  let sent = 0;
  const inFlight: Promise<void>[] = [];
  while (sent < j.count) {
    // Never more than `window` messages ahead of the slowest subscriber.
    while (sent - acked >= j.window) await new Promise<void>((r) => (wake = r));
    wake = null;
    const n = Math.min(j.batch, j.count - sent, j.window - (sent - acked));
    for (let i = 0; i < n; i++) c.publish(j.subject, payload);
    sent += n;
    // Every batch: one server round trip; at most `inflight` of them unanswered.
    inFlight.push(c.roundTrip());
    if (inFlight.length >= j.inflight) await inFlight.shift();
  }
  await Promise.all(inFlight);
  send({ type: 'done', result: { sent, tStart, tEnd: now() } });
  await stopped();
  await finish([c]);
}

async function runLatSub(j: Extract<Job, { role: 'lat-sub' }>): Promise<void> {
  const c = await openClient(j.client, j.url, j.login);
  const samples: number[] = [];
  await c.subscribe(j.subject, (d) => {
    const t = now();
    // Byte 8 marks warm-up messages.
    if (d[8] !== 0) return;
    const b = Buffer.from(d.buffer, d.byteOffset, d.length);
    samples.push((t - Number(b.readBigUInt64LE(0))) / 1000);
  });
  send({ type: 'ready' });
  await stopped();
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of s) sum += x;
  send({
    type: 'done',
    result: { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9), max: s[s.length - 1] ?? NaN, mean: sum / s.length },
  });
  await finish([c]);
}

async function runLatPub(j: Extract<Job, { role: 'lat-pub' }>): Promise<void> {
  const c = await openClient(j.client, j.url, j.login);
  send({ type: 'ready' });
  await go();
  const total = Math.round((j.rate * (j.warmupMs + j.durationMs)) / 1000);
  const warm = Math.round((j.rate * j.warmupMs) / 1000);
  const t0 = now();
  let sent = 0;
  // A 1 ms timer that sends whatever is due: the average rate is exact, sends come in small bursts.
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((now() - t0) / 1e9) * j.rate));
      while (sent < due) {
        const b = Buffer.alloc(j.size);
        b[8] = sent < warm ? 1 : 0;
        b.writeBigUInt64LE(process.hrtime.bigint(), 0);
        c.publish(j.subject, b);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await c.roundTrip();
  send({ type: 'done', result: { sent, tStart: t0, tEnd: now() } });
  await stopped();
  await finish([c]);
}

async function runRep(j: Extract<Job, { role: 'rep' }>): Promise<void> {
  const c = await openClient(j.client, j.url, j.login);
  await c.serve(j.subject);
  send({ type: 'ready' });
  await stopped();
  await finish([c]);
}

async function runReq(j: Extract<Job, { role: 'req' }>): Promise<void> {
  const c = await openClient(j.client, j.url, j.login);
  const payload = Buffer.alloc(j.size, 0x61);
  // One request first: lazily created inboxes and subscriptions exist before timing starts.
  await c.request(j.subject, payload);
  send({ type: 'ready' });
  await go();
  let measuring = false;
  let running = true;
  let count = 0;
  let errors = 0;
  const loop = async (): Promise<void> => {
    while (running) {
      try {
        await c.request(j.subject, payload);
        if (measuring) count++;
      } catch {
        if (measuring) errors++;
      }
    }
  };
  const loops = Array.from({ length: j.concurrency }, loop);
  await new Promise((r) => setTimeout(r, j.warmupMs));
  measuring = true;
  const t0 = now();
  await new Promise((r) => setTimeout(r, j.durationMs));
  measuring = false;
  const elapsedNs = now() - t0;
  running = false;
  await Promise.all(loops);
  send({ type: 'done', result: { count, errors, elapsedNs } });
  await stopped();
  await finish([c]);
}

// ── idle connections (W5) ───────────────────────────────────────────────────

/** The least each protocol needs to count as connected, and the answer that proves it. */
function handshake(p: IdleProtocol, k: number): { hello: Buffer; done: (b: Buffer) => boolean } {
  switch (p) {
    case 'nats':
      return {
        hello: Buffer.from('CONNECT {"verbose":false,"pedantic":false,"name":"idle"}\r\nPING\r\n'),
        done: (b) => b.includes('PONG'),
      };
    case 'mqtt': {
      // MQTT 3.1.1 CONNECT: clean session, keep-alive 0 (no pings needed).
      const id = Buffer.from(`idle-${process.pid}-${k}`);
      const vh = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0]);
      const rest = Buffer.concat([vh, Buffer.from([id.length >> 8, id.length & 255]), id]);
      return { hello: Buffer.concat([Buffer.from([0x10, rest.length]), rest]), done: (b) => b[0] === 0x20 };
    }
    case 'redis':
      return { hello: Buffer.from('PING\r\n'), done: (b) => b.includes('+PONG') };
    case 'raw':
      return { hello: Buffer.from('S'), done: () => true };
  }
}

function openIdle(url: URL, p: IdleProtocol, k: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: url.hostname, port: Number(url.port) });
    const h = handshake(p, k);
    let seen = Buffer.alloc(0);
    s.once('error', reject);
    s.once('connect', () => {
      s.write(h.hello);
      if (p === 'raw') resolve(s);
    });
    s.on('data', (b: Buffer) => {
      seen = Buffer.concat([seen, b]).subarray(-256);
      if (h.done(seen)) {
        s.removeAllListeners('data');
        s.resume();
        resolve(s);
      }
    });
  });
}

async function runIdle(j: Extract<Job, { role: 'idle' }>): Promise<void> {
  const url = new URL(j.url);
  const sockets: Socket[] = [];
  const PARALLEL = 100;
  for (let k = 0; k < j.conns; k += PARALLEL) {
    const n = Math.min(PARALLEL, j.conns - k);
    sockets.push(...(await Promise.all(Array.from({ length: n }, (_, i) => openIdle(url, j.protocol, k + i)))));
  }
  for (const s of sockets) s.on('error', () => {});
  send({ type: 'ready', info: { opened: sockets.length } });
  await stopped();
  // RST instead of FIN: 10,000 sockets in TIME_WAIT would eat the ephemeral ports of later runs.
  for (const s of sockets) s.resetAndDestroy();
  send({ type: 'done', result: { opened: sockets.length } });
  process.exit(0);
}

async function runSetup(j: Extract<Job, { role: 'setup' }>): Promise<void> {
  send({ type: 'ready' });
  await go();
  send({ type: 'done', result: { times: await timeSetups(new URL(j.url), j.count, j.logins) } });
  await stopped();
  process.exit(0);
}

async function runStall(j: Extract<Job, { role: 'stall' }>): Promise<void> {
  send({ type: 'ready' });
  await go();
  send({ type: 'done', result: await measureStall(j) });
  await stopped();
  process.exit(0);
}

async function runDurablePub(j: Extract<Job, { role: 'durable-pub' }>): Promise<void> {
  const run = await publishDurably(j);
  send({ type: 'ready' });
  await go();
  send({ type: 'done', result: await run.measure() });
  await stopped();
  await run.close();
  process.exit(0);
}

async function main(): Promise<void> {
  switch (job.role) {
    case 'sub':
      return runSub(job);
    case 'pub':
      return runPub(job);
    case 'lat-sub':
      return runLatSub(job);
    case 'lat-pub':
      return runLatPub(job);
    case 'rep':
      return runRep(job);
    case 'req':
      return runReq(job);
    case 'idle':
      return runIdle(job);
    case 'setup':
      return runSetup(job);
    case 'stall':
      return runStall(job);
    case 'scale-sub':
    case 'scale-pub':
    case 'scale-lat-sub':
      return runScaleJob(job, { send, go, stopped, onCredit: (fn) => (onCredit = fn) });
    case 'durable-pub':
      return runDurablePub(job);
  }
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  setTimeout(() => process.exit(1), 100);
});
