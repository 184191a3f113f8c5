/**
 * `npm run bench:durable`: persisted publish throughput (issue #7), our hub
 * against nats-server with JetStream file storage, side by side, with the
 * same client (nats.js + @nats-io/jetstream) for both:
 *
 *   serial   one publisher awaiting each PubAck (latency-bound)
 *   window   one publisher keeping up to --window publishes in flight
 *
 * Each peer runs in its own process on a fresh store directory. The hub runs
 * twice: sync=full (every commit fsynced: a PubAck survives power loss) and
 * sync=normal (survives a process crash). nats-server runs with its defaults
 * (it fsyncs every 2 minutes). Repetitions are interleaved; ratios are taken
 * within each repetition, and the median and spread are reported.
 *
 * Options: HELP below (`npm run bench:durable -- --help`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as connectBus } from '../src/index.js';
import { parseCommandLine, positiveInt } from './lib/args.js';
import { start, freePort, waitForPort, waitForLine, firstLine, type Proc } from './lib/proc.js';
import { DIST_BENCH } from './lib/peers.js';
import { summarize, table, si, fixed, pct } from './lib/stats.js';

interface Peer {
  readonly id: string;
  start(dir: string): Promise<{ url: string; proc: Proc }>;
}

/** Our hub on a SQLite store with the given sync policy. */
function hubPeer(sync: 'full' | 'normal'): Peer {
  return {
    id: `hub sync=${sync}`,
    async start(dir) {
      const proc = start(process.execPath, [join(DIST_BENCH, 'servers', 'hub.js'), '--store', dir, '--sync', sync]);
      const m = await waitForLine(proc, /LISTENING (\d+)/);
      return { url: `127.0.0.1:${m[1]}`, proc };
    },
  };
}

const PEERS: Peer[] = [
  hubPeer('full'),
  hubPeer('normal'),
  {
    id: 'nats-server -js',
    async start(dir) {
      const port = await freePort();
      const proc = start('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]);
      await waitForPort(port, proc);
      return { url: `127.0.0.1:${port}`, proc };
    },
  },
];

const HELP = `usage: npm run bench:durable -- [options]

  --messages N   window-mode messages per run (default 50000)
  --serial N     serial-mode messages per run (default 5000)
  --size N       payload bytes (default 128)
  --window N     publishes in flight (default 1000)
  --runs N       repetitions (default 3)
  --client C     nats.js (default) or ours: the publisher's client, the same for every peer
  --json FILE    also write the results as JSON
`;

const { opts, client, json } = parseCommandLine('bench:durable', HELP, () => {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' },
      serial: { type: 'string' },
      size: { type: 'string' },
      window: { type: 'string' },
      runs: { type: 'string' },
      client: { type: 'string', default: 'nats.js' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return null;
  if (values.client !== 'nats.js' && values.client !== 'ours') throw new Error(`--client must be nats.js or ours, got ${JSON.stringify(values.client)}`);
  return {
    opts: {
      messages: positiveInt(values.messages, 'messages', 50_000),
      serial: positiveInt(values.serial, 'serial', 5000),
      size: positiveInt(values.size, 'size', 128),
      window: positiveInt(values.window, 'window', 1000),
      runs: positiveInt(values.runs, 'runs', 3),
    },
    client: values.client,
    json: values.json,
  };
});
const hasNats = firstLine('nats-server', ['--version']) !== null;
const peers = PEERS.filter((p) => hasNats || !p.id.startsWith('nats-server'));
if (!hasNats) process.stdout.write('skipping nats-server -js: nats-server is not installed (apt-get install nats-server)\n');

interface RunResult {
  serial: number;
  window: number;
}

async function runOnce(peer: Peer): Promise<RunResult> {
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

    let t0 = process.hrtime.bigint();
    for (let i = 0; i < opts.serial; i++) await publish();
    const serial = opts.serial / (Number(process.hrtime.bigint() - t0) / 1e9);

    t0 = process.hrtime.bigint();
    let sent = 0;
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        while (sent < opts.messages && sent - acked < opts.window) {
          sent++;
          publish().then(() => {
            acked++;
            if (acked === opts.messages) resolve();
            else pump();
          }, reject);
        }
      };
      pump();
    });
    const window = opts.messages / (Number(process.hrtime.bigint() - t0) / 1e9);
    const info = await jsm.streams.info('BENCH');
    const expected = 500 + opts.serial + opts.messages;
    if (info.state.messages !== expected) throw new Error(`${peer.id}: stored ${info.state.messages} of ${expected}`);
    return { serial, window };
  } finally {
    await bus?.close();
    await nc.close();
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(
  `persisted publish with ${client}: ${opts.size}-byte payloads; serial ${opts.serial} msgs awaiting each PubAck; window ${opts.messages} msgs, ${opts.window} in flight; ${opts.runs} runs\n`,
);
const results = new Map<string, RunResult[]>(peers.map((p) => [p.id, []]));
for (let r = 1; r <= opts.runs; r++) {
  for (const p of peers) {
    const res = await runOnce(p);
    results.get(p.id)!.push(res);
    process.stdout.write(`run ${r} ${p.id}: serial ${si(res.serial)} msgs/s, window ${si(res.window)} msgs/s\n`);
  }
}

const rows: string[][] = [['peer', 'serial msgs/s', 'spread', 'window msgs/s', 'spread', 'serial ÷ nats', 'window ÷ nats']];
const nats = results.get('nats-server -js');
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
process.stdout.write('\n' + table(rows) + '\n');
process.stdout.write(`node ${process.version}; ${firstLine('nats-server', ['--version']) ?? 'no nats-server'}\n`);
if (json !== undefined) writeFileSync(json, JSON.stringify({ options: opts, summary }, null, 2));
process.exit(0);
