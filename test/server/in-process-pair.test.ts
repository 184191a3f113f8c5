/**
 * The in-process stream pair (src/server/in-process-pair.ts) on its own:
 * delivery on a later turn, order, backpressure against a paused reader,
 * end and destroy, and the copy of the client's writes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { HIGH_WATER_MARK, pipePair, type PipeEnd } from '../../src/server/in-process-pair.js';

/** Everything `end` receives, joined, once `n` bytes have come. */
function read(end: PipeEnd, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  return new Promise((resolve) => {
    end.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= n) resolve(Buffer.concat(chunks));
    });
  });
}

describe('in-process pair', () => {
  it('delivers on a later turn, in order, never inside write()', async () => {
    const { server, client } = pipePair();
    const seen: string[] = [];
    client.on('data', (c: Buffer) => seen.push(c.toString()));
    server.write('INFO');
    server.write(Buffer.from(' {}'));
    assert.deepEqual(seen, [], 'nothing arrives during the write call');
    await new Promise((r) => setImmediate(r));
    assert.equal(seen.join(''), 'INFO {}');
    server.destroy();
  });

  it('holds bytes until the reader listens, as a socket does before its first read', async () => {
    const { server, client } = pipePair();
    server.write('early');
    await new Promise((r) => setImmediate(r));
    assert.equal(server.writableLength, 5, 'still queued: nobody reads');
    const got = read(client, 5);
    assert.equal((await got).toString(), 'early');
    assert.equal(server.writableLength, 0);
    server.destroy();
  });

  it("copies the client's writes, so the caller may reuse its buffer", async () => {
    const { server, client } = pipePair();
    const mine = Buffer.alloc(10_000, 1);
    const got = read(server, mine.length);
    client.write(mine);
    mine.fill(7);
    const data = await got;
    assert.equal(data[0], 1);
    assert.equal(data[9_999], 1);
    client.destroy();
  });

  it('write() returns false past the high-water mark while the reader is paused, and drain comes once it reads', async () => {
    const { server, client } = pipePair();
    const got: Buffer[] = [];
    client.on('data', (c: Buffer) => got.push(c));
    client.pause();
    const chunk = Buffer.alloc(64 * 1024);
    let ok = true;
    let writes = 0;
    while (ok) {
      ok = server.write(chunk);
      writes++;
      assert.ok(writes <= HIGH_WATER_MARK / chunk.length + 1, 'write() must refuse once the mark is passed');
    }
    assert.equal(server.writableNeedDrain, true);
    await new Promise((r) => setImmediate(r));
    assert.equal(got.length, 0, 'a paused reader gets nothing');
    assert.equal(server.writableLength, writes * chunk.length);
    const drained = once(server, 'drain');
    client.resume();
    await drained;
    assert.equal(got.length, writes);
    assert.equal(server.writableLength, 0);
    assert.equal(server.writableNeedDrain, false);
    server.destroy();
  });

  it('a reader that pauses in its data listener gets no more until it resumes', async () => {
    const { server, client } = pipePair();
    const got: string[] = [];
    client.on('data', (c: Buffer) => {
      got.push(c.toString());
      client.pause();
    });
    server.cork();
    server.write('a');
    server.write('b');
    server.uncork();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ['a']);
    assert.equal(server.writableLength, 1);
    client.resume();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ['a', 'b']);
    server.destroy();
  });

  it('end() delivers what is queued, then closes both ends once', async () => {
    const { server, client } = pipePair();
    const got = read(client, 7);
    let serverCloses = 0;
    let clientCloses = 0;
    server.on('close', () => serverCloses++);
    client.on('close', () => clientCloses++);
    const closed = Promise.all([once(server, 'close'), once(client, 'close')]);
    server.end("-ERR 'x'".slice(0, 7));
    assert.equal(server.write('late'), false, 'nothing is written after end()');
    assert.equal((await got).toString(), "-ERR 'x");
    await closed;
    await new Promise((r) => setImmediate(r));
    assert.equal(serverCloses, 1);
    assert.equal(clientCloses, 1);
  });

  it('destroy() closes both ends at once and drops what is queued; the error goes to its own end only', async () => {
    const { server, client } = pipePair();
    const got: Buffer[] = [];
    server.on('data', (c: Buffer) => got.push(c));
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    server.on('error', (e) => errors.push(e));
    client.write('never');
    // Not events.once: it rejects on the 'error' that comes first.
    const closed = Promise.all([server, client].map((e) => new Promise((r) => e.once('close', r))));
    client.destroy(new Error('boom'));
    await closed;
    await new Promise((r) => setImmediate(r));
    assert.equal(got.length, 0);
    assert.deepEqual(errors.map((e) => e.message), ['boom']);
    assert.equal(server.destroyed, true);
  });
});
