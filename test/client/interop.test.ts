/**
 * Interop with the official client (@nats-io/transport-node): events, JSON
 * and headers both ways, request/reply both ways, a shared queue group.
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as natsConnect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { connect, ERROR_HEADER, ErrorCode, type Bus } from '../../src/index.js';
import { skipInProcess, startServer, type ServerHandle } from './helpers/server.js';
import { barrier, inbox, rejection, within } from './helpers/wait.js';

/** Collects n messages of a nats.js subscription, bounded. */
async function take(nc: NatsConnection, subject: string, n: number, send: () => void, opts: { queue?: string } = {}): Promise<Msg[]> {
  const sub = nc.subscribe(subject, { max: n, ...opts });
  await nc.flush();
  send();
  const got: Msg[] = [];
  await within(
    (async () => {
      for await (const m of sub) got.push(m);
    })(),
    5_000,
    `nats.js subscription ${subject}`,
  );
  return got;
}

describe('interop with nats.js', { skip: skipInProcess('nats.js dials TCP only (it has no in-process transport)') }, () => {
  let server: ServerHandle;
  let nc: NatsConnection;
  let bus: Bus;

  before(async () => {
    server = await startServer();
    nc = await natsConnect({ servers: server.url, reconnect: false, name: 'interop-natsjs' });
    bus = await connect({ servers: server.url, name: 'interop-bus' });
  });

  after(async () => {
    await bus.close();
    await nc.close();
    await server.stop();
  });

  it('nats.js → bus: JSON text decodes to values, plain text to a string, headers to meta.headers', async () => {
    const box = inbox(bus, 'io.in');
    await bus.flush();
    const h = natsHeaders();
    h.set('X-Source', 'nats.js');
    h.append('X-Tag', 'a');
    h.append('X-Tag', 'b');
    nc.publish('io.in', JSON.stringify({ order: 17, items: ['x'] }), { headers: h });
    nc.publish('io.in', 'hello world');
    nc.publish('io.in', new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    nc.publish('io.in', '', { reply: 'io.reply.to' });
    await nc.flush();
    await bus.flush();
    await box.atLeast(4);
    const [json, text, bin, empty] = box.items;
    assert.deepEqual(json!.payload, { order: 17, items: ['x'] });
    assert.equal(json!.meta.headers?.get('X-Source'), 'nats.js');
    assert.deepEqual(json!.meta.headers?.values('X-Tag'), ['a', 'b']);
    assert.equal(text!.payload, 'hello world');
    assert.equal(text!.meta.headers, undefined);
    assert.deepEqual(bin!.payload, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    assert.equal(empty!.payload, undefined);
    assert.equal(empty!.meta.reply, 'io.reply.to');
  });

  it('bus → nats.js: JSON payloads, strings as JSON, bytes as they are, headers', async () => {
    const msgs = await take(nc, 'io.out', 3, () => {
      bus.emit('io.out', { order: 18 }, { headers: { 'X-Source': 'bus', 'X-Tag': ['a', 'b'] } });
      bus.emit('io.out', 'text');
      bus.emit('io.out', Buffer.from([1, 2, 3]));
    });
    assert.deepEqual(msgs[0]!.json(), { order: 18 });
    assert.equal(msgs[0]!.headers?.get('X-Source'), 'bus');
    assert.deepEqual(msgs[0]!.headers?.values('X-Tag'), ['a', 'b']);
    assert.equal(msgs[1]!.string(), '"text"');
    assert.equal(msgs[1]!.json(), 'text');
    assert.deepEqual(Buffer.from(msgs[2]!.data), Buffer.from([1, 2, 3]));
    assert.equal(msgs[2]!.headers, undefined);
  });

  it('bus wildcard listeners see nats.js subjects; nats.js wildcards see bus subjects', async () => {
    const box = inbox(bus, 'io.wild.>');
    await bus.flush();
    nc.publish('io.wild.a.b', JSON.stringify(1));
    await barrier(nc, bus);
    assert.deepEqual(box.items.map((r) => [r.meta.subject, r.payload]), [['io.wild.a.b', 1]]);
    const msgs = await take(nc, 'io.wild2.*', 1, () => void bus.emit('io.wild2.x', 2));
    assert.equal(msgs[0]!.subject, 'io.wild2.x');
  });

  it('nats.js requests a bus handler; a handler error arrives as a Nats-Service-Error header', async () => {
    bus.handle('io.svc.add', (r: { a: number; b: number }) => ({ sum: r.a + r.b }));
    bus.handle('io.svc.fail', () => {
      throw new Error('out of stock');
    });
    await bus.flush();
    const h = natsHeaders();
    h.set('X-Req', '1');
    const m = await nc.request('io.svc.add', JSON.stringify({ a: 1, b: 2 }), { timeout: 5_000, headers: h });
    assert.deepEqual(m.json(), { sum: 3 });
    const f = await nc.request('io.svc.fail', '{}', { timeout: 5_000 });
    assert.equal(f.headers?.get(ERROR_HEADER), 'out of stock');
    assert.equal(f.headers?.get('Nats-Service-Error-Code'), '500');
    assert.equal(f.data.length, 0);
  });

  it('the bus requests a nats.js responder; its error headers become a RemoteError', async () => {
    const s1 = nc.subscribe('io.js.echo', {
      callback: (_e, m) => {
        const h = natsHeaders();
        h.set('X-Seen', m.headers?.get('X-Req') ?? 'none');
        m.respond(JSON.stringify({ got: m.json() }), { headers: h });
      },
    });
    const s2 = nc.subscribe('io.js.fail', {
      callback: (_e, m) => {
        const h = natsHeaders();
        h.set('Nats-Service-Error', 'quota exceeded');
        h.set('Nats-Service-Error-Code', '429');
        m.respond('', { headers: h });
      },
    });
    await nc.flush();
    try {
      assert.deepEqual(await bus.request('io.js.echo', { q: 1 }, { headers: { 'X-Req': 'r1' } }), { got: { q: 1 } });
      const err = await rejection(bus.request('io.js.fail', null));
      assert.equal((err as { code?: string }).code, ErrorCode.REMOTE);
      assert.equal(err.message, 'quota exceeded');
      assert.equal((err as { status?: number }).status, 429);
    } finally {
      s1.unsubscribe();
      s2.unsubscribe();
    }
  });

  it('a queue group shared by bus listeners and nats.js subscribers gets each event once', async () => {
    const other = await connect({ servers: server.url, name: 'interop-bus-2' });
    try {
      const b1 = inbox<number>(bus, 'io.q', { queue: 'mixed' });
      const b2 = inbox<number>(other, 'io.q', { queue: 'mixed' });
      const fromJs: number[] = [];
      const js = nc.subscribe('io.q', { queue: 'mixed', callback: (_e, m) => void fromJs.push(m.json<number>()) });
      await Promise.all([bus.flush(), other.flush(), nc.flush()]);
      const pub = await natsConnect({ servers: server.url, reconnect: false });
      const n = 90;
      for (let i = 0; i < n; i++) pub.publish('io.q', JSON.stringify(i));
      await pub.flush();
      await pub.close();
      await Promise.all([bus.flush(), other.flush(), nc.flush()]);
      js.unsubscribe();
      const all = [...b1.payloads, ...b2.payloads, ...fromJs].sort((x, y) => x - y);
      assert.deepEqual(all, Array.from({ length: n }, (_, i) => i));
    } finally {
      await other.close();
    }
  });
});
