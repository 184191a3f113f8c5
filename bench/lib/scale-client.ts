/**
 * The scale bench's worker jobs (run by bench/worker.ts), all on nats.js, the
 * client both servers get:
 *
 *   scale-sub      many connections in one process, each subscribing a set of
 *                  subjects (scale-subjects.ts) in batches with a flush after
 *                  each, so a million SUBs never wait in one client buffer;
 *                  reports the subscribe time (info), then counts deliveries
 *   scale-pub      one or more publishing connections in one process, round
 *                  robin, to random planned subjects, one subject, or a
 *                  subject per connection; flow control as the pub job's
 *   scale-lat-sub  many latency probes on one subject, samples kept as a
 *                  histogram
 */
import { connect, type NatsConnection, type Msg } from '@nats-io/transport-node';
import { histAdd, plan, subjectsOf, type ScaleJob } from './scale-subjects.js';
import type { FromWorker } from './jobs.js';

/** What worker.ts lends a job: its IPC channel and the harness's signals. */
export interface WorkerContext {
  send(m: FromWorker): void;
  go(): Promise<void>;
  stopped(): Promise<void>;
  onCredit(fn: (acked: number) => void): void;
}

const now = (): number => Number(process.hrtime.bigint());

function open(url: string, name: string): Promise<NatsConnection> {
  const u = new URL(url);
  // No pings: a server busy with a million SUBs must not look dead to the client.
  return connect({ servers: `${u.hostname}:${u.port}`, reconnect: false, name, pingInterval: 3_600_000 });
}

/** Opens `n` connections, 50 at a time (a thousand at once would flood the listen backlog). */
async function openMany(url: string, n: number, name: string): Promise<NatsConnection[]> {
  const out: NatsConnection[] = [];
  for (let k = 0; k < n; k += 50) out.push(...(await Promise.all(Array.from({ length: Math.min(50, n - k) }, () => open(url, name)))));
  return out;
}

async function finish(ncs: NatsConnection[]): Promise<never> {
  await Promise.race([Promise.allSettled(ncs.map((nc) => nc.close())), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

async function runSub(j: Extract<ScaleJob, { role: 'scale-sub' }>, ctx: WorkerContext): Promise<void> {
  const ncs = await openMany(j.url, j.conns, 'scale-sub');
  ctx.send({ type: 'ready' });
  await ctx.go();
  const warm = Math.max(1, Math.floor(j.expect / 10));
  let delivered = 0;
  let nextReport = j.progressEvery;
  let tWarm = NaN;
  let tEnd = NaN;
  let resolveDone!: () => void;
  const allDone = new Promise<void>((r) => (resolveDone = r));
  function onMsg(err: Error | null): void {
    if (err !== null) return;
    const n = ++delivered;
    if (n === warm) tWarm = now();
    if (n >= nextReport || n === j.expect) {
      nextReport = n + j.progressEvery;
      ctx.send({ type: 'progress', n });
    }
    if (n === j.expect) {
      tEnd = now();
      resolveDone();
    }
  }
  const t0 = now();
  let subs = 0;
  await Promise.all(
    ncs.map(async (nc, i) => {
      let k = 0;
      for (const s of subjectsOf(j.subjects, j.from + i)) {
        nc.subscribe(s, { callback: onMsg });
        if (++k % j.subBatch === 0) await nc.flush();
      }
      subs += k;
      await nc.flush();
    }),
  );
  ctx.send({ type: 'info', info: { tStart: t0, tEnd: now(), subs } });
  if (j.expect === 0) resolveDone();
  const stop = ctx.stopped();
  await Promise.race([allDone, stop]);
  ctx.send({ type: 'done', result: { delivered, warm, tWarm, tEnd } });
  await stop;
  await finish(ncs);
}

async function runPub(j: Extract<ScaleJob, { role: 'scale-pub' }>, ctx: WorkerContext): Promise<void> {
  const ncs = await openMany(j.url, j.conns, 'scale-pub');
  const t = j.targets;
  // Every subject string made before the clock starts.
  const subjects: string[] =
    t.kind === 'plan'
      ? Array.from(plan(t.literals, t.seed, j.count), (k) => `scale.${k}.ev`)
      : t.kind === 'same'
      ? [t.subject]
      : Array.from({ length: j.conns }, (_, i) => `${t.prefix}.${j.from + i}`);
  const payload = Buffer.alloc(j.size, 0x61);
  let acked = 0;
  let wake: (() => void) | null = null;
  ctx.onCredit((n) => {
    acked = n;
    wake?.();
  });
  ctx.send({ type: 'ready' });
  await ctx.go();
  const tStart = now();
  let sent = 0;
  const inFlight: Promise<unknown>[] = [];
  const conns = ncs.length;
  const perConn = t.kind === 'per-conn';
  while (sent < j.count) {
    while (sent - acked >= j.window) await new Promise<void>((r) => (wake = r));
    wake = null;
    const n = Math.min(j.batch, j.count - sent, j.window - (sent - acked));
    for (let m = sent; m < sent + n; m++) {
      const c = m % conns;
      ncs[c]!.publish(perConn ? subjects[c]! : subjects[m % subjects.length]!, payload);
    }
    sent += n;
    // One round trip per connection and batch; at most `inflight` batches unanswered.
    inFlight.push(Promise.all(ncs.map((nc) => nc.flush())));
    if (inFlight.length >= j.inflight) await inFlight.shift();
  }
  await Promise.all(inFlight);
  ctx.send({ type: 'done', result: { sent, tStart, tEnd: now() } });
  await ctx.stopped();
  await finish(ncs);
}

async function runLatSub(j: Extract<ScaleJob, { role: 'scale-lat-sub' }>, ctx: WorkerContext): Promise<void> {
  const ncs = await openMany(j.url, j.conns, 'scale-lat-sub');
  const hist = new Map<number, number>();
  let count = 0;
  function onMsg(err: Error | null, m: Msg): void {
    const t = now();
    const d = m.data;
    // Byte 8 marks lat-pub's warm-up messages.
    if (err !== null || d[8] !== 0) return;
    const b = Buffer.from(d.buffer, d.byteOffset, d.length);
    histAdd(hist, (t - Number(b.readBigUInt64LE(0))) / 1000);
    if (++count === j.expect) ctx.send({ type: 'progress', n: count });
  }
  for (const nc of ncs) nc.subscribe(j.subject, { callback: onMsg });
  await Promise.all(ncs.map((nc) => nc.flush()));
  ctx.send({ type: 'ready' });
  await ctx.stopped();
  const result: Record<string, number> = { count };
  for (const [k, v] of hist) result[String(k)] = v;
  ctx.send({ type: 'done', result });
  await finish(ncs);
}

export function runScaleJob(j: ScaleJob, ctx: WorkerContext): Promise<void> {
  switch (j.role) {
    case 'scale-sub':
      return runSub(j, ctx);
    case 'scale-pub':
      return runPub(j, ctx);
    case 'scale-lat-sub':
      return runLatSub(j, ctx);
  }
}
