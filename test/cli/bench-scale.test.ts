/**
 * `npm run bench:scale` (dist/bench/scale.js) end to end at a tiny size:
 * every axis at two small points against the hub and, when installed,
 * nats-server in the same run; the JSON has every point measured with a
 * finite median per metric, the tables have their rows, and a connections
 * point over the fd limit (a small fake one) is skipped with its line. No
 * speed is asserted.
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

const SCALE_JS = fileURLToPath(new URL('../../bench/scale.js', import.meta.url));
const AXES = ['subscriptions', 'fanout', 'payload', 'connections', 'publishers'];
/** Each axis's points, and the sizes that keep each run well under a second of traffic. */
const POINTS: Record<string, number[]> = { subscriptions: [100, 1000], fanout: [1, 4], payload: [16, 65536], connections: [50, 100], publishers: [1, 3] };
const TINY = [
  '--runs', '1', '--subs', '100,1000', '--fanout', '1,4', '--payloads', '16,65536', '--conns', '50,100,500', '--publishers', '1,3',
  '--sub-messages', '3000', '--fanout-deliveries', '8000', '--payload-bytes', '1000000', '--conn-messages', '3000', '--pub-messages', '6000',
  '--lat-ms', '200', '--lat-rate', '500', '--fd-limit', '300', '--stall', '20',
];
/** A bound for the whole tiny run: some 20 server starts, each with a few client processes, on a busy machine. */
const RUN_MS = 400_000;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function run(args: string[], env: Record<string, string> = {}, ms = 30_000): Promise<Child> {
  const p = new Child(process.execPath, [SCALE_JS, ...args], { env, name: `bench:scale ${args.join(' ')}` });
  await p.waitForExit(ms);
  return p;
}

describe('bench:scale command line', () => {
  it('--help prints the usage with every axis option', async () => {
    const p = await run(['--help']);
    assert.equal(p.exit?.code, 0, p.output());
    for (const o of ['--axes', '--subs', '--fanout', '--payloads', '--conns', '--publishers', '--quick', '--runs', '--peers', '--profile', '--fd-limit', '--out']) {
      assert.match(p.stdout, new RegExp(`^  ${o} `, 'm'), o);
    }
  });

  const REFUSED: [string[], RegExp][] = [
    [['--axes', 'subscriptions,widths'], /unknown axis widths: expected some of subscriptions,fanout,payload,connections,publishers/],
    [['--peers', 'hub,aedes'], /unknown peer aedes: expected some of hub,nats-server/],
    [['--subs', '1000,x'], /--subs needs a positive number, got "x"/],
    [['--fanout', '10,10'], /--fanout lists a point twice: 10,10/],
    [['--profile', '--axes', 'fanout,payload'], /--profile runs one axis: pass --axes with one of them/],
    [['--profile', '--axes', 'fanout'], /--profile runs one point: pass --fanout with one value/],
    [['--fd-limit', '0'], /--fd-limit needs a positive number, got "0"/],
    [['--out', 'a.json', '--json', 'b.json'], /--out and --json name the same file: give one/],
  ];
  for (const [args, message] of REFUSED) {
    it(`${args.join(' ')}: one line, exit 2`, async () => {
      const p = await run(args, { BENCH_CHECK_ARGS: '1' });
      assert.equal(p.exit?.code, 2, p.output());
      assert.match(oneLine(p.stderr), new RegExp(`^bench:scale: ${message.source} \\(--help lists the options\\)$`));
      assert.equal(p.stdout, '');
    });
  }

  it('BENCH_CHECK_ARGS=1 accepts a full command line and --profile at one point', async () => {
    for (const args of [TINY, ['--quick'], ['--profile', '--axes', 'subscriptions', '--subs', '1000000']]) {
      const p = await run(args, { BENCH_CHECK_ARGS: '1' });
      assert.equal(p.exit?.code, 0, p.output());
      assert.equal(p.stdout, 'bench:scale: arguments ok\n');
    }
  });
});

describe('bench:scale, a tiny run of every axis', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-scale-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('measures every point for each peer, prints the tables and skips the point over the fd limit', { timeout: RUN_MS + 10_000 }, async () => {
    const peers = natsServerBin() === null ? ['hub'] : ['hub', 'nats-server'];
    const out = join(dir, 'scale.json');
    const p = await run([...TINY, '--peers', peers.join(','), '--out', out], {}, RUN_MS);
    assert.equal(p.exit?.code, 0, p.output());
    const file = JSON.parse(readFileSync(out, 'utf8')) as CurveFile;
    assert.equal(file.kind, 'scale');
    assert.match(file.command, /^node dist\/bench\/scale\.js --runs 1 --subs 100,1000 /);
    assert.deepEqual(file.curves.map((c) => c.id), AXES);
    for (const c of file.curves) {
      for (const x of POINTS[c.id]!) {
        for (const peer of peers) {
          const pt = c.points.find((q) => q.x === x && q.peer === peer);
          assert.ok(pt !== undefined, `${c.id} ${x} ${peer}`);
          assert.equal(pt.errors, undefined, `${c.id} ${x} ${peer}: ${pt.errors?.join('; ')}`);
          assert.equal(pt.runs.length, 1);
          for (const m of c.metrics) {
            // RSS per subscription may come out at 0 or below at 100 subscriptions (a GC between the readings): finite is what is asserted.
            const v = pt.median[m.id]!;
            assert.ok(Number.isFinite(v) && (m.better === 'lower' || v > 0), `${c.id} ${x} ${peer} ${m.id}: ${v}`);
          }
        }
      }
    }
    // 500 connections need more fds than --fd-limit 300: skipped for each peer, with why.
    const conns = file.curves.find((c) => c.id === 'connections')!;
    for (const peer of peers) assert.equal(conns.points.find((q) => q.x === 500 && q.peer === peer)?.skipped, 'needs ~564 fds in the server; the hard limit here is 300');
    assert.match(p.stdout, /^ {2}500: skipped: needs ~564 fds in the server; the hard limit here is 300$/m);

    // Each axis's table: a row per point (ratios when both peers ran), then the slopes.
    for (const c of file.curves) {
      for (const x of POINTS[c.id]!) {
        const row = new RegExp(`^${x.toLocaleString('en-US')} .*${peers.length === 2 ? '\\d\\.\\d\\d$' : '%$'}`, 'm');
        assert.match(p.stdout, row, `${c.id} ${x}`);
      }
      for (const m of c.metrics) assert.match(p.stdout, new RegExp(`^${escape(m.label)} +-?\\d`, 'm'), `${c.id} slope of ${m.id}`);
    }
    assert.match(p.stdout, /^500 +skipped/m);
    assert.doesNotMatch(p.stdout, /FAILED/);
  });
});
