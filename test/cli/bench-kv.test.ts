/**
 * `npm run bench:kv` (dist/bench/kv.js) end to end at a tiny size: every
 * workload against nats-server, the same against our hub, and a workload
 * that outlasts --timeout becomes an error row instead of a hang. No speed
 * is asserted: only that each figure was measured (or why not).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, killAll } from '../helpers/cli.js';
import { natsServerBin } from './targets.js';

after(killAll);

const KV_JS = fileURLToPath(new URL('../../bench/kv.js', import.meta.url));
const WORKLOADS = ['put', 'put-window', 'get', 'get-window', 'watch', 'obj-put', 'obj-get'];
const TINY = ['--runs', '1', '--serial', '30', '--window', '300', '--keys', '50', '--updates', '100', '--watchers', '2', '--object-size', '300000', '--objects', '1', '--timeout', '20000'];
/** A bound for a whole tiny run: seven workloads, each well under a second when it works. */
const RUN_MS = 120_000;

interface Figure {
  median: number;
  errors: string[];
}
type Summary = Record<string, Record<string, Figure>>;

describe('bench:kv', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-kv-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function bench(name: string, args: string[]): Promise<{ p: Child; summary: Summary }> {
    const file = join(dir, `${name}.json`);
    const p = new Child(process.execPath, [KV_JS, ...args, '--json', file], { name: `bench:kv ${args.join(' ')}` });
    await p.waitForExit(RUN_MS);
    return { p, summary: (JSON.parse(readFileSync(file, 'utf8')) as { summary: Summary }).summary };
  }

  function tableRows(stdout: string): string[] {
    return stdout.split('\n').filter((l) => /\s(puts|gets|updates|MB)\/s\s/.test(l));
  }

  it('nats-server -js: every workload measured, one table row each', { skip: natsServerBin() === null ? 'no nats-server binary' : false }, async () => {
    const { p, summary } = await bench('nats', [...TINY, '--peers', 'nats-server']);
    assert.equal(p.exit?.code, 0, p.output());
    assert.deepEqual(Object.keys(summary), WORKLOADS);
    for (const w of WORKLOADS) {
      const f = summary[w]!['nats-server']!;
      assert.deepEqual(f.errors, [], `${w}: ${p.output()}`);
      assert.ok(f.median > 0, `${w}: ${f.median}`);
    }
    assert.equal(tableRows(p.stdout).length, WORKLOADS.length, p.stdout);
    assert.doesNotMatch(p.stdout, /errors:/);
  });

  it('the hub: every workload measured (watch and object gets ride ordered push consumers)', async () => {
    const { p, summary } = await bench('hub', [...TINY, '--peers', 'hub']);
    assert.equal(p.exit?.code, 0, p.output());
    for (const w of WORKLOADS) {
      const f = summary[w]!.hub!;
      assert.deepEqual(f.errors, [], `${w}: ${p.output()}`);
      assert.ok(f.median > 0, `${w}: ${f.median}`);
    }
    assert.equal(tableRows(p.stdout).length, WORKLOADS.length, p.stdout);
    assert.doesNotMatch(p.stdout, /errors:/);
  });

  it('a workload that outlasts --timeout is an error row and exit 1, and the run goes on', { skip: natsServerBin() === null ? 'no nats-server binary' : false }, async () => {
    const { p, summary } = await bench('timeout', [...TINY, '--peers', 'nats-server', '--workloads', 'watch,obj-get,put', '--timeout', '1']);
    assert.equal(p.exit?.code, 1, p.output());
    for (const w of ['watch', 'obj-get', 'put']) {
      assert.deepEqual(summary[w]!['nats-server']!.errors, ['no result within 1 ms'], p.output());
    }
    assert.match(p.stdout, /^KV watch: 100 updates to 2 watchers\s+updates\/s\s+error\s+-$/m);
    assert.match(p.stdout, /^  nats-server, obj-get: no result within 1 ms$/m);
  });
});
