/**
 * `npm run bench:charts` (dist/bench/charts.js): a curve file in, one SVG per
 * curve and metric out, with the source copied beside them. The same input
 * gives the same bytes (the docs' charts are regenerated, not redrawn by
 * hand); a file that is missing, not JSON or not a curve file gets one line
 * and exit 2, and nothing is written.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, killAll, oneLine } from '../helpers/cli.js';

after(killAll);

const CHARTS_JS = fileURLToPath(new URL('../../bench/charts.js', import.meta.url));
/** dist/test/cli → test/fixtures/curves (plain JSON, not compiled). */
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/curves/scale.json', import.meta.url));
const SVGS = ['scale-payload-mbPerSec.svg', 'scale-subscriptions-msgsPerSec.svg', 'scale-subscriptions-rssPerSub.svg'];

async function charts(args: string[]): Promise<Child> {
  const p = new Child(process.execPath, [CHARTS_JS, ...args], { name: `bench:charts ${args.join(' ')}` });
  await p.waitForExit(60_000);
  return p;
}

describe('bench:charts', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-charts-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('one SVG per curve and metric, naming both peers, with the skipped points noted; the source beside them', async () => {
    const out = join(dir, 'a');
    const p = await charts([FIXTURE, '--out', out]);
    assert.equal(p.exit?.code, 0, p.output());
    assert.equal(p.stderr, '');
    assert.deepEqual(readdirSync(out).sort(), [...SVGS, 'scale.json'].sort());
    assert.deepEqual(p.stdout.trim().split('\n').sort(), [...SVGS, 'scale.json'].map((f) => join(out, f)).sort());
    assert.equal(readFileSync(join(out, 'scale.json'), 'utf8'), readFileSync(FIXTURE, 'utf8'));
    for (const f of SVGS) {
      const svg = readFileSync(join(out, f), 'utf8');
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/, f);
      assert.match(svg, /<\/svg>\n$/, f);
      assert.match(svg, /<rect width="\d+" height="\d+" fill="white"\/>/, `${f}: a white background`);
      assert.match(svg, />hub</, f);
      assert.match(svg, />nats-server</, f);
    }
    const subs = readFileSync(join(out, 'scale-subscriptions-msgsPerSec.svg'), 'utf8');
    assert.match(subs, />Subscriptions \(100 connections, 10% wildcards\)</);
    // Cost at 100k ÷ cost at 1k: hub (1/350k)/(1/410k), nats-server (1/330k)/(1/400k) → 0.97; the 1M points are absent from both.
    assert.match(subs, />slope hub ÷ nats-server 0\.97</);
    assert.match(subs, />not measured: hub at 1,000,000 subscriptions: over the 20000 fd limit of this machine</);
    assert.match(subs, />failed: nats-server at 1,000,000 subscriptions: no result within 60000 ms</);
    assert.match(subs, />published msgs\/s \(msgs\/s\)</, 'the y axis: label and unit');
    assert.match(readFileSync(join(out, 'scale-payload-mbPerSec.svg'), 'utf8'), />1 KiB</, 'a byte axis in KiB');
    assert.doesNotMatch(readFileSync(join(out, 'scale-payload-mbPerSec.svg'), 'utf8'), /not measured|failed:/);
  });

  it('the same input gives the same bytes', async () => {
    const [a, b] = [join(dir, 'same1'), join(dir, 'same2')];
    for (const out of [a, b]) assert.equal((await charts([FIXTURE, '--out', out])).exit?.code, 0);
    for (const f of [...SVGS, 'scale.json']) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
  });

  it('a missing file, one not JSON, one not a curve file, none at all: one line, exit 2, nothing written', async () => {
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'hub 1.02\n');
    const notCurves = join(dir, 'other.json');
    writeFileSync(notCurves, JSON.stringify({ kind: 'scale', curves: [{ id: 'fanout', title: 't', xLabel: 'x', xLog: 'yes', metrics: [], points: [] }] }));
    const badId = join(dir, 'bad-id.json');
    writeFileSync(badId, JSON.stringify({ kind: '../up', curves: [] }));
    const cases: [string[], RegExp][] = [
      [[join(dir, 'nope.json')], /^bench:charts: .*nope\.json: no such file$/],
      [[notJson], /^bench:charts: .*not\.json: not JSON \(.+\)$/],
      [[notCurves], /^bench:charts: .*other\.json: not a curve file: curves\[0\]\.xLog is not true or false$/],
      [[badId], /^bench:charts: .*bad-id\.json: not a curve file: kind is "\.\.\/up": an id must be letters, digits/],
      [[FIXTURE, FIXTURE], /^bench:charts: .* and .* are both of kind scale: one file per kind$/],
      [[], /^bench:charts: name at least one curve file \(FILE\.json\); --help lists the options$/],
    ];
    for (const [files, message] of cases) {
      const out = join(dir, 'bad');
      const p = await charts([...files, '--out', out]);
      assert.equal(p.exit?.code, 2, p.output());
      assert.equal(p.stderr.split('\n').filter((l) => l !== '').length, 1, p.output());
      assert.match(oneLine(p.stderr), message);
      assert.equal(p.stdout, '');
      assert.equal(existsSync(out), false, `${files.join(' ')}: nothing written`);
    }
  });
});
