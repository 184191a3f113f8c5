/**
 * Key-value buckets and object stores shared with the official clients
 * (@nats-io/kv, @nats-io/obj), both ways: what netemitter writes they read,
 * and what they write netemitter reads. Runs against NETEMITTER_TARGET with
 * JetStream on.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { connect, KeyExistsError, type Bus, type KvEntry } from '../../src/index.js';
import { skipInProcess, startServer, type TestServer } from '../helpers/target.js';
import { closeAll, connectTo } from '../helpers/client.js';
import { until, within } from './helpers/wait.js';

async function streamBytes(s: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as unknown as AsyncIterable<Uint8Array>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('key-value and object stores with the official NATS clients', { skip: skipInProcess('nats.js dials TCP only (it has no in-process transport)') }, () => {
  let server: TestServer;
  let nc: NatsConnection;
  let bus: Bus;

  before(async () => {
    server = await startServer({ jetstream: true });
    nc = await connectTo(server);
    bus = await connect({ servers: server.url, name: 'kv-interop' });
  });

  after(async () => {
    if (bus !== undefined && !bus.isClosed) await bus.close();
    await closeAll(nc);
    await server?.stop();
  });

  it('netemitter writes a bucket; @nats-io/kv reads values, revisions, deletes and keys', async () => {
    const ours = await bus.kv('iop1', { history: 5 });
    const r1 = await ours.put('user.1', { name: 'Ada' });
    await ours.put('user.2', 'plain');
    await ours.put('user.3', 'gone');
    await ours.delete('user.3');
    await ours.put('user.4', 'purged');
    await ours.purge('user.4');
    const theirs = await new Kvm(nc).open('iop1');
    const e = await theirs.get('user.1');
    assert.ok(e !== null);
    assert.deepEqual(e.json(), { name: 'Ada' });
    assert.equal(e.revision, r1);
    assert.equal(e.operation, 'PUT');
    assert.equal((await theirs.get('user.2'))?.string(), '"plain"', 'a string value travels as JSON, like an emitted one');
    assert.equal((await theirs.get('user.3'))?.operation, 'DEL');
    assert.equal((await theirs.get('user.4'))?.operation, 'PURGE');
    const keys: string[] = [];
    for await (const k of await theirs.keys()) keys.push(k);
    assert.deepEqual(keys.sort(), ['user.1', 'user.2']);
    const status = await theirs.status();
    assert.equal(status.history, 5);
    // Their create sees our value.
    await assert.rejects(theirs.create('user.1', 'x'));
  });

  it('@nats-io/kv writes a bucket; netemitter reads, creates, updates and watches it', async () => {
    const theirs = await new Kvm(nc).create('iop2', { history: 3, ttl: 60_000 });
    const rev = await theirs.put('cfg.color', JSON.stringify('red'));
    await theirs.put('cfg.text', 'not json');
    await theirs.put('cfg.gone', '1');
    await theirs.delete('cfg.gone');
    const ours = await bus.kv('iop2', { create: false });
    const e = await ours.get('cfg.color');
    assert.equal(e?.value, 'red');
    assert.equal(e?.revision, rev);
    assert.equal((await ours.get('cfg.text'))?.value, 'not json', 'text that is not JSON reads as a string');
    assert.equal(await ours.get('cfg.gone'), null);
    assert.deepEqual((await ours.keys()).sort(), ['cfg.color', 'cfg.text']);
    assert.equal((await ours.status()).ttl, 60_000);
    await assert.rejects(ours.create('cfg.color', 'blue'), KeyExistsError);
    await ours.create('cfg.gone', 'back');
    const r2 = await ours.update('cfg.color', 'blue', rev);
    const seen: string[] = [];
    const w = ours.watch('cfg.>', { initial: false });
    w.on('change', (x: KvEntry) => seen.push(`${x.key}:${x.operation}:${String(x.value)}`));
    await within(w.ready, 5_000, 'the watch');
    await theirs.put('cfg.size', JSON.stringify(42));
    await theirs.purge('cfg.text');
    await until(() => seen.length === 2, 'two changes from nats.js');
    w.stop();
    assert.deepEqual(seen, ['cfg.size:PUT:42', 'cfg.text:PURGE:undefined']);
    assert.equal((await theirs.get('cfg.color'))?.revision, r2);
    // And their watch sees ours: the current value, then our next put.
    const iter = await theirs.watch({ key: 'cfg.color' });
    const values: string[] = [];
    await within(
      (async () => {
        for await (const x of iter) {
          values.push(x.string());
          if (values.length === 1) await ours.put('cfg.color', 'green');
          else break;
        }
      })(),
      10_000,
      'nats.js watching our puts',
    );
    assert.deepEqual(values, ['"blue"', '"green"']);
    iter.stop();
  });

  it('netemitter writes a 5 MB object; @nats-io/obj reads it and its info', async () => {
    const ours = await bus.objects('iop3');
    const data = randomBytes(5 * 1024 * 1024);
    const mine = await ours.put('big.bin', data, { description: 'five megabytes', headers: { 'X-Kind': 'blob' } });
    await ours.put('small.txt', 'hi');
    // ASCII: nats.js encodes a name with btoa (Latin-1 for é, and it throws past U+00FF), nats.go and we as UTF-8.
    await ours.put('reports/summer 2026.txt', 'summer');
    const theirs = await new Objm(nc).open('iop3');
    assert.equal(new TextDecoder().decode((await theirs.getBlob('reports/summer 2026.txt'))!), 'summer', 'the name travels as base64url, as theirs');
    const info = await theirs.info('big.bin');
    assert.ok(info !== null);
    assert.equal(info.size, data.length);
    assert.equal(info.digest, mine.digest);
    assert.equal(info.description, 'five megabytes');
    assert.equal(info.headers?.get('X-Kind'), 'blob');
    const r = await theirs.get('big.bin');
    assert.ok(r !== null);
    const bytes = await within(streamBytes(r.data), 30_000, 'nats.js reading our object');
    assert.equal((await r.error) ?? null, null, 'nats.js found the digest right');
    assert.ok(bytes.equals(data));
    const names: string[] = [];
    for (const i of await theirs.list()) names.push(i.name);
    assert.deepEqual(names.sort(), ['big.bin', 'reports/summer 2026.txt', 'small.txt']);
    await ours.delete('small.txt');
    assert.equal(await theirs.get('small.txt'), null);
  });

  it('@nats-io/obj writes objects; netemitter reads, lists and deletes them', async () => {
    const theirs = await new Objm(nc).create('iop4');
    const data = randomBytes(1024 * 1024 + 17);
    const written = await theirs.putBlob({ name: 'from/nats.js', description: 'theirs' }, data);
    await theirs.putBlob({ name: 'other' }, new TextEncoder().encode('x'));
    const ours = await bus.objects('iop4', { create: false });
    const info = await ours.info('from/nats.js');
    assert.equal(info?.size, data.length);
    assert.equal(info?.digest, written.digest);
    assert.equal(info?.description, 'theirs');
    const bytes = await within(ours.getBytes('from/nats.js'), 30_000, 'reading their object');
    assert.ok(bytes?.equals(data));
    assert.deepEqual((await ours.list()).map((i) => i.name).sort(), ['from/nats.js', 'other']);
    assert.equal(await ours.delete('other'), true);
    assert.equal(await theirs.info('other').then((i) => i?.deleted ?? null), true);
  });
});
