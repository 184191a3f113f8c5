/**
 * connect(): server URLs, Unix sockets, failover on the first connect, and
 * the options' validation. Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createHub, ErrorCode, type Bus } from '../../src/index.js';
import { parseServer, resolveConnectOptions, ClientDefaults } from '../../src/client/options.js';
import { startServer, targetKind, TargetKind, type ServerHandle } from './helpers/server.js';
import { barrier, inbox, rejection } from './helpers/wait.js';

/** A loopback port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Emits to itself (echo) and checks the event comes back. */
async function roundTrip(bus: Bus, subject: string): Promise<void> {
  const box = inbox(bus, subject);
  bus.emit(subject, { hello: subject });
  await barrier(bus);
  await box.atLeast(1, subject);
  assert.deepEqual(box.payloads, [{ hello: subject }]);
}

describe('connect()', () => {
  let server: ServerHandle;
  const buses: Bus[] = [];

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close())));
    await server.stop();
  });

  it('connects with nats://, tcp:// and bare host:port URLs', async () => {
    for (const url of [server.url, `tcp://127.0.0.1:${server.port}`, `127.0.0.1:${server.port}`]) {
      const bus = await connect(url);
      buses.push(bus);
      assert.equal(bus.isConnected, true);
      assert.equal(bus.server, server.url, `${url} is shown normalised`);
      assert.equal(typeof bus.info?.server_id, 'string');
      await roundTrip(bus, 'connect.url');
      await bus.close();
      assert.equal(bus.isClosed, true);
    }
  });

  it('accepts an options object with a server list and a name', async () => {
    const bus = await connect({ servers: [server.url], name: 'connect-named' });
    buses.push(bus);
    bus.on('connect.named', () => {});
    await bus.flush();
    assert.deepEqual(await server.subscriptions('connect-named'), ['connect.named']);
    await bus.close();
  });

  it('fails over to the next server of the list on the first connect', async () => {
    const dead = `nats://127.0.0.1:${await deadPort()}`;
    const bus = await connect({ servers: [dead, server.url] });
    buses.push(bus);
    assert.equal(bus.server, server.url);
    await roundTrip(bus, 'connect.failover');
    await bus.close();
  });

  it('rejects with ConnectionError when no server of the list answers', async () => {
    const urls = [`nats://127.0.0.1:${await deadPort()}`, `nats://127.0.0.1:${await deadPort()}`];
    const err = await rejection(connect({ servers: urls }));
    assert.equal((err as { code?: string }).code, ErrorCode.CONNECTION);
    for (const u of urls) assert.ok(err.message.includes(u), err.message);
  });

  it('gives up on a server that accepts but never speaks, after the connect timeout', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer((sock) => void sockets.add(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `nats://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const err = await rejection(connect({ servers: url, timeout: 200 }));
      assert.equal((err as { code?: string }).code, ErrorCode.CONNECTION);
      assert.match(err.message, /timed out/);
      // With a live server next in the list, it moves on.
      const bus = await connect({ servers: [url, server.url], timeout: 200 });
      buses.push(bus);
      assert.equal(bus.server, server.url);
      await bus.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses tls:// (and ws://) with a clear ConfigError', async () => {
    for (const url of ['tls://127.0.0.1:4222', 'wss://example.test:443', 'ws://127.0.0.1:80']) {
      const err = await rejection(connect(url));
      assert.equal((err as { code?: string }).code, ErrorCode.CONFIG, url);
      assert.match(err.message, /not supported yet/);
    }
    const list = await rejection(connect([server.url, 'tls://127.0.0.1:4443']));
    assert.equal((list as { code?: string }).code, ErrorCode.CONFIG, 'one tls:// URL in a list is refused too');
  });

  it('refuses malformed URLs and options with ConfigError', async () => {
    const bad: unknown[] = ['http://127.0.0.1:4222', 'unix://relative/path.sock', '', [], { servers: server.url, maxBufferedBytes: 10 }, { servers: server.url, timeout: -1 }, { servers: server.url, inboxPrefix: 'a b' }];
    for (const input of bad) {
      const err = await rejection(connect(input as string));
      assert.equal((err as { code?: string }).code, ErrorCode.CONFIG, JSON.stringify(input));
    }
  });

  it('parses unix://, bare socket paths and Windows pipes', () => {
    assert.deepEqual(parseServer('unix:///tmp/hub.sock'), { url: 'unix:///tmp/hub.sock', path: '/tmp/hub.sock', discovered: false });
    assert.deepEqual(parseServer('/tmp/hub.sock'), { url: 'unix:///tmp/hub.sock', path: '/tmp/hub.sock', discovered: false });
    assert.equal(parseServer('\\\\.\\pipe\\netemitter').path, '\\\\.\\pipe\\netemitter');
    assert.equal(parseServer('//./pipe/netemitter').path, '//./pipe/netemitter');
    assert.deepEqual(parseServer('nats://[::1]:4333'), { url: 'nats://[::1]:4333', host: '::1', port: 4333, discovered: false });
    assert.equal(parseServer('localhost').url, 'nats://localhost:4222');
  });

  it('reconnects forever by default, with backoff and jitter', () => {
    const o = resolveConnectOptions('nats://127.0.0.1:4222');
    assert.notEqual(o.reconnect, false);
    assert.deepEqual(o.reconnect, { ...ClientDefaults.reconnect });
    assert.equal(ClientDefaults.reconnect.maxAttempts, -1);
    assert.ok(ClientDefaults.reconnect.jitter > 0);
    assert.ok(ClientDefaults.reconnect.maxDelay > ClientDefaults.reconnect.initialDelay);
  });

  it('connects over a Unix socket (unix:// URL and bare path)', { skip: targetKind() === TargetKind.HUB ? false : 'nats-server 2.9 has no Unix socket listener for clients' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netemitter-unix-'));
    const path = join(dir, 'hub.sock');
    const hub = createHub({ unix: path });
    await hub.listen();
    try {
      for (const url of [`unix://${path}`, path]) {
        const bus = await connect(url);
        buses.push(bus);
        assert.equal(bus.server, `unix://${path}`);
        await roundTrip(bus, 'connect.unix');
        await bus.close();
      }
    } finally {
      await hub.close({ grace: 0 });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
