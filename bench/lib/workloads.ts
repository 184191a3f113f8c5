/**
 * The workloads, each run against a fresh server process:
 *
 *   W1  1 publisher → 1 subscriber, delivered msgs/s and payload MB/s
 *   W2  1 publisher → N subscribers (default 4), total delivered msgs/s
 *   W3  latency at a fixed rate: p50 / p99 / p99.9 in µs
 *   W4  request/reply round trips per second, 1 and 16 concurrent requesters
 *   W5  server RSS idle, and with N idle connections (bytes per connection)
 *   set-up  connections set up one after another: connect to first PONG (µs)
 *   stall   one client's PING round trips while bcrypt users log in (µs)
 *
 * A peer with a security set-up (peer.variant, see security.ts) gets a
 * server with TLS and/or users, and its clients the CA file and a login.
 *
 * Publisher, subscribers and server are separate processes. Flow control is
 * the same for every peer: the publisher makes a server round trip every
 * `batch` messages, with at most `inflight` of them unanswered (so at most
 * batch × inflight messages are unconfirmed), and stays at most `window`
 * messages ahead of the slowest subscriber (subscribers report progress to
 * the harness, which passes the credit on). Throughput is counted at the
 * subscribers, from the warm-up'th message to the last.
 */
import { join } from 'node:path';
import { procStats, sleep } from './proc.js';
import { startServer, serverDef, type PeerDef, type RunningServer, type StartOptions } from './peers.js';
import { WorkerHandle, untilDoneOrStalled, within } from './worker-handle.js';
import { login, serverSecurity, type Login } from './security.js';
import { percentile } from './stats.js';
import type { BenchOptions } from './options.js';
import type { IdleResult, LatResult, PubResult, ReqResult, SetupResult, StallResult, SubResult } from './jobs.js';

export type Metrics = Record<string, number>;

export interface RunOutcome {
  ok: boolean;
  error?: string;
  metrics: Metrics;
}

const READY_MS = 30_000;

/** A server of the peer's kind with its security set-up, and the login its clients use (undefined without one). */
type Started = RunningServer & { readonly login: Login | undefined };

/** `users`: bcrypt users the server's list needs (the set-up workload logs in as a new one each time). */
async function withServer<T>(peer: PeerDef, opts: StartOptions, fn: (s: Started) => Promise<T>, users = 1): Promise<T> {
  const v = peer.variant;
  const server = await startServer(peer.server, v === undefined ? opts : { ...opts, security: await serverSecurity(v, users) });
  try {
    return await fn({ ...server, login: v === undefined ? undefined : await login(v) });
  } finally {
    await server.stop();
  }
}

async function stopAll(workers: WorkerHandle[]): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
}

/** Where a worker of this role writes its CPU profile, when clients are profiled. */
function profDir(opts: StartOptions, role: string): string | undefined {
  return opts.clientProfDir === undefined ? undefined : join(opts.clientProfDir, role);
}

/** CPU seconds so far of the publisher, and of the subscribers together. */
function clientCpu(pub: WorkerHandle, subs: readonly WorkerHandle[]): { pub: number; subs: number } {
  return { pub: procStats(pub.proc.pid).cpu, subs: subs.reduce((a, s) => a + procStats(s.proc.pid).cpu, 0) };
}

/** W1 and W2. */
/** `payload`: the publisher's message text (e.g. a JSON event), instead of o.size bytes. */
export async function pubsub(peer: PeerDef, o: BenchOptions, subscribers: number, count: number, startOpts: StartOptions = {}, payload?: string): Promise<RunOutcome> {
  return withServer(peer, startOpts, async (server) => {
    const subject = 'bench.pubsub';
    const warmup = Math.min(50_000, Math.floor(count / 10));
    const progressEvery = Math.max(1000, Math.min(5000, Math.floor(o.window / 10)));
    const procs = subscribers > 1 && o.w2Shared ? 1 : subscribers;
    const conns = procs === 1 ? subscribers : 1;
    const workers: WorkerHandle[] = [];
    try {
      const subs: WorkerHandle[] = [];
      for (let i = 0; i < procs; i++) {
        subs.push(new WorkerHandle({ role: 'sub', client: peer.client, url: server.url, login: server.login, subject, count, warmup, progressEvery, conns }, profDir(startOpts, 'sub')));
      }
      workers.push(...subs);
      await within(Promise.all(subs.map((s) => s.ready)), READY_MS, 'subscribers ready');
      const pub = new WorkerHandle(
        {
          role: 'pub', client: peer.client, url: server.url, login: server.login, subject, count,
          size: payload === undefined ? o.size : Buffer.byteLength(payload), ...(payload === undefined ? {} : { payload }),
          batch: o.batch, inflight: o.inflight, window: o.window,
        },
        profDir(startOpts, 'pub'),
      );
      workers.push(pub);
      await within(pub.ready, READY_MS, 'publisher ready');

      let lastProgress = Date.now();
      let acked = 0;
      for (const s of subs) {
        s.onProgress = () => {
          lastProgress = Date.now();
          const min = Math.min(...subs.map((x) => x.progress));
          if (min > acked) {
            acked = min;
            pub.send({ type: 'credit', acked });
          }
        };
      }
      const before = procStats(server.pid);
      const clientsBefore = clientCpu(pub, subs);
      pub.send({ type: 'go' });
      const all = Promise.all(subs.map((s) => s.done)) as Promise<SubResult[]>;
      const stalled = await untilDoneOrStalled(all, () => lastProgress, o.stallMs);
      const after = procStats(server.pid);
      const clientsAfter = clientCpu(pub, subs);
      if (stalled) for (const s of subs) s.send({ type: 'stop' });
      const results = await within(all, 10_000, 'subscriber results');
      const pubResult = (await within(pub.done, stalled ? 2000 : 10_000, 'publisher result').catch(() => null)) as PubResult | null;

      const received = results.flatMap((r) => r.received);
      const tWarm = results.flatMap((r) => r.tWarm);
      const tEnd = results.flatMap((r) => r.tEnd);
      const delivered = received.reduce((a, b) => a + b, 0);
      const measured = received.reduce((a, n) => a + Math.max(0, n - warmup), 0);
      const seconds = (Math.max(...tEnd) - Math.min(...tWarm)) / 1e9;
      const rate = measured / seconds;
      const expected = count * subscribers;
      const metrics: Metrics = {
        'msgs/s': rate,
        'MB/s': (rate * o.size) / 1e6,
        delivered,
        lost: expected - delivered,
        'server µs/msg': ((after.cpu - before.cpu) / delivered) * 1e6,
        // System calls per 1,000 delivered messages: how well the server batches its reads and writes.
        'server reads/1k': ((after.reads - before.reads) / delivered) * 1000,
        'server writes/1k': ((after.writes - before.writes) / delivered) * 1000,
        'server peak RSS': after.hwm,
        // The clients' CPU (warm-up included): what a transport or a client library costs on the other end.
        'pub µs/msg': ((clientsAfter.pub - clientsBefore.pub) / count) * 1e6,
        'sub µs/msg': ((clientsAfter.subs - clientsBefore.subs) / delivered) * 1e6,
      };
      if (pubResult !== null) metrics['publish s'] = (pubResult.tEnd - pubResult.tStart) / 1e9;
      const ok = delivered === expected && Number.isFinite(rate);
      return ok ? { ok, metrics } : { ok, metrics, error: `${stalled ? 'stalled: ' : ''}delivered ${delivered} of ${expected}` };
    } finally {
      await stopAll(workers);
    }
  });
}

/** W3 */
export async function latency(peer: PeerDef, o: BenchOptions): Promise<RunOutcome> {
  return withServer(peer, {}, async (server) => {
    const subject = 'bench.latency';
    const warmupMs = 1000;
    const workers: WorkerHandle[] = [];
    try {
      const sub = new WorkerHandle({ role: 'lat-sub', client: peer.client, url: server.url, login: server.login, subject });
      workers.push(sub);
      await within(sub.ready, READY_MS, 'subscriber ready');
      const pub = new WorkerHandle({ role: 'lat-pub', client: peer.client, url: server.url, login: server.login, subject, size: o.size, rate: o.rate, warmupMs, durationMs: o.durationMs });
      workers.push(pub);
      await within(pub.ready, READY_MS, 'publisher ready');
      const before = procStats(server.pid);
      pub.send({ type: 'go' });
      const p = (await within(pub.done, warmupMs + o.durationMs + 30_000, 'publisher result')) as PubResult;
      const after = procStats(server.pid);
      await sleep(250);
      sub.send({ type: 'stop' });
      const r = (await within(sub.done, 10_000, 'subscriber result')) as LatResult;
      const expected = Math.round((o.rate * o.durationMs) / 1000);
      const sentRate = p.sent / ((p.tEnd - p.tStart) / 1e9);
      const metrics: Metrics = {
        'p50 µs': r.p50,
        'p99 µs': r.p99,
        'p99.9 µs': r.p999,
        'max µs': r.max,
        'mean µs': r.mean,
        samples: r.count,
        'sent/s': sentRate,
        // Warm-up included: the server's work and system calls per message at this rate.
        'server µs/msg': ((after.cpu - before.cpu) / p.sent) * 1e6,
        'server reads/1k': ((after.reads - before.reads) / p.sent) * 1000,
        'server writes/1k': ((after.writes - before.writes) / p.sent) * 1000,
      };
      return r.count === expected ? { ok: true, metrics } : { ok: false, metrics, error: `received ${r.count} of ${expected} measured messages` };
    } finally {
      await stopAll(workers);
    }
  });
}

/** W4, one concurrency. */
export async function requestReply(peer: PeerDef, o: BenchOptions, concurrency: number, startOpts: StartOptions = {}): Promise<RunOutcome> {
  return withServer(peer, startOpts, async (server) => {
    const subject = 'bench.request';
    const workers: WorkerHandle[] = [];
    try {
      const rep = new WorkerHandle({ role: 'rep', client: peer.client, url: server.url, login: server.login, subject }, profDir(startOpts, 'rep'));
      workers.push(rep);
      await within(rep.ready, READY_MS, 'responder ready');
      const req = new WorkerHandle(
        { role: 'req', client: peer.client, url: server.url, login: server.login, subject, size: o.size, concurrency, warmupMs: 1000, durationMs: o.reqDurationMs },
        profDir(startOpts, 'req'),
      );
      workers.push(req);
      await within(req.ready, READY_MS, 'requester ready');
      const before = procStats(server.pid);
      req.send({ type: 'go' });
      const r = (await within(req.done, o.reqDurationMs + 60_000, 'requester result')) as ReqResult;
      const after = procStats(server.pid);
      const rate = r.count / (r.elapsedNs / 1e9);
      const metrics: Metrics = { 'rt/s': rate, 'mean rt µs': concurrency / rate * 1e6, errors: r.errors, 'server CPU %': ((after.cpu - before.cpu) / ((r.elapsedNs + 1e9) / 1e9)) * 100 };
      return r.errors === 0 ? { ok: true, metrics } : { ok: false, metrics, error: `${r.errors} requests failed` };
    } finally {
      await stopAll(workers);
    }
  });
}

/** W5: memory of the server process, idle and with `conns` idle connections. */
export async function memory(peer: PeerDef, o: BenchOptions): Promise<RunOutcome> {
  return withServer(peer, {}, async (server) => {
    await sleep(1000);
    const idle = procStats(server.pid);
    const w = new WorkerHandle({ role: 'idle', protocol: serverDef(peer.server).protocol, url: server.url, conns: o.conns });
    try {
      const ready = await within(w.ready, 120_000, 'idle connections');
      const opened = (ready.info as IdleResult).opened;
      await sleep(2000);
      const loaded = procStats(server.pid);
      const metrics: Metrics = {
        'idle RSS': idle.rss,
        'RSS with conns': loaded.rss,
        'bytes/conn': (loaded.rss - idle.rss) / opened,
        connections: opened,
      };
      return opened === o.conns ? { ok: true, metrics } : { ok: false, metrics, error: `opened ${opened} of ${o.conns}` };
    } finally {
      await w.stop();
    }
  });
}

/**
 * Connection set-up: `count` connections, one after another, from one client
 * process (setup-client.ts), each timed from its TCP connect to the PONG
 * answering its CONNECT + PING. With bcrypt each logs in as a user of its own
 * (a full bcrypt compare each), unless `oneUser`.
 */
export async function connectionSetup(peer: PeerDef, count: number, oneUser = false): Promise<RunOutcome> {
  const bcrypt = peer.variant?.endsWith('bcrypt') === true;
  const users = bcrypt && !oneUser ? count : 1;
  return withServer(
    peer,
    {},
    async (server) => {
      const v = peer.variant;
      const logins = v === undefined ? [{}] : await Promise.all(Array.from({ length: users }, (_, i) => login(v, i)));
      const w = new WorkerHandle({ role: 'setup', url: server.url, count, logins });
      try {
        await within(w.ready, READY_MS, 'set-up client ready');
        const before = procStats(server.pid);
        w.send({ type: 'go' });
        const r = (await within(w.done, count * 10_000 + 30_000, 'set-up results')) as SetupResult;
        const after = procStats(server.pid);
        const total = r.times.reduce((a, b) => a + b, 0);
        const t = Float64Array.from(r.times).sort();
        const metrics: Metrics = {
          'median µs': percentile(t, 50),
          'p99 µs': percentile(t, 99),
          'mean µs': total / t.length,
          'max µs': t[t.length - 1] ?? NaN,
          'conns/s': t.length / (total / 1e6),
          // The server's CPU per connection, its teardown included: steadier than the times when the machine is busy.
          'server CPU µs/conn': ((after.cpu - before.cpu) / t.length) * 1e6,
        };
        return t.length === count ? { ok: true, metrics } : { ok: false, metrics, error: `set up ${t.length} of ${count}` };
      } finally {
        await w.stop();
      }
    },
    users,
  );
}

/** Stall: round trips timed before the log-ins, for the idle figure. */
const IDLE_PINGS = 200;

/**
 * Stall: one connected client pings (PING, PONG, 2 ms pause) while `count`
 * bcrypt users log in, `parallel` at a time, each a user of its own (a full
 * compare each); the pinger is one more user, logged in before anything is
 * timed. See stall-client.ts.
 */
export async function stall(peer: PeerDef, count: number, parallel: number): Promise<RunOutcome> {
  const v = peer.variant;
  if (v === undefined || !v.endsWith('bcrypt')) throw new Error(`the stall case needs a bcrypt set-up, got ${peer.id}`);
  return withServer(
    peer,
    {},
    async (server) => {
      const logins = await Promise.all(Array.from({ length: count }, (_, i) => login(v, i)));
      const w = new WorkerHandle({ role: 'stall', url: server.url, pinger: await login(v, count), logins, parallel, idlePings: IDLE_PINGS });
      try {
        await within(w.ready, READY_MS, 'stall client ready');
        const before = procStats(server.pid);
        w.send({ type: 'go' });
        const r = (await within(w.done, count * 10_000 + 30_000, 'stall results')) as StallResult;
        const after = procStats(server.pid);
        const idle = Float64Array.from(r.idle).sort();
        const during = Float64Array.from(r.during).sort();
        const logIns = Float64Array.from(r.logins).sort();
        const metrics: Metrics = {
          'idle median µs': percentile(idle, 50),
          'median µs': percentile(during, 50),
          'p99 µs': percentile(during, 99),
          'max µs': during[during.length - 1] ?? NaN,
          pings: during.length,
          'log-in median µs': percentile(logIns, 50),
          'log-ins s': r.elapsedUs / 1e6,
          // The pinger's log-in and idle pings included: count + 1 compares.
          'server CPU s': after.cpu - before.cpu,
        };
        return r.logins.length === count && during.length > 0 ? { ok: true, metrics } : { ok: false, metrics, error: `${r.logins.length} of ${count} log-ins, ${during.length} pings` };
      } finally {
        await w.stop();
      }
    },
    count + 1,
  );
}
