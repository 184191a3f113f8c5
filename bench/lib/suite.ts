/**
 * `npm run bench:peers`: every workload, every installed peer, repeated
 * `runs` times. Repetitions are interleaved (run 1 of every peer, then run 2,
 * …) so that a burst of load from something else on the machine hits peers
 * alike; ratios are computed within each repetition, then summarized.
 * runSuite() does that for any list of cases and ratios: the security suite
 * (security-suite.ts) is another such list.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { PEERS, ROOT, peerMissing, securable, versions, withVariant, type PeerDef } from './peers.js';
import { pubsub, latency, requestReply, memory, type RunOutcome } from './workloads.js';
import { summarize, table, si, fixed, pct, mb, type Summary } from './stats.js';
import type { BenchOptions } from './options.js';

export interface Case {
  /** w1, w2, w3, w4-c1, w4-c16, w5 */
  readonly id: string;
  readonly title: string;
  /** The metric the ratios and the table lead with. */
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly columns: readonly string[];
  readonly peers: readonly PeerDef[];
  run(peer: PeerDef): Promise<RunOutcome>;
}

export interface RatioDef {
  readonly caseId: string;
  /** Default: the case's lead metric. */
  readonly metric?: string;
  readonly a: string;
  readonly b: string;
  readonly target?: string;
  readonly goal?: number;
}

/** The ratios the issue sets targets for, and a few more for context. */
const RATIOS: readonly RatioDef[] = [
  { caseId: 'w1', a: 'hub/nats.js', b: 'nats-server/nats.js', target: '≥ 1.0', goal: 1.0 },
  { caseId: 'w1', a: 'hub/ours', b: 'nats-server/nats.js', target: '≥ 1.5', goal: 1.5 },
  { caseId: 'w1', a: 'hub/ours', b: 'aedes/mqtt.js', target: '≥ 5', goal: 5 },
  { caseId: 'w1', a: 'hub/ours', b: 'mosquitto/mqtt.js', target: '≥ 5', goal: 5 },
  { caseId: 'w1', a: 'hub/ours', b: 'redis/ioredis' },
  { caseId: 'w1', a: 'hub/nats.js', b: 'raw', target: '≥ 0.5', goal: 0.5 },
  { caseId: 'w1', a: 'hub/ours', b: 'raw', target: '≥ 0.5', goal: 0.5 },
  { caseId: 'w1', a: 'nats-server/ours', b: 'nats-server/nats.js' },
  // CPU the server spends per delivered message: much less sensitive to other load on the machine than msgs/s.
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub/nats.js', b: 'raw' },
  { caseId: 'w2', a: 'hub/nats.js', b: 'nats-server/nats.js', target: '≥ 1.0', goal: 1.0 },
  { caseId: 'w2', a: 'hub/ours', b: 'nats-server/nats.js' },
  { caseId: 'w2', a: 'hub/ours', b: 'aedes/mqtt.js', target: '≥ 5', goal: 5 },
  { caseId: 'w2', a: 'hub/ours', b: 'mosquitto/mqtt.js', target: '≥ 5', goal: 5 },
  { caseId: 'w2', a: 'hub/ours', b: 'raw', target: '≥ 0.5', goal: 0.5 },
  { caseId: 'w2', metric: 'server µs/msg', a: 'hub/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w3', a: 'hub/nats.js', b: 'nats-server/nats.js', target: '≤ 1.0 (p99)', goal: 1.0 },
  { caseId: 'w3', a: 'hub/ours', b: 'nats-server/nats.js' },
  { caseId: 'w3', a: 'hub/nats.js', b: 'raw' },
  { caseId: 'w4-c1', a: 'hub/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w4-c1', a: 'hub/ours', b: 'nats-server/nats.js' },
  { caseId: 'w4-c16', a: 'hub/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w4-c16', a: 'hub/ours', b: 'nats-server/nats.js' },
];

/** What runSuite runs: its cases, the ratios to report, the peers left out and why. */
export interface Suite {
  /** Names the JSON report (netemitter-bench-<kind>) and its file (<kind>-<time>.json). */
  readonly kind: string;
  readonly cases: readonly Case[];
  readonly ratios: readonly RatioDef[];
  readonly skipped: Record<string, string>;
  /** Printed after the ratios, from the medians (the hub's memory targets). */
  footer?(summaries: Summaries): void;
}

export type Summaries = Record<string, Record<string, Record<string, Summary>>>;

interface Record_ {
  caseId: string;
  peer: string;
  run: number;
  ok: boolean;
  error?: string;
  metrics: Record<string, number>;
}

function formatMetric(name: string, v: number): string {
  if (name.includes('RSS')) return mb(v);
  if (name === 'bytes/conn') return `${si(v)} B`;
  if (name.includes('µs')) return fixed(v, name.includes('/msg') ? 2 : 0);
  if (name.endsWith('/1k')) return fixed(v, 1);
  if (name === 'MB/s' || name.includes('%')) return fixed(v, 1);
  return si(v);
}

/**
 * The installed peers among `defs` that `--peers` selects (by their id, or the
 * id without the security set-up: `hub/nats` picks hub+tls/nats.js too); the
 * others are printed as skipped.
 */
export async function selectPeers(defs: readonly PeerDef[], o: BenchOptions): Promise<{ peers: PeerDef[]; skipped: Record<string, string> }> {
  const plainId = (p: PeerDef): string => p.id.replace(/\+[^/]*/, '');
  const selected = defs.filter((p) => o.peers === null || o.peers.some((f) => p.id.includes(f) || plainId(p).includes(f)));
  const peers: PeerDef[] = [];
  const skipped: Record<string, string> = {};
  for (const p of selected) {
    const why = await peerMissing(p);
    if (why === null) peers.push(p);
    else {
      skipped[p.id] = why;
      console.log(`skip ${p.id}: ${why}`);
    }
  }
  return { peers, skipped };
}

/** A ratio between peers named by their plain ids, for the same peers with the run's security set-up. */
function ratioWithVariant(d: RatioDef, o: BenchOptions): RatioDef {
  const v = o.variant;
  if (v === null) return d;
  const rename = (id: string): string => {
    const p = PEERS.find((x) => x.id === id);
    return p !== undefined && securable(p) ? withVariant(p, v).id : id;
  };
  return { ...d, a: rename(d.a), b: rename(d.b) };
}

export async function runPeers(o: BenchOptions): Promise<void> {
  // With --tls or --auth: the hub and nats-server with that set-up; peers that cannot have it are left out.
  const v = o.variant;
  const defs = v === null ? PEERS : PEERS.filter(securable).map((p) => withVariant(p, v));
  if (v !== null) for (const p of PEERS.filter((x) => !securable(x))) console.log(`skip ${p.id}: no TLS or users set-up for it (--tls, --auth)`);
  const { peers, skipped } = await selectPeers(defs, o);
  const natsLike = peers.filter((p) => p.server !== 'relay');
  // W5 measures servers: one peer per server. Its idle connections are bare sockets, without TLS or a login.
  const perServer = peers.filter((p, i) => p.variant === undefined && peers.findIndex((q) => q.server === p.server) === i);

  const cases: Case[] = [];
  const pubsubCols = PUBSUB_COLUMNS;
  if (o.workloads.includes('w1')) {
    cases.push({
      id: 'w1', title: `W1: 1 publisher → 1 subscriber, ${si(o.messages)} × ${o.size} B`, metric: 'msgs/s', higherIsBetter: true,
      columns: pubsubCols, peers, run: (p) => pubsub(p, o, 1, o.messages),
    });
  }
  if (o.workloads.includes('w2')) {
    cases.push({
      id: 'w2', title: `W2: 1 publisher → ${o.w2Subscribers} subscribers (${o.w2Shared ? 'one process' : 'one process each'}), ${si(o.w2Messages)} × ${o.size} B, total delivered`,
      metric: 'msgs/s', higherIsBetter: true, columns: pubsubCols, peers, run: (p) => pubsub(p, o, o.w2Subscribers, o.w2Messages),
    });
  }
  if (o.workloads.includes('w3')) {
    cases.push({
      id: 'w3', title: `W3: latency at ${si(o.rate)} msgs/s for ${o.durationMs / 1000} s (after 1 s warm-up), µs`, metric: 'p99 µs', higherIsBetter: false,
      columns: ['p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'server µs/msg', 'server reads/1k', 'server writes/1k'], peers, run: (p) => latency(p, o),
    });
  }
  if (o.workloads.includes('w4')) {
    for (const c of o.concurrency) {
      cases.push({
        id: `w4-c${c}`, title: `W4: request/reply, ${c} concurrent requester${c === 1 ? '' : 's'}, ${o.reqDurationMs / 1000} s`, metric: 'rt/s', higherIsBetter: true,
        columns: ['rt/s', 'mean rt µs', 'server CPU %'], peers: natsLike, run: (p) => requestReply(p, o, c),
      });
    }
  }
  if (o.workloads.includes('w5') && v !== null) console.log('skip w5: its idle connections are bare sockets, without TLS or a login');
  if (o.workloads.includes('w5') && perServer.length > 0) {
    cases.push({
      id: 'w5', title: `W5: server memory, idle and with ${si(o.conns)} idle connections`, metric: 'RSS with conns', higherIsBetter: false,
      columns: ['idle RSS', 'RSS with conns', 'bytes/conn'], peers: perServer, run: (p) => memory(p, o),
    });
  }
  await runSuite(o, {
    kind: 'peers',
    cases,
    ratios: RATIOS.map((d) => ratioWithVariant(d, o)),
    skipped,
    footer: (summaries) => {
      const w5hub = summaries.w5?.['hub/nats.js'] ?? summaries.w5?.['hub/ours'];
      if (w5hub?.['idle RSS'] && w5hub['RSS with conns']) {
        const idle = w5hub['idle RSS'].median;
        const loaded = w5hub['RSS with conns'].median;
        console.log(`\nHub memory: idle ${mb(idle)} (target ≤ 60 MiB: ${idle <= 60 * 1024 * 1024 ? 'met' : 'NOT MET'}); with ${si(o.conns)} idle connections ${mb(loaded)}` +
          (o.conns === 10_000 ? ` (target ≤ 300 MB: ${loaded <= 300e6 ? 'met' : 'NOT MET'})` : ' (the 300 MB target is for 10,000)'));
      }
    },
  });
}

/** The columns of the W1 and W2 tables. */
export const PUBSUB_COLUMNS: readonly string[] = ['msgs/s', 'MB/s', 'server µs/msg', 'server reads/1k', 'server writes/1k', 'server peak RSS'];

/** Runs every case `o.runs` times, interleaved; prints the tables and ratios; writes the JSON report. */
export async function runSuite(o: BenchOptions, suite: Suite): Promise<void> {
  const started = new Date();
  const { cases, skipped } = suite;
  const records: Record_[] = [];
  for (const c of cases) {
    console.log(`\n${c.title}   (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
    for (let run = 1; run <= o.runs; run++) {
      for (const p of c.peers) {
        const t0 = Date.now();
        let out: RunOutcome;
        try {
          out = await c.run(p);
        } catch (err) {
          out = { ok: false, error: (err as Error).message.split('\n')[0], metrics: {} };
        }
        records.push({ caseId: c.id, peer: p.id, run, ...out });
        const v = out.metrics[c.metric];
        const shown = v === undefined ? '' : `${formatMetric(c.metric, v)} ${c.metric}`;
        console.log(`  [${c.id} ${run}/${o.runs}] ${p.id.padEnd(20)} ${shown}${out.ok ? '' : `  FAILED: ${out.error}`}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }
  }

  // ── summaries ───────────────────────────────────────────────────────────
  const summaries: Summaries = {};
  for (const c of cases) {
    summaries[c.id] = {};
    for (const p of c.peers) {
      const ok = records.filter((r) => r.caseId === c.id && r.peer === p.id && r.ok);
      const s: Record<string, Summary> = {};
      for (const m of new Set(ok.flatMap((r) => Object.keys(r.metrics)))) s[m] = summarize(ok.map((r) => r.metrics[m]!));
      summaries[c.id]![p.id] = s;
    }
  }
  const ratios = suite.ratios.flatMap((d) => {
    const c = cases.find((x) => x.id === d.caseId);
    if (c === undefined) return [];
    const metric = d.metric ?? c.metric;
    const higherIsBetter = d.metric === undefined ? c.higherIsBetter : !/µs|RSS/.test(metric);
    const perRun: number[] = [];
    for (let run = 1; run <= o.runs; run++) {
      const a = records.find((r) => r.caseId === d.caseId && r.peer === d.a && r.run === run && r.ok)?.metrics[metric];
      const b = records.find((r) => r.caseId === d.caseId && r.peer === d.b && r.run === run && r.ok)?.metrics[metric];
      if (a !== undefined && b !== undefined && b !== 0) perRun.push(a / b);
    }
    if (perRun.length === 0) return [];
    const s = summarize(perRun);
    const pass = d.goal === undefined ? undefined : higherIsBetter ? s.median >= d.goal : s.median <= d.goal;
    return [{ workload: d.caseId, metric, a: d.a, b: d.b, ratio: s, target: d.target, pass }];
  });

  // ── tables ──────────────────────────────────────────────────────────────
  console.log(`\n=== Results: median of ${o.runs} runs; spread = (max - min) / median ===`);
  for (const c of cases) {
    console.log(`\n${c.title}`);
    const rows: string[][] = [['peer', ...c.columns, 'spread', 'runs ok']];
    for (const p of c.peers) {
      const s = summaries[c.id]![p.id]!;
      const n = records.filter((r) => r.caseId === c.id && r.peer === p.id && r.ok).length;
      rows.push([p.id, ...c.columns.map((m) => (s[m] ? formatMetric(m, s[m].median) : '-')), s[c.metric] ? pct(s[c.metric]!.spread) : '-', `${n}/${o.runs}`]);
    }
    console.log(table(rows));
  }
  if (ratios.length > 0) {
    console.log('\nRatios (per run, then median; min–max across runs)');
    const rows = [['workload', 'metric', 'ratio', 'median', 'min–max', 'target', '']];
    for (const r of ratios) {
      rows.push([r.workload, r.metric, `${r.a} ÷ ${r.b}`, `${r.ratio.median.toFixed(2)}×`, `${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)}`, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'met' : 'NOT MET']);
    }
    console.log(table(rows));
  }
  suite.footer?.(summaries);

  // ── JSON ────────────────────────────────────────────────────────────────
  const report = {
    kind: `netemitter-bench-${suite.kind}`,
    started: started.toISOString(),
    finished: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory: totalmem(), loadavgAtEnd: loadavg() },
    versions: versions(),
    options: o,
    skipped,
    summary: summaries,
    ratios,
    records,
  };
  const file = o.out ?? join(ROOT, 'bench', 'results', `${suite.kind}-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 2));
  const brief = {
    summary: Object.fromEntries(cases.map((c) => [c.id, Object.fromEntries(c.peers.map((p) => [p.id, summaries[c.id]![p.id]![c.metric]?.median ?? null]))])),
    ratios: ratios.map((r) => ({ workload: r.workload, metric: r.metric, ratio: `${r.a} / ${r.b}`, median: Number(r.ratio.median.toFixed(3)), min: Number(r.ratio.min.toFixed(3)), max: Number(r.ratio.max.toFixed(3)) })),
  };
  console.log(`\nJSON (medians; every run is in ${file}):\n${JSON.stringify(brief)}`);
}
