/**
 * `npm run bench:durable` (dist/bench/durable.js) end to end at a tiny size:
 * the durable-publishers curve against the hub and nats-server (a CurveFile
 * with every point measured), the serial and window modes still working, and
 * the command-line checks of the new options. No speed is asserted: only
 * that each figure was measured.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, killAll, oneLine } from '../helpers/cli.js';
import { natsServerBin } from './targets.js';
import type { CurveFile } from '../../bench/lib/curves.js';

after(killAll);

const DURABLE_JS = fileURLToPath(new URL('../../bench/durable.js', import.meta.url));
/** A bound for a whole tiny run: a few servers started, each measured for a fraction of a second. */
const RUN_MS = 120_000;

describe('bench:durable', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-durable-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[]): Promise<Child> {
    const p = new Child(process.execPath, [DURABLE_JS, ...args], { name: `bench:durable ${args.join(' ')}` });
    await p.waitForExit(RUN_MS);
    return p;
  }

  it('conns mode: a CurveFile with every point measured, ratios and slopes against nats-server', { skip: natsServerBin() === null ? 'no nats-server binary' : false }, async () => {
    const out = join(dir, 'curve.json');
    const p = await run(['--mode', 'conns', '--conns', '1,3', '--runs', '1', '--warmup', '0.2', '--duration', '0.4', '--workers', '2', '--peers', 'hub-normal,nats-server', '--out', out]);
    assert.equal(p.exit?.code, 0, p.output());
    const file = JSON.parse(readFileSync(out, 'utf8')) as CurveFile;
    assert.equal(file.kind, 'durable');
    assert.match(file.command, /^npm run bench:durable -- --mode conns --conns 1,3 /);
    assert.equal(file.curves.length, 1);
    const curve = file.curves[0]!;
    assert.equal(curve.id, 'connections');
    assert.equal(curve.baseline, 'nats-server');
    assert.deepEqual(curve.metrics.map((m) => m.id), ['acksPerSec', 'p99Us']);
    assert.deepEqual(curve.points.map((pt) => `${pt.x} ${pt.peer}`), ['1 hub sync=normal', '1 nats-server', '3 hub sync=normal', '3 nats-server']);
    for (const pt of curve.points) {
      assert.equal(pt.errors, undefined, p.output());
      assert.equal(pt.runs.length, 1);
      for (const k of ['acksPerSec', 'p99Us', 'p50Us', 'serverCpu', 'clientCpu']) assert.ok(pt.median[k]! > 0, `${pt.peer} ${pt.x} ${k}: ${pt.median[k]}`);
      // The hub's commits, from its /metrics (over the harness's window, the PubAcks over the workers': not exactly aligned).
      if (pt.peer.startsWith('hub')) assert.ok(pt.median.acksPerCommit! > 0, `${pt.peer} ${pt.x}: ${pt.median.acksPerCommit}`);
      else assert.equal(pt.median.acksPerCommit, undefined);
    }
    assert.match(p.stdout, /^3\s+hub sync=normal\s+\S+/m);
    assert.match(p.stdout, /^slope hub sync=normal ÷ nats-server: PubAcks\/s \d+\.\d\d, p99 \d+\.\d\d/m);
  });

  it('serial and window modes on the hub alone: both figures measured, the JSON summary written', async () => {
    const json = join(dir, 'summary.json');
    const p = await run(['--mode', 'serial,window', '--serial', '50', '--messages', '300', '--window', '50', '--runs', '1', '--peers', 'hub-full', '--json', json]);
    assert.equal(p.exit?.code, 0, p.output());
    const s = (JSON.parse(readFileSync(json, 'utf8')) as { summary: Record<string, { serial: { median: number }; window: { median: number } }> }).summary;
    assert.ok(s['hub sync=full']!.serial.median > 0);
    assert.ok(s['hub sync=full']!.window.median > 0);
    assert.doesNotMatch(p.stdout, /durable publishers/, 'no conns curve unless asked for');
  });

  it('refuses an unknown mode or peer and a bad point with one line', async () => {
    for (const [args, message] of [
      [['--mode', 'burst'], 'unknown mode burst: expected some of serial,window,conns'],
      [['--peers', 'redis'], 'unknown peer redis: expected some of hub-full,hub-normal,nats-server'],
      [['--conns', '1,0'], '--conns needs a positive number, got "0"'],
    ] as const) {
      const p = await run([...args]);
      assert.equal(p.exit?.code, 2, p.output());
      assert.equal(oneLine(p.stderr), `bench:durable: ${message} (--help lists the options)`);
    }
  });
});
