/**
 * flush(), drain() and close(), and the lifecycle events on bus.status.
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, ErrorCode, type Bus } from '../../src/index.js';
import { skipInProcess, startServer, type ServerHandle } from './helpers/server.js';
import { TestProxy } from './helpers/proxy.js';
import { inbox, next, rejection, until, within } from './helpers/wait.js';

function code(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

describe('flush, drain, close', () => {
  let server: ServerHandle;
  let pub: Bus;
  const extra: Bus[] = [];

  async function bus(name: string, opts: object = {}): Promise<Bus> {
    const x = await connect({ servers: server.url, name, ...opts });
    extra.push(x);
    return x;
  }

  before(async () => {
    server = await startServer();
    pub = await connect({ servers: server.url, name: 'life-pub' });
  });

  after(async () => {
    await Promise.all([pub, ...extra].map((x) => (x.isClosed ? undefined : x.close())));
    await server.stop();
  });

  it('flush() resolves once the server has everything emitted before it', async () => {
    const sub = await bus('life-flush');
    const box = inbox<number>(sub, 'life.flush');
    await sub.flush();
    for (let i = 0; i < 1000; i++) pub.emit('life.flush', i);
    await pub.flush();
    await sub.flush();
    assert.equal(box.length, 1000, 'after both flushes every event was dispatched');
    assert.deepEqual(box.payloads.slice(0, 3), [0, 1, 2]);
    assert.equal(box.payloads[999], 999);
  });

  it('close() flushes what was emitted, rejects pending requests with ClosedError, then refuses use', async () => {
    const sub = await bus('life-close-sub');
    const box = inbox<number>(sub, 'life.close');
    sub.on('life.never.answered', () => {});
    await sub.flush();
    const x = await bus('life-close');
    const closes: number[] = [];
    x.status.on('close', () => void closes.push(1));
    const pending = x.request('life.never.answered', 1, { timeout: 20_000 });
    for (let i = 0; i < 50; i++) x.emit('life.close', i);
    await x.close();
    const err = await rejection(pending);
    assert.equal(code(err), ErrorCode.CLOSED);
    assert.deepEqual(closes, [1]);
    assert.equal(x.isClosed, true);
    assert.equal(x.isConnected, false);
    await sub.flush();
    assert.equal(box.length, 50, 'events emitted before close() were delivered');

    assert.throws(() => x.emit('life.close', 1), (e) => code(e) === ErrorCode.CLOSED);
    assert.throws(() => x.on('life.close', () => {}), (e) => code(e) === ErrorCode.CLOSED);
    assert.equal(code(await rejection(x.request('life.close', 1))), ErrorCode.CLOSED);
    assert.equal(code(await rejection(x.flush())), ErrorCode.CLOSED);
    await x.close(); // twice is fine
    assert.deepEqual(closes, [1]);
  });

  it('drain() delivers the events already in flight, then closes', { skip: skipInProcess('a TCP proxy between client and server cuts or freezes the connection') }, async () => {
    // Through a proxy that holds the server's output: the whole batch is routed to the
    // bus before it sees the first event, so all of it is in flight when drain() starts.
    const proxy = await TestProxy.start({ host: '127.0.0.1', port: server.port });
    try {
      const x = await connect({ servers: proxy.url, name: 'life-drain', reconnect: false });
      extra.push(x);
      const got: number[] = [];
      let drained: Promise<void> | null = null;
      x.on('life.drain', (n: number) => {
        got.push(n);
        drained ??= x.drain();
      });
      await x.flush();
      proxy.hold();
      const n = 50;
      for (let i = 0; i < n; i++) pub.emit('life.drain', i);
      await pub.flush();
      proxy.release();
      await until(() => drained !== null, 'drain started');
      await within(drained!, 5_000, 'drain()');
      assert.deepEqual(got, Array.from({ length: n }, (_, i) => i));
      assert.equal(x.isClosed, true);
      assert.throws(() => x.on('life.drain', () => {}), (e) => code(e) === ErrorCode.CLOSED);
    } finally {
      await proxy.close();
    }
  });

  it('drain() gives up after drainTimeout when no server is there to flush to, and closes', { skip: skipInProcess('a TCP proxy between client and server cuts or freezes the connection') }, async () => {
    const proxy = await TestProxy.start({ host: '127.0.0.1', port: server.port });
    try {
      // timeout bounds the flush close() still tries once drain() has given up.
      const x = await connect({ servers: proxy.url, name: 'life-drain-timeout', drainTimeout: 300, timeout: 500 });
      extra.push(x);
      x.on('life.drain.timeout', () => {});
      await x.flush();
      proxy.freeze(); // the server never answers the flush's PING
      const err = await within(rejection(x.drain()), 5_000, 'drain() to give up');
      assert.equal(code(err), ErrorCode.TIMEOUT);
      assert.match(err.message, /within 300 ms/);
      assert.equal(x.isClosed, true);
    } finally {
      await proxy.close();
    }
  });

  it('drain() waits for running handlers, whose replies still go out', async () => {
    const x = await bus('life-drain-handler');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    x.handle('life.slow', async (n: number) => {
      started();
      await gate;
      return n * 2;
    });
    await x.flush();
    const reply = pub.request('life.slow', 21, { timeout: 10_000 });
    await within(running, 5_000, 'handler started');
    const drained = x.drain();
    release();
    await within(drained, 5_000, 'drain()');
    assert.equal(await reply, 42);
    assert.equal(x.isClosed, true);
    await pub.flush();
    assert.deepEqual(await server.subscriptions('life-drain-handler'), []);
  });

  it('drain() waits for async listeners, which may still emit', async () => {
    const worker = await bus('life-drain-listener');
    const done = inbox<number>(pub, 'life.done');
    await pub.flush();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    worker.on('life.job', async (n: number) => {
      started();
      await gate;
      worker.emit('life.done', n + 1);
    });
    await worker.flush();
    pub.emit('life.job', 41);
    await within(running, 5_000, 'listener started');
    const drained = worker.drain();
    // Released once the server holds none of the worker's subscriptions: drain() has unsubscribed, and
    // only its waiting for the listener saves the listener's emit.
    await until(async () => (await server.subscriptions('life-drain-listener')).length === 0, 'the UNSUB reaching the server');
    release();
    await within(drained, 5_000, 'drain()');
    assert.deepEqual((await done.atLeast(1, 'life.done')).map((r) => r.payload), [42]);
  });

  it('emit() returns false above half the buffer bound and throws BufferFullError past it', async () => {
    const x = await bus('life-buffer', { maxBufferedBytes: 4096 });
    const chunk = Buffer.alloc(1000, 1);
    const results: boolean[] = [];
    let err: unknown;
    try {
      for (let i = 0; i < 10; i++) results.push(x.emit('life.buffer', chunk));
    } catch (e) {
      err = e;
    }
    // All in one turn of the event loop: nothing has left the queue yet.
    assert.equal(code(err), ErrorCode.BUFFER_FULL);
    // true while under half the bound (like stream.write), then false until the hard bound throws.
    const firstFalse = results.indexOf(false);
    assert.ok(firstFalse > 0 && firstFalse < results.length, JSON.stringify(results));
    assert.ok(results.slice(0, firstFalse).every((r) => r) && results.slice(firstFalse).every((r) => !r), JSON.stringify(results));
    assert.ok(results.length < 5, 'at most 4096 bytes accepted');
    await x.flush();
    assert.equal(x.emit('life.buffer', chunk), true, 'room again once written');
  });

  it('reports disconnect, reconnecting, reconnect and close on bus.status, apart from user events', { skip: skipInProcess('a TCP proxy between client and server cuts or freezes the connection') }, async () => {
    const proxy = await TestProxy.start({ host: '127.0.0.1', port: server.port });
    try {
      const x = await connect({ servers: proxy.url, name: 'life-status', reconnect: { initialDelay: 10, maxDelay: 50 } });
      extra.push(x);
      const seen: unknown[][] = [];
      for (const e of ['connect', 'disconnect', 'reconnecting', 'reconnect', 'ldm', 'close'] as const) {
        x.status.on(e, (...args: unknown[]) => void seen.push([e, ...args]));
      }
      // User events with the same names are remote events, not lifecycle.
      const user = ['disconnect', 'reconnect', 'close'].map((s) => inbox(x, s));
      await x.flush();
      const reconnected = next<[string]>(x.status, 'reconnect');
      proxy.drop();
      await reconnected;
      assert.equal(x.isConnected, true);
      assert.equal(x.server, proxy.url);
      await x.close();
      assert.deepEqual(
        seen.map(([e, ...args]) => (e === 'disconnect' ? [e, args[0]] : [e, ...args])),
        [
          ['disconnect', proxy.url],
          ['reconnecting', 1, proxy.url],
          ['reconnect', proxy.url],
          ['close'],
        ],
      );
      assert.deepEqual(user.map((u) => u.length), [0, 0, 0]);
    } finally {
      await proxy.close();
    }
  });
});
