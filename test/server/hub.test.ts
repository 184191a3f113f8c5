/**
 * The hub itself (not the protocol): its events, listeners (TCP, IPv6,
 * several at once, Unix sockets with stale/live handling and file mode),
 * lame-duck shutdown, slow consumers, connection limits and in-process
 * publishing. Raw sockets and the official client; no mocks.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { connect } from '@nats-io/transport-node';
import { createHub, type Hub, CloseReason, ListenError, ConfigError } from '../../src/index.js';
import { RawClient, connectLine } from '../helpers/raw.js';

const CONNECT = connectLine();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-hub-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startHub(opts: Parameters<typeof createHub>[0] = {}): Promise<Hub> {
  const hub = createHub({ port: 0, ...opts });
  await hub.listen();
  after(() => hub.close({ grace: 0 }));
  return hub;
}

function tcp(hub: Hub): { host: string; port: number } {
  const a = hub.addresses().find((x) => x.port !== undefined)!;
  return { host: a.host!, port: a.port! };
}

/** Reads from a Unix socket until `pred` holds (bounded). */
function unixExchange(path: string, send: string, pred: (s: string) => boolean, ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: Socket = netConnect(path);
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(got)}`));
    }, ms);
    sock.on('data', (c) => {
      got += c.toString('latin1');
      if (pred(got)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.write(send);
  });
}

describe('hub events', () => {
  it('reports connection, subscribe, unsubscribe and disconnect', async () => {
    const hub = await startHub();
    const seen: string[] = [];
    hub.on('connection', (c) => seen.push(`connection ${c.id}`));
    hub.on('subscribe', (e) => seen.push(`subscribe ${e.subject} ${e.queue ?? '-'} ${e.sid}`));
    hub.on('unsubscribe', (e) => seen.push(`unsubscribe ${e.subject} ${e.sid}`));
    const disconnected = once(hub, 'disconnect');
    const raw = await RawClient.connect(tcp(hub));
    await raw.roundTrip(CONNECT + 'SUB a.b q 7\r\nUNSUB 7\r\n');
    await raw.close();
    const [client, reason] = await disconnected;
    assert.equal(reason, CloseReason.CLIENT);
    const id = (client as { id: number }).id;
    assert.deepEqual(seen, [`connection ${id}`, 'subscribe a.b q 7', 'unsubscribe a.b 7']);
  });

  it('counts messages and connections in stats()', async () => {
    const hub = await startHub();
    const raw = await RawClient.connect(tcp(hub));
    await raw.roundTrip(CONNECT + 'SUB s 1\r\nPUB s 3\r\nabc\r\nPUB none 2\r\nhi\r\n');
    const s = hub.stats();
    assert.equal(s.connections, 1);
    assert.equal(s.subscriptions, 1);
    assert.equal(s.inMsgs, 2);
    assert.equal(s.inBytes, 5);
    assert.equal(s.outMsgs, 1);
    assert.equal(s.outBytes, 3);
    await raw.close();
  });

  it('publishes from inside the process with hub.publish()', async () => {
    const hub = await startHub();
    const raw = await RawClient.connect(tcp(hub));
    await raw.roundTrip(CONNECT + 'SUB tick.* 1\r\n');
    hub.publish('tick.ü', 'héllo');
    const want = `MSG tick.${Buffer.from('ü').toString('latin1')} 1 6\r\n${Buffer.from('héllo').toString('latin1')}\r\n`;
    await raw.until(want);
    await raw.close();
  });
});

describe('listeners', () => {
  it('reports the real port when asked for port 0, and INFO carries it', async () => {
    const hub = await startHub();
    const { port } = tcp(hub);
    assert.ok(port > 0);
    assert.equal(hub.url, `nats://127.0.0.1:${port}`);
    const raw = await RawClient.connect(tcp(hub));
    assert.equal(raw.info.port, port);
    assert.equal(raw.info.version, '2.10.0');
    assert.equal(raw.info.headers, true);
    assert.equal(raw.info.proto, 1);
    assert.equal(raw.info.tls_available, undefined);
    assert.match(String(raw.info.server_id), /^N[A-Z2-7]{55}$/);
    await raw.close();
  });

  it('listens on IPv6 loopback', async (t) => {
    const probe = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => resolve(true));
    });
    probe.close();
    if (!ok) return t.skip('no IPv6 loopback on this machine');
    const hub = await startHub({ host: '::1' });
    assert.match(hub.url, /^nats:\/\/\[::1\]:\d+$/);
    const nc = await connect({ servers: hub.url });
    const sub = nc.subscribe('six', { max: 1 });
    nc.publish('six', 'v6');
    for await (const m of sub) assert.equal(m.string(), 'v6');
    await nc.close();
  });

  it('serves TCP and a Unix socket at once, routing between them', async () => {
    const dir = tempDir();
    const path = join(dir, 'hub.sock');
    const hub = await startHub({ listen: [{ host: '127.0.0.1', port: 0 }, { path, mode: 0o600 }] });
    assert.equal(hub.addresses().length, 2);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const raw = await RawClient.connect(tcp(hub));
    await raw.roundTrip(CONNECT + 'SUB ipc 1\r\n');
    const got = await unixExchange(path, CONNECT + 'PUB ipc 5\r\nhello\r\nPING\r\n', (s) => s.includes('PONG'));
    assert.match(got, /^INFO \{.*\} \r\n/);
    assert.ok(!JSON.parse(got.slice(5, got.indexOf('\r\n'))).port, 'no TCP port in a Unix socket INFO');
    await raw.until('MSG ipc 1 5\r\nhello\r\n');
    await raw.close();
  });

  it('serves the raw protocol over a Unix socket (pre-CONNECT defaults are verbose)', async () => {
    // nats.js has no Unix transport; check our own listener with raw bytes instead.
    const dir = tempDir();
    const path = join(dir, 'u.sock');
    await startHub({ unix: path });
    const got = await unixExchange(path, 'SUB x 1\r\nPUB x 1\r\na\r\nPING\r\n', (s) => s.includes('PONG'));
    assert.ok(got.endsWith('+OK\r\n+OK\r\nMSG x 1 1\r\na\r\nPONG\r\n'), got);
  });

  it('replaces a stale Unix socket file', async () => {
    const dir = tempDir();
    const path = join(dir, 'stale.sock');
    // Leave a socket file behind with nobody listening: a server killed without cleanup.
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
    assert.equal(r.status, 0);
    assert.ok(existsSync(path));
    const hub = await startHub({ unix: path });
    assert.equal(hub.url, `unix://${path}`);
    const got = await unixExchange(path, 'PING\r\n', (s) => s.includes('PONG'));
    assert.match(got, /PONG\r\n$/);
  });

  it('refuses a Unix socket a live process listens on, and a path that is not a socket', async () => {
    const dir = tempDir();
    const live = join(dir, 'live.sock');
    const first = await startHub({ unix: live });
    await assert.rejects(createHub({ unix: live }).listen(), (err: Error) => {
      assert.ok(err instanceof ListenError);
      assert.match(err.message, /another process is listening/);
      return true;
    });
    // The first hub is untouched.
    assert.match(await unixExchange(live, 'PING\r\n', (s) => s.includes('PONG')), /PONG/);
    await first.close({ grace: 0 });

    const file = join(dir, 'file.txt');
    writeFileSync(file, 'keep me');
    await assert.rejects(createHub({ unix: file }).listen(), /exists and is not a socket/);
    assert.ok(existsSync(file));
  });

  it('fails clearly when the TCP port is taken', async () => {
    const hub = await startHub();
    const { port } = tcp(hub);
    await assert.rejects(createHub({ port }).listen(), (err: Error) => {
      assert.ok(err instanceof ListenError);
      assert.equal(err.message, `cannot listen on 127.0.0.1:${port}: address already in use`);
      return true;
    });
  });

  it('rejects invalid options with a ConfigError naming the option', () => {
    assert.throws(() => createHub({ maxPayload: -1 }), (e: Error) => e instanceof ConfigError && /maxPayload/.test(e.message));
    assert.throws(() => createHub({ port: 70000 }), /port/);
    assert.throws(() => createHub({ maxPayload: 2048, maxPending: 1024 }), /cannot be higher than maxPending/);
  });
});

describe('lame duck shutdown', () => {
  it('sends INFO with ldm:true, waits the grace period, then closes clients', async () => {
    const hub = createHub({ port: 0 });
    await hub.listen();
    const raw = await RawClient.connect(tcp(hub));
    await raw.roundTrip(CONNECT);
    const closed = hub.close({ grace: 300 });
    await raw.until('"ldm":true');
    assert.match(raw.text(), /INFO \{[^\r\n]*"ldm":true[^\r\n]*\} \r\n/);
    assert.equal(await raw.waitClosed(3000), true);
    await closed;
    assert.equal(hub.closed, true);
    // No longer accepting.
    await assert.rejects(RawClient.connect(tcp(hub), 500));
  });

  it('ends the grace period early when every client has left', async () => {
    const hub = createHub({ port: 0 });
    await hub.listen();
    const nc = await connect({ servers: hub.url });
    const status = (async () => {
      for await (const s of nc.status()) if (s.type === 'ldm') return 'ldm';
      return 'none';
    })();
    const closing = hub.close({ grace: 60_000 });
    assert.equal(await status, 'ldm');
    await nc.close();
    await closing; // would take a minute if the grace were not cut short
  });
});

describe('limits', () => {
  it('closes a connection that sends nothing within connectTimeout, and spares one that does', async () => {
    const hub = await startHub({ connectTimeout: 200 });
    const reasons: string[] = [];
    hub.on('disconnect', (_c, reason) => reasons.push(reason));
    const silent = await RawClient.connect(tcp(hub));
    const talker = await RawClient.connect(tcp(hub));
    await talker.roundTrip('SUB x 1\r\n'); // no CONNECT, but a valid operation (allowed without auth)
    await silent.expect("-ERR 'Connect Timeout'\r\n", 3000);
    assert.equal(await silent.waitClosed(), true);
    assert.deepEqual(reasons, [CloseReason.CONNECT_TIMEOUT]);
    assert.equal(talker.isClosed, false);
    assert.match(await talker.roundTrip(), /PONG\r\n$/);
    await talker.close();
  });


  it('cuts off a slow consumer past maxPending and keeps serving others', async () => {
    const hub = await startHub({ maxPending: 64 * 1024, maxPayload: 8 * 1024 });
    const slow: string[] = [];
    hub.on('slow_consumer', (c) => slow.push(String(c.id)));
    // A subscriber that never reads: pause its socket right after INFO.
    const stalled = await RawClient.connect(tcp(hub));
    await stalled.roundTrip(CONNECT + 'SUB flood 1\r\n');
    (stalled as unknown as { socket: Socket }).socket.pause();
    const healthy = await RawClient.connect(tcp(hub));
    await healthy.roundTrip(CONNECT + 'SUB other 1\r\n');
    const pub = await RawClient.connect(tcp(hub));
    pub.send(CONNECT);
    const body = 'x'.repeat(8000);
    // Far more than the kernel buffers plus maxPending can hold.
    for (let i = 0; i < 400; i++) pub.send(`PUB flood ${body.length}\r\n${body}\r\n`);
    await pub.roundTrip('PUB other 2\r\nok\r\n', 10_000);
    await healthy.until('MSG other 1 2\r\nok\r\n');
    assert.equal(slow.length, 1);
    assert.equal(hub.stats().slowConsumers, 1);
    assert.equal(hub.stats().connections, 2);
    await Promise.all([stalled.close(), healthy.close(), pub.close()]);
  });

  it('refuses connections past maxConnections with INFO then -ERR, and keeps going', async () => {
    const hub = await startHub({ maxConnections: 2 });
    const a = await RawClient.connect(tcp(hub));
    const b = await RawClient.connect(tcp(hub));
    const c = await RawClient.connect(tcp(hub));
    await c.expect("-ERR 'maximum connections exceeded'\r\n");
    assert.equal(await c.waitClosed(), true);
    const left = once(hub, 'disconnect');
    await b.close();
    await left;
    const d = await RawClient.connect(tcp(hub));
    assert.match(await d.roundTrip(CONNECT), /PONG\r\n$/);
    await Promise.all([a.close(), d.close()]);
  });
});
