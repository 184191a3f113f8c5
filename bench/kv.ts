/**
 * `npm run bench:kv`: key-value buckets and object stores (issue #15), our
 * hub against nats-server with JetStream file storage, side by side, with
 * the same client for both (@nats-io/kv and @nats-io/obj):
 *
 *   put          KV put awaited one at a time          (latency-bound)
 *   put-window   KV put, 100 in flight                 (throughput-bound)
 *   get          KV get one at a time
 *   get-window   KV get, 100 in flight
 *   watch        10,000 updates to 10 watchers, until every watcher has every update
 *   obj-put      a 5 MiB object put
 *   obj-get      a 5 MiB object get
 *
 * Each peer runs in its own process on a fresh store directory: the hub on
 * SQLite with its default sync (full), nats-server -js with its defaults.
 * Repetitions are interleaved; ratios are taken within each repetition and
 * the median is reported. A workload that fails or outlasts --timeout is an
 * error row (and exit 1), never a hang: its connections are closed and the
 * next one runs.
 *
 * Options: HELP below (`npm run bench:kv -- --help`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCommandLine, positiveInt } from './lib/args.js';
import { connections, KV_WORKLOADS, type KvBenchOptions, type KvWorkload } from './lib/kv-workloads.js';
import { DIST_BENCH } from './lib/peers.js';
import { printProfile } from './lib/profile.js';
import { firstLine, freePort, start, waitForLine, waitForPort, type Proc } from './lib/proc.js';
import { fixed, pct, si, summarize, table } from './lib/stats.js';

interface Peer {
  readonly id: 'hub' | 'nats-server';
  readonly label: string;
  start(dir: string): Promise<{ url: string; proc: Proc }>;
}

const PEERS: readonly Peer[] = [
  {
    id: 'hub',
    label: 'hub (SQLite, sync=full)',
    async start(dir) {
      const prof = cli.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cli.profile}`];
      const proc = start(process.execPath, [...prof, join(DIST_BENCH, 'servers', 'hub.js'), '--store', dir]);
      const m = await waitForLine(proc, /LISTENING (\d+)/);
      return { url: `127.0.0.1:${m[1]}`, proc };
    },
  },
  {
    id: 'nats-server',
    label: 'nats-server -js',
    async start(dir) {
      const port = await freePort();
      const proc = start('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]);
      await waitForPort(port, proc);
      return { url: `127.0.0.1:${port}`, proc };
    },
  },
];

const HELP = `usage: npm run bench:kv -- [options]

  --serial N        one-at-a-time puts and gets per run (default 5000)
  --window N        puts and gets per run with --inflight outstanding (default 50000)
  --inflight N      operations in flight in the window workloads (default 100)
  --value-size N    bytes per value (default 128)
  --keys N          distinct keys (default 1000)
  --updates N       updates in the watch fan-out (default 10000)
  --watchers N      watchers, each on its own connection (default 10)
  --object-size N   bytes per object (default 5242880, 5 MiB)
  --objects N       objects put, and gets, per run (default 5)
  --runs N          repetitions; each figure is their median (default 3)
  --timeout MS      most time one workload may take (default 60000)
  --workloads LIST  some of ${KV_WORKLOADS.map((w) => w.id).join(',')} (default all)
  --peers LIST      some of hub,nats-server (default both)
  --json FILE       also write the results as JSON
  --profile DIR     the hub runs under node --cpu-prof, writing into DIR; its top functions are printed at the end
`;

const cli = parseCommandLine('bench:kv', HELP, () => {
  const { values } = parseArgs({
    options: {
      serial: { type: 'string' },
      window: { type: 'string' },
      inflight: { type: 'string' },
      'value-size': { type: 'string' },
      keys: { type: 'string' },
      updates: { type: 'string' },
      watchers: { type: 'string' },
      'object-size': { type: 'string' },
      objects: { type: 'string' },
      runs: { type: 'string' },
      timeout: { type: 'string' },
      workloads: { type: 'string' },
      peers: { type: 'string' },
      json: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return null;
  const pick = <T extends { id: string }>(flag: string, raw: string | undefined, all: readonly T[]): T[] => {
    if (raw === undefined) return [...all];
    const ids = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const id of ids) if (!all.some((x) => x.id === id)) throw new Error(`unknown ${flag} ${id}: expected some of ${all.map((x) => x.id).join(',')}`);
    if (ids.length === 0) throw new Error(`--${flag}s needs at least one of ${all.map((x) => x.id).join(',')}`);
    return all.filter((x) => ids.includes(x.id));
  };
  const opts: KvBenchOptions = {
    serial: positiveInt(values.serial, 'serial', 5000),
    window: positiveInt(values.window, 'window', 50_000),
    inflight: positiveInt(values.inflight, 'inflight', 100),
    valueSize: positiveInt(values['value-size'], 'value-size', 128),
    keys: positiveInt(values.keys, 'keys', 1000),
    updates: positiveInt(values.updates, 'updates', 10_000),
    watchers: positiveInt(values.watchers, 'watchers', 10),
    objectSize: positiveInt(values['object-size'], 'object-size', 5 * 1024 * 1024),
    objects: positiveInt(values.objects, 'objects', 5),
  };
  return {
    opts,
    runs: positiveInt(values.runs, 'runs', 3),
    timeout: positiveInt(values.timeout, 'timeout', 60_000),
    workloads: pick('workload', values.workloads, KV_WORKLOADS),
    peers: pick('peer', values.peers, PEERS),
    json: values.json,
    profile: values.profile === undefined ? undefined : resolve(values.profile),
  };
});
const { opts, runs, timeout, workloads, json } = cli;

const natsVersion = firstLine('nats-server', ['--version']);
const peers = cli.peers.filter((p) => p.id !== 'nats-server' || natsVersion !== null);
if (peers.length < cli.peers.length) process.stdout.write('skipping nats-server -js: nats-server is not installed (apt-get install nats-server)\n');

/** A figure, or why there is none. */
type Outcome = { value: number } | { error: string };

/** Runs one workload on its own connections; gives up after --timeout. */
async function measure(w: KvWorkload, url: string): Promise<Outcome> {
  const conns = connections(url);
  let timer: NodeJS.Timeout | undefined;
  const work = w.run(conns.open, opts);
  work.catch(() => {}); // once given up on, its late failure is expected
  try {
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within ${timeout} ms`)), timeout);
    });
    return { value: await Promise.race([work, expired]) };
  } catch (err) {
    return { error: (err instanceof Error ? err.message : String(err)).split('\n')[0]! };
  } finally {
    clearTimeout(timer);
    await conns.close();
  }
}

/** One repetition on one peer: a fresh server and store, every workload in order. */
async function runOnce(peer: Peer): Promise<Map<string, Outcome>> {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-kv-bench-'));
  const { url, proc } = await peer.start(dir);
  try {
    const out = new Map<string, Outcome>();
    for (const w of workloads) out.set(w.id, await measure(w, url));
    return out;
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function show(o: Outcome): string {
  return 'value' in o ? si(o.value) : `error (${o.error})`;
}

process.stdout.write(
  `KV and object store with @nats-io/kv and @nats-io/obj: ${opts.valueSize}-byte values; ${opts.serial} serial and ${opts.window} windowed ops ` +
    `(${opts.inflight} in flight) on ${opts.keys} keys; watch ${opts.updates} updates × ${opts.watchers} watchers; ` +
    `${opts.objects} × ${opts.objectSize}-byte objects; ${runs} runs\n`,
);
const results = new Map<string, Map<string, Outcome>[]>(peers.map((p) => [p.id, []]));
for (let r = 1; r <= runs; r++) {
  for (const p of peers) {
    const res = await runOnce(p);
    results.get(p.id)!.push(res);
    process.stdout.write(`run ${r} ${p.id}: ${workloads.map((w) => `${w.id} ${show(res.get(w.id)!)}`).join(', ')}\n`);
  }
}

const valueOf = (o: Outcome | undefined): number => (o !== undefined && 'value' in o ? o.value : NaN);
const head = ['workload', 'unit', ...peers.flatMap((p) => [p.label, 'spread'])];
const natsRuns = results.get('nats-server');
const hubRuns = results.get('hub');
const ratios = hubRuns !== undefined && natsRuns !== undefined;
if (ratios) head.push('hub ÷ nats-server');
const rows: string[][] = [head];
const errors: string[] = [];
const summary: Record<string, unknown> = {};
for (const w of workloads) {
  const row = [w.label(opts), w.unit];
  const entry: Record<string, unknown> = {};
  for (const p of peers) {
    const outs = results.get(p.id)!.map((m) => m.get(w.id)!);
    const s = summarize(outs.map(valueOf));
    const failed = outs.filter((o) => 'error' in o).length;
    row.push(failed === outs.length ? 'error' : failed > 0 ? `${si(s.median)} (${failed} failed)` : si(s.median), pct(s.spread));
    const messages = [...new Set(outs.flatMap((o) => ('error' in o ? [o.error] : [])))];
    for (const m of messages) errors.push(`${p.id}, ${w.id}: ${m}`);
    entry[p.id] = { ...s, errors: messages };
  }
  if (ratios) {
    const ratio = summarize(hubRuns.map((m, i) => valueOf(m.get(w.id)) / valueOf(natsRuns[i]!.get(w.id))));
    row.push(fixed(ratio.median, 2));
    entry.ratio = ratio;
  }
  rows.push(row);
  summary[w.id] = entry;
}
process.stdout.write(`\n${table(rows)}\n`);
if (errors.length > 0) process.stdout.write(`\nerrors:\n${errors.map((e) => `  ${e}`).join('\n')}\n`);
process.stdout.write(`node ${process.version}; ${natsVersion ?? 'no nats-server'}\n`);
if (json !== undefined) writeFileSync(json, JSON.stringify({ options: opts, runs, summary }, null, 2));
if (cli.profile !== undefined) printProfile(cli.profile, 'hub', 25);
process.exit(errors.length > 0 ? 1 : 0);
