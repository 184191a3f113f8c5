/**
 * `npm run bench:startup`: how long `netemitter serve` takes to be of use,
 * against nats-server -js started the same way (issue #20), at two points:
 *
 *   0 messages    the --streams streams, empty
 *   N messages    the same streams holding --messages messages in all
 *
 * Each point's store is filled once per peer (nats.js + @nats-io/jetstream,
 * publishing with --window in flight, as bench:durable's window mode), and
 * the server stopped with SIGTERM (nats-server fsyncs lazily and flushes
 * then). Each timed run then starts the server on that store and measures,
 * from the spawn: the first PONG on a raw TCP connection, the moment every
 * stream answers STREAM.INFO with its message count, and the server's RSS
 * then. Runs interleave the peers; ratios are taken within each run.
 *
 * Writes a curve file (bench/lib/curves.ts, kind 'startup', x = stored
 * messages) with --json, for bench:charts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { parseCommandLine, positiveInt } from './lib/args.js';
import { freePort, procStats, firstLine } from './lib/proc.js';
import { ROOT } from './lib/peers.js';
import { summarize, table, fixed, mb } from './lib/stats.js';
import { point, type CurveFile, type CurveMetric, type CurvePoint } from './lib/curves.js';
import { firstPong, streamsReady } from './lib/startup-probe.js';

const HELP = `usage: npm run bench:startup -- [options]

  --messages N   messages stored in the full store (default 1000000)
  --streams N    streams they are spread over (default 10)
  --size N       payload bytes (default 128)
  --window N     publishes in flight while filling (default 1000)
  --runs N       timed starts per point and peer (default 5)
  --peers a,b    hub, nats-server or both (default both)
  --timeout MS   bound on one start, and on one fill (default 120000 and 10 minutes)
  --json FILE    also write the curve file (for npm run bench:charts)
`;

const PEER_IDS = ['hub', 'nats-server'] as const;
type PeerId = (typeof PEER_IDS)[number];

const opts = parseCommandLine('bench:startup', HELP, () => {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' },
      streams: { type: 'string' },
      size: { type: 'string' },
      window: { type: 'string' },
      runs: { type: 'string' },
      peers: { type: 'string', default: PEER_IDS.join(',') },
      timeout: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return null;
  const peers = values.peers.split(',').filter((p) => p !== '');
  for (const p of peers) if (!(PEER_IDS as readonly string[]).includes(p)) throw new Error(`unknown peer ${p}: expected some of ${PEER_IDS.join(',')}`);
  if (peers.length === 0) throw new Error('--peers names no peer');
  const streams = positiveInt(values.streams, 'streams', 10);
  const messages = positiveInt(values.messages, 'messages', 1_000_000);
  if (messages < streams) throw new Error(`--messages (${messages}) must be at least --streams (${streams})`);
  return {
    messages,
    streams,
    size: positiveInt(values.size, 'size', 128),
    window: positiveInt(values.window, 'window', 1000),
    runs: positiveInt(values.runs, 'runs', 5),
    peers: peers as PeerId[],
    timeout: positiveInt(values.timeout, 'timeout', 120_000),
    json: values.json,
  };
});

const natsVersion = firstLine('nats-server', ['--version']);
const peers = opts.peers.filter((p) => p !== 'nats-server' || natsVersion !== null);
if (peers.length < opts.peers.length) process.stdout.write('skipping nats-server: nats-server is not installed (apt-get install nats-server)\n');

/** A server process spawned directly (no shell in between: its start is what is timed). */
interface Server {
  readonly child: ChildProcess;
  readonly port: number;
  output(): string;
  alive(): boolean;
  /** SIGTERM (both flush their store), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

async function startServer(peer: PeerId, dir: string): Promise<Server> {
  const port = await freePort();
  const [cmd, args] =
    peer === 'hub'
      ? [process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--store', dir]]
      : ['nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let log = '';
  const keep = (b: Buffer): void => {
    log = (log + b.toString()).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    port,
    output: () => log.trim().split('\n').slice(-5).join(' | '),
    alive,
    async stop(graceMs = 30_000) {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

const streamName = (i: number): string => `STARTUP${i}`;

/** Messages per stream: `total` spread as evenly as it goes. */
function perStream(total: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < opts.streams; i++) m.set(streamName(i), Math.floor(total / opts.streams) + (i < total % opts.streams ? 1 : 0));
  return m;
}

/** Creates the streams in a fresh store and publishes `total` messages round-robin over them; the server is stopped after. */
async function fill(peer: PeerId, total: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `netemitter-startup-${peer}-`));
  const server = await startServer(peer, dir);
  const deadline = performance.now() + Math.max(opts.timeout, 600_000);
  try {
    await firstPong(server.port, deadline, server.alive, server.output);
    const nc = await connect({ servers: `127.0.0.1:${server.port}` });
    try {
      const jsm = await jetstreamManager(nc);
      for (let i = 0; i < opts.streams; i++) await jsm.streams.add({ name: streamName(i), subjects: [`startup.${i}`] });
      const js = jetstream(nc);
      const payload = new Uint8Array(opts.size).fill(120);
      let sent = 0;
      let acked = 0;
      await new Promise<void>((resolve, reject) => {
        if (total === 0) return resolve();
        const pump = (): void => {
          if (performance.now() > deadline) return reject(new Error(`${peer}: filling took longer than the deadline (${acked} of ${total} stored)`));
          while (sent < total && sent - acked < opts.window) {
            const subject = `startup.${sent % opts.streams}`;
            sent++;
            js.publish(subject, payload).then(() => {
              acked++;
              if (acked === total) resolve();
              else pump();
            }, reject);
          }
        };
        pump();
      });
    } finally {
      await nc.close();
    }
  } catch (err) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  await server.stop();
  return dir;
}

interface Timing {
  pongMs: number;
  streamsMs: number;
  rss: number;
}

async function timedStart(peer: PeerId, dir: string, expected: Map<string, number>): Promise<Timing> {
  const t0 = performance.now();
  const deadline = t0 + opts.timeout;
  const server = await startServer(peer, dir);
  try {
    await firstPong(server.port, deadline, server.alive, server.output);
    const pongMs = performance.now() - t0;
    await streamsReady(server.port, expected, deadline);
    const streamsMs = performance.now() - t0;
    return { pongMs, streamsMs, rss: procStats(server.child.pid!).rss };
  } finally {
    await server.stop();
  }
}

const METRICS: CurveMetric[] = [
  { id: 'pongMs', label: 'spawn to the first PONG', unit: 'ms', better: 'lower' },
  { id: 'streamsMs', label: 'spawn to every stream usable', unit: 'ms', better: 'lower' },
  { id: 'rss', label: 'RSS once usable', unit: 'B', better: 'lower' },
];

const xs = [0, opts.messages];
process.stdout.write(
  `start-up: ${opts.streams} streams holding 0 and ${opts.messages} ${opts.size}-byte messages; ${opts.runs} starts per point and peer; peers ${peers.join(', ')}\n`,
);

const stores = new Map<string, string>();
const key = (peer: PeerId, x: number): string => `${peer} ${x}`;
const results = new Map<string, (Timing | Error)[]>();
let failed = false;
try {
  for (const x of xs) {
    for (const peer of peers) {
      const t0 = performance.now();
      stores.set(key(peer, x), await fill(peer, x));
      process.stdout.write(`filled ${peer} with ${x} messages in ${fixed((performance.now() - t0) / 1000, 1)} s\n`);
      results.set(key(peer, x), []);
    }
  }
  for (let r = 1; r <= opts.runs; r++) {
    for (const x of xs) {
      for (const peer of peers) {
        let res: Timing | Error;
        try {
          res = await timedStart(peer, stores.get(key(peer, x))!, perStream(x));
          process.stdout.write(`run ${r} ${peer} ${x} msgs: PONG ${fixed(res.pongMs, 1)} ms, streams ${fixed(res.streamsMs, 1)} ms, RSS ${mb(res.rss)}\n`);
        } catch (err) {
          res = err as Error;
          failed = true;
          process.stdout.write(`run ${r} ${peer} ${x} msgs: ${res.message}\n`);
        }
        results.get(key(peer, x))!.push(res);
      }
    }
  }
} finally {
  for (const dir of stores.values()) rmSync(dir, { recursive: true, force: true });
}

const points: CurvePoint[] = [];
const rows: string[][] = [['stored messages', 'peer', 'first PONG ms', 'streams usable ms', 'RSS', 'PONG ÷ nats', 'streams ÷ nats', 'RSS ÷ nats']];
for (const x of xs) {
  const nats = results.get(key('nats-server', x));
  for (const peer of peers) {
    const rs = results.get(key(peer, x))!;
    const ok = rs.filter((t): t is Timing => !(t instanceof Error));
    const errors = rs.filter((t): t is Error => t instanceof Error).map((e) => e.message);
    const p = point(x, peer, ok.map((t) => ({ pongMs: t.pongMs, streamsMs: t.streamsMs, rss: t.rss })), errors);
    points.push(p);
    // Within each run: hub ÷ nats-server of the same repetition (< 1: the hub is quicker or smaller).
    const ratio = (k: keyof Timing): string => {
      if (peer === 'nats-server' || nats === undefined) return '';
      const per = rs.map((t, i) => {
        const n = nats[i];
        return t instanceof Error || n === undefined || n instanceof Error ? NaN : t[k] / n[k];
      });
      return fixed(summarize(per).median, 2);
    };
    rows.push([String(x), peer, fixed(p.median.pongMs ?? NaN, 1), fixed(p.median.streamsMs ?? NaN, 1), mb(p.median.rss ?? NaN), ratio('pongMs'), ratio('streamsMs'), ratio('rss')]);
  }
}
process.stdout.write('\n' + table(rows) + '\n');
process.stdout.write(`medians of ${opts.runs} starts; ratios are the median of each run's hub ÷ nats-server (< 1: the hub is quicker or smaller)\n`);
process.stdout.write(`node ${process.version}; ${natsVersion ?? 'no nats-server'}\n`);

if (opts.json !== undefined) {
  const file: CurveFile = {
    kind: 'startup',
    date: new Date().toISOString(),
    command: `npm run bench:startup -- ${process.argv.slice(2).join(' ')}`.trim(),
    node: process.version,
    natsServer: natsVersion ?? '',
    curves: [
      {
        id: 'startup',
        title: `Start-up (${opts.streams} streams, ${opts.size}-byte messages)`,
        xLabel: 'stored messages',
        xLog: false,
        metrics: METRICS,
        points,
      },
    ],
  };
  writeFileSync(opts.json, JSON.stringify(file, null, 2) + '\n');
}
process.exit(failed ? 1 : 0);
