/**
 * The durable-publishers curve of `npm run bench:durable` (issue #20): N
 * connections, each publishing one 128-byte event and awaiting its PubAck
 * before the next, for a fixed time after a warm-up. The connections are
 * spread over up to --workers client processes (durable-client.ts), so that
 * the client side is not the bottleneck; its CPU is measured and reported.
 *
 * Figures per point: PubAcks/s in total (acksPerSec) and p99 publish → PubAck
 * (p99Us); besides them in each run: p50Us, the server's CPU and the
 * clients' (% of one core, over the measured window), the server's CPU
 * per PubAck, and for the hub PubAcks per commit and a commit's mean duration
 * (its /metrics). Points are interleaved: run r measures every x on every peer
 * before run r + 1 starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { point, pointRatio, slopeRatio, type Curve, type CurveMetric, type CurvePoint } from './curves.js';
import type { DurablePeer } from './durable-peers.js';
import type { DurableResult } from './jobs.js';
import { procStats, sleep } from './proc.js';
import { fixed, percentile, pct, si, table } from './stats.js';
import { WorkerHandle, within } from './worker-handle.js';

export interface ConnsOptions {
  /** The x values: connections publishing at once. */
  readonly conns: readonly number[];
  readonly size: number;
  readonly runs: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** At most this many client processes. */
  readonly workers: number;
}

export const DURABLE_METRICS: CurveMetric[] = [
  { id: 'acksPerSec', label: 'PubAcks/s (all connections)', unit: 'msgs/s', better: 'higher' },
  { id: 'p99Us', label: 'p99 publish → PubAck', unit: 'µs', better: 'lower' },
];

const STREAM = 'DURABLE';
const SUBJECT = 'bench.durable';
/** Connecting, the stream's creation, the end of a run: bounds, so a stuck peer is an error, not a hang. */
const SETUP_MS = 30_000;

/** Spreads n connections over at most `workers` processes, as evenly as they go. */
export function spread(n: number, workers: number): number[] {
  const w = Math.max(1, Math.min(workers, n));
  return Array.from({ length: w }, (_, i) => Math.floor(n / w) + (i < n % w ? 1 : 0));
}

/** CPU seconds of the server and of every client process, now. */
function cpuNow(serverPid: number, clients: readonly WorkerHandle[]): { server: number; clients: number; t: number } {
  let sum = 0;
  for (const w of clients) sum += procStats(w.proc.pid).cpu;
  return { server: procStats(serverPid).cpu, clients: sum, t: performance.now() };
}

/** The hub's group commits so far and their total duration (seconds), from its /metrics. */
async function commits(metrics: string | undefined): Promise<{ count: number; seconds: number }> {
  if (metrics === undefined) return { count: NaN, seconds: NaN };
  const text = await (await fetch(metrics)).text();
  const value = (name: string): number => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? NaN);
  return { count: value('netemitter_jetstream_commit_seconds_count'), seconds: value('netemitter_jetstream_commit_seconds_sum') };
}

/** One run of one point: a fresh server and store, n publishers, the figures. */
export async function measureDurable(peer: DurablePeer, n: number, o: ConnsOptions): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-durable-'));
  const workers: WorkerHandle[] = [];
  const { url, proc, metrics } = await peer.start(dir);
  try {
    const nc = await connect({ servers: url, reconnect: false });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: STREAM, subjects: [SUBJECT] });
      for (const conns of spread(n, o.workers)) {
        workers.push(new WorkerHandle({ role: 'durable-pub', url, subject: SUBJECT, size: o.size, conns, warmupMs: o.warmupMs, durationMs: o.durationMs }));
      }
      await within(Promise.all(workers.map((w) => w.ready)), SETUP_MS, `${peer.id}: ${n} publishers connecting`);
      for (const w of workers) w.send({ type: 'go' });
      await sleep(o.warmupMs);
      const a = cpuNow(proc.pid, workers);
      const ca = await commits(metrics);
      await sleep(o.durationMs);
      const b = cpuNow(proc.pid, workers);
      const cb = await commits(metrics);
      const results = (await within(Promise.all(workers.map((w) => w.done)), SETUP_MS, `${peer.id}: ${n} publishers finishing`)) as DurableResult[];
      const info = await jsm.streams.info(STREAM);
      const total = results.reduce((s, r) => s + r.total, 0);
      if (info.state.messages !== total) throw new Error(`${peer.id}: ${total} PubAcks but ${info.state.messages} messages stored`);
      const f = figures(results, (b.server - a.server) / ((b.t - a.t) / 1000), (b.clients - a.clients) / ((b.t - a.t) / 1000));
      const done = cb.count - ca.count;
      if (Number.isFinite(done) && done > 0) {
        // PubAcks per commit: the group commit's effect; the commit's mean duration: what each one costs.
        f.acksPerCommit = (f.acksPerSec! * ((b.t - a.t) / 1000)) / done;
        f.commitUs = ((cb.seconds - ca.seconds) / done) * 1e6;
      }
      return f;
    } finally {
      await nc.close();
    }
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A run's figures from its workers' results and the CPU (cores busy) over the window. */
function figures(results: readonly DurableResult[], serverCores: number, clientCores: number): Record<string, number> {
  let acksPerSec = 0;
  let acks = 0;
  const all: number[] = [];
  for (const r of results) {
    acksPerSec += r.acks / (r.elapsedNs / 1e9);
    acks += r.acks;
    for (const l of r.latencies) all.push(l);
  }
  if (acks === 0) throw new Error('no PubAck within the measured window');
  const sorted = Float64Array.from(all).sort();
  return {
    acksPerSec,
    p99Us: percentile(sorted, 99),
    p50Us: percentile(sorted, 50),
    serverCpu: serverCores * 100,
    clientCpu: clientCores * 100,
    serverCpuPerAckUs: (serverCores * 1e6) / acksPerSec,
  };
}

/** Measures every point on every peer, runs interleaved; `log` gets a line per run. */
export async function runConnsCurve(peers: readonly DurablePeer[], o: ConnsOptions, log: (line: string) => void): Promise<Curve> {
  const runs = new Map<string, { ok: Record<string, number>[]; errors: string[] }>();
  const key = (x: number, peer: string): string => `${x} ${peer}`;
  for (let r = 1; r <= o.runs; r++) {
    for (const x of o.conns) {
      for (const p of peers) {
        const slot = runs.get(key(x, p.id)) ?? { ok: [], errors: [] };
        runs.set(key(x, p.id), slot);
        try {
          const f = await measureDurable(p, x, o);
          slot.ok.push(f);
          log(
            `run ${r} ${p.id}, ${x} conns: ${si(f.acksPerSec!)} PubAcks/s, p99 ${fixed(f.p99Us!, 0)} µs, ` +
              `server ${fixed(f.serverCpu!, 0)}% CPU, clients ${fixed(f.clientCpu!, 0)}%`,
          );
        } catch (err) {
          const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
          slot.errors.push(msg);
          log(`run ${r} ${p.id}, ${x} conns: error: ${msg}`);
        }
      }
    }
  }
  const points: CurvePoint[] = [];
  for (const x of o.conns) for (const p of peers) {
    const slot = runs.get(key(x, p.id))!;
    points.push(point(x, p.id, slot.ok, slot.errors));
  }
  return {
    id: 'connections',
    title: `Durable publishers: each connection awaits its PubAck (${o.size} B events)`,
    xLabel: 'connections',
    xLog: true,
    metrics: DURABLE_METRICS,
    points,
    baseline: 'nats-server',
  };
}

/** The curve as a table: a row per point and peer, ratios against the baseline, then the slope ratios. */
export function curveTable(curve: Curve): string {
  const [acks, p99] = [curve.metrics[0]!, curve.metrics[1]!];
  const base = curve.baseline ?? 'nats-server';
  const hasBase = curve.points.some((p) => p.peer === base);
  const rows: string[][] = [['conns', 'peer', 'PubAcks/s', 'spread', 'p99 µs', 'p50 µs', 'server CPU', 'clients CPU', 'CPU µs/ack', 'acks/commit', 'commit µs', `acks ÷ ${base}`, `p99 ${base} ÷`]];
  for (const p of curve.points) {
    const m = p.median;
    const ratio = (metric: CurveMetric): string => (hasBase && p.peer !== base ? fixed(pointRatio(curve, p.peer, metric, p.x), 2) : '-');
    rows.push([
      String(p.x), p.peer, si(m.acksPerSec ?? NaN), pct(p.spread.acksPerSec ?? NaN), fixed(m.p99Us ?? NaN, 0), fixed(m.p50Us ?? NaN, 0),
      `${fixed(m.serverCpu ?? NaN, 0)}%`, `${fixed(m.clientCpu ?? NaN, 0)}%`, fixed(m.serverCpuPerAckUs ?? NaN, 1),
      fixed(m.acksPerCommit ?? NaN, 1), fixed(m.commitUs ?? NaN, 0), ratio(acks), ratio(p99),
    ]);
  }
  const lines = [table(rows)];
  if (hasBase) {
    const peers = [...new Set(curve.points.map((p) => p.peer))].filter((p) => p !== base);
    for (const peer of peers) {
      lines.push(`slope ${peer} ÷ ${base}: PubAcks/s ${fixed(slopeRatio(curve, peer, acks), 2)}, p99 ${fixed(slopeRatio(curve, peer, p99), 2)} (≤ 1: cost grows no faster)`);
    }
  }
  const errors = curve.points.flatMap((p) => (p.errors ?? []).map((e) => `  ${p.peer}, ${p.x} conns: ${e}`));
  if (errors.length > 0) lines.push('errors:', ...errors);
  return lines.join('\n');
}
