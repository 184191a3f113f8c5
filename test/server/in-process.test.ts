/**
 * hub.connect() and inprocess:// URLs: a hub with no listener, clients with
 * no socket, and the protocol's rules in force over them (authentication,
 * permissions, limits, slow consumers, heartbeats, shutdown). Raw streams
 * come from the same dialer the client uses (src/in-process.ts).
 */
import { describe, it, after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import {
  connect,
  createHub,
  AuthorizationError,
  ConfigError,
  ConnectionError,
  ErrorCode,
  PayloadTooLargeError,
  PermissionError,
  TransportKind,
  type Bus,
  type ByteStream,
  type ClientInfo,
  type Hub,
  type HubOptions,
} from '../../src/index.js';
import { dialInProcess } from '../../src/in-process.js';
import { next, rejection, until, within } from '../client/helpers/wait.js';

const WAIT_MS = 5_000;

function hubOf(opts: HubOptions = {}): Hub {
  const hub = createHub({ listen: [], ...opts });
  after(() => hub.close({ grace: 0 }));
  return hub;
}

async function busOf(hub: Hub, opts: Parameters<Hub['connect']>[0] = {}): Promise<Bus> {
  const bus = await hub.connect(opts);
  after(() => (bus.isClosed ? undefined : bus.close().catch(() => {})));
  return bus;
}

/** A raw protocol stream to a started hub of this process, and everything it has received so far (latin1). */
async function raw(hub: Hub): Promise<{ stream: ByteStream; text: () => string; closed: Promise<void> }> {
  const name = hub.url.slice('inprocess://'.length);
  const stream = await dialInProcess({ inprocess: name }, new AbortController().signal);
  let got = '';
  stream.on('data', (c) => (got += c.toString('latin1')));
  const closed = new Promise<void>((resolve) => stream.once('close', resolve));
  after(() => stream.destroy());
  return { stream, text: () => got, closed };
}

describe('hub.connect() and a hub without listeners', () => {
  it('listen: [] opens no port; hub.url is its inprocess:// URL; hub.connect() starts it', async () => {
    const hub = hubOf();
    assert.match(hub.url, /^inprocess:\/\/N[A-Z2-7]{55}$/);
    assert.equal(hub.url, `inprocess://${hub.serverId}`);
    const ready: ClientInfo[] = [];
    hub.on('ready', (c) => ready.push(c));
    const a = await busOf(hub, { name: 'inproc-a' });
    assert.deepEqual(hub.addresses(), []);
    assert.equal(a.server, hub.url);
    assert.equal(a.info?.server_id, hub.serverId);
    assert.equal(a.info?.host, undefined, 'INFO names no host nor port');
    assert.equal(a.info?.client_ip, undefined);
    assert.equal(ready.length, 1);
    assert.equal(ready[0]!.name, 'inproc-a');
    assert.equal(ready[0]!.address, '');
    assert.equal(hub.stats().connections, 1);
  });

  it('hub.connect() calls made while the hub starts wait for it', async () => {
    const hub = hubOf();
    const buses = await Promise.all([hub.connect(), hub.connect(), hub.connect()]);
    after(() => Promise.all(buses.map((b) => b.close())));
    assert.equal(buses.filter((b) => b.isConnected).length, 3);
    const other = hubOf({ port: 0, host: '127.0.0.1', listen: undefined });
    const listening = other.listen();
    const bus = await other.connect();
    after(() => bus.close());
    assert.equal(bus.isConnected, true);
    await listening;
  });

  it('carries events and requests between buses of hub.connect() and of connect(hub.url)', async () => {
    const hub = hubOf();
    const a = await busOf(hub, { name: 'a' });
    const b = await connect({ servers: hub.url, name: 'b' });
    after(() => (b.isClosed ? undefined : b.close()));
    const got = new Promise<unknown>((resolve) => b.once('inproc.event', (v) => resolve(v)));
    b.handle('inproc.add', (p: { x: number; y: number }) => p.x + p.y);
    await b.flush();
    a.emit('inproc.event', { hello: 'world' });
    assert.deepEqual(await within(got, WAIT_MS, 'event'), { hello: 'world' });
    assert.equal(await a.request('inproc.add', { x: 2, y: 40 }), 42);
  });

  it('two buses trading requests in a loop yield to the event loop (timers and sockets are not starved)', async () => {
    const hub = hubOf();
    const [requester, responder] = [await busOf(hub), await busOf(hub)];
    responder.handle('inproc.echo', (n: number) => n);
    await responder.flush();
    let completed = 0;
    let atFirstTurn = -1;
    // Without a yield the whole loop would run on process.nextTick and promise jobs before this callback.
    setImmediate(() => (atFirstTurn = completed));
    for (let i = 0; i < 300; i++) {
      await requester.request('inproc.echo', i);
      completed++;
    }
    assert.ok(atFirstTurn >= 0 && atFirstTurn < 300, `the next turn came after ${atFirstTurn} of 300 round trips`);
  });

  it("a subscriber's large payload is its own: the publisher may reuse its buffer", async () => {
    const hub = hubOf();
    const [pub, sub] = [await busOf(hub), await busOf(hub)];
    const got = new Promise<Buffer>((resolve) => sub.once('inproc.big', (v: Buffer) => resolve(v), { raw: true }));
    await sub.flush();
    const mine = Buffer.alloc(64 * 1024, 1);
    pub.emit('inproc.big', mine);
    const data = await within(got, WAIT_MS, 'large event');
    mine.fill(9);
    assert.equal(data.length, mine.length);
    assert.ok(data.every((b) => b === 1), 'what the subscriber holds did not change with the publisher buffer');
  });

  it('authenticates with the credentials in the options, and refuses wrong ones', async () => {
    const hub = hubOf({
      authorization: { users: [{ user: 'app', password: 'secret', permissions: { publish: ['allowed.>', '_INBOX.>'], subscribe: ['_INBOX.>', 'allowed.>'] } }], maxFailureDelay: 0 },
    });
    const bus = await busOf(hub, { user: 'app', pass: 'secret' });
    assert.equal(bus.info?.auth_required, true);
    const err = await rejection(hub.connect({ user: 'app', pass: 'wrong' }));
    assert.ok(err instanceof AuthorizationError, `${err.name}: ${err.message}`);
    const anonymous = await rejection(hub.connect());
    assert.ok(anonymous instanceof AuthorizationError, `${anonymous.name}: ${anonymous.message}`);
    // Permissions: the denied publish comes back as the server's Permissions Violation.
    const denied = next<[Error]>(bus.status, 'error');
    bus.emit('forbidden.subject', 1);
    const [perm] = await denied;
    assert.ok(perm instanceof PermissionError, `${perm.name}: ${perm.message}`);
    assert.match(perm.message, /forbidden\.subject/);
  });

  it("enforces the hub's max_payload and maxConnections", async () => {
    const hub = hubOf({ maxPayload: 1024, maxConnections: 1 });
    const bus = await busOf(hub);
    assert.throws(() => bus.emit('inproc.too.big', Buffer.alloc(2000)), PayloadTooLargeError);
    const err = await rejection(hub.connect());
    assert.ok(err instanceof ConnectionError, `${err.name}: ${err.message}`);
    assert.match(err.message, /maximum connections exceeded/i);
  });

  it('cuts off a slow consumer: a subscriber that stops reading, past maxPending or the write deadline', async () => {
    // The hub's flow control may pause the publisher before the subscriber passes maxPending; then the deadline ends it.
    const hub = hubOf({ maxPending: 64 * 1024, maxPayload: 4096, writeDeadline: 500 });
    const slow: ClientInfo[] = [];
    hub.on('slow_consumer', (c) => slow.push(c));
    await hub.listen();
    const { stream, text, closed } = await raw(hub);
    stream.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nSUB inproc.flood 1\r\nPING\r\n');
    await until(() => text().includes('PONG'), 'subscribed');
    // The reader stops taking bytes, as a process busy elsewhere: its end of the pair holds them.
    (stream as unknown as { pause(): void }).pause();
    const pub = await busOf(hub);
    const payload = Buffer.alloc(4000, 0x61);
    for (let i = 0; i < 400; i++) pub.emit('inproc.flood', payload);
    await pub.flush();
    await within(closed, WAIT_MS, 'the slow consumer is closed');
    assert.equal(slow.length, 1);
    assert.equal(pub.isConnected, true, 'the publisher stays');
  });

  it('closes a client that answers no PING (stale connection)', async () => {
    const hub = hubOf({ pingInterval: 50, maxPingsOut: 2 });
    await hub.listen();
    const { stream, text, closed } = await raw(hub);
    stream.write('CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\n');
    await within(closed, WAIT_MS, 'the stale connection is closed');
    assert.match(text(), /PING\r\n/);
    assert.match(text(), /-ERR 'Stale Connection'\r\n/);
  });

  it('our client answers PINGs: a short ping interval keeps it connected', async () => {
    const hub = hubOf({ pingInterval: 20, maxPingsOut: 2 });
    const bus = await busOf(hub);
    const reasons: string[] = [];
    hub.on('disconnect', (_c, reason) => reasons.push(reason));
    // Time passing is what is tested here (ten heartbeat periods), not an ordering barrier.
    await sleep(200);
    await bus.flush();
    assert.deepEqual(reasons, []);
    assert.equal(bus.isConnected, true);
  });

  it('hub.close(): the in-process bus sees a disconnect and closes (no reconnect by default)', async () => {
    const hub = hubOf();
    const bus = await busOf(hub);
    const errors: Error[] = [];
    bus.status.on('error', (e) => errors.push(e));
    const closed = next(bus.status, 'close');
    const disconnected = next(bus.status, 'disconnect');
    await hub.close({ grace: 0 });
    await disconnected;
    await closed;
    assert.equal(bus.isClosed, true);
    assert.ok(errors[0] instanceof ConnectionError);
    const again = await rejection(hub.connect());
    assert.ok(again instanceof ConnectionError, `${again.name}: ${again.message}`);
    assert.match(again.message, /not taking connections/);
  });

  it('hub.close(): a bus of connect(hub.url) with a reconnect policy tries, is refused, and closes after its attempts', async () => {
    const hub = hubOf();
    await hub.listen();
    const bus = await connect({ servers: hub.url, reconnect: { maxAttempts: 2, initialDelay: 1, maxDelay: 5 } });
    after(() => (bus.isClosed ? undefined : bus.close()));
    const attempts: number[] = [];
    bus.status.on('reconnecting', (n) => attempts.push(n));
    const errors: Error[] = [];
    bus.status.on('error', (e) => errors.push(e));
    const closed = next(bus.status, 'close');
    await hub.close({ grace: 0 });
    await closed;
    assert.deepEqual(attempts, [1, 2]);
    assert.match(errors.at(-1)?.message ?? '', /no hub runs at inprocess:\/\//);
  });

  it('lame duck: hub.close({ grace }) tells in-process clients (ldm) before closing them', async () => {
    const hub = hubOf();
    const bus = await busOf(hub);
    const ldm = next<[string]>(bus.status, 'ldm');
    const closing = hub.close({ grace: 5_000 });
    const [url] = await ldm;
    assert.equal(url, hub.url);
    // The client leaves by itself; the hub's wait ends with it.
    await bus.close();
    await within(closing, WAIT_MS, 'hub.close() once its last client left');
  });

  it('refuses what does not apply in-process, with clear errors', async () => {
    const hub = hubOf();
    await assert.rejects(hub.connect({ servers: 'nats://127.0.0.1:4222' } as never), ConfigError);
    await assert.rejects(hub.connect({ tls: {} }), ConfigError);
    await hub.listen();
    await assert.rejects(connect({ servers: hub.url, tls: {} }), /tls option does not apply to an in-process connection/);
    await assert.rejects(connect('inprocess://bad.name'), ConfigError);
    const err = await rejection(connect({ servers: 'inprocess://NOSUCHHUB', reconnect: false }));
    assert.equal((err as ConnectionError).code, ErrorCode.CONNECTION);
    assert.match(err.message, /no hub runs at inprocess:\/\/NOSUCHHUB in this process/);
  });

  it('a hub with listeners is reachable in-process too; hub.url stays its first listener', async () => {
    const hub = hubOf({ port: 0, host: '127.0.0.1', listen: undefined });
    const kinds: string[] = [];
    hub.on('connection', (c) => kinds.push(c.address === '' ? TransportKind.INPROCESS : TransportKind.TCP));
    await hub.listen();
    assert.match(hub.url, /^nats:\/\//);
    const a = await busOf(hub);
    const b = await connect({ servers: hub.url });
    after(() => b.close());
    assert.deepEqual(kinds.sort(), [TransportKind.INPROCESS, TransportKind.TCP]);
    const got = new Promise<unknown>((resolve) => b.once('mixed', (v) => resolve(v)));
    await b.flush();
    a.emit('mixed', 'over both');
    assert.equal(await within(got, WAIT_MS, 'event across transports'), 'over both');
  });

  it('/connz lists in-process clients (no address, port 0)', async () => {
    const hub = hubOf({ httpPort: 0, httpHost: '127.0.0.1' });
    await busOf(hub, { name: 'watched' });
    const res = await fetch(`${hub.monitorAddress!.url}/connz`);
    const body = (await res.json()) as { connections: { name?: string; ip: string; port: number }[] };
    const c = body.connections.find((x) => x.name === 'watched');
    assert.ok(c !== undefined, JSON.stringify(body));
    assert.equal(c.ip, '');
    assert.equal(c.port, 0);
  });
});
