/**
 * `npm run bench:startup` (dist/bench/startup.js) end to end at a tiny size:
 * both servers filled, started and timed, and the curve file it writes is one
 * bench:charts reads (every point measured, a figure for each metric). No
 * speed is asserted.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, killAll, oneLine } from '../helpers/cli.js';
import { natsServerBin } from './targets.js';
import { toCurveFile } from '../../bench/lib/curve-file.js';

after(killAll);

const STARTUP_JS = fileURLToPath(new URL('../../bench/startup.js', import.meta.url));
/** A bound for the tiny run: two fills and four starts per peer, each well under a few seconds even on a loaded machine. */
const RUN_MS = 180_000;

function startupTmpDirs(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('netemitter-startup-'));
}

describe('bench:startup', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-startup-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses fewer messages than streams: one line, exit 2', async () => {
    const p = new Child(process.execPath, [STARTUP_JS, '--messages', '1', '--streams', '2'], { name: 'bench:startup refused' });
    await p.waitForExit(30_000);
    assert.equal(p.exit?.code, 2, p.output());
    assert.equal(oneLine(p.stderr), 'bench:startup: --messages (1) must be at least --streams (2) (--help lists the options)');
  });

  it('a tiny run: every point of both peers measured, the curve file written, the stores removed', async () => {
    const before = new Set(startupTmpDirs());
    const hasNats = natsServerBin() !== null;
    const file = join(dir, 'startup.json');
    const args = ['--messages', '2000', '--streams', '2', '--runs', '1', '--json', file, ...(hasNats ? [] : ['--peers', 'hub'])];
    const p = new Child(process.execPath, [STARTUP_JS, ...args], { name: `bench:startup ${args.join(' ')}` });
    await p.waitForExit(RUN_MS);
    assert.equal(p.exit?.code, 0, p.output());
    const peers = hasNats ? ['hub', 'nats-server'] : ['hub'];
    for (const peer of peers) {
      for (const x of ['0', '2000']) assert.match(p.stdout, new RegExp(`^run 1 ${peer} ${x} msgs: PONG [\\d.]+ ms, streams [\\d.]+ ms, RSS [\\d.]+ MiB$`, 'm'));
    }
    if (hasNats) assert.match(p.stdout, /^0 +hub +[\d.]+ +[\d.]+ +[\d.]+ MiB +[\d.]+ +[\d.]+ +[\d.]+$/m, 'a table row with the three ratios');

    const curves = toCurveFile(JSON.parse(readFileSync(file, 'utf8')));
    assert.equal(curves.kind, 'startup');
    assert.equal(curves.curves.length, 1);
    const curve = curves.curves[0]!;
    assert.deepEqual(curve.metrics.map((m) => m.id), ['pongMs', 'streamsMs', 'rss']);
    assert.deepEqual(curve.points.map((pt) => `${pt.x} ${pt.peer}`).sort(), peers.flatMap((peer) => [`0 ${peer}`, `2000 ${peer}`]).sort());
    for (const pt of curve.points) {
      assert.equal(pt.errors, undefined, `${pt.peer} ${pt.x}`);
      assert.ok(pt.median.pongMs! > 0 && pt.median.streamsMs! >= pt.median.pongMs!, `${pt.peer} ${pt.x}: ${JSON.stringify(pt.median)}`);
      assert.ok(pt.median.rss! > 1024 * 1024, `${pt.peer} ${pt.x}: RSS ${pt.median.rss}`);
    }
    assert.deepEqual(startupTmpDirs().filter((d) => !before.has(d)), [], 'the filled stores are removed');
  });
});
