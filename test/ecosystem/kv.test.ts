/**
 * The official key-value client, @nats-io/kv, against the current target
 * (NETEMITTER_TARGET): buckets, put/get, revisions, delete and purge, keys,
 * history and TTL. Watches are in kv-watch.test.ts.
 *
 * The client builds everything on plain JetStream: a bucket is a stream
 * `KV_<bucket>` on `$KV.<bucket>.>`, a revision is a stream seq, get is a
 * DIRECT.GET (the client asks for allow_direct), delete and purge are marker
 * messages (`KV-Operation: DEL|PURGE`, purge with `Nats-Rollup: sub`), and
 * keys/history/watch are ordered push consumers.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Bucket, KvEntry } from '@nats-io/kv';
import { assertApiError } from '../helpers/jetstream.js';
import { readAll, startKv, type KvContext } from '../helpers/kv.js';
import { rejection } from '../helpers/client.js';

/** What a test compares of an entry: the stored facts, not the client's object. */
function fact(e: KvEntry | null): { key: string; value: string; revision: number; operation: string } | null {
  return e === null ? null : { key: e.key, value: e.string(), revision: e.revision, operation: e.operation };
}

/** The stream's per-subject message counts for one key (0 when none is stored). */
async function storedFor(ctx: KvContext, bucket: string, key: string): Promise<number> {
  const subject = `$KV.${bucket}.${key}`;
  const si = await ctx.jsm.streams.info(`KV_${bucket}`, { subjects_filter: subject });
  return si.state.subjects?.[subject] ?? 0;
}

describe('key-value buckets (@nats-io/kv)', () => {
  let ctx: KvContext;

  before(async () => {
    ctx = await startKv();
  });

  after(async () => {
    await ctx?.stop();
  });

  describe('buckets', () => {
    it('creates a bucket as a KV_ stream with the config the client asks for, and reports its status', async () => {
      const name = ctx.unique('cfg');
      const kv = await ctx.kvm.create(name, { history: 3, description: 'flags' });
      const st = await kv.status();
      assert.deepEqual(
        { bucket: st.bucket, history: st.history, ttl: st.ttl, values: st.values, storage: st.storage, description: st.description },
        { bucket: name, history: 3, ttl: 0, values: 0, storage: 'file', description: 'flags' },
      );
      const c = st.streamInfo.config;
      assert.deepEqual(
        {
          name: c.name,
          subjects: c.subjects,
          max_msgs_per_subject: c.max_msgs_per_subject,
          allow_rollup_hdrs: c.allow_rollup_hdrs,
          allow_direct: c.allow_direct,
          discard: c.discard,
          max_msg_size: c.max_msg_size,
          deny_delete: c.deny_delete,
          deny_purge: c.deny_purge,
        },
        {
          name: `KV_${name}`,
          subjects: [`$KV.${name}.>`],
          max_msgs_per_subject: 3,
          allow_rollup_hdrs: true,
          allow_direct: true,
          discard: 'new',
          max_msg_size: -1,
          deny_delete: false,
          deny_purge: false,
        },
      );
      await kv.put('a', 'x');
      await kv.put('b', 'y');
      const after = await kv.status();
      assert.equal(after.values, 2);
      assert.ok(after.size > 0, `size ${after.size}`);
    });

    it('create on an existing bucket opens it, and open binds to it', async () => {
      const name = ctx.unique('open');
      const first = await ctx.kvm.create(name);
      await first.put('k', 'v1');
      const again = await ctx.kvm.create(name);
      assert.equal((await again.get('k'))?.string(), 'v1');
      const opened = await ctx.kvm.open(name);
      assert.equal((await opened.get('k'))?.string(), 'v1');
      await opened.put('k', 'v2');
      assert.equal((await first.get('k'))?.string(), 'v2');
    });

    it('open of a missing bucket binds without a check; its first use fails with stream not found', async () => {
      const kv = await ctx.kvm.open(ctx.unique('missing'));
      await assertApiError(kv.status(), { status: 404, code: 10059, description: 'stream not found', name: 'StreamNotFoundError' });
    });

    it('lists the KV buckets and nothing else', async () => {
      const a = ctx.unique('lista');
      const b = ctx.unique('listb');
      await ctx.kvm.create(a);
      await ctx.kvm.create(b, { history: 2 });
      const plain = ctx.unique('PLAIN');
      await ctx.jsm.streams.add({ name: plain, subjects: [`${plain}.>`] });
      const listed = await readAll(ctx.kvm.list(), 'kvm.list()');
      const mine = listed.filter((s) => s.bucket === a || s.bucket === b).map((s) => [s.bucket, s.history]);
      assert.deepEqual(mine.sort(), [
        [a, 1],
        [b, 2],
      ]);
      assert.ok(
        listed.every((s) => s.streamInfo.config.name.startsWith('KV_')),
        `only KV_ streams: ${listed.map((s) => s.streamInfo.config.name).join(', ')}`,
      );
    });

    it('destroy removes the bucket and its values', async () => {
      const name = ctx.unique('gone');
      const kv = await ctx.kvm.create(name);
      await kv.put('k', 'v');
      assert.equal(await kv.destroy(), true);
      await assertApiError(ctx.jsm.streams.info(`KV_${name}`), { status: 404, code: 10059, description: 'stream not found', name: 'StreamNotFoundError' });
      const listed = await readAll(ctx.kvm.list(), 'kvm.list()');
      assert.ok(!listed.some((s) => s.bucket === name));
    });
  });

  describe('put and get', () => {
    it('put returns the revision, which is the stream seq; get returns the latest entry', async () => {
      const name = ctx.unique('pg');
      const kv = await ctx.kvm.create(name);
      const r1 = await kv.put('color', 'red');
      const r2 = await kv.put('size', 'XL');
      const r3 = await kv.put('color', 'blue');
      assert.deepEqual([r1, r2, r3], [1, 2, 3]);
      const e = await kv.get('color');
      assert.deepEqual(fact(e), { key: 'color', value: 'blue', revision: 3, operation: 'PUT' });
      assert.equal(e?.bucket, name);
      assert.equal(e?.length, 4);
      assert.ok(e!.created instanceof Date && Math.abs(e!.created.getTime() - Date.now()) < 60_000, `created ${String(e?.created)}`);
      assert.deepEqual(fact(await kv.get('size')), { key: 'size', value: 'XL', revision: 2, operation: 'PUT' });
    });

    it('get of a key never put is null', async () => {
      const kv = await ctx.kvm.create(ctx.unique('none'));
      assert.equal(await kv.get('nothing'), null);
      await kv.put('other', 'x');
      assert.equal(await kv.get('nothing'), null);
    });

    it('keeps binary and empty values byte for byte, and dotted keys', async () => {
      const kv = await ctx.kvm.create(ctx.unique('bin'));
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      await kv.put('bin.all.bytes', bytes);
      await kv.put('empty', new Uint8Array(0));
      const b = await kv.get('bin.all.bytes');
      assert.deepEqual(Buffer.from(b!.value), Buffer.from(bytes));
      assert.equal(b?.key, 'bin.all.bytes');
      const e = await kv.get('empty');
      assert.deepEqual(fact(e), { key: 'empty', value: '', revision: 2, operation: 'PUT' });
      assert.equal(e?.value.length, 0);
    });

    it('maxValueSize refuses a larger value (400/10054) and keeps the old one', async () => {
      const name = ctx.unique('maxv');
      const kv = await ctx.kvm.create(name, { maxValueSize: 16 });
      assert.equal((await kv.status()).maxValueSize, 16);
      await kv.put('k', 'x'.repeat(16));
      await assertApiError(kv.put('k', 'x'.repeat(17)), { status: 400, code: 10054, description: 'message size exceeds maximum allowed' });
      assert.deepEqual(fact(await kv.get('k')), { key: 'k', value: 'x'.repeat(16), revision: 1, operation: 'PUT' });
    });

    it('get at a revision returns that revision of the key, and null for another key\'s revision', async () => {
      const kv = await ctx.kvm.create(ctx.unique('rev'), { history: 5 });
      const r1 = await kv.put('k', 'one');
      const other = await kv.put('o', 'other');
      await kv.put('k', 'two');
      assert.deepEqual(fact(await kv.get('k', { revision: r1 })), { key: 'k', value: 'one', revision: r1, operation: 'PUT' });
      assert.equal(await kv.get('k', { revision: other }), null);
      assert.equal(await kv.get('k', { revision: 99 }), null);
    });
  });

  describe('revisions', () => {
    it('create fails with wrong last sequence when the key exists', async () => {
      const kv = await ctx.kvm.create(ctx.unique('create'));
      assert.equal(await kv.create('k', 'first'), 1);
      await kv.put('x', 'unrelated');
      await assertApiError(kv.create('k', 'second'), { status: 400, code: 10071, description: 'wrong last sequence: 1' });
      assert.equal((await kv.get('k'))?.string(), 'first');
    });

    it('update succeeds at the current revision and fails at any other', async () => {
      const kv = await ctx.kvm.create(ctx.unique('update'));
      const r1 = await kv.put('k', 'v1');
      const r2 = await kv.update('k', 'v2', r1);
      assert.equal(r2, r1 + 1);
      await assertApiError(kv.update('k', 'v3', r1), { status: 400, code: 10071, description: `wrong last sequence: ${r2}` });
      assert.deepEqual(fact(await kv.get('k')), { key: 'k', value: 'v2', revision: r2, operation: 'PUT' });
      // Update of a key never put: its last seq is 0.
      await assertApiError(kv.update('fresh', 'v', 5), { status: 400, code: 10071, description: 'wrong last sequence: 0' });
    });

    it('create succeeds again after a delete and after a purge', async () => {
      const kv = await ctx.kvm.create(ctx.unique('recreate'));
      await kv.create('k', 'a');
      await kv.delete('k');
      const r = await kv.create('k', 'b');
      assert.deepEqual(fact(await kv.get('k')), { key: 'k', value: 'b', revision: r, operation: 'PUT' });
      await kv.purge('k');
      const r2 = await kv.create('k', 'c');
      assert.deepEqual(fact(await kv.get('k')), { key: 'k', value: 'c', revision: r2, operation: 'PUT' });
    });

    it('delete with previousSeq fails at a wrong revision', async () => {
      const kv = await ctx.kvm.create(ctx.unique('delrev'));
      const r = await kv.put('k', 'v');
      await assertApiError(kv.delete('k', { previousSeq: r + 7 }), { status: 400, code: 10071, description: `wrong last sequence: ${r}` });
      await kv.delete('k', { previousSeq: r });
      assert.equal((await kv.get('k'))?.operation, 'DEL');
    });
  });

  describe('delete and purge', () => {
    it('get after delete returns the DEL marker with its revision and an empty value; the history stays', async () => {
      const name = ctx.unique('del');
      const kv = await ctx.kvm.create(name, { history: 5 });
      await kv.put('k', 'v1');
      await kv.put('k', 'v2');
      await kv.delete('k');
      assert.deepEqual(fact(await kv.get('k')), { key: 'k', value: '', revision: 3, operation: 'DEL' });
      assert.equal(await storedFor(ctx, name, 'k'), 3);
      const marker = await ctx.jsm.streams.getMessage(`KV_${name}`, { seq: 3 });
      assert.equal(marker?.header.get('KV-Operation'), 'DEL');
      assert.equal(marker?.data.length, 0);
    });

    it('purge leaves only the PURGE marker of the key, and the other keys alone', async () => {
      const name = ctx.unique('purge');
      const kv = await ctx.kvm.create(name, { history: 10 });
      for (const v of ['v1', 'v2', 'v3']) await kv.put('k', v);
      await kv.put('keep', 'me');
      await kv.put('keep', 'me too');
      await kv.purge('k');
      assert.deepEqual(fact(await kv.get('k')), { key: 'k', value: '', revision: 6, operation: 'PURGE' });
      assert.equal(await storedFor(ctx, name, 'k'), 1, 'the rollup removed the older revisions');
      assert.equal(await storedFor(ctx, name, 'keep'), 2);
      const st = await kv.status();
      assert.equal(st.values, 3);
      const marker = await ctx.jsm.streams.getMessage(`KV_${name}`, { seq: 6 });
      assert.equal(marker?.header.get('KV-Operation'), 'PURGE');
      assert.equal(marker?.header.get('Nats-Rollup'), 'sub');
      assert.equal(await ctx.jsm.streams.getMessage(`KV_${name}`, { seq: 1 }), null);
    });

    it('a deleted or purged key is left out of keys()', async () => {
      const kv = await ctx.kvm.create(ctx.unique('dk'));
      for (const k of ['a', 'b', 'c']) await kv.put(k, k);
      await kv.delete('a');
      await kv.purge('b');
      assert.deepEqual(await readAll(await kv.keys(), 'keys()'), ['c']);
    });

    it('purgeDeletes removes the markers\' older revisions (purge by subject, keep 1), then the markers too (keep 0)', async () => {
      const name = ctx.unique('pd');
      const kv = await ctx.kvm.create(name, { history: 10 });
      await kv.put('a', 'a1');
      await kv.put('a', 'a2');
      await kv.delete('a');
      await kv.put('b', 'b1');
      await kv.purge('b');
      await kv.put('live', 'l1');
      await kv.put('live', 'l2');
      // Markers younger than the limit keep themselves (keep: 1), older ones go entirely (keep: 0).
      const young = await (kv as Bucket).purgeDeletes(60_000);
      assert.deepEqual({ success: young.success, purged: young.purged }, { success: true, purged: 2 });
      assert.deepEqual([await storedFor(ctx, name, 'a'), await storedFor(ctx, name, 'b'), await storedFor(ctx, name, 'live')], [1, 1, 2]);
      assert.equal((await kv.get('a'))?.operation, 'DEL');
      const old = await (kv as Bucket).purgeDeletes(-60_000);
      assert.deepEqual({ success: old.success, purged: old.purged }, { success: true, purged: 2 });
      assert.deepEqual([await storedFor(ctx, name, 'a'), await storedFor(ctx, name, 'b'), await storedFor(ctx, name, 'live')], [0, 0, 2]);
      assert.equal(await kv.get('a'), null);
      assert.equal((await kv.get('live'))?.string(), 'l2');
    });
  });

  describe('keys', () => {
    it('lists every live key once, and with a filter only the matching ones', async () => {
      const kv = await ctx.kvm.create(ctx.unique('keys'), { history: 5 });
      for (const k of ['a.x', 'a.y', 'b.z', 'a.x', 'top']) await kv.put(k, `v-${k}`);
      await kv.delete('a.y');
      assert.deepEqual((await readAll(await kv.keys(), 'keys()')).sort(), ['a.x', 'b.z', 'top']);
      assert.deepEqual(await readAll(await kv.keys('a.*'), "keys('a.*')"), ['a.x']);
      assert.deepEqual((await readAll(await kv.keys('*.*'), "keys('*.*')")).sort(), ['a.x', 'b.z']);
      assert.deepEqual(await readAll(await kv.keys('c.>'), "keys('c.>')"), []);
    });

    it('an empty bucket has no keys', async () => {
      const kv = await ctx.kvm.create(ctx.unique('nokeys'));
      assert.deepEqual(await readAll(await kv.keys(), 'keys()'), []);
    });

    it('rejects a key the client cannot encode as a subject', async () => {
      const kv = await ctx.kvm.create(ctx.unique('badkey'));
      assert.match((await rejection(kv.put('a b', 'v'))).message, /invalid key: a b/);
    });
  });

  describe('history', () => {
    it('returns every kept revision of a key in order, markers included', async () => {
      const kv = await ctx.kvm.create(ctx.unique('hist'), { history: 10 });
      await kv.put('k', 'v1');
      await kv.put('other', 'o1');
      await kv.put('k', 'v2');
      await kv.delete('k');
      await kv.put('k', 'v3');
      const h = await readAll(await kv.history({ key: 'k' }), "history('k')");
      assert.deepEqual(h.map(fact), [
        { key: 'k', value: 'v1', revision: 1, operation: 'PUT' },
        { key: 'k', value: 'v2', revision: 3, operation: 'PUT' },
        { key: 'k', value: '', revision: 4, operation: 'DEL' },
        { key: 'k', value: 'v3', revision: 5, operation: 'PUT' },
      ]);
      const all = await readAll(await kv.history(), 'history()');
      assert.deepEqual(
        all.map((e) => [e.key, e.revision]),
        [
          ['k', 1],
          ['other', 2],
          ['k', 3],
          ['k', 4],
          ['k', 5],
        ],
      );
    });

    it('keeps at most `history` revisions per key', async () => {
      const kv = await ctx.kvm.create(ctx.unique('hmax'), { history: 2 });
      for (const v of ['v1', 'v2', 'v3', 'v4']) await kv.put('k', v);
      const h = await readAll(await kv.history({ key: 'k' }), "history('k')");
      assert.deepEqual(h.map(fact), [
        { key: 'k', value: 'v3', revision: 3, operation: 'PUT' },
        { key: 'k', value: 'v4', revision: 4, operation: 'PUT' },
      ]);
    });

    it('after a purge the history is the PURGE marker alone', async () => {
      const kv = await ctx.kvm.create(ctx.unique('hpurge'), { history: 10 });
      await kv.put('k', 'v1');
      await kv.put('k', 'v2');
      await kv.purge('k');
      const h = await readAll(await kv.history({ key: 'k' }), "history('k')");
      assert.deepEqual(h.map(fact), [{ key: 'k', value: '', revision: 3, operation: 'PURGE' }]);
    });

    it('history of a key never put is empty', async () => {
      const kv = await ctx.kvm.create(ctx.unique('hnone'));
      await kv.put('a', 'x');
      assert.deepEqual(await readAll(await kv.history({ key: 'zzz' }), "history('zzz')"), []);
    });
  });

  describe('TTL', () => {
    it('a bucket with a ttl reports it, and its values expire', async () => {
      const TTL_MS = 1_000;
      const name = ctx.unique('ttl');
      const kv = await ctx.kvm.create(name, { ttl: TTL_MS });
      const st = await kv.status();
      assert.equal(st.ttl, TTL_MS);
      assert.equal(st.streamInfo.config.max_age, TTL_MS * 1_000_000);
      // The value is stored after `before`, so it cannot expire before before + ttl (one clock: same machine).
      const before = Date.now();
      await kv.put('k', 'short-lived');
      const first = await kv.get('k');
      // Only a stalled machine reads this late; then the value may rightly be gone, and presence cannot be checked.
      if (Date.now() - before < TTL_MS) assert.equal(first?.string(), 'short-lived');
      // Expiry is the server's timer: wait for its effect, bounded well past the ttl.
      const deadline = before + TTL_MS + 5_000;
      while ((await kv.get('k')) !== null) {
        assert.ok(Date.now() < deadline, `the value outlived its ttl of ${TTL_MS} ms by 5 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(Date.now() - before >= TTL_MS, `the value was gone ${Date.now() - before} ms after the put, before its ttl`);
      assert.equal((await kv.status()).values, 0);
      assert.deepEqual(await readAll(await kv.keys(), 'keys()'), []);
    });
  });
});
