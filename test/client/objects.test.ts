/**
 * Object stores: bus.objects(). Runs against NETEMITTER_TARGET with
 * JetStream on; the layout is checked against the official client in
 * kv-interop.test.ts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { connect, DigestMismatchError, BucketNotFoundError, type Bus } from '../../src/index.js';
import { skipInProcess, startServer, type TestServer } from '../helpers/target.js';
import { within } from './helpers/wait.js';

const sha = (b: Buffer): string => `SHA-256=${createHash('sha256').update(b).digest('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;

async function readAllOf(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('object stores', () => {
  let server: TestServer;
  let bus: Bus;

  before(async () => {
    server = await startServer({ jetstream: true });
    bus = await connect({ servers: server.url, name: 'objects-test' });
  });

  after(async () => {
    if (bus !== undefined && !bus.isClosed) await bus.close();
    await server?.stop();
  });

  it('creates the store as an OBJ stream; binds only with create: false', async () => {
    const os = await bus.objects('files', { description: 'uploads' });
    assert.equal(os.stream, 'OBJ_files');
    const info = await bus.streams.info('OBJ_files');
    assert.deepEqual(info.config.subjects, ['$O.files.C.>', '$O.files.M.>']);
    assert.equal(info.config.allow_rollup_hdrs, true);
    assert.equal(info.config.description, 'uploads');
    await assert.rejects(bus.objects('absent', { create: false }), BucketNotFoundError);
  });

  it('put and get small objects from bytes and text, with their info', async () => {
    const os = await bus.objects('small');
    const text = 'hello, objects';
    const i = await os.put('greeting.txt', text, { description: 'a greeting', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(i.name, 'greeting.txt');
    assert.equal(i.size, Buffer.byteLength(text));
    assert.equal(i.chunks, 1);
    assert.equal(i.digest, sha(Buffer.from(text)));
    assert.equal(i.description, 'a greeting');
    assert.deepEqual(i.headers, { 'Content-Type': ['text/plain'] });
    const got = await os.get('greeting.txt');
    assert.ok(got !== null);
    assert.equal(got.info.digest, i.digest);
    assert.equal((await readAllOf(got.data)).toString(), text);
    const empty = await os.put('empty', new Uint8Array(0));
    assert.equal(empty.size, 0);
    assert.equal(empty.chunks, 0);
    assert.deepEqual(await os.getBytes('empty'), Buffer.alloc(0));
    assert.equal(await os.get('missing'), null);
    assert.equal(await os.info('missing'), null);
  });

  // In-process nothing waits in kernel socket buffers: the reader holds the whole flow-control window (2 MB, doubling),
  // over half of this object, so the bound below says nothing there.
  it('a 5 MB object streams in 128 KiB chunks and reads back intact through a slow reader', { skip: skipInProcess('the bound counts on kernel buffers holding part of the window') }, async () => {
    const os = await bus.objects('big');
    const data = randomBytes(5 * 1024 * 1024);
    // Fed in odd-sized pieces, as a file stream would.
    const pieces = Array.from({ length: Math.ceil(data.length / 100_000) }, (_, i) => data.subarray(i * 100_000, (i + 1) * 100_000));
    const info = await within(os.put('blob.bin', Readable.from(pieces)), 30_000, 'the put');
    assert.equal(info.size, data.length);
    assert.equal(info.chunks, Math.ceil(data.length / (128 * 1024)));
    assert.equal(info.digest, sha(data));
    const got = await os.get('blob.bin');
    assert.ok(got !== null);
    const it = got.data[Symbol.asyncIterator]();
    const parts: Buffer[] = [];
    const first = await it.next();
    parts.push(first.value as Buffer);
    // A reader that stops: the server is held back by flow control, so what waits in
    // memory stays near the window however long the reader dawdles (a pause, not an ordering barrier).
    await new Promise((r) => setTimeout(r, 500));
    const waiting = got.data.readableLength;
    assert.ok(waiting < data.length / 2, `buffered ${waiting} of ${data.length} bytes`);
    await within(
      (async () => {
        for (let r = await it.next(); r.done !== true; r = await it.next()) parts.push(r.value as Buffer);
      })(),
      30_000,
      'the read',
    );
    assert.ok(Buffer.concat(parts).equals(data));
  });

  it('replacing an object purges the old version\'s chunks', async () => {
    const os = await bus.objects('replace');
    const a = await os.put('doc', 'version one');
    const b = await os.put('doc', 'version two, longer');
    assert.notEqual(a.nuid, b.nuid);
    assert.equal((await os.getBytes('doc'))?.toString(), 'version two, longer');
    const st = await bus.streams.info('OBJ_replace');
    // The new chunk and its meta; the old chunk purged, the old meta rolled up (nats-server).
    assert.equal(st.state.messages, 2);
  });

  it('list and delete', async () => {
    const os = await bus.objects('listing');
    assert.deepEqual(await os.list(), []);
    await os.put('a', 'A');
    await os.put('b', 'BB');
    await os.put('c', 'CCC');
    assert.equal(await os.delete('b'), true);
    assert.equal(await os.delete('b'), false);
    assert.equal(await os.info('b'), null);
    assert.equal(await os.get('b'), null);
    const list = await os.list();
    assert.deepEqual(list.map((i) => [i.name, i.size]).sort(), [['a', 1], ['c', 3]]);
  });

  it('a corrupt object fails the read stream with DigestMismatchError', async () => {
    const os = await bus.objects('corrupt');
    const info = await os.put('x', 'the real content');
    // Another writer replaces the chunk's bytes behind the metadata's back.
    await bus.streams.purge('OBJ_corrupt', { filter: `$O.corrupt.C.${info.nuid}` });
    await bus.publish(`$O.corrupt.C.${info.nuid}`, Buffer.from('the fake content'));
    const got = await os.get('x');
    assert.ok(got !== null);
    await assert.rejects(readAllOf(got.data), DigestMismatchError);
  });

  it('a source that fails mid-way rejects the put and leaves no chunk behind', async () => {
    const os = await bus.objects('failing');
    async function* source(): AsyncGenerator<Buffer> {
      yield randomBytes(200_000);
      yield randomBytes(200_000);
      throw new Error('the disk went away');
    }
    await assert.rejects(os.put('half', source()), /the disk went away/);
    assert.equal(await os.info('half'), null);
    assert.equal((await bus.streams.info('OBJ_failing')).state.messages, 0);
  });

  it('an object whose chunks are gone fails its read with ObjectStoreError, not a digest error', async () => {
    const os = await bus.objects('gone');
    const info = await os.put('x', 'content');
    await bus.streams.purge('OBJ_gone', { filter: `$O.gone.C.${info.nuid}` });
    const got = await os.get('x');
    assert.ok(got !== null);
    await assert.rejects(readAllOf(got.data), (err: Error) => err.name === 'ObjectStoreError' && /no longer stored/.test(err.message));
  });

  it('refuses what it cannot store', async () => {
    const os = await bus.objects('bad');
    await assert.rejects(os.put('', 'x'), /non-empty string/);
    await assert.rejects(os.put('n', 42 as unknown as string), /takes a Uint8Array, a string/);
    await assert.rejects(os.put('n', 'x', { chunkSize: 0 }), /chunkSize must be a positive integer/);
    await assert.rejects(os.put('n', 'x', { maxInFlight: 0 }), /maxInFlight must be a positive integer/);
    await assert.rejects(bus.objects('bad name'), /object store name/);
  });
});
