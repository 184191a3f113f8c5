/**
 * `npm run bench:durable`: persisted publish (issues #7 and #20), our hub
 * against nats-server with JetStream file storage, side by side, with the
 * same client (nats.js + @nats-io/jetstream) for both:
 *
 *   serial   one publisher awaiting each PubAck (latency-bound)
 *   window   one publisher keeping up to --window publishes in flight
 *   conns    N connections at once, each awaiting its PubAck before its next
 *            publish (lib/durable-conns.ts): the curve over --conns
 *
 * Each peer runs in its own process on a fresh store directory
 * (lib/durable-peers.ts): the hub with sync=full (every commit fsynced: a
 * PubAck survives power loss) and sync=normal (survives a process crash), and
 * nats-server with its defaults (it fsyncs every 2 minutes). Repetitions are
 * interleaved; ratios are taken within each repetition (serial, window) or
 * between the medians (the curve).
 *
 * Options: HELP below (`npm run bench:durable -- --help`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as connectBus } from '../src/index.js';
import { parseCommandLine, positiveInt, positiveNumber } from './lib/args.js';
import type { CurveFile } from './lib/curves.js';
import { curveTable, runConnsCurve } from './lib/durable-conns.js';
import { NATS_SERVER, natsServerVersion, pickPeers, type DurablePeer } from './lib/durable-peers.js';
import { ROOT } from './lib/peers.js';
import { summarize, table, si, fixed, pct } from './lib/stats.js';

const MODES = ['serial', 'window', 'conns'] as const;
type Mode = (typeof MODES)[number];

const HELP = `usage: npm run bench:durable -- [options]

  --mode LIST      some of serial,window,conns (default all three)
  --messages N     window-mode messages per run (default 50000)
  --serial N       serial-mode messages per run (default 5000)
  --window N       publishes in flight (default 1000)
  --conns LIST     the conns curve's points: connections publishing at once,
                   each awaiting its PubAck (default 1,16,64)
  --warmup S       conns mode: seconds of unmeasured publishing (default 1)
  --duration S     conns mode: seconds measured per point (default 5)
  --workers N      conns mode: client processes at most (default 4)
  --size N         payload bytes (default 128)
  --runs N         repetitions (default 3)
  --peers LIST     some of hub-full,hub-normal,nats-server (default all)
  --client C       nats.js (default) or ours: serial and window's publisher
  --json FILE      also write serial and window's results as JSON
  --out FILE       the conns curve as a CurveFile (bench/lib/curves.ts; default
                   bench/results/durable-<time>.json)
`;

const cmd = parseCommandLine('bench:durable', HELP, () => {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' },
      messages: { type: 'string' },
      serial: { type: 'string' },
      size: { type: 'string' },
      window: { type: 'string' },
      conns: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      workers: { type: 'string' },
      runs: { type: 'string' },
      peers: { type: 'string' },
      client: { type: 'string', default: 'nats.js' },
      json: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return null;
  if (values.client !== 'nats.js' && values.client !== 'ours') throw new Error(`--client must be nats.js or ours, got ${JSON.stringify(values.client)}`);
  const modes = (values.mode ?? MODES.join(',')).split(',').map((m) => m.trim());
  for (const m of modes) if (!(MODES as readonly string[]).includes(m)) throw new Error(`unknown mode ${m}: expected some of ${MODES.join(',')}`);
  const conns = (values.conns ?? '1,16,64').split(',').map((c) => positiveInt(c.trim(), 'conns', 0));
  return {
    modes: new Set(modes as Mode[]),
    opts: {
      messages: positiveInt(values.messages, 'messages', 50_000),
      serial: positiveInt(values.serial, 'serial', 5000),
      size: positiveInt(values.size, 'size', 128),
      window: positiveInt(values.window, 'window', 1000),
      runs: positiveInt(values.runs, 'runs', 3),
    },
    curve: {
      conns,
      warmupMs: positiveNumber(values.warmup, 'warmup', 1) * 1000,
      durationMs: positiveNumber(values.duration, 'duration', 5) * 1000,
      workers: positiveInt(values.workers, 'workers', 4),
    },
    peers: pickPeers(values.peers),
    client: values.client,
    json: values.json,
    out: values.out,
  };
});
const { opts, client, json, modes } = cmd;
const natsVersion = natsServerVersion();
const peers = cmd.peers.filter((p) => natsVersion !== null || p.id !== NATS_SERVER);
if (natsVersion === null && peers.length < cmd.peers.length) process.stdout.write('skipping nats-server: nats-server is not installed (apt-get install nats-server)\n');
const log = (line: string): void => void process.stdout.write(`${line}\n`);

interface RunResult {
  serial: number;
  window: number;
}

/** Serial then window publishing on one fresh server. */
async function runOnce(peer: DurablePeer): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-durable-'));
  const { url, proc } = await peer.start(dir);
  const nc = await connect({ servers: url });
  const bus = client === 'ours' ? await connectBus(`nats://${url}`) : null;
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.durable'] });
    const js = jetstream(nc);
    const payload = new Uint8Array(opts.size).fill(120);
    const publish = bus === null ? (): Promise<unknown> => js.publish('bench.durable', payload) : (): Promise<unknown> => bus.publish('bench.durable', payload);
    // Warm-up: JIT and the first file pages, not measured.
    for (let i = 0; i < 500; i++) await publish();
    const serialN = modes.has('serial') ? opts.serial : 0;
    const windowN = modes.has('window') ? opts.messages : 0;

    let t0 = process.hrtime.bigint();
    for (let i = 0; i < serialN; i++) await publish();
    const serial = serialN / (Number(process.hrtime.bigint() - t0) / 1e9);

    t0 = process.hrtime.bigint();
    let sent = 0;
    let acked = 0;
    if (windowN > 0) {
      await new Promise<void>((resolve, reject) => {
        const pump = (): void => {
          while (sent < windowN && sent - acked < opts.window) {
            sent++;
            publish().then(() => {
              acked++;
              if (acked === windowN) resolve();
              else pump();
            }, reject);
          }
        };
        pump();
      });
    }
    const window = windowN / (Number(process.hrtime.bigint() - t0) / 1e9);
    const info = await jsm.streams.info('BENCH');
    const expected = 500 + serialN + windowN;
    if (info.state.messages !== expected) throw new Error(`${peer.id}: stored ${info.state.messages} of ${expected}`);
    return { serial: serialN > 0 ? serial : NaN, window: windowN > 0 ? window : NaN };
  } finally {
    await bus?.close();
    await nc.close();
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function serialAndWindow(): Promise<void> {
  log(
    `persisted publish with ${client}: ${opts.size}-byte payloads; serial ${opts.serial} msgs awaiting each PubAck; window ${opts.messages} msgs, ${opts.window} in flight; ${opts.runs} runs`,
  );
  const results = new Map<string, RunResult[]>(peers.map((p) => [p.id, []]));
  for (let r = 1; r <= opts.runs; r++) {
    for (const p of peers) {
      const res = await runOnce(p);
      results.get(p.id)!.push(res);
      log(`run ${r} ${p.id}: serial ${si(res.serial)} msgs/s, window ${si(res.window)} msgs/s`);
    }
  }
  const rows: string[][] = [['peer', 'serial msgs/s', 'spread', 'window msgs/s', 'spread', 'serial ÷ nats', 'window ÷ nats']];
  const nats = results.get(NATS_SERVER);
  const summary: Record<string, unknown> = {};
  for (const p of peers) {
    const rs = results.get(p.id)!;
    const s = summarize(rs.map((x) => x.serial));
    const w = summarize(rs.map((x) => x.window));
    const ratio = (k: keyof RunResult): ReturnType<typeof summarize> | undefined =>
      nats === undefined ? undefined : summarize(rs.map((x, i) => x[k] / nats[i]![k]));
    const rs1 = ratio('serial');
    const rw = ratio('window');
    rows.push([p.id, si(s.median), pct(s.spread), si(w.median), pct(w.spread), rs1 ? fixed(rs1.median, 2) : '-', rw ? fixed(rw.median, 2) : '-']);
    summary[p.id] = { serial: s, window: w, serialRatio: rs1, windowRatio: rw };
  }
  log('\n' + table(rows) + '\n');
  if (json !== undefined) writeFileSync(json, JSON.stringify({ options: opts, summary }, null, 2));
}

/** The conns curve; returns whether every run succeeded. */
async function connsCurve(): Promise<boolean> {
  const c = cmd.curve;
  log(
    `durable publishers: ${c.conns.join(', ')} connections, each awaiting its PubAck; ${opts.size}-byte payloads; ` +
      `${c.warmupMs / 1000} s warm-up, ${c.durationMs / 1000} s measured; up to ${c.workers} client processes; ${opts.runs} runs`,
  );
  const curve = await runConnsCurve(peers, { ...c, size: opts.size, runs: opts.runs }, log);
  log('\n' + curveTable(curve) + '\n');
  const file: CurveFile = {
    kind: 'durable',
    date: new Date().toISOString(),
    command: ['npm run bench:durable --', ...process.argv.slice(2)].join(' '),
    node: process.version,
    natsServer: natsVersion ?? 'not installed',
    curves: [curve],
  };
  const out = cmd.out ?? join(ROOT, 'bench', 'results', `durable-${file.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
  log(`curve written to ${out}`);
  return curve.points.every((p) => (p.errors ?? []).length === 0);
}

if (modes.has('serial') || modes.has('window')) await serialAndWindow();
const ok = modes.has('conns') ? await connsCurve() : true;
log(`node ${process.version}; ${natsVersion ?? 'no nats-server'}`);
process.exit(ok ? 0 : 1);
