/**
 * The official object store client, @nats-io/obj, against the current target
 * (NETEMITTER_TARGET): stores, a 5 MB object put and read back with its
 * digest, streamed puts, info/list/delete, replacing an object, links.
 *
 * The client builds a store on plain JetStream: a stream `OBJ_<store>` on
 * `$O.<store>.C.>` (chunks, one subject per object version) and
 * `$O.<store>.M.>` (one metadata message per object name, written with
 * `Nats-Rollup: sub`); info is a STREAM.MSG.GET last_by_subj of the
 * metadata, get reads the chunks through an ordered push consumer.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Base64UrlPaddedCodec, type ObjectStore } from '@nats-io/obj';
import { assertApiError } from '../helpers/jetstream.js';
import { readAll, startKv, taker, type KvContext } from '../helpers/kv.js';
import { rejection, within } from '../helpers/client.js';

const MB = 1024 * 1024;
/** The client's default chunk size. */
const CHUNK = 128 * 1024;

/** The digest the client stores: `SHA-256=` and the base64url (padded) of the SHA-256. */
const digestOf = (b: Uint8Array): string => `SHA-256=${createHash('sha256').update(b).digest('base64url')}=`;

/** A ReadableStream giving `data` in pieces of the given sizes (the last piece takes the rest). */
function pieces(data: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.length) {
        controller.close();
        return;
      }
      const n = i < sizes.length ? sizes[i++]! : data.length - at;
      controller.enqueue(data.subarray(at, at + n));
      at += n;
    },
  });
}

/** Reads a ReadableStream to the end, within a bound. */
async function readStream(rs: ReadableStream<Uint8Array>, what: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  await within(
    (async () => {
      const reader = rs.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        parts.push(value);
      }
    })(),
    20_000,
    what,
  );
  return Buffer.concat(parts);
}

describe('object store (@nats-io/obj)', () => {
  let ctx: KvContext;

  before(async () => {
    ctx = await startKv();
  });

  after(async () => {
    await ctx?.stop();
  });

  /** Messages the store's stream holds on `subject` (a filter). */
  async function stored(os: ObjectStore, subject: string): Promise<number> {
    const st = await os.status();
    const si = await ctx.jsm.streams.info(st.streamInfo.config.name, { subjects_filter: subject });
    return Object.values(si.state.subjects ?? {}).reduce((a, n) => a + n, 0);
  }

  it('creates a store as an OBJ_ stream with the config the client asks for', async () => {
    const name = ctx.unique('store');
    const os = await ctx.objm.create(name, { description: 'blobs' });
    const st = await os.status();
    assert.deepEqual(
      { bucket: st.bucket, sealed: st.sealed, ttl: st.ttl, storage: st.storage, description: st.description, size: st.size },
      { bucket: name, sealed: false, ttl: 0, storage: 'file', description: 'blobs', size: 0 },
    );
    const c = st.streamInfo.config;
    assert.deepEqual(
      { name: c.name, subjects: c.subjects, allow_rollup_hdrs: c.allow_rollup_hdrs, allow_direct: c.allow_direct, discard: c.discard },
      { name: `OBJ_${name}`, subjects: [`$O.${name}.C.>`, `$O.${name}.M.>`], allow_rollup_hdrs: true, allow_direct: true, discard: 'new' },
    );
    const opened = await ctx.objm.open(name);
    assert.equal((await opened.status()).bucket, name);
    assert.match((await rejection(ctx.objm.open(ctx.unique('nostore')))).message, /object store not found/);
  });

  it('puts a 5 MB object in 128 KiB chunks and reads it back whole, digest checked', async () => {
    const os = await ctx.objm.create(ctx.unique('big'));
    const data = randomBytes(5 * MB);
    const info = await os.putBlob({ name: 'big.bin', description: 'five megabytes' }, data);
    assert.deepEqual(
      { name: info.name, size: info.size, chunks: info.chunks, digest: info.digest, deleted: info.deleted, description: info.description },
      { name: 'big.bin', size: 5 * MB, chunks: (5 * MB) / CHUNK, digest: digestOf(data), deleted: false, description: 'five megabytes' },
    );
    assert.equal(await stored(os, `$O.${info.bucket}.C.${info.nuid}`), (5 * MB) / CHUNK);

    const blob = await within(os.getBlob('big.bin'), 20_000, 'getBlob of 5 MB');
    assert.ok(blob !== null);
    assert.equal(blob.length, data.length);
    assert.ok(Buffer.from(blob).equals(data), 'the bytes read back are the bytes put');

    const r = await os.get('big.bin');
    assert.ok(r !== null);
    assert.equal(r.info.digest, digestOf(data));
    const streamed = await readStream(r.data, 'get() stream of 5 MB');
    assert.ok(streamed.equals(data));
    // The client's error promise resolves empty once the digest matched.
    assert.equal(await r.error, undefined);
  });

  it('a streamed put in uneven pieces stores the same bytes and chunking', async () => {
    const os = await ctx.objm.create(ctx.unique('pieces'));
    const data = randomBytes(300 * 1024 + 17);
    const info = await os.put({ name: 'p' }, pieces(data, [1, 1000, 70_000, 200_000, 5]));
    assert.deepEqual([info.size, info.chunks, info.digest], [data.length, 3, digestOf(data)]);
    assert.ok(Buffer.from((await os.getBlob('p'))!).equals(data));
  });

  it('an empty object has no chunks and reads back empty', async () => {
    const os = await ctx.objm.create(ctx.unique('empty'));
    const info = await os.putBlob({ name: 'nothing' }, new Uint8Array(0));
    assert.deepEqual([info.size, info.chunks, info.digest], [0, 0, digestOf(new Uint8Array(0))]);
    assert.equal((await os.getBlob('nothing'))?.length, 0);
  });

  it('info, get and getBlob of a missing object are null', async () => {
    const os = await ctx.objm.create(ctx.unique('miss'));
    assert.equal(await os.info('nope'), null);
    assert.equal(await os.get('nope'), null);
    assert.equal(await os.getBlob('nope'), null);
  });

  it('info returns the metadata with its revision and time', async () => {
    const os = await ctx.objm.create(ctx.unique('info'));
    const data = Buffer.from('hello objects');
    await os.putBlob({ name: 'greeting.txt', headers: undefined }, data);
    const info = await os.info('greeting.txt');
    assert.ok(info !== null);
    assert.deepEqual(
      { name: info.name, size: info.size, chunks: info.chunks, deleted: info.deleted, digest: info.digest, revision: info.revision },
      { name: 'greeting.txt', size: data.length, chunks: 1, deleted: false, digest: digestOf(data), revision: 2 },
    );
    assert.ok(Math.abs(new Date(info.mtime).getTime() - Date.now()) < 60_000, `mtime ${info.mtime}`);
    // The metadata subject is the base64url of the name.
    const meta = `$O.${info.bucket}.M.${Base64UrlPaddedCodec.encode('greeting.txt')}`;
    assert.equal(await stored(os, meta), 1);
  });

  it('lists the live objects; a deleted one is left out, its chunks purged, its info marked deleted', async () => {
    const os = await ctx.objm.create(ctx.unique('list'));
    assert.deepEqual(await os.list(), []);
    for (const n of ['a', 'b', 'c']) await os.putBlob({ name: n }, Buffer.from(`data of ${n}`.repeat(1000)));
    const b = (await os.info('b'))!;
    assert.equal(await stored(os, `$O.${b.bucket}.C.${b.nuid}`), 1);
    const res = await os.delete('b');
    assert.deepEqual({ success: res.success, purged: res.purged }, { success: true, purged: 1 });
    const names = (await within(os.list(), 10_000, 'list()')).map((i) => i.name).sort();
    assert.deepEqual(names, ['a', 'c']);
    const gone = await os.info('b');
    assert.deepEqual(
      { name: gone?.name, deleted: gone?.deleted, size: gone?.size, chunks: gone?.chunks, digest: gone?.digest },
      { name: 'b', deleted: true, size: 0, chunks: 0, digest: '' },
    );
    assert.equal(await os.get('b'), null);
    assert.equal(await stored(os, `$O.${b.bucket}.C.${b.nuid}`), 0);
    // One metadata message per name, the delete included: the rollup replaced the old one.
    assert.equal(await stored(os, `$O.${b.bucket}.M.>`), 3);
  });

  it('putting a name again replaces the object: one metadata message, the old chunks purged', async () => {
    const os = await ctx.objm.create(ctx.unique('replace'));
    const first = await os.putBlob({ name: 'x' }, randomBytes(CHUNK * 2));
    const second = await os.putBlob({ name: 'x' }, Buffer.from('small'));
    assert.notEqual(first.nuid, second.nuid);
    assert.equal(await stored(os, `$O.${first.bucket}.C.${first.nuid}`), 0);
    assert.equal(await stored(os, `$O.${first.bucket}.C.${second.nuid}`), 1);
    assert.equal(await stored(os, `$O.${first.bucket}.M.>`), 1);
    assert.equal(Buffer.from((await os.getBlob('x'))!).toString(), 'small');
    assert.ok((await os.info('x'))!.revision > first.revision);
  });

  it('a link reads the object it points to; a link to a deleted object is refused', async () => {
    const os = await ctx.objm.create(ctx.unique('link'));
    const target = await os.putBlob({ name: 'target' }, Buffer.from('linked bytes'));
    const link = await os.link('alias', target);
    assert.deepEqual(link.options?.link, { bucket: target.bucket, name: 'target' });
    assert.equal(Buffer.from((await os.getBlob('alias'))!).toString(), 'linked bytes');
    await os.delete('target');
    const deleted = (await os.info('target'))!;
    assert.match((await rejection(os.link('alias2', deleted))).message, /src object is deleted/);
  });

  it('update renames an object: the old name is gone, the data reads under the new one', async () => {
    const os = await ctx.objm.create(ctx.unique('rename'));
    await os.putBlob({ name: 'old' }, Buffer.from('moved bytes'));
    await os.update('old', { name: 'new', description: 'renamed' });
    assert.equal(await os.info('old'), null);
    const info = (await os.info('new'))!;
    assert.deepEqual([info.name, info.description, info.deleted], ['new', 'renamed', false]);
    assert.equal(Buffer.from((await os.getBlob('new'))!).toString(), 'moved bytes');
    assert.equal(await stored(os, `$O.${info.bucket}.M.>`), 1);
  });

  it('watch delivers the current objects, then changes', async () => {
    const os = await ctx.objm.create(ctx.unique('owatch'));
    await os.putBlob({ name: 'one' }, Buffer.from('1'));
    await os.putBlob({ name: 'two' }, Buffer.from('22'));
    const w = await os.watch({ includeHistory: true });
    try {
      const t = taker(w, 'objectstore watch()');
      assert.deepEqual(
        (await t.take(2)).map((i) => [i.name, i.size, i.deleted, i.isUpdate]),
        [
          ['one', 1, false, false],
          ['two', 2, false, true],
        ],
      );
      await os.putBlob({ name: 'three' }, Buffer.from('333'));
      await os.delete('one');
      assert.deepEqual(
        (await t.take(2)).map((i) => [i.name, i.size, i.deleted, i.isUpdate]),
        [
          ['three', 3, false, true],
          ['one', 0, true, true],
        ],
      );
    } finally {
      w.stop();
    }
  });

  it('lists the object stores and nothing else; destroy removes one', async () => {
    const a = ctx.unique('osa');
    const os = await ctx.objm.create(a);
    await ctx.kvm.create(ctx.unique('notastore'));
    const listed = await readAll(ctx.objm.list(), 'objm.list()');
    assert.ok(listed.some((s) => s.bucket === a));
    assert.ok(listed.every((s) => s.streamInfo.config.name.startsWith('OBJ_')), listed.map((s) => s.streamInfo.config.name).join(', '));
    assert.equal(await os.destroy(), true);
    assert.ok(!(await readAll(ctx.objm.list(), 'objm.list()')).some((s) => s.bucket === a));
  });

  it('seal makes the store read only', async () => {
    const os = await ctx.objm.create(ctx.unique('seal'));
    await os.putBlob({ name: 'kept' }, Buffer.from('before the seal'));
    const st = await os.seal();
    assert.equal(st.sealed, true);
    const c = (await os.status()).streamInfo.config;
    // A sealed stream echoes deny_delete and deny_purge as set too.
    assert.deepEqual([c.sealed, c.deny_delete, c.deny_purge], [true, true, true]);
    // The chunk publish is refused; the client's clean-up purge is refused the same way, and that is what it reports.
    await assertApiError(os.putBlob({ name: 'late' }, Buffer.from('after')), {
      status: 400,
      code: 10109,
      description: 'invalid operation on sealed stream',
    });
    // Sealed is checked before deny_purge/deny_delete, though sealing set both.
    const sealed = { status: 400, code: 10109, description: 'invalid operation on sealed stream' };
    await assertApiError(ctx.jsm.streams.purge(c.name), sealed);
    await assertApiError(ctx.jsm.streams.deleteMessage(c.name, 1), sealed);
    assert.equal(Buffer.from((await os.getBlob('kept'))!).toString(), 'before the seal');
  });
});
