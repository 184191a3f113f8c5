/**
 * The Node client over WebSocket (ws:// and wss://, through the ws package):
 * the bus works as over TCP (events, request/reply, queue groups, durable
 * listeners and KV), a TCP client and a WebSocket client share the same
 * subjects, large payloads and a 20 MB burst go through whole and in order
 * (WebSocket messages of at most 64 KiB, backpressure honoured), the client
 * reconnects when the server comes back on the same port, wss:// verifies
 * with the tls option's CA, bad URLs and unreachable servers fail with
 * errors that say why, and the WebSocket addresses a nats-server cluster
 * advertises are dialed as ws:// ones. Runs against NETEMITTER_TARGET (the
 * cluster is nats-server's whatever the target).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { connect, ConfigError, ErrorCode, type Bus, type ConnectOptions } from '../../src/index.js';
import { WebSocketStreamDefaults } from '../../src/client/websocket-stream.js';
import { mergeServers } from '../../src/client/handshake.js';
import { parseServer } from '../../src/client/options.js';
import { skipInProcess, startServer, type TestServer } from '../helpers/target.js';
import { makeCerts, type TestCerts } from '../helpers/tls.js';
import { startServer as startRestartable, type ServerHandle } from './helpers/server.js';
import { Cluster, natsServerBin } from './helpers/cluster.js';
import { barrier, inbox, next, rejection, within } from './helpers/wait.js';

const FAST: ConnectOptions['reconnect'] = { initialDelay: 20, maxDelay: 200, jitter: 0.3 };

function codeOf(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

/** A port with nothing listening: bound, then closed. */
async function closedPort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('client over ws://', { skip: skipInProcess('WebSocket runs over a socket') }, () => {
  let server: TestServer;
  const buses: Bus[] = [];

  async function bus(url: string, opts: ConnectOptions = {}): Promise<Bus> {
    const b = await connect({ servers: url, ...opts });
    buses.push(b);
    return b;
  }

  before(async () => {
    server = await startServer({ websocket: true });
  });

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close().catch(() => undefined))));
    await server?.stop();
  });

  it('connects to the WebSocket URL, and on/emit and request/handle work', async () => {
    const a = await bus(server.wsUrl!, { name: 'ws-a' });
    const b = await bus(server.wsUrl!, { name: 'ws-b' });
    assert.equal(a.server, `${server.wsUrl!}/`);
    const box = inbox<{ n: number }>(b, 'ws.basic');
    b.handle('ws.add', ({ x, y }: { x: number; y: number }) => x + y);
    await b.flush();
    for (let n = 0; n < 10; n++) a.emit('ws.basic', { n });
    assert.equal(await a.request('ws.add', { x: 2, y: 40 }), 42);
    await box.atLeast(10);
    assert.deepEqual(box.payloads, Array.from({ length: 10 }, (_, n) => ({ n })));
  });

  it('shares queue groups across WebSocket clients: each event goes to one member', async () => {
    const a = await bus(server.wsUrl!);
    const w1 = await bus(server.wsUrl!);
    const w2 = await bus(server.wsUrl!);
    const one = inbox<number>(w1, 'ws.jobs', { queue: 'workers' });
    const two = inbox<number>(w2, 'ws.jobs', { queue: 'workers' });
    await barrier(a, w1, w2);
    for (let i = 0; i < 100; i++) a.emit('ws.jobs', i);
    await barrier(a, w1, w2);
    const all = [...one.payloads, ...two.payloads].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i), 'every job once, none twice');
  });

  it('a TCP client and a WebSocket client exchange events and requests both ways', async () => {
    const tcp = await bus(server.url);
    const ws = await bus(server.wsUrl!);
    const atWs = inbox<string>(ws, 'mix.to-ws');
    const atTcp = inbox<string>(tcp, 'mix.to-tcp');
    ws.handle('mix.ws-svc', (s: string) => `ws:${s}`);
    tcp.handle('mix.tcp-svc', (s: string) => `tcp:${s}`);
    await barrier(tcp, ws);
    tcp.emit('mix.to-ws', 'hello ws');
    ws.emit('mix.to-tcp', 'hello tcp');
    assert.equal(await tcp.request('mix.ws-svc', 'x'), 'ws:x');
    assert.equal(await ws.request('mix.tcp-svc', 'y'), 'tcp:y');
    await atWs.atLeast(1);
    await atTcp.atLeast(1);
    assert.deepEqual(atWs.payloads, ['hello ws']);
    assert.deepEqual(atTcp.payloads, ['hello tcp']);
  });

  it('carries payloads up to max_payload both ways, byte for byte', async () => {
    const tcp = await bus(server.url);
    const ws = await bus(server.wsUrl!);
    const max = ws.info!.max_payload;
    // Leaves room for the headers nothing here sends: the payload alone is at the limit.
    const big = Buffer.alloc(max);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
    const atWs = inbox<Buffer>(ws, 'big.to-ws', { raw: true });
    const atTcp = inbox<Buffer>(tcp, 'big.to-tcp', { raw: true });
    await barrier(tcp, ws);
    tcp.emit('big.to-ws', big);
    ws.emit('big.to-tcp', big);
    await atWs.atLeast(1, 'the big event at the WebSocket client');
    await atTcp.atLeast(1, 'the big event at the TCP client');
    assert.ok(atWs.payloads[0]!.equals(big), 'the WebSocket client received the same bytes');
    assert.ok(atTcp.payloads[0]!.equals(big), 'the TCP client received what the WebSocket client sent');
  });

  it('a 20 MB burst of emits arrives whole and in order (split into WebSocket messages, backpressure honoured)', async () => {
    const ws = await bus(server.wsUrl!);
    const tcp = await bus(server.url);
    const size = 32 * 1024;
    const count = (20 * 1024 * 1024) / size;
    let received = 0;
    let bytes = 0;
    let outOfOrder = -1;
    const all = new Promise<void>((resolve) => {
      tcp.on(
        'burst',
        (b: Buffer) => {
          if (b.readUInt32BE(0) !== received && outOfOrder === -1) outOfOrder = received;
          received++;
          bytes += b.length;
          if (received === count) resolve();
        },
        { raw: true },
      );
    });
    await barrier(ws, tcp);
    const payload = Buffer.alloc(size, 0x61);
    for (let i = 0; i < count; i++) {
      payload.writeUInt32BE(i, 0);
      // Copied: emit keeps a reference until the flush.
      ws.emit('burst', Buffer.from(payload));
    }
    // Queued in one turn: many WebSocket messages, and far past the stream's high-water mark.
    assert.ok(count * size > WebSocketStreamDefaults.maxMessage * 2 && count * size > WebSocketStreamDefaults.highWaterMark);
    await ws.flush();
    await within(all, 30_000, `${count} events`);
    assert.equal(outOfOrder, -1, `event ${outOfOrder} arrived out of order`);
    assert.equal(received, count);
    assert.equal(bytes, count * size);
  });

  it('fails clearly: a refused connection, an HTTP answer that is not an upgrade, wss:// to a ws:// port', async () => {
    const port = await closedPort();
    const refused = await rejection(connect({ servers: `ws://127.0.0.1:${port}`, reconnect: false, timeout: 2000 }));
    assert.equal(codeOf(refused), ErrorCode.CONNECTION);
    assert.match(refused.message, new RegExp(`ws://127\\.0\\.0\\.1:${port}/.*ECONNREFUSED`));

    // A NATS client port answers the upgrade request with its INFO line, not HTTP.
    const notWs = await rejection(connect({ servers: `ws://127.0.0.1:${server.port}`, reconnect: false, timeout: 2000 }));
    assert.equal(codeOf(notWs), ErrorCode.CONNECTION);
    assert.match(notWs.message, /did not answer in HTTP.*is this a nats:\/\/ port/);

    const wssToWs = await rejection(connect({ servers: server.wsUrl!.replace('ws://', 'wss://'), reconnect: false, timeout: 2000 }));
    assert.equal(codeOf(wssToWs), ErrorCode.CONNECTION);
    assert.match(wssToWs.message, /TLS handshake failed \(wrong version number\): is this a ws:\/\/ port rather than wss:\/\//);
  });

  it('rejects bad WebSocket URLs and options with a ConfigError that says why', async () => {
    const cases: [ConnectOptions, RegExp][] = [
      [{ servers: 'ws://' }, /invalid server URL "ws:\/\/": no host/],
      [{ servers: 'ws://127.0.0.1:99999' }, /port 99999 is out of range/],
      [{ servers: 'ws://127.0.0.1:8080/nats#x' }, /a WebSocket URL has no fragment/],
      [{ servers: 'ws:/127.0.0.1:8080' }, /the scheme's "\/\/" is mistyped|mistyped/],
      [{ servers: 'ws://127.0.0.1:8080', tls: {} }, /cannot connect to ws:\/\/127\.0\.0\.1:8080\/: the tls option needs a wss:\/\/ URL/],
      [{ servers: 'wss://127.0.0.1:8443', tls: { handshakeFirst: true } }, /handshakeFirst does not apply to WebSocket URLs/],
    ];
    for (const [opts, re] of cases) {
      const err = await rejection(connect(opts));
      assert.ok(err instanceof ConfigError, `${JSON.stringify(opts)}: ${err.message}`);
      assert.match(err.message, re);
    }
  });
});

describe('client over ws:// with durable streams', { skip: skipInProcess('WebSocket runs over a socket') }, () => {
  let server: TestServer;
  const buses: Bus[] = [];

  before(async () => {
    server = await startServer({ websocket: true, jetstream: true });
  });

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close().catch(() => undefined))));
    await server?.stop();
  });

  it('a durable listener and a KV bucket work over WebSocket', async () => {
    const ws = await connect(server.wsUrl!);
    buses.push(ws);
    await ws.streams.add({ name: 'WSORDERS', subjects: ['wsorders.>'] });
    for (let i = 0; i < 3; i++) await ws.publish('wsorders.new', { i });
    const got: number[] = [];
    const done = new Promise<void>((resolve) => {
      ws.on(
        'wsorders.new',
        ({ i }: { i: number }) => {
          got.push(i);
          if (got.length === 3) resolve();
        },
        { durable: 'ws-worker' },
      );
    });
    await within(done, 10_000, 'three durable events');
    assert.deepEqual(got, [0, 1, 2]);

    const kv = await ws.kv('wscfg');
    await kv.put('theme', { dark: true });
    assert.deepEqual((await kv.get('theme'))?.value, { dark: true });
  });
});

describe('client over ws:// across a server restart', { skip: skipInProcess('WebSocket runs over a socket') }, () => {
  let server: ServerHandle;
  let b: Bus | undefined;
  let other: Bus | undefined;

  before(async () => {
    server = await startRestartable({ websocket: true });
  });

  after(async () => {
    for (const x of [b, other]) if (x !== undefined && !x.isClosed) await x.close().catch(() => undefined);
    await server?.stop();
  });

  it('reconnects to the same ws:// URL, restores its subscriptions and sends what was emitted meanwhile', async () => {
    b = await connect({ servers: server.wsUrl!, name: 'ws-restart', reconnect: FAST });
    const events = inbox<number>(b, 'wsr.events');
    b.handle('wsr.svc', (n: number) => n + 1);
    assert.equal(await b.request('wsr.svc', 1), 2);
    const disconnected = next(b.status, 'disconnect');
    await server.stop();
    await disconnected;
    for (let i = 0; i < 3; i++) b.emit('wsr.events', i);
    const reconnected = next<[string]>(b.status, 'reconnect', 10_000);
    await server.restart();
    const [url] = await reconnected;
    assert.equal(url, `${server.wsUrl!}/`);
    await b.flush();
    assert.deepEqual(events.payloads, [0, 1, 2], 'what was emitted while disconnected, delivered to the restored listener');
    other = await connect(server.wsUrl!);
    assert.equal(await other.request('wsr.svc', 41), 42, 'the restored handler answers');
  });
});

describe('client over wss://', { skip: skipInProcess('WebSocket runs over a socket') }, () => {
  let server: TestServer;
  let certs: TestCerts;
  const buses: Bus[] = [];

  before(async () => {
    certs = await makeCerts();
    server = await startServer({ websocket: true, tls: { cert: certs.server.cert.path, key: certs.server.key.path } });
  });

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close().catch(() => undefined))));
    await server?.stop();
  });

  it('serves wss://', () => {
    assert.match(server.wsUrl!, /^wss:\/\/127\.0\.0\.1:\d+$/);
  });

  it('connects with the test CA and exchanges events with a TCP+TLS client', async () => {
    const ws = await connect({ servers: server.wsUrl!, tls: { ca: certs.ca.path } });
    buses.push(ws);
    const tcp = await connect({ servers: server.url, tls: { ca: certs.ca.path } });
    buses.push(tcp);
    const box = inbox<string>(tcp, 'wss.x');
    await barrier(ws, tcp);
    ws.emit('wss.x', 'over wss');
    await box.atLeast(1);
    assert.deepEqual(box.payloads, ['over wss']);
  });

  it('checks the host name against the certificate (localhost is in it, as 127.0.0.1 is)', async () => {
    const byName = await connect({ servers: server.wsUrl!.replace('127.0.0.1', 'localhost'), tls: { ca: certs.ca.pem } });
    buses.push(byName);
    assert.equal(byName.isConnected, true);
  });

  it('refuses a server certificate its CA does not verify', async () => {
    const untrusted = await rejection(connect({ servers: server.wsUrl!, reconnect: false, timeout: 2000 }));
    assert.equal(codeOf(untrusted), ErrorCode.CONNECTION);
    assert.match(untrusted.message, /self[- ]signed|unable to (verify|get local issuer)/i);
    const otherCa = await rejection(connect({ servers: server.wsUrl!, reconnect: false, timeout: 2000, tls: { ca: certs.otherCa.path } }));
    assert.equal(codeOf(otherCa), ErrorCode.CONNECTION);
  });

  it('connects without verification when asked to', async () => {
    const lax = await connect({ servers: server.wsUrl!, tls: { rejectUnauthorized: false } });
    buses.push(lax);
    assert.equal(lax.isConnected, true);
  });
});

describe('connect_urls learned over WebSocket', () => {
  it('reads a bare host:port as an address of the current kind and path; a URL with a scheme as it is', () => {
    const current = parseServer('wss://10.0.0.1:8443/nats');
    const servers = [current];
    const added = mergeServers(servers, ['10.0.0.1:8443', '10.0.0.2:8443', '[::1]:9443', 'ws://10.0.0.3:80/x', 'nats://10.0.0.4:4222', 'not a url'], current);
    assert.deepEqual(added, ['wss://10.0.0.2:8443/nats', 'wss://[::1]:9443/nats', 'ws://10.0.0.3:80/x', 'nats://10.0.0.4:4222']);
    assert.deepEqual(servers[1]!.websocket, { secure: true, path: '/nats' });
    assert.equal(servers[1]!.discovered, true);
    // Over TCP a bare address stays nats://.
    const tcp = parseServer('nats://10.0.0.1:4222');
    assert.deepEqual(mergeServers([tcp], ['10.0.0.2:4222'], tcp), ['nats://10.0.0.2:4222']);
  });
});

const bin = natsServerBin();

describe('client over ws:// to a nats-server cluster', { skip: bin === null ? 'nats-server is not installed' : false }, () => {
  let cluster: Cluster;
  let b: Bus | undefined;

  before(async () => {
    cluster = await Cluster.start(bin!, 10_000, { websocket: true });
  });

  after(async () => {
    if (b !== undefined && !b.isClosed) await b.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('learns the other nodes as ws:// addresses from INFO (nats-server sends host:port) and fails over to one', async () => {
    const first = cluster.node('n1');
    b = await connect({ servers: first.wsUrl!, reconnect: FAST });
    const others = cluster.nodes.filter((n) => n !== first).map((n) => `${n.wsUrl!}/`);
    const advertised = b.info!.connect_urls ?? [];
    assert.ok(advertised.every((u) => !u.includes('://')), `nats-server advertises bare host:port: ${advertised.join(', ')}`);
    const reconnected = next<[string]>(b.status, 'reconnect', 10_000);
    await first.child.kill();
    const [url] = await reconnected;
    assert.ok(others.includes(url), `reconnected to ${url}, one of ${others.join(', ')}`);
    const box = inbox<number>(b, 'wscl.x');
    await b.flush();
    b.emit('wscl.x', 1);
    await box.atLeast(1);
  });
});
