/**
 * The scale bench's five axes: for each, the curve's description, its
 * metrics, and how one point is measured against a running server (one
 * repetition; the caller starts a fresh server for it). Client processes
 * are spread so none holds more than a few hundred connections.
 */
import { within } from './worker-handle.js';
import { runFlow, runLatency, withWorkers, READY_MS, type PubJob, type SubJob } from './scale-flow.js';
import { histPercentile, literals, scaleExpect, shareOf } from './scale-subjects.js';
import type { RunningServer } from './peers.js';
import type { CurveMetric } from './curves.js';
import type { IdleResult } from './jobs.js';

export const AXES = ['subscriptions', 'fanout', 'payload', 'connections', 'publishers'] as const;
export type AxisId = (typeof AXES)[number];

export interface ScaleOptions {
  /** Payload bytes on every axis but payload. */
  size: number;
  stallMs: number;
  /** The most fds one process may have (the hard limit, or --fd-limit). */
  fdLimit: number;
  /** Messages published per point: subscriptions, connections, publishers. */
  subMessages: number;
  connMessages: number;
  pubMessages: number;
  /** Fan-out: deliveries per point (messages = this ÷ subscribers). */
  fanoutDeliveries: number;
  /** Payload: bytes per point, and at most this many messages. */
  payloadBytes: number;
  payloadMaxMessages: number;
  /** Fan-out latency: at most this many messages/s, and at most latDeliveries deliveries/s; measured for latMs after a warm-up. */
  latRate: number;
  latDeliveries: number;
  latMs: number;
  /** Flow control: at most this many deliveries, and this many bytes of them, unconfirmed. */
  windowDeliveries: number;
  windowBytes: number;
}

export interface AxisDef {
  readonly id: AxisId;
  /** The option naming its points: --subs, --fanout, … */
  readonly option: string;
  readonly title: string;
  readonly xLabel: string;
  readonly points: readonly number[];
  readonly quickPoints: readonly number[];
  readonly metrics: CurveMetric[];
  /** Why a point cannot be measured here (one line), or null. */
  skip(x: number, o: ScaleOptions): string | null;
  run(server: RunningServer, x: number, o: ScaleOptions): Promise<Record<string, number>>;
}

/** Splits n items over at most `procs` processes: [from, count] each. */
function spread(n: number, procs: number): [number, number][] {
  const p = Math.max(1, Math.min(procs, n));
  const out: [number, number][] = [];
  let from = 0;
  for (let i = 0; i < p; i++) {
    const k = shareOf(n, p, i);
    out.push([from, k]);
    from += k;
  }
  return out;
}

/** Flow control for `perMsg` deliveries per message of `size` bytes from `pubProcs` processes. */
function flow(o: ScaleOptions, size: number, perMsg: number, pubProcs: number, subProcs: number): { window: number; batch: number; inflight: number; progressEvery: number } {
  const deliveries = Math.max(2, Math.min(o.windowDeliveries, Math.floor(o.windowBytes / (size + 64))));
  const window = Math.max(2, Math.floor(deliveries / perMsg / pubProcs));
  return {
    window,
    batch: Math.max(1, Math.min(1000, Math.floor(window / 4))),
    inflight: 4,
    progressEvery: Math.max(1, Math.min(5000, Math.floor(deliveries / (4 * subProcs)))),
  };
}

const SUB_CONNS = 100;
const CLIENT_PROCS = 4;
/** Subscriptions sent before each flush. */
const SUB_BATCH = 1000;

const subscriptions: AxisDef = {
  id: 'subscriptions',
  option: 'subs',
  title: `Subscriptions (${SUB_CONNS} connections, 90% literal subjects, 10% wildcards)`,
  xLabel: 'subscriptions',
  points: [1000, 10_000, 100_000, 1_000_000],
  quickPoints: [1000, 10_000, 100_000],
  metrics: [
    { id: 'msgsPerSec', label: 'publish rate, random subjects', unit: 'msgs/s', better: 'higher' },
    { id: 'rssPerSub', label: 'server RSS per subscription', unit: 'B', better: 'lower' },
    { id: 'subscribeMs', label: 'subscribe all + flush', unit: 'ms', better: 'lower' },
  ],
  skip: () => null,
  async run(server, n, o) {
    const seed = 20;
    const perConn = scaleExpect(n, SUB_CONNS, seed, o.subMessages);
    const parts = spread(SUB_CONNS, CLIENT_PROCS);
    const expected = perConn.reduce((a, b) => a + b, 0);
    const f = flow(o, o.size, expected / o.subMessages, 1, parts.length);
    const subs: SubJob[] = parts.map(([from, conns]) => ({
      role: 'scale-sub', url: server.url, subjects: { kind: 'scale', total: n, conns: SUB_CONNS }, from, conns,
      expect: perConn.slice(from, from + conns).reduce((a, b) => a + b, 0), progressEvery: f.progressEvery, subBatch: SUB_BATCH,
    }));
    const pub: PubJob = { role: 'scale-pub', url: server.url, targets: { kind: 'plan', literals: literals(n), seed }, from: 0, conns: 1, count: o.subMessages, size: o.size, ...f };
    const r = await runFlow(server, subs, [pub], o.stallMs);
    return { msgsPerSec: (r.deliveredPerSec * o.subMessages) / r.expected, rssPerSub: (r.rssSubscribed - r.rssBefore) / n, subscribeMs: r.subscribeMs };
  },
};

const fanout: AxisDef = {
  id: 'fanout',
  option: 'fanout',
  title: 'Fan-out (1 publisher, N subscribers on one subject)',
  xLabel: 'subscribers',
  points: [1, 10, 100, 1000],
  quickPoints: [1, 10, 100],
  metrics: [
    { id: 'deliveredPerSec', label: 'delivered msgs/s', unit: 'msgs/s', better: 'higher' },
    { id: 'p99Us', label: 'p99 latency at a moderate rate', unit: 'µs', better: 'lower' },
  ],
  skip: () => null,
  async run(server, n, o) {
    const count = Math.max(100, Math.floor(o.fanoutDeliveries / n));
    const parts = spread(n, CLIENT_PROCS);
    const f = flow(o, o.size, n, 1, parts.length);
    const subject = 'scale.fanout';
    const subs: SubJob[] = parts.map(([from, conns]) => ({
      role: 'scale-sub', url: server.url, subjects: { kind: 'same', subject }, from, conns, expect: count * conns, progressEvery: f.progressEvery, subBatch: SUB_BATCH,
    }));
    const pub: PubJob = { role: 'scale-pub', url: server.url, targets: { kind: 'same', subject }, from: 0, conns: 1, count, size: o.size, ...f };
    const r = await runFlow(server, subs, [pub], o.stallMs);

    // p99 at a rate the slowest point keeps up with: at most latDeliveries deliveries a second in all.
    const rate = Math.max(10, Math.min(o.latRate, Math.floor(o.latDeliveries / n)));
    const warmupMs = Math.min(1000, o.latMs);
    const measured = Math.round((rate * (warmupMs + o.latMs)) / 1000) - Math.round((rate * warmupMs) / 1000);
    const latSubject = 'scale.latency';
    const hs = await runLatency(
      parts.map(([, conns]) => ({ role: 'scale-lat-sub', url: server.url, subject: latSubject, conns, expect: measured * conns })),
      { role: 'lat-pub', client: 'nats', url: server.url, subject: latSubject, size: Math.max(16, o.size), rate, warmupMs, durationMs: o.latMs },
    );
    return { deliveredPerSec: r.deliveredPerSec, p99Us: histPercentile(hs, 99), latRate: rate };
  },
};

const payload: AxisDef = {
  id: 'payload',
  option: 'payloads',
  title: 'Payload size (1 publisher → 1 subscriber)',
  xLabel: 'payload bytes',
  points: [16, 1024, 65_536, 1_048_576],
  quickPoints: [16, 1024, 65_536, 1_048_576],
  metrics: [
    { id: 'mbPerSec', label: 'payload MB/s', unit: 'MB/s', better: 'higher' },
    { id: 'msgsPerSec', label: 'msgs/s', unit: 'msgs/s', better: 'higher' },
  ],
  // Both servers' default max_payload is 1 MiB.
  skip: (x) => (x > 1_048_576 ? `${x} B is over both servers' max_payload (1 MiB)` : null),
  async run(server, size, o) {
    const count = Math.max(100, Math.min(o.payloadMaxMessages, Math.floor(o.payloadBytes / size)));
    const f = flow(o, size, 1, 1, 1);
    const subject = 'scale.payload';
    const sub: SubJob = { role: 'scale-sub', url: server.url, subjects: { kind: 'same', subject }, from: 0, conns: 1, expect: count, progressEvery: f.progressEvery, subBatch: SUB_BATCH };
    const pub: PubJob = { role: 'scale-pub', url: server.url, targets: { kind: 'same', subject }, from: 0, conns: 1, count, size, ...f };
    const r = await runFlow(server, [sub], [pub], o.stallMs);
    return { mbPerSec: (r.deliveredPerSec * size) / 1e6, msgsPerSec: r.deliveredPerSec };
  },
};

/** The active connections among n: 1%, in publisher → subscriber pairs. */
function activeOf(n: number): number {
  return Math.max(2, 2 * Math.round(n / 200));
}
/** Connections one idle-client process opens (each is an fd of that process). */
const IDLE_PER_PROC = 10_000;
/** The fds a server needs beside its connections: listener, stdio, epoll, files. */
const FD_SLACK = 64;

const connections: AxisDef = {
  id: 'connections',
  option: 'conns',
  title: 'Connections (1% active, in publisher → subscriber pairs; the rest idle)',
  xLabel: 'connections',
  points: [1000, 10_000, 30_000],
  quickPoints: [1000, 5000],
  metrics: [
    { id: 'activeMsgsPerSec', label: 'delivered msgs/s of the active connections', unit: 'msgs/s', better: 'higher' },
    { id: 'rssMiB', label: 'server RSS', unit: 'MiB', better: 'lower' },
  ],
  skip: (n, o) => (n + FD_SLACK > o.fdLimit ? `needs ~${n + FD_SLACK} fds in the server; the hard limit here is ${o.fdLimit}` : null),
  async run(server, n, o) {
    const pairs = activeOf(n) / 2;
    const idle = n - 2 * pairs;
    return withWorkers(async (spawn) => {
      const perProc = Math.max(1, Math.min(IDLE_PER_PROC, o.fdLimit - FD_SLACK));
      const crowd = spread(idle, Math.ceil(idle / perProc)).filter(([, k]) => k > 0).map(([, k]) => spawn({ role: 'idle', protocol: 'nats', url: server.url, conns: k }));
      const opened = (await within(Promise.all(crowd.map((w) => w.ready)), READY_MS + idle * 10, 'idle connections')).reduce((a, r) => a + (r.info as IdleResult).opened, 0);
      if (opened !== idle) throw new Error(`opened ${opened} of ${idle} idle connections`);
      const parts = spread(pairs, 2);
      const f = flow(o, o.size, 1, parts.length, parts.length);
      const counts = parts.map(([, k]) => Math.round((o.connMessages * k) / pairs));
      const subs: SubJob[] = parts.map(([from, conns], i) => ({
        role: 'scale-sub', url: server.url, subjects: { kind: 'per-conn', prefix: 'scale.conn' }, from, conns, expect: counts[i]!, progressEvery: f.progressEvery, subBatch: SUB_BATCH,
      }));
      const pubs: PubJob[] = parts.map(([from, conns], i) => ({ role: 'scale-pub', url: server.url, targets: { kind: 'per-conn', prefix: 'scale.conn' }, from, conns, count: counts[i]!, size: o.size, ...f }));
      const r = await runFlow(server, subs, pubs, o.stallMs);
      // The idle crowd is still connected: RSS with all n.
      return { activeMsgsPerSec: r.deliveredPerSec, rssMiB: r.rssAfter / 1048576, active: 2 * pairs };
    });
  },
};

const publishers: AxisDef = {
  id: 'publishers',
  option: 'publishers',
  title: 'Publishers (N publishing connections → 1 subscriber, one subject)',
  xLabel: 'publishers',
  points: [1, 10, 100],
  quickPoints: [1, 10, 100],
  metrics: [{ id: 'msgsPerSec', label: 'delivered msgs/s', unit: 'msgs/s', better: 'higher' }],
  skip: () => null,
  async run(server, n, o) {
    const subject = 'scale.publishers';
    const parts = spread(n, CLIENT_PROCS);
    const f = flow(o, o.size, 1, parts.length, 1);
    const counts = parts.map(([, k]) => Math.round((o.pubMessages * k) / n));
    const total = counts.reduce((a, b) => a + b, 0);
    const sub: SubJob = { role: 'scale-sub', url: server.url, subjects: { kind: 'same', subject }, from: 0, conns: 1, expect: total, progressEvery: f.progressEvery, subBatch: SUB_BATCH };
    const pubs: PubJob[] = parts.map(([from, conns], i) => ({ role: 'scale-pub', url: server.url, targets: { kind: 'same', subject }, from, conns, count: counts[i]!, size: o.size, ...f }));
    const r = await runFlow(server, [sub], pubs, o.stallMs);
    return { msgsPerSec: r.deliveredPerSec };
  },
};

export const AXIS_DEFS: Record<AxisId, AxisDef> = { subscriptions, fanout, payload, connections, publishers };

