/**
 * The advisories watcher (server/advisories.ts) with a fake host: no body is
 * built while nothing would take it, and each body is nats-server's, key for
 * key, from a connection's fields. Over real sockets, against both targets:
 * test/monitor/advisories.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Advisories, AdvisoryType, CONNECT_ADVISORY, DISCONNECT_ADVISORY, EventIds, type AdvisoryHost } from '../../src/server/advisories.js';
import type { Connection } from '../../src/server/connection.js';
import { Lifecycle } from '../../src/server/lifecycle.js';
import { CloseReason } from '../../src/server/types.js';
import { TransportKind } from '../../src/transport.js';

interface Published {
  subject: string;
  body: Record<string, unknown>;
}

function fakeHost(interest: (subject: string) => boolean): AdvisoryHost & { published: Published[]; serverBlocks: number } {
  const host = {
    published: [] as Published[],
    serverBlocks: 0,
    hasInterest: interest,
    publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void {
      assert.equal(reply, undefined);
      assert.equal(headers, null);
      host.published.push({ subject, body: JSON.parse(payload.toString()) as Record<string, unknown> });
    },
    sysServer(): object {
      return { name: 'hub', seq: ++host.serverBlocks };
    },
  };
  return host;
}

/** The fields of a Connection the advisories read. */
function fakeConn(over: { kind?: TransportKind; address?: string; user?: string; name?: string; lang?: string; version?: string; rtt?: number } = {}): Connection {
  const kind = over.kind ?? TransportKind.TCP;
  return {
    id: 7,
    startTime: Date.parse('2026-01-02T03:04:05.678Z'),
    peer: { address: over.address ?? '127.0.0.1', port: 5000, listener: { kind, url: 'nats://127.0.0.1:4222' }, tls: null },
    user: over.user,
    opts: { name: over.name, lang: over.lang, version: over.version },
    rtt: over.rtt ?? 0,
    inMsgs: 3,
    inBytes: 9,
    outMsgs: 1,
    outBytes: 10,
  } as unknown as Connection;
}

describe('the advisories watcher', () => {
  it('builds no body, and takes no $SYS sequence number, while no subscription would take it', () => {
    const asked: string[] = [];
    const host = fakeHost((s) => (asked.push(s), false));
    const adv = new Advisories(host);
    adv.ready(fakeConn());
    adv.closed(fakeConn(), CloseReason.CLIENT);
    assert.deepEqual(asked, [CONNECT_ADVISORY, DISCONNECT_ADVISORY]);
    assert.deepEqual([host.published.length, host.serverBlocks], [0, 0]);
  });

  it('with interest in one subject, builds that one only', () => {
    const host = fakeHost((s) => s === DISCONNECT_ADVISORY);
    const adv = new Advisories(host);
    adv.ready(fakeConn());
    adv.closed(fakeConn(), CloseReason.STALE);
    assert.deepEqual(host.published.map((p) => [p.subject, p.body.type, p.body.reason]), [
      [DISCONNECT_ADVISORY, AdvisoryType.DISCONNECT, 'Stale Connection'],
    ]);
    assert.equal(host.serverBlocks, 1);
  });

  it("a connect body: nats-server's keys in its order, empty ones left out, no rtt (nats-server's has none)", () => {
    const host = fakeHost(() => true);
    new Advisories(host).ready(fakeConn({ rtt: 0.25 }));
    const [p] = host.published;
    assert.equal(p!.subject, '$SYS.ACCOUNT.$G.CONNECT');
    const b = p!.body;
    assert.deepEqual(Object.keys(b), ['type', 'id', 'timestamp', 'server', 'client']);
    assert.equal(b.type, 'io.nats.server.advisory.v1.client_connect');
    assert.match(b.id as string, /^[0-9A-Za-z]{22}$/);
    assert.ok(!Number.isNaN(Date.parse(b.timestamp as string)));
    assert.deepEqual(b.server, { name: 'hub', seq: 1 });
    assert.deepEqual(b.client, { start: '2026-01-02T03:04:05.678Z', host: '127.0.0.1', id: 7, acc: '$G', kind: 'Client', client_type: 'nats' });
  });

  it('a disconnect body: the client with stop and rtt (nanoseconds), then sent, received (the client\'s side) and the reason', () => {
    const host = fakeHost(() => true);
    const conn = fakeConn({ user: 'alice', name: 'worker', lang: 'node', version: '1.2.3', rtt: 1.5124 });
    new Advisories(host).closed(conn, CloseReason.SLOW_CONSUMER);
    const b = host.published[0]!.body;
    assert.deepEqual(Object.keys(b), ['type', 'id', 'timestamp', 'server', 'client', 'sent', 'received', 'reason']);
    assert.equal(b.type, 'io.nats.server.advisory.v1.client_disconnect');
    const c = b.client as Record<string, unknown>;
    assert.deepEqual(Object.keys(c), ['start', 'host', 'id', 'acc', 'user', 'name', 'lang', 'ver', 'rtt', 'stop', 'kind', 'client_type']);
    assert.deepEqual([c.user, c.name, c.lang, c.ver, c.rtt], ['alice', 'worker', 'node', '1.2.3', 1_512_400]);
    assert.equal(c.stop, b.timestamp);
    assert.deepEqual([b.sent, b.received, b.reason], [{ msgs: 3, bytes: 9 }, { msgs: 1, bytes: 10 }, 'Slow Consumer (Pending Bytes)']);
  });

  it('a WebSocket client is client_type websocket; a Unix socket client has no host', () => {
    const host = fakeHost(() => true);
    const adv = new Advisories(host);
    adv.ready(fakeConn({ kind: TransportKind.WEBSOCKET }));
    adv.ready(fakeConn({ kind: TransportKind.UNIX, address: '/tmp/hub.sock' }));
    const [ws, unix] = host.published.map((p) => p.body.client as Record<string, unknown>);
    assert.deepEqual([ws!.client_type, ws!.host], ['websocket', '127.0.0.1']);
    assert.deepEqual([unix!.client_type, 'host' in unix!], ['nats', false]);
  });

  it('each reason in nats-server\'s words', () => {
    const host = fakeHost(() => true);
    const adv = new Advisories(host);
    const reasons = [CloseReason.CLIENT, CloseReason.STALE, CloseReason.SLOW_CONSUMER, CloseReason.SERVER_SHUTDOWN, CloseReason.PROTOCOL, CloseReason.AUTH_FAILED];
    for (const r of reasons) adv.closed(fakeConn(), r);
    assert.deepEqual(host.published.map((p) => p.body.reason), [
      'Client Closed', 'Stale Connection', 'Slow Consumer (Pending Bytes)', 'Server Shutdown', 'Protocol Violation', 'Authentication Failure',
    ]);
  });
  it('an advisory published while one is being delivered (a slow watcher cut off by it) waits its turn: a loop, not a recursion', () => {
    const N = 20_000;
    const order: number[] = [];
    // The lifecycle queues closes reported during one, for every service: here the advisories and a second watcher.
    const lifecycle = new Lifecycle();
    const seenByOther: number[] = [];
    const cut = (id: number): Connection => ({ ...(fakeConn() as object), id, ready: true }) as unknown as Connection;
    const host: AdvisoryHost = {
      hasInterest: () => true,
      sysServer: () => ({}),
      publish(_subject, _reply, _headers, payload) {
        const id = (JSON.parse(payload.toString()) as { client: { id: number } }).client.id;
        order.push(id);
        // Each delivery closes the next watcher, as a slow consumer's cut-off does, inside this publish.
        if (id < N) lifecycle.closed(cut(id + 1), CloseReason.SLOW_CONSUMER);
      },
    };
    lifecycle.add(new Advisories(host));
    lifecycle.add({ closed: (conn) => void seenByOther.push(conn.id) });
    lifecycle.closed(cut(1), CloseReason.SLOW_CONSUMER);
    assert.equal(order.length, N);
    assert.ok(order.every((id, i) => id === i + 1), 'in order');
    assert.equal(seenByOther.length, N);
    assert.ok(seenByOther.every((id, i) => id === i + 1), 'the other watcher in order too');
  });
});

describe('event ids', () => {
  it('are 22 base-62 characters, all different', () => {
    const ids = new EventIds();
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = ids.next();
      assert.match(id, /^[0-9A-Za-z]{22}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 10_000);
  });
});
