/**
 * `netemitter kv …` and `netemitter object …` end to end: the built CLI as
 * child processes against a server of NETEMITTER_TARGET with JetStream on.
 * What the commands store is checked with the client library, and the
 * reverse.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../../src/index.js';
import { cli, killProcs, lines } from './proc.js';
import { jetStreamCli } from './js-fixture.js';

after(killProcs);

describe('kv and object commands', () => {
  const js = jetStreamCli('cli-kv-check');
  const { ok, fails } = js;
  let bus: Bus;
  let s: string[];
  let dir: string;

  before(async () => {
    ({ bus, flags: s, dir } = js);
  });

  it('kv add creates the bucket with the flags\' settings and prints its status', async () => {
    const p = await ok(['kv', 'add', 'cfg', '--history', '3', '--ttl', '1h', '--description', 'settings']);
    assert.match(p.stdout, /^Bucket cfg:/);
    assert.match(p.stdout, /History kept: 3/);
    assert.match(p.stdout, /Time to live: 1h0m0s/);
    const st = await (await bus.kv('cfg', { create: false })).status();
    assert.equal(st.history, 3);
    assert.equal(st.ttl, 3_600_000);
    assert.equal(st.description, 'settings');
  });

  it('kv put stores text and JSON as given (prints the revision); kv get prints it', async () => {
    const rev = Number((await ok(['kv', 'put', 'cfg', 'color', 'blue'])).stdout.trim());
    await ok(['kv', 'put', 'cfg', 'limits', '{"max":10}']);
    await ok(['kv', 'put', 'cfg', 'motd'], 'hello from stdin');
    const kv = await bus.kv('cfg', { create: false });
    assert.equal((await kv.get('color'))?.revision, rev);
    assert.equal((await kv.get('color'))?.value, 'blue');
    assert.deepEqual((await kv.get('limits'))?.value, { max: 10 });
    assert.equal((await kv.get('motd'))?.value, 'hello from stdin');
    const g = await ok(['kv', 'get', 'cfg', 'color']);
    assert.match(g.stdout, new RegExp(`^cfg > color revision ${rev} created \\S+\\n\\nblue\\n$`));
    assert.equal((await ok(['kv', 'get', 'cfg', 'color', '--raw'])).stdout, 'blue');
    const j = JSON.parse((await ok(['kv', 'get', 'cfg', 'limits', '--json'])).stdout) as Record<string, unknown>;
    assert.deepEqual([j.key, j.operation, j.payload], ['limits', 'PUT', { max: 10 }]);
  });

  it('kv ls lists buckets, and the keys of one; kv history lists revisions', async () => {
    await bus.kv('other');
    assert.deepEqual(lines((await ok(['kv', 'ls'])).stdout), ['cfg', 'other']);
    assert.deepEqual(lines((await ok(['kv', 'ls', 'cfg'])).stdout), ['color', 'limits', 'motd']);
    assert.deepEqual(JSON.parse((await ok(['kv', 'ls', 'cfg', 'limits', '--json'])).stdout), ['limits']);
    await fails(['kv', 'ls', 'cfg', 'l*'], 2, /a wildcard must be a whole token/);
    await ok(['kv', 'put', 'cfg', 'color', 'green']);
    const h = lines((await ok(['kv', 'history', 'cfg', 'color'])).stdout);
    assert.match(h[0]!, /^Key\s+Revision\s+Op\s+Created\s+Value$/);
    assert.match(h[2]!, /^color\s+\d+\s+PUT\s+\S+\s+blue$/);
    assert.match(h[3]!, /^color\s+\d+\s+PUT\s+\S+\s+green$/);
  });

  it('kv del and purge need --force off a terminal, then delete', async () => {
    await fails(['kv', 'del', 'cfg', 'color'], 2, /pass --force/);
    await ok(['kv', 'del', 'cfg', 'color', '--force']);
    const kv = await bus.kv('cfg', { create: false });
    assert.equal(await kv.get('color'), null);
    await ok(['kv', 'purge', 'cfg', 'motd', '-f']);
    assert.deepEqual((await kv.history('motd')).map((e) => e.operation), ['PURGE']);
    await fails(['kv', 'get', 'cfg', 'color'], 1, /^netemitter: key "color" not found in bucket "cfg"$/m);
  });

  it('kv watch prints the current values, then the changes', async () => {
    const kv = await bus.kv('live');
    await kv.put('a', 1);
    const w = cli(['kv', 'watch', 'live', '--count', '3', ...s]);
    await w.waitForStderr(/watching live > >/);
    await kv.put('b', 'two');
    await kv.delete('a');
    const exit = await w.waitForExit();
    assert.equal(exit.code, 0, w.output());
    const got = lines(w.stdout).map((l) => l.replace(/^\[\S+\] /, ''));
    assert.deepEqual(got, ['PUT live > a: 1', 'PUT live > b: two', 'DEL live > a']);
  });

  it('misuse is one line and exit 2; a missing bucket is exit 1', async () => {
    await fails(['kv', 'put', 'cfg', 'bad key', 'x'], 2, /^netemitter: invalid key "bad key"/);
    await fails(['kv', 'add', 'bad.bucket'], 2, /invalid key "bad.bucket"/);
    await fails(['kv', 'add', 'h', '--history', '65'], 2, /--history/);
    await fails(['kv', 'get', 'absent', 'k'], 1, /^netemitter: bucket "absent" does not exist$/m);
    await fails(['object', 'put', 'files', '-'], 2, /--name is needed/);
  });

  it('object add, put (a file), ls, get (to a file and to stdout) and rm', async () => {
    await ok(['object', 'add', 'files']);
    const data = randomBytes(300_000);
    const file = join(dir, 'blob.bin');
    writeFileSync(file, data);
    const put = await ok(['object', 'put', 'files', file, '--description', 'random bytes']);
    assert.match(put.stdout, /Object files > blob\.bin:/);
    assert.match(put.stdout, /Chunks: 3/);
    await ok(['object', 'put', 'files', '-', '--name', 'notes/today.txt'], 'note');
    const os = await bus.objects('files', { create: false });
    assert.ok((await os.getBytes('blob.bin'))?.equals(data));
    assert.equal((await os.getBytes('notes/today.txt'))?.toString(), 'note');
    const ls = lines((await ok(['object', 'ls', 'files'])).stdout);
    assert.match(ls[2]!, /^blob\.bin\s+293\.0 KiB\s+\S+\s+SHA-256=/);
    assert.match(ls[3]!, /^notes\/today\.txt\s+4 B\s/);
    assert.deepEqual(lines((await ok(['object', 'ls'])).stdout), ['files']);
    const copy = join(dir, 'copy.bin');
    await ok(['object', 'get', 'files', 'blob.bin', '--output', copy]);
    assert.ok(readFileSync(copy).equals(data));
    assert.equal((await ok(['object', 'get', 'files', 'notes/today.txt'])).stdout, 'note');
    await ok(['object', 'rm', 'files', 'blob.bin', '--force']);
    assert.equal(await os.info('blob.bin'), null);
    await fails(['object', 'rm', 'files', 'blob.bin', '--force'], 1, /not found/);
    await fails(['object', 'get', 'files', 'blob.bin'], 1, /not found/);
  });
});
