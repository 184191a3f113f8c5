/**
 * Reliability: a server restarted on the same port (subscriptions restored,
 * queue groups and handlers included; emits made while disconnected
 * delivered), the reconnect buffer's bound, heartbeats against a hung
 * connection, and lame-duck mode moving the client to another server.
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { connect, ErrorCode, type Bus, type ConnectOptions } from '../../src/index.js';
import { skipInProcess, startServer, type ServerHandle } from './helpers/server.js';
import { TestProxy } from './helpers/proxy.js';
import { inbox, next, rejection, until, within } from './helpers/wait.js';

function code(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

/** Fast retries for tests; the policy's shape (backoff, jitter) is the default's. */
const FAST: ConnectOptions['reconnect'] = { initialDelay: 20, maxDelay: 200, jitter: 0.3 };

describe('reconnection', () => {
  const cleanup: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  });

  async function server(opts?: Parameters<typeof startServer>[0]): Promise<ServerHandle> {
    const s = await startServer(opts);
    cleanup.push(() => s.stop());
    return s;
  }

  async function bus(opts: ConnectOptions): Promise<Bus> {
    const b = await connect(opts);
    cleanup.push(() => (b.isClosed ? Promise.resolve() : b.close()));
    return b;
  }

  it('restores every subscription on a server restarted on the same port, and delivers what was emitted meanwhile', { skip: skipInProcess('a restarted hub is a new hub at a new inprocess:// URL') }, async () => {
    const s = await server();
    const b = await bus({ servers: s.url, name: 'rc-restart', reconnect: FAST });
    const events = inbox<number>(b, 'rc.events');
    const wild = inbox<number>(b, 'rc.wild.*');
    const jobs = inbox<number>(b, 'rc.jobs', { queue: 'workers' });
    b.handle('rc.svc', (n: number) => n + 1);
    assert.equal(await b.request('rc.svc', 1), 2); // creates the inbox subscription too
    await b.flush();
    const before = await s.subscriptions('rc-restart');
    assert.equal(before.length, 5, before.join(', '));

    const disconnected = next(b.status, 'disconnect');
    await s.stop();
    await disconnected;
    assert.equal(b.isConnected, false);
    // While disconnected: emits and a request are buffered, in order.
    for (let i = 0; i < 5; i++) b.emit('rc.events', i);
    b.emit('rc.wild.x', 7);
    b.emit('rc.jobs', 8);
    const reply = b.request('rc.svc', 41, { timeout: 10_000 });
    const reconnected = next(b.status, 'reconnect', 10_000);
    await s.restart();
    await reconnected;
    await b.flush();
    assert.deepEqual(await s.subscriptions('rc-restart'), before, 'the new server holds the same subscriptions');
    assert.equal(await reply, 42, 'the buffered request reached the restored handler');
    assert.deepEqual(events.payloads, [0, 1, 2, 3, 4]);
    assert.deepEqual(wild.payloads, [7]);
    assert.deepEqual(jobs.payloads, [8]);

    // And the restored subscriptions receive from others.
    const other = await bus({ servers: s.url, name: 'rc-other' });
    other.emit('rc.events', 5);
    assert.equal(await other.request('rc.svc', 99), 100);
    await other.flush();
    await b.flush();
    assert.deepEqual(events.payloads, [0, 1, 2, 3, 4, 5]);
  });

  it('restores a subscription added while disconnected, once, and forgets one removed meanwhile', { skip: skipInProcess('a restarted hub is a new hub at a new inprocess:// URL') }, async () => {
    const s = await server();
    const b = await bus({ servers: s.url, name: 'rc-offline-subs', reconnect: FAST });
    const gone = (): void => {};
    b.on('rc.gone', gone);
    await b.flush();
    const disconnected = next(b.status, 'disconnect');
    await s.stop();
    await disconnected;
    const added = inbox<number>(b, 'rc.added');
    b.off('rc.gone', gone);
    b.emit('rc.added', 1);
    const reconnected = next(b.status, 'reconnect', 10_000);
    await s.restart();
    await reconnected;
    await b.flush();
    assert.deepEqual(await s.subscriptions('rc-offline-subs'), ['rc.added']);
    assert.deepEqual(added.payloads, [1]);
  });

  it('keeps retrying with the default policy while the server is down', { skip: skipInProcess('a restarted hub is a new hub at a new inprocess:// URL') }, async () => {
    const s = await server();
    const b = await bus({ servers: s.url, name: 'rc-forever' });
    const box = inbox<string>(b, 'rc.forever');
    await b.flush();
    let attempts = 0;
    b.status.on('reconnecting', (n: number) => void (attempts = n));
    await s.stop();
    await until(() => attempts >= 3, 'three reconnect attempts', 15_000);
    const reconnected = next(b.status, 'reconnect', 15_000);
    await s.restart();
    await reconnected;
    b.emit('rc.forever', 'back');
    await b.flush();
    assert.deepEqual(box.payloads, ['back']);
  });

  it('throws BufferFullError past maxBufferedBytes while disconnected, and delivers what it accepted', { skip: skipInProcess('a restarted hub is a new hub at a new inprocess:// URL') }, async () => {
    const s = await server();
    const b = await bus({ servers: s.url, name: 'rc-buffer', reconnect: FAST, maxBufferedBytes: 4096 });
    const box = inbox<number>(b, 'rc.buf');
    await b.flush();
    const disconnected = next(b.status, 'disconnect');
    await s.stop();
    await disconnected;
    const payload = (i: number): Buffer => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(180) }));
    let accepted = 0;
    let err: unknown;
    try {
      for (let i = 0; i < 100; i++) {
        b.emit('rc.buf', payload(i));
        accepted++;
      }
    } catch (e) {
      err = e;
    }
    assert.equal(code(err), ErrorCode.BUFFER_FULL);
    assert.ok(accepted > 0 && accepted < 100, `accepted ${accepted}`);
    assert.throws(() => b.emit('rc.buf', payload(100)), (e) => code(e) === ErrorCode.BUFFER_FULL, 'still full');
    const reconnected = next(b.status, 'reconnect', 10_000);
    await s.restart();
    await reconnected;
    await b.flush();
    assert.deepEqual(
      box.payloads.map((p) => (p as unknown as { i: number }).i),
      Array.from({ length: accepted }, (_, i) => i),
      'every accepted event, in order, none of the refused ones',
    );
  });

  it('flush() called while disconnected resolves after the reconnect, once the server has the data', { skip: skipInProcess('a restarted hub is a new hub at a new inprocess:// URL') }, async () => {
    const s = await server();
    const b = await bus({ servers: s.url, name: 'rc-flush', reconnect: FAST });
    const box = inbox<string>(b, 'rc.flush');
    await b.flush();
    const disconnected = next(b.status, 'disconnect');
    await s.stop();
    await disconnected;
    let reconnects = 0;
    b.status.on('reconnect', () => void reconnects++);
    b.emit('rc.flush', 'buffered');
    const flushed = b.flush();
    await s.restart();
    await within(flushed, 10_000, 'flush() across the reconnect');
    // The server answered a PING sent after the event: the echo came back first.
    assert.deepEqual(box.payloads, ['buffered']);
    await b.flush();
    assert.equal(reconnects, 1);
    b.emit('rc.flush', 'after');
    await b.flush();
    assert.deepEqual(box.payloads, ['buffered', 'after']);
  });

  it('with reconnect: false, closes on disconnect and reports a ConnectionError', async () => {
    const s = await server();
    const b = await bus({ servers: s.url, name: 'rc-noreconnect', reconnect: false });
    const errors: Error[] = [];
    b.status.on('error', (e) => void errors.push(e));
    const closed = next(b.status, 'close', 10_000);
    await s.stop();
    await closed;
    assert.equal(b.isClosed, true);
    assert.deepEqual(errors.map((e) => code(e)), [ErrorCode.CONNECTION]);
    assert.throws(() => b.emit('rc.x', 1), (e) => code(e) === ErrorCode.CLOSED);
  });

  it('close() while disconnected rejects with UnsentError for events never sent', async () => {
    const s = await server();
    const b = await bus({ servers: s.url, name: 'rc-unsent', reconnect: FAST });
    const disconnected = next(b.status, 'disconnect');
    await s.stop();
    await disconnected;
    b.emit('rc.unsent', 1);
    const err = await rejection(b.close());
    assert.equal(code(err), ErrorCode.UNSENT);
    assert.equal(b.isClosed, true);
  });

  it('close() rejects with UnsentError for events written that the server never confirmed; resolves when there were none', { skip: skipInProcess('a TCP proxy between client and server freezes the connection') }, async () => {
    const s = await server();
    const proxy = await TestProxy.start({ host: '127.0.0.1', port: s.port });
    cleanup.push(() => proxy.close());
    const quiet = await bus({ servers: proxy.url, name: 'rc-frozen-quiet', reconnect: false, timeout: 300 });
    const b = await bus({ servers: proxy.url, name: 'rc-frozen', reconnect: false, timeout: 300 });
    await b.flush();
    // No byte passes either way now: what the bus writes may never reach the server, and no PONG comes back.
    proxy.freeze();
    b.emit('rc.frozen', 'x'.repeat(1000));
    b.emit('rc.frozen', 'y'.repeat(1000));
    const err = await rejection(b.close());
    assert.equal(code(err), ErrorCode.UNSENT);
    const e = err as Error & { bytes: number; unconfirmed: number };
    assert.equal(e.bytes, 0);
    assert.ok(e.unconfirmed >= 2000, `unconfirmed ${e.unconfirmed}`);
    assert.match(e.message, /never confirmed/);
    // Nothing written since its last confirmed flush: nothing at risk, close() resolves though the PONG never comes.
    await quiet.close();
  });

  it('detects a hung connection with PING/PONG heartbeats and reconnects', { skip: skipInProcess('a TCP proxy between client and server cuts or freezes the connection') }, async () => {
    const s = await server();
    const proxy = await TestProxy.start({ host: '127.0.0.1', port: s.port });
    cleanup.push(() => proxy.close());
    const b = await bus({ servers: proxy.url, name: 'rc-stale', reconnect: FAST, pingInterval: 100, maxPingsOut: 2 });
    const box = inbox<string>(b, 'rc.stale');
    await b.flush();
    const disconnected = next<[string, Error | undefined]>(b.status, 'disconnect', 10_000);
    const reconnected = next(b.status, 'reconnect', 10_000);
    proxy.freeze(); // the socket stays open; only missing PONGs can tell
    const [, cause] = await disconnected;
    assert.equal(code(cause), ErrorCode.DISCONNECTED);
    assert.match(cause!.message, /stale/);
    await reconnected;
    b.emit('rc.stale', 'alive');
    await b.flush();
    assert.deepEqual(box.payloads, ['alive']);
    await until(async () => (await s.subscriptions('rc-stale')).includes('rc.stale'), 'subscription restored');
  });

  it('moves to another known server when its server enters lame-duck mode', async () => {
    const a = await server({ lameDuckMs: 10_000 });
    const c = await server();
    const b = await bus({ servers: [a.url, c.url], name: 'rc-ldm', reconnect: FAST });
    const box = inbox<string>(b, 'rc.ldm');
    b.on('rc.ldm.q', () => {}, { queue: 'g' });
    await b.flush();
    assert.equal(b.server, a.url);
    const ldm = next<[string]>(b.status, 'ldm', 10_000);
    const reconnected = next<[string]>(b.status, 'reconnect', 10_000);
    a.lameDuck();
    assert.deepEqual(await ldm, [a.url]);
    assert.deepEqual(await reconnected, [c.url]);
    assert.equal(b.server, c.url);
    await b.flush();
    assert.deepEqual(await c.subscriptions('rc-ldm'), ['rc.ldm', 'rc.ldm.q g']);
    b.emit('rc.ldm', 'on the other server');
    await b.flush();
    assert.deepEqual(box.payloads, ['on the other server']);
  });
});
