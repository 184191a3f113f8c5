/**
 * The client connect/disconnect advisories, `$SYS.ACCOUNT.<account>.CONNECT`
 * and `.DISCONNECT`, watched by a client of the system account, against both
 * targets. nats-server sends them only to its system account and never for
 * its global account: `systemAccount: true` gives it a SYS account (the
 * watcher's user) and puts clients without credentials in APP. The hub has
 * one account, `$G`, and sends them to whoever may subscribe (the watcher's
 * credentials are not checked there). The bodies are compared key for key,
 * with the values that must agree: the client's id (INFO's client_id), name,
 * lang, version, the counts of a known exchange, the reason.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { createHub, type Hub } from '../../src/index.js';
import { differs, skipUnlessHub, startServer, SYSTEM_USER, type TestServer } from '../helpers/target.js';
import { closeAll, connectTo } from '../helpers/client.js';
import { connectLine, RawClient } from '../helpers/raw.js';
import { firstInfo, RawWs, rawWs } from '../websocket/ws-helpers.js';

const WAIT_MS = 5_000;
const CONNECT_TYPE = 'io.nats.server.advisory.v1.client_connect';
const DISCONNECT_TYPE = 'io.nats.server.advisory.v1.client_disconnect';

type Body = Record<string, unknown> & { client: Record<string, unknown>; server: Record<string, unknown> };

/** The account the advisories name the test's clients in. */
const ACCOUNT = differs({ natsServer: 'APP', hub: '$G', why: 'the hub has one account and names it as nats-server names its global account' });

/** The user the clients without credentials are: nats-server's no_auth_user; the hub, without authentication, has none (the key is left out). */
const USER = differs<string | undefined>({ natsServer: 'app', hub: undefined, why: 'nats-server puts clients without credentials in APP as user app (no_auth_user)' });

/** The server block's keys, sorted: 2.9's, and 2.10's (which added `flags`), which the hub sends. */
const SERVER_KEYS = differs({
  natsServer: ['host', 'id', 'jetstream', 'name', 'seq', 'time', 'ver'],
  hub: ['flags', 'host', 'id', 'jetstream', 'name', 'seq', 'time', 'ver'],
  why: "the hub sends nats-server 2.10's server block, with flags; the reference server is 2.9.10",
});

/** A slow consumer's reason. */
const SLOW_CONSUMER_REASONS = differs({
  natsServer: ['Slow Consumer (Pending Bytes)', 'Slow Consumer (Write Deadline)'],
  hub: ['Slow Consumer (Pending Bytes)'],
  why: "nats-server names which of its checks cut the reader off first, its pending bytes or a write blocked past the deadline (a race in this test); the hub has one CloseReason for both, named 'Slow Consumer (Pending Bytes)'",
});

/** The client block's keys in order, for a client with a name, lang and version (user only where there is one). */
function clientKeys(disconnect: boolean): string[] {
  const keys = ['start', 'host', 'id', 'acc', ...(USER === undefined ? [] : ['user']), 'name', 'lang', 'ver'];
  return [...keys, ...(disconnect ? ['rtt', 'stop'] : []), 'kind', 'client_type'];
}

/** A client of the system account subscribed to every account's advisories, keeping what arrives. */
class Watch {
  readonly got: Body[] = [];
  private readonly wakers = new Set<() => void>();

  private constructor(readonly nc: NatsConnection) {}

  static async open(server: TestServer): Promise<Watch> {
    const nc = await connectTo(server, { user: SYSTEM_USER, pass: SYSTEM_USER, name: 'advisory-watcher' });
    const w = new Watch(nc);
    for (const subject of ['$SYS.ACCOUNT.*.CONNECT', '$SYS.ACCOUNT.*.DISCONNECT']) {
      nc.subscribe(subject, {
        callback: (err, m) => {
          if (err !== null) return;
          w.got.push({ ...m.json<Body>(), subject: m.subject });
          for (const wake of w.wakers) wake();
        },
      });
    }
    await nc.flush();
    return w;
  }

  /** The first advisory of `type` about client `id` (waiting for it), bounded. */
  of(type: string, id: number, ms = WAIT_MS): Promise<Body> {
    const find = (): Body | undefined => this.got.find((b) => b.type === type && b.client.id === id);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const b = find();
        if (b === undefined) return;
        done();
        const { subject, ...body } = b;
        // Named by the client's account: $SYS.ACCOUNT.<acc>.CONNECT or .DISCONNECT.
        if (subject !== `$SYS.ACCOUNT.${b.client.acc as string}.${type === CONNECT_TYPE ? 'CONNECT' : 'DISCONNECT'}`) reject(new Error(`${type} on ${String(subject)}`));
        else resolve(body as Body);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${type} for client ${id} within ${ms} ms; got ${JSON.stringify(this.got.map((b) => [b.type, b.client.id, b.client.name]))}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(check);
      };
      this.wakers.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return closeAll(this.nc);
  }
}

/** A raw client that sent CONNECT (name, lang 'raw', version '0') and saw its PONG. */
async function rawReady(server: TestServer, name: string): Promise<RawClient> {
  const c = await RawClient.connect(server);
  try {
    await c.roundTrip(connectLine({ name }));
  } catch (err) {
    await c.close();
    throw err;
  }
  return c;
}

function idOf(c: RawClient): number {
  return c.info.client_id as number;
}

function assertTime(v: unknown, what: string): void {
  assert.equal(typeof v, 'string', what);
  assert.ok(!Number.isNaN(Date.parse(v as string)), `${what}: ${String(v)} is RFC 3339`);
}

describe('connect and disconnect advisories', () => {
  let server: TestServer;
  let watch: Watch;

  before(async () => {
    server = await startServer({ systemAccount: true, websocket: true });
    watch = await Watch.open(server);
  });
  after(async () => {
    await watch?.close();
    await server?.stop();
  });

  it("a connect: nats-server's body, the client's id the client_id of its INFO", async () => {
    const c = await rawReady(server, 'adv-connect');
    try {
      const b = await watch.of(CONNECT_TYPE, idOf(c));
      assert.deepEqual(Object.keys(b), ['type', 'id', 'timestamp', 'server', 'client']);
      assert.match(b.id as string, /^[0-9A-Za-z]{22}$/);
      assertTime(b.timestamp, 'timestamp');
      assert.deepEqual(Object.keys(b.server).sort(), SERVER_KEYS);
      assert.equal(b.server.id, c.info.server_id);
      assert.equal(b.server.name, c.info.server_name);
      assert.deepEqual([typeof b.server.host, typeof b.server.ver, typeof b.server.seq, b.server.jetstream], ['string', 'string', 'number', false]);
      assertTime(b.server.time, 'server.time');
      assert.deepEqual(Object.keys(b.client), clientKeys(false));
      assertTime(b.client.start, 'client.start');
      const { start: _start, ...client } = b.client;
      assert.deepEqual(client, {
        host: '127.0.0.1', id: idOf(c), acc: ACCOUNT, ...(USER === undefined ? {} : { user: USER }),
        name: 'adv-connect', lang: 'raw', ver: '0', kind: 'Client', client_type: 'nats',
      });
    } finally {
      await c.close();
    }
  });

  it('a disconnect: the client with rtt and stop, what it sent and was sent, the reason Client Closed', async () => {
    const c = await rawReady(server, 'adv-exchange');
    const other = await rawReady(server, 'adv-other');
    try {
      // Known traffic: 3 messages of 9 bytes from c, 1 of 10 bytes to it.
      await c.roundTrip('SUB adv.in 1\r\nPUB adv.out 5\r\nhello\r\nPUB adv.out 3\r\nabc\r\nPUB adv.out 1\r\nx\r\n');
      await other.roundTrip('PUB adv.in 10\r\n0123456789\r\n');
      await c.until('MSG adv.in 1 10\r\n0123456789\r\n');
      await c.close();
      const b = await watch.of(DISCONNECT_TYPE, idOf(c));
      assert.deepEqual(Object.keys(b), ['type', 'id', 'timestamp', 'server', 'client', 'sent', 'received', 'reason']);
      assert.deepEqual(Object.keys(b.client), clientKeys(true));
      assert.equal(typeof b.client.rtt, 'number');
      assert.ok(Number.isInteger(b.client.rtt) && (b.client.rtt as number) > 0, `rtt in nanoseconds: ${String(b.client.rtt)}`);
      assertTime(b.client.stop, 'client.stop');
      assert.ok(Date.parse(b.client.stop as string) >= Date.parse(b.client.start as string));
      assert.deepEqual([b.client.id, b.client.name, b.client.acc], [idOf(c), 'adv-exchange', ACCOUNT]);
      assert.deepEqual(b.sent, { msgs: 3, bytes: 9 });
      assert.deepEqual(b.received, { msgs: 1, bytes: 10 });
      assert.equal(b.reason, 'Client Closed');
    } finally {
      await Promise.all([c.close(), other.close()]);
    }
  });

  it("before any PING, the disconnect's rtt is the time from INFO to CONNECT, as nats-server estimates it", async () => {
    const c = await RawClient.connect(server);
    try {
      // A client that takes its time to answer INFO: the estimate is at least that long (a lower bound only).
      await delay(100);
      await c.roundTrip(connectLine({ name: 'adv-rtt' }));
      await c.close();
      const b = await watch.of(DISCONNECT_TYPE, idOf(c));
      assert.ok((b.client.rtt as number) >= 100e6, `rtt ${String(b.client.rtt)} ns`);
    } finally {
      await c.close();
    }
  });

  it('a WebSocket client is client_type websocket', async () => {
    let ws: RawWs | undefined;
    try {
      ws = await rawWs(server.wsUrl!);
      const id = firstInfo(ws).client_id as number;
      ws.send(connectLine({ name: 'adv-ws' }) + 'PING\r\n');
      await ws.received('PONG\r\n');
      const b = await watch.of(CONNECT_TYPE, id);
      assert.deepEqual([b.client.name, b.client.kind, b.client.client_type], ['adv-ws', 'Client', 'websocket']);
      ws.terminate();
      const d = await watch.of(DISCONNECT_TYPE, id);
      assert.deepEqual([d.client.client_type, d.reason], ['websocket', 'Client Closed']);
    } finally {
      ws?.terminate();
    }
  });

  it('a connection that never sent CONNECT is no client: no advisory', async () => {
    const silent = await RawClient.connect(server);
    await silent.close();
    // A barrier: the server handles closes in order, so the next client's disconnect comes after any for the silent one.
    const c = await rawReady(server, 'adv-after-silent');
    await c.close();
    await watch.of(DISCONNECT_TYPE, idOf(c));
    assert.deepEqual(watch.got.filter((b) => b.client.id === silent.info.client_id), []);
  });

  it('Protocol Violation: an unknown operation after CONNECT', async () => {
    const c = await rawReady(server, 'adv-protocol');
    try {
      c.send('BOGUS\r\n');
      assert.equal(await c.waitClosed(WAIT_MS), true);
      const b = await watch.of(DISCONNECT_TYPE, idOf(c));
      assert.equal(b.reason, 'Protocol Violation');
    } finally {
      await c.close();
    }
  });

  it('Read Error: a connection reset (TCP RST)', async () => {
    const c = await rawReady(server, 'adv-reset');
    try {
      (c as unknown as { socket: { resetAndDestroy(): void } }).socket.resetAndDestroy();
      const b = await watch.of(DISCONNECT_TYPE, idOf(c));
      assert.equal(b.reason, 'Read Error');
    } finally {
      await c.close();
    }
  });

  it('the server block is numbered by the sequence its $SYS.REQ.SERVER answers take', async () => {
    const seqOf = async (): Promise<number> => ((await watch.nc.request('$SYS.REQ.SERVER.PING.HEALTHZ', '', { timeout: WAIT_MS })).json<Body>()).server.seq as number;
    const before = await seqOf();
    const c = await rawReady(server, 'adv-seq');
    try {
      const b = await watch.of(CONNECT_TYPE, idOf(c));
      const after = await seqOf();
      assert.ok(before < (b.server.seq as number) && (b.server.seq as number) < after, `${before} < ${String(b.server.seq)} < ${after}`);
    } finally {
      await c.close();
    }
  });
});

describe('disconnect reasons', () => {
  it('Stale Connection: a client that answers no PING', async () => {
    const server = await startServer({ systemAccount: true, pingInterval: 200, maxPingsOut: 1 });
    let watch: Watch | undefined;
    try {
      watch = await Watch.open(server);
      const c = await RawClient.connect(server);
      try {
        c.send(connectLine({ name: 'adv-stale' }));
        assert.equal(await c.waitClosed(WAIT_MS), true);
        const b = await watch.of(DISCONNECT_TYPE, idOf(c));
        assert.equal(b.reason, 'Stale Connection');
      } finally {
        await c.close();
      }
    } finally {
      await watch?.close();
      await server.stop();
    }
  });

  it('Slow Consumer: a subscriber that stops reading', async () => {
    // A short write deadline: nats-server otherwise holds the flood's writer up to its 10 s default before it cuts the reader off.
    const server = await startServer({ systemAccount: true, maxPending: 64 * 1024, maxPayload: 32 * 1024, writeDeadline: 500 });
    let watch: Watch | undefined;
    let pub: NatsConnection | undefined;
    try {
      watch = await Watch.open(server);
      const stalled = await rawReady(server, 'adv-slow');
      try {
        await stalled.roundTrip('SUB adv.flood 1\r\n');
        (stalled as unknown as { socket: { pause(): void } }).socket.pause();
        pub = await connectTo(server, { name: 'adv-flooder' });
        const body = new Uint8Array(32_000);
        // Far more than the kernel's buffers and maxPending hold; flushed in rounds so the publisher is not cut off itself.
        for (let round = 0; round < 20 && !watch.got.some((b) => b.type === DISCONNECT_TYPE && b.client.id === idOf(stalled)); round++) {
          for (let i = 0; i < 100; i++) pub.publish('adv.flood', body);
          await pub.flush();
        }
        const b = await watch.of(DISCONNECT_TYPE, idOf(stalled));
        assert.ok(SLOW_CONSUMER_REASONS.includes(b.reason as string), String(b.reason));
        assert.equal(b.client.name, 'adv-slow');
      } finally {
        await stalled.close();
      }
    } finally {
      await closeAll(pub);
      await watch?.close();
      await server.stop();
    }
  });
});

describe('advisories on the hub', () => {
  const hubs: Hub[] = [];
  const conns: NatsConnection[] = [];
  after(async () => {
    await closeAll(...conns);
    await Promise.all(hubs.map((h) => h.close({ grace: 0 })));
  });

  async function hubWith(opts: Parameters<typeof createHub>[0]): Promise<{ hub: Hub; server: TestServer }> {
    const hub = createHub({ host: '127.0.0.1', port: 0, ...opts });
    hubs.push(hub);
    const [addr] = await hub.listen();
    const server = { kind: 'hub', url: addr!.url, host: '127.0.0.1', port: addr!.port!, monitorUrl: undefined, hub, stop: () => hub.close({ grace: 0 }) } as TestServer;
    return { hub, server };
  }

  it('with authentication, only users whose subscribe permissions allow it receive them; the body names the user', { skip: skipUnlessHub('nats-server sends them to its system account, by account, not by permission') }, async () => {
    const { server } = await hubWith({
      authorization: {
        maxFailureDelay: 0,
        users: [
          { user: SYSTEM_USER, password: SYSTEM_USER, permissions: { subscribe: { allow: ['$SYS.>', 'app.>'] } } },
          { user: 'limited', password: 'limited', permissions: { subscribe: { allow: ['>'], deny: ['$SYS.>'] } } },
          { user: 'worker', password: 'worker' },
        ],
      },
    });
    const watch = await Watch.open(server);
    conns.push(watch.nc);
    // `>` takes everything but what its deny removes at delivery: app.x, never an advisory.
    const limited = await connectTo(server, { user: 'limited', pass: 'limited', name: 'adv-limited' });
    conns.push(limited);
    const seen: string[] = [];
    limited.subscribe('>', { callback: (_err, m) => void seen.push(m.subject) });
    await limited.flush();
    const worker = await connectTo(server, { user: 'worker', pass: 'worker', name: 'adv-worker' });
    conns.push(worker);
    const id = worker.info!.client_id;
    const b = await watch.of(CONNECT_TYPE, id);
    assert.deepEqual([b.client.user, b.client.name, b.client.acc], ['worker', 'adv-worker', '$G']);
    // The advisory went out when the worker was ready, before this publish: had it reached `limited`, it would be first.
    const got = new Promise<void>((resolve) => limited.subscribe('app.x', { max: 1, callback: () => resolve() }));
    await limited.flush();
    worker.publish('app.x', 'hi');
    await got;
    await limited.flush();
    assert.deepEqual(seen, ['app.x']);
  });

  it('a hub with a connect timeout: a client that never sends CONNECT gets none (nats-server sends none at its authentication timeout)', { skip: skipUnlessHub('the hub\'s connect timeout; nats-server\'s is its 2 s authentication timeout') }, async () => {
    const { hub, server } = await hubWith({ connectTimeout: 100 });
    const watch = await Watch.open(server);
    conns.push(watch.nc);
    const closed = new Promise<string>((resolve) => hub.on('disconnect', (_c, reason) => resolve(reason)));
    const silent = netConnect(server.port, server.host);
    silent.on('error', () => {});
    silent.resume();
    try {
      assert.equal(await closed, 'connect timeout');
    } finally {
      silent.destroy();
    }
    const c = await rawReady(server, 'adv-after-timeout');
    await c.close();
    await watch.of(DISCONNECT_TYPE, idOf(c));
    assert.deepEqual(watch.got.filter((b) => b.client.name !== 'adv-after-timeout' && b.client.name !== 'advisory-watcher'), []);
  });
});
