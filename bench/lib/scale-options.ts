/**
 * The scale bench's command line (bench/scale.ts): axes, points, peers,
 * sizes; full and --quick sizes, each settable on its own (flags win over
 * --quick).
 */
import { parseArgs } from 'node:util';
import { positiveInt } from './args.js';
import { firstLine } from './proc.js';
import { AXES, AXIS_DEFS, type AxisId, type ScaleOptions } from './scale-axes.js';

export const SCALE_PEERS = ['hub', 'nats-server'] as const;
export type ScalePeer = (typeof SCALE_PEERS)[number];

export interface ScaleCommand {
  axes: AxisId[];
  points: Record<AxisId, number[]>;
  peers: ScalePeer[];
  runs: number;
  profile: boolean;
  out: string | undefined;
  o: ScaleOptions;
}

export const HELP = `usage: npm run bench:scale -- [options]

How the hub's cost grows along five axes, beside nats-server's: the same
client (nats.js) for both, a fresh server process for every run, runs
interleaved hub / nats-server, each point the median of --runs.

  --axes LIST          some of ${AXES.join(',')} (default all)
  --subs LIST          subscriptions axis points (default 1000,10000,100000,1000000)
  --fanout LIST        fan-out axis points: subscribers on one subject (default 1,10,100,1000)
  --payloads LIST      payload axis points: bytes (default 16,1024,65536,1048576)
  --conns LIST         connections axis points, 1% of them active (default 1000,10000,30000)
  --publishers LIST    publishers axis points (default 1,10,100)
  --peers LIST         some of ${SCALE_PEERS.join(',')} (default both)
  --runs N             repetitions per point (default 3; 1 with --quick)
  --quick              small points and counts, 1 run: the whole bench in about 4 minutes
  --size N             payload bytes on every axis but payload (default 128)
  --sub-messages N     messages published per subscriptions point (default 300,000; quick 50,000)
  --fanout-deliveries N  deliveries per fan-out point (default 2,000,000; quick 400,000)
  --payload-bytes N    payload bytes per payload point (default 1,000,000,000, at most 1,000,000
                       messages; quick a tenth)
  --conn-messages N    messages per connections point (default 500,000; quick 50,000)
  --pub-messages N     messages per publishers point (default 1,000,000; quick 100,000)
  --lat-rate N         fan-out p99: messages/s (default 10,000), lowered so that…
  --lat-deliveries N   …deliveries/s stay under N (default 20,000)
  --lat-ms N           fan-out p99: measured milliseconds after a warm-up (default 3,000; quick 1,000)
  --stall N            a flow making no progress for N seconds fails (default 30)
  --fd-limit N         fds one process may have (default: the hard limit, ulimit -Hn); a
                       connections point over it is skipped with a line
  --out FILE           the curves as JSON (default bench/results/scale-<time>.json);
                       --json FILE is the same (as the other curve benches name it)
  --profile            one axis, one point: the hub under node --cpu-prof, its top functions
`;

function list(v: string | undefined, name: string, dflt: readonly number[]): number[] {
  if (v === undefined) return [...dflt];
  const xs = v.split(',').map((s) => positiveInt(s.replaceAll('_', ''), name, 0));
  if (new Set(xs).size !== xs.length) throw new Error(`--${name} lists a point twice: ${v}`);
  return xs.sort((a, b) => a - b);
}

function hardFdLimit(): number {
  const n = Number(firstLine('bash', ['-c', 'ulimit -Hn']));
  return Number.isFinite(n) && n > 0 ? n : Infinity;
}

export function parseScaleArgs(): ScaleCommand | null {
  const opt = { type: 'string' } as const;
  const { values } = parseArgs({
    options: {
      axes: opt, subs: opt, fanout: opt, payloads: opt, conns: opt, publishers: opt, peers: opt, runs: opt,
      quick: { type: 'boolean' }, size: opt, 'sub-messages': opt, 'fanout-deliveries': opt, 'payload-bytes': opt,
      'conn-messages': opt, 'pub-messages': opt, 'lat-rate': opt, 'lat-deliveries': opt, 'lat-ms': opt, stall: opt,
      'fd-limit': opt, out: opt, json: opt, profile: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return null;
  const quick = values.quick === true;
  if (values.out !== undefined && values.json !== undefined) throw new Error('--out and --json name the same file: give one');
  const axes = (values.axes?.split(',') ?? [...AXES]) as AxisId[];
  for (const a of axes) if (!(AXES as readonly string[]).includes(a)) throw new Error(`unknown axis ${a}: expected some of ${AXES.join(',')}`);
  const peers = (values.peers?.split(',') ?? [...SCALE_PEERS]) as ScalePeer[];
  for (const p of peers) if (!(SCALE_PEERS as readonly string[]).includes(p)) throw new Error(`unknown peer ${p}: expected some of ${SCALE_PEERS.join(',')}`);
  const points = {} as Record<AxisId, number[]>;
  for (const a of AXES) {
    const d = AXIS_DEFS[a];
    points[a] = list(values[d.option as 'subs'], d.option, quick ? d.quickPoints : d.points);
  }
  const q = (full: number, small: number): number => (quick ? small : full);
  const int = (name: keyof typeof values, full: number, small = full): number => positiveInt(values[name] as string | undefined, name, q(full, small));
  const profile = values.profile === true;
  if (profile) {
    if (axes.length !== 1) throw new Error('--profile runs one axis: pass --axes with one of them');
    const a = axes[0]!;
    if (points[a].length !== 1) throw new Error(`--profile runs one point: pass --${AXIS_DEFS[a].option} with one value`);
  }
  return {
    axes: [...new Set(axes)],
    points,
    peers: [...new Set(peers)],
    runs: int('runs', 3, 1),
    profile,
    out: values.out ?? values.json,
    o: {
      size: int('size', 128),
      stallMs: int('stall', 30) * 1000,
      fdLimit: values['fd-limit'] === undefined ? hardFdLimit() : positiveInt(values['fd-limit'], 'fd-limit', 0),
      subMessages: int('sub-messages', 300_000, 50_000),
      connMessages: int('conn-messages', 500_000, 50_000),
      pubMessages: int('pub-messages', 1_000_000, 100_000),
      fanoutDeliveries: int('fanout-deliveries', 2_000_000, 400_000),
      payloadBytes: int('payload-bytes', 1e9, 1e8),
      payloadMaxMessages: q(1_000_000, 100_000),
      latRate: int('lat-rate', 10_000),
      latDeliveries: int('lat-deliveries', 20_000),
      latMs: int('lat-ms', 3000, 1000),
      windowDeliveries: 100_000,
      windowBytes: 32 * 1024 * 1024,
    },
  };
}
