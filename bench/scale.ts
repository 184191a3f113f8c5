/**
 * `npm run bench:scale`: how the hub's cost grows with the work (issue #20),
 * beside nats-server's, along five axes (lib/scale-axes.ts): subscriptions,
 * fan-out, payload size, connections, publishers. The same client (nats.js)
 * for both servers; every run against a fresh server process; repetitions
 * interleaved hub / nats-server, each point the median of --runs. Prints a
 * table and the slopes per axis, and writes the curves (lib/curves.ts) as
 * JSON for the charts. A failed run is an error in its point and exit 1 at
 * the end; the bench goes on.
 *
 * With --profile (one axis, one point) the hub runs under node --cpu-prof
 * once and its top functions are printed, as `npm run bench -- --profile`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseCommandLine } from './lib/args.js';
import { firstLine } from './lib/proc.js';
import { ROOT, startServer, type StartOptions } from './lib/peers.js';
import { point, skippedPoint, type Curve, type CurveFile, type CurvePoint } from './lib/curves.js';
import { AXIS_DEFS, type AxisDef } from './lib/scale-axes.js';
import { HELP, parseScaleArgs, type ScalePeer } from './lib/scale-options.js';
import { at, curveReport } from './lib/scale-report.js';
import { printProfile } from './lib/profile.js';
import { si, fixed } from './lib/stats.js';

const cmd = parseCommandLine('bench:scale', HELP, parseScaleArgs);
const argv = process.argv.slice(2).map((a) => (/^[\w,.=/:-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
const command = process.env.npm_lifecycle_event === 'bench:scale' ? `npm run bench:scale${argv === '' ? '' : ` -- ${argv}`}` : `node dist/bench/scale.js ${argv}`.trimEnd();

const natsVersion = firstLine('nats-server', ['--version']);
let peers: ScalePeer[] = cmd.peers;
if (natsVersion === null && peers.includes('nats-server')) {
  process.stdout.write('skipping nats-server: it is not installed (apt-get install nats-server)\n');
  peers = peers.filter((p) => p !== 'nats-server');
}

function describe(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 400);
}

async function once(axis: AxisDef, x: number, peer: ScalePeer, opts: StartOptions = {}): Promise<Record<string, number>> {
  const server = await startServer(peer, opts);
  try {
    return await axis.run(server, x, cmd.o);
  } finally {
    await server.stop();
  }
}

function show(metrics: Record<string, number>, axis: AxisDef): string {
  return axis.metrics.map((m) => `${m.label} ${m.unit === 'MiB' || m.unit === 'ms' || m.unit === 'MB/s' ? fixed(metrics[m.id] ?? NaN, 1) : si(metrics[m.id] ?? NaN)} ${m.unit}`).join(', ');
}

if (cmd.profile) {
  const axis = AXIS_DEFS[cmd.axes[0]!];
  const x = cmd.points[axis.id][0]!;
  const dir = join(ROOT, 'bench', 'results', 'profiles', `scale-${axis.id}-${x}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const why = axis.skip(x, cmd.o);
  if (why !== null) {
    process.stdout.write(`${axis.id} at ${x}: skipped: ${why}\n`);
    process.exit(0);
  }
  process.stdout.write(`${axis.title} at ${at(x)}: the hub under --cpu-prof (profiling slows it)\n`);
  try {
    process.stdout.write(`  ${show(await once(axis, x, 'hub', { cpuProfDir: dir }), axis)}\n`);
  } catch (e) {
    process.stdout.write(`  FAILED: ${describe(e)}\n`);
    printProfile(dir, 'hub', 20);
    process.exit(1);
  }
  printProfile(dir, 'hub', 20);
  process.exit(0);
}

process.stdout.write(`${command}\n${cmd.runs} run${cmd.runs > 1 ? 's' : ''} per point; peers ${peers.join(', ')}; node ${process.version}; ${natsVersion ?? 'no nats-server'}\n`);
const curves: Curve[] = [];
let failed = false;
for (const id of cmd.axes) {
  const axis = AXIS_DEFS[id];
  process.stdout.write(`\n== ${axis.title}\n`);
  const points: CurvePoint[] = [];
  for (const x of cmd.points[id]) {
    const runs = new Map<ScalePeer, Record<string, number>[]>(peers.map((p) => [p, []]));
    const errors = new Map<ScalePeer, string[]>(peers.map((p) => [p, []]));
    const why = axis.skip(x, cmd.o);
    if (why !== null) {
      process.stdout.write(`  ${at(x)}: skipped: ${why}\n`);
      for (const p of peers) points.push(skippedPoint(x, p, why));
      continue;
    }
    for (let r = 1; r <= cmd.runs; r++) {
      for (const p of peers) {
        try {
          const m = await once(axis, x, p);
          runs.get(p)!.push(m);
          process.stdout.write(`  ${at(x)} run ${r} ${p}: ${show(m, axis)}\n`);
        } catch (e) {
          failed = true;
          errors.get(p)!.push(describe(e));
          process.stdout.write(`  ${at(x)} run ${r} ${p}: FAILED: ${describe(e)}\n`);
        }
      }
    }
    for (const p of peers) points.push(point(x, p, runs.get(p)!, errors.get(p)!));
  }
  const curve: Curve = { id, title: axis.title, xLabel: axis.xLabel, xLog: true, metrics: axis.metrics, points };
  curves.push(curve);
  process.stdout.write(`\n${curveReport(curve, peers)}\n`);
}

const file: CurveFile = { kind: 'scale', date: new Date().toISOString(), command, node: process.version, natsServer: natsVersion ?? 'not installed', curves };
const out = cmd.out ?? join(ROOT, 'bench', 'results', `scale-${file.date.replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
process.stdout.write(`\ncurves written to ${out}\n`);
process.exit(failed ? 1 : 0);
