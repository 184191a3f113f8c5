/**
 * Key-value buckets: bus.kv(). Runs against NETEMITTER_TARGET with
 * JetStream on; the layout itself is checked against the official client in
 * kv-interop.test.ts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect,
  BucketNotFoundError,
  ClosedError,
  InvalidKeyError,
  KeyExistsError,
  WrongRevisionError,
  nanos,
  type Bus,
  type KvEntry,
} from '../../src/index.js';
import { skipInProcess, startServer, type TestServer } from '../helpers/target.js';
import { next, until, within } from './helpers/wait.js';
import { TestProxy } from './helpers/proxy.js';

describe('key-value buckets', () => {
  let server: TestServer;
  let bus: Bus;

  before(async () => {
    server = await startServer({ jetstream: true });
    bus = await connect({ servers: server.url, name: 'kv-test' });
  });

  after(async () => {
    if (bus !== undefined && !bus.isClosed) await bus.close();
    await server?.stop();
  });

  it('creates the bucket as a KV stream, and binds to it the second time', async () => {
    const kv = await bus.kv('settings', { history: 5, description: 'app settings', maxValueSize: 1024 });
    assert.equal(kv.stream, 'KV_settings');
    const info = await bus.streams.info('KV_settings');
    assert.deepEqual(info.config.subjects, ['$KV.settings.>']);
    assert.equal(info.config.max_msgs_per_subject, 5);
    assert.equal(info.config.allow_rollup_hdrs, true);
    assert.equal(info.config.allow_direct, true);
    assert.equal(info.config.discard, 'new');
    assert.equal(info.config.max_msg_size, 1024);
    assert.equal(info.config.description, 'app settings');
    const again = await bus.kv('settings');
    const st = await again.status();
    assert.equal(st.history, 5);
    assert.equal(st.bucket, 'settings');
  });

  it('binds only with create: false, and says when there is no bucket', async () => {
    await assert.rejects(bus.kv('nope', { create: false }), BucketNotFoundError);
    await assert.rejects(bus.streams.info('KV_nope'), /stream not found/);
  });

  it('put and get: the value decoded, its revision and time', async () => {
    const kv = await bus.kv('basic');
    const before = Date.now();
    const r1 = await kv.put('color', { name: 'blue', rgb: [0, 0, 255] });
    const r2 = await kv.put('size', 'large');
    assert.ok(r2 > r1);
    const e = await kv.get('color');
    assert.ok(e !== null);
    assert.deepEqual(e.value, { name: 'blue', rgb: [0, 0, 255] });
    assert.equal(e.key, 'color');
    assert.equal(e.bucket, 'basic');
    assert.equal(e.revision, r1);
    assert.equal(e.operation, 'PUT');
    assert.ok(e.created.getTime() >= before - 1000 && e.created.getTime() <= Date.now() + 1000, e.created.toISOString());
    assert.equal((await kv.get('size'))?.value, 'large');
    assert.equal(await kv.get('missing'), null);
    const bytes = Buffer.from([0, 255, 1]);
    await kv.put('raw', bytes);
    assert.deepEqual((await kv.get('raw'))?.data, bytes);
  });

  it('a bucket without allow_direct is read through STREAM.MSG.GET', async () => {
    await bus.streams.add({ name: 'KV_nodirect', subjects: ['$KV.nodirect.>'], max_msgs_per_subject: 1, allow_rollup_hdrs: true, allow_direct: false });
    const kv = await bus.kv('nodirect', { create: false });
    const r = await kv.put('k', { v: 1 });
    const e = await kv.get('k');
    assert.deepEqual([e?.key, e?.value, e?.revision, e?.operation], ['k', { v: 1 }, r, 'PUT']);
    await kv.delete('k');
    assert.equal(await kv.get('k'), null, 'the DEL marker has an empty payload');
  });

  it('get by revision reads an older value', async () => {
    const kv = await bus.kv('revs', { history: 3 });
    const r1 = await kv.put('k', 1);
    await kv.put('k', 2);
    assert.equal((await kv.get('k'))?.value, 2);
    assert.equal((await kv.get('k', { revision: r1 }))?.value, 1);
  });

  it('create refuses a key with a value (KeyExistsError with its revision) and takes a deleted one', async () => {
    const kv = await bus.kv('create');
    const r = await kv.create('lock', 'me');
    const err = await kv.create('lock', 'you').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof KeyExistsError, String(err));
    assert.equal(err.revision, r);
    assert.equal(err.code, 'ERR_NETEMITTER_KEY_EXISTS');
    await kv.delete('lock');
    const r2 = await kv.create('lock', 'you');
    assert.equal((await kv.get('lock'))?.value, 'you');
    assert.equal((await kv.get('lock'))?.revision, r2);
  });

  it('update succeeds at the right revision and throws WrongRevisionError otherwise', async () => {
    const kv = await bus.kv('update');
    const r1 = await kv.put('counter', 1);
    const r2 = await kv.update('counter', 2, r1);
    const err = await kv.update('counter', 3, r1).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof WrongRevisionError, String(err));
    assert.equal(err.expected, r1);
    assert.equal(err.actual, r2);
    assert.equal((await kv.get('counter'))?.value, 2);
    await assert.rejects(kv.update('counter', 3, 0), TypeError);
  });

  it('delete leaves a DEL marker in the history; purge keeps only its PURGE marker', async () => {
    const kv = await bus.kv('del', { history: 10 });
    await kv.put('a', 1);
    await kv.put('a', 2);
    await kv.delete('a');
    assert.equal(await kv.get('a'), null);
    assert.deepEqual((await kv.history('a')).map((e) => e.operation), ['PUT', 'PUT', 'DEL']);
    await kv.put('b', 1);
    await kv.put('b', 2);
    await kv.purge('b');
    assert.equal(await kv.get('b'), null);
    const h = await kv.history('b');
    assert.deepEqual(h.map((e) => [e.operation, e.value]), [['PURGE', undefined]]);
  });

  it('keys lists the keys that have a value, matching a filter', async () => {
    const kv = await bus.kv('keys');
    assert.deepEqual(await kv.keys(), []);
    await kv.put('app.color', 'red');
    await kv.put('app.size', 'L');
    await kv.put('app.size', 'XL');
    await kv.put('db.url', 'x');
    await kv.put('gone', 1);
    await kv.delete('gone');
    assert.deepEqual((await kv.keys()).sort(), ['app.color', 'app.size', 'db.url']);
    assert.deepEqual((await kv.keys('app.*')).sort(), ['app.color', 'app.size']);
  });

  it('history lists every kept revision, oldest first', async () => {
    const kv = await bus.kv('hist', { history: 3 });
    for (let i = 1; i <= 5; i++) await kv.put('k', i);
    await kv.put('other', 'x');
    const h = await kv.history('k');
    assert.deepEqual(h.map((e) => e.value), [3, 4, 5]);
    assert.deepEqual(h.map((e) => e.delta), [2, 1, 0]);
  });

  it('watch (iterator): the current values, then ready, then the updates in order', async () => {
    const kv = await bus.kv('watch-it');
    await kv.put('a', 1);
    await kv.put('b', 1);
    await kv.put('a', 2);
    const w = kv.watch();
    // delta counts down the initial values; updates have none.
    const seen: [string, unknown, string, number | undefined][] = [];
    await within(
      (async () => {
        for await (const e of w) {
          seen.push([e.key, e.value, e.operation, e.delta]);
          if (seen.length === 2) {
            await w.ready;
            await kv.put('c', 3);
            await kv.delete('b');
          }
          if (seen.length === 4) break;
        }
      })(),
      10_000,
      'the watch entries',
    );
    assert.deepEqual(seen, [
      ['b', 1, 'PUT', 1],
      ['a', 2, 'PUT', 0],
      ['c', 3, 'PUT', undefined],
      ['b', undefined, 'DEL', undefined],
    ]);
    assert.equal(w.isStopped, true, 'leaving the loop stops the watch');
  });

  it('watch (events): put, delete and change listeners; ready with no initial values', async () => {
    const kv = await bus.kv('watch-ev');
    const w = kv.watch('cfg.>');
    const puts: string[] = [];
    const dels: string[] = [];
    const changes: string[] = [];
    w.on('put', (e: KvEntry) => puts.push(`${e.key}=${String(e.value)}`));
    w.on('delete', (e: KvEntry) => dels.push(`${e.key}:${e.operation}`));
    w.on('change', (e: KvEntry) => changes.push(e.key));
    await within(w.ready, 5_000, 'ready on an empty bucket');
    await kv.put('cfg.a', 'x');
    await kv.put('other', 'not watched');
    await kv.purge('cfg.a');
    await until(() => changes.length === 2, 'two changes');
    w.stop();
    assert.deepEqual(puts, ['cfg.a=x']);
    assert.deepEqual(dels, ['cfg.a:PURGE']);
  });

  it('entries that arrived before any listener go to the first one added', async () => {
    const kv = await bus.kv('late-listener');
    await kv.put('x', 1);
    await kv.put('y', 2);
    const w = kv.watch();
    await within(w.ready, 5_000, 'ready');
    assert.equal(w.buffered, 2, 'queued for whoever reads first');
    const got: string[] = [];
    w.on('put', (e: KvEntry) => got.push(e.key));
    await kv.put('z', 3);
    await until(() => got.length === 3, 'all three');
    w.stop();
    assert.deepEqual(got, ['x', 'y', 'z']);
    assert.equal(w.buffered, 0);
  });

  it('watch options: updates only, and ignoreDeletes', async () => {
    const kv = await bus.kv('watch-opt');
    await kv.put('old', 1);
    const w = kv.watch('>', { initial: false, ignoreDeletes: true });
    const got: string[] = [];
    w.on('change', (e: KvEntry) => got.push(`${e.key}:${e.operation}`));
    await within(w.ready, 5_000, 'ready');
    await kv.delete('old');
    await kv.put('new', 2);
    await until(() => got.length === 1, 'the put');
    w.stop();
    assert.deepEqual(got, ['new:PUT']);
  });

  it('a slow iterator pauses the server instead of buffering: 300 entries through a queue of 8, in order', async () => {
    const kv = await bus.kv('slow', { history: 1 });
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => kv.put(`k${i}`, i)));
    const w = kv.watch('>', { highWaterMark: 8 });
    const values: number[] = [];
    let maxBuffered = 0;
    await within(
      (async () => {
        for await (const e of w) {
          maxBuffered = Math.max(maxBuffered, w.buffered);
          values.push(e.value as number);
          await new Promise((r) => setImmediate(r));
          if (values.length === n) break;
        }
      })(),
      20_000,
      'all the entries',
    );
    assert.equal(values.length, n);
    assert.deepEqual([...values].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    // The server's flow-control window may overshoot the mark, but not by the whole bucket.
    assert.ok(maxBuffered < n, `buffered ${maxBuffered}`);
  });

  it('a watch whose consumer disappears recreates it after the last entry it saw: no gap, no repeat', async () => {
    const kv = await bus.kv('recover');
    await kv.put('a', 1);
    const w = kv.watch('>', { heartbeat: 300 });
    const seen: string[] = [];
    w.on('change', (e: KvEntry) => seen.push(`${e.key}=${String(e.value)}`));
    await within(w.ready, 5_000, 'ready');
    await kv.put('b', 2);
    await until(() => seen.length === 2, 'b');
    const [name] = await bus.consumers.names('KV_recover');
    assert.ok(name !== undefined);
    await bus.consumers.delete('KV_recover', name);
    await kv.put('c', 3);
    await kv.put('a', 4);
    await until(() => seen.length === 4, 'the entries after the loss', 10_000);
    await until(async () => (await bus.consumers.names('KV_recover')).some((n) => n !== name), 'a new consumer');
    w.stop();
    assert.deepEqual(seen, ['a=1', 'b=2', 'c=3', 'a=4']);
  });

  it('a watch carries on after a reconnect, from the entry after the last it saw', { skip: skipInProcess('a TCP proxy between client and server cuts the connection') }, async () => {
    const proxy = await TestProxy.start({ host: server.host, port: server.port });
    const b = await connect({ servers: proxy.url, name: 'kv-reconnect', reconnect: { initialDelay: 10, maxDelay: 50 } });
    try {
      const writer = await bus.kv('reconnect');
      await writer.put('a', 1);
      const w = (await b.kv('reconnect', { create: false })).watch();
      const seen: string[] = [];
      w.on('change', (e: KvEntry) => seen.push(`${e.key}=${String(e.value)}`));
      await within(w.ready, 5_000, 'ready');
      const reconnected = next(b.status, 'reconnect', 10_000);
      proxy.drop();
      await writer.put('b', 2);
      await reconnected;
      await writer.put('a', 3);
      await until(() => seen.length === 3, 'the entries around the reconnect', 10_000);
      w.stop();
      assert.deepEqual(seen, ['a=1', 'b=2', 'a=3']);
    } finally {
      await b.close();
      await proxy.close();
    }
  });

  it('closing the bus ends a watch\'s iterator and fails pending and later reads', async () => {
    const b = await connect({ servers: server.url, name: 'kv-close' });
    const kv = await b.kv('closing');
    await kv.put('a', 1);
    const it = kv.watch()[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.key, 'a');
    const waiting = it.next();
    await b.close();
    assert.deepEqual(await within(waiting, 5_000, 'the iterator to end'), { value: undefined, done: true });
    await assert.rejects(kv.keys(), ClosedError);
    await assert.rejects(kv.get('a'), ClosedError);
    assert.throws(() => kv.watch(), ClosedError);
  });

  it('many watches on one bus share its lifecycle listeners: no leak warning, each gets the update', async () => {
    const kv = await bus.kv('many');
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const watches = Array.from({ length: 30 }, () => kv.watch());
      await within(Promise.all(watches.map((w) => w.ready)), 10_000, 'the watches');
      const got = watches.map((w) => new Promise<KvEntry>((resolve) => w.once('put', resolve)));
      await kv.put('x', 'for all');
      const entries = await within(Promise.all(got), 10_000, 'the update at every watch');
      assert.deepEqual(new Set(entries.map((e) => e.value)), new Set(['for all']));
      for (const w of watches) w.stop();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.map((w) => w.message), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('ttl: values expire with the bucket\'s max_age', async () => {
    const kv = await bus.kv('ttl', { ttl: 1_000 });
    const info = await bus.streams.info('KV_ttl');
    assert.equal(info.config.max_age, nanos(1_000));
    assert.equal(info.config.duplicate_window, nanos(1_000));
    assert.equal((await kv.status()).ttl, 1_000);
    await kv.put('short', 'lived');
    assert.equal((await kv.get('short'))?.value, 'lived');
    await until(async () => (await kv.get('short')) === null, 'the value to expire', 10_000, 100);
  });

  it('refuses bad keys, bucket names and options with clear errors', async () => {
    const kv = await bus.kv('valid');
    for (const bad of ['', '.a', 'a.', 'a..b', 'a b', 'a*', 'ä']) {
      await assert.rejects(kv.put(bad, 1), InvalidKeyError, JSON.stringify(bad));
    }
    await assert.rejects(kv.get('a>'), /invalid key "a>"/);
    await assert.rejects(kv.keys('a.b>'), /wildcard must be a whole token/);
    assert.throws(() => kv.watch('>.a'), /'>' must be the last token/);
    await assert.rejects(bus.kv('bad.name'), InvalidKeyError);
    await assert.rejects(bus.kv('h', { history: 65 }), /history must be at most 64/);
    await assert.rejects(bus.kv('h', { ttl: -1 }), /ttl must be a non-negative integer/);
    // Keys NATS allows
    for (const good of ['a/b', 'a=b', 'a-b_c', 'A.b.C', '_x']) await kv.put(good, 1);
  });
});
