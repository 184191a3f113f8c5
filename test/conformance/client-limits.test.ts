/**
 * Auto-unsubscribe, max_payload, many subscriptions and drain with the
 * official client.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headers, type MsgHdrsImpl, type NatsConnection } from '@nats-io/transport-node';
import { startServer, type TestServer, SKIP_NATS_JS } from '../helpers/target.js';
import { barrier, closeAll, collect, connectTo } from '../helpers/client.js';

describe('auto-unsubscribe', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  let pub: NatsConnection;
  let sub: NatsConnection;

  before(async () => {
    server = await startServer();
    pub = await connectTo(server);
    sub = await connectTo(server);
  });

  after(async () => {
    await closeAll(pub, sub);
    await server.stop();
  });

  it('subscribe({ max }) delivers max messages, then the subscription closes', async () => {
    const got: string[] = [];
    const s = sub.subscribe('auto.max', { max: 3, callback: (_e, m) => void got.push(m.string()) });
    await barrier(sub);
    for (let i = 0; i < 10; i++) pub.publish('auto.max', `${i}`);
    await barrier(pub, sub);
    assert.deepEqual(got, ['0', '1', '2']);
    assert.equal(s.isClosed(), true);
  });

  it('sub.unsubscribe(n) delivers n messages in all, counting those already received', async () => {
    const got: string[] = [];
    const s = sub.subscribe('auto.later', { callback: (_e, m) => void got.push(m.string()) });
    await barrier(sub);
    pub.publish('auto.later', 'a');
    pub.publish('auto.later', 'b');
    await barrier(pub, sub);
    s.unsubscribe(4);
    await barrier(sub);
    for (let i = 0; i < 10; i++) pub.publish('auto.later', `${i}`);
    await barrier(pub, sub);
    assert.deepEqual(got, ['a', 'b', '0', '1']);
    assert.equal(s.isClosed(), true);
  });

  it('sub.unsubscribe(n) with n already reached closes the subscription at once', async () => {
    const got: string[] = [];
    const s = sub.subscribe('auto.done', { callback: (_e, m) => void got.push(m.string()) });
    await barrier(sub);
    pub.publish('auto.done', 'a');
    pub.publish('auto.done', 'b');
    await barrier(pub, sub);
    s.unsubscribe(1);
    await barrier(sub);
    pub.publish('auto.done', 'c');
    await barrier(pub, sub);
    assert.deepEqual(got, ['a', 'b']);
    assert.equal(s.isClosed(), true);
  });
});

describe('max_payload', { skip: SKIP_NATS_JS }, () => {
  const MAX = 1024;
  let server: TestServer;
  let pub: NatsConnection;
  let sub: NatsConnection;

  before(async () => {
    server = await startServer({ maxPayload: MAX });
    pub = await connectTo(server);
    sub = await connectTo(server);
  });

  after(async () => {
    await closeAll(pub, sub);
    await server.stop();
  });

  it('advertises max_payload in INFO', () => {
    assert.equal(pub.info?.max_payload, MAX);
  });

  it('accepts a payload of exactly max_payload and the client refuses one byte more', async () => {
    const s = sub.subscribe('big.plain', { max: 1 });
    await sub.flush();
    const exact = Buffer.alloc(MAX, 0x61);
    pub.publish('big.plain', exact);
    assert.throws(() => pub.publish('big.plain', Buffer.alloc(MAX + 1)), /max_payload/);
    const [m] = await collect(s, 1);
    assert.deepEqual(Buffer.from(m!.data), exact);
  });

  it('counts headers: max_payload - len(headers) is accepted, one byte more is refused', async () => {
    const s = sub.subscribe('big.hdr', { max: 1 });
    await sub.flush();
    const h = headers();
    h.set('X-Size', 'near-the-limit');
    const hdrLen = (h as MsgHdrsImpl).encode().length;
    const exact = Buffer.alloc(MAX - hdrLen, 0x62);
    pub.publish('big.hdr', exact, { headers: h });
    assert.throws(() => pub.publish('big.hdr', Buffer.alloc(MAX - hdrLen + 1), { headers: h }), /max_payload/);
    const [m] = await collect(s, 1);
    assert.equal(m!.data.length, MAX - hdrLen);
    assert.deepEqual(Buffer.from(m!.data), exact);
    assert.equal(m!.headers?.get('X-Size'), 'near-the-limit');
  });

  it('the connection is still usable after the client refused a publish', async () => {
    const s = sub.subscribe('big.after', { max: 1 });
    await sub.flush();
    pub.publish('big.after', 'fine');
    const [m] = await collect(s, 1);
    assert.equal(m!.string(), 'fine');
    assert.equal(pub.isClosed(), false);
  });
});

describe('many subscriptions', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  let pub: NatsConnection;
  let sub: NatsConnection;

  before(async () => {
    server = await startServer();
    pub = await connectTo(server);
    sub = await connectTo(server);
  });

  after(async () => {
    await closeAll(pub, sub);
    await server.stop();
  });

  it('10,000 subscriptions on one connection each receive their own message', { timeout: 30_000 }, async () => {
    const n = 10_000;
    const got: string[][] = Array.from({ length: n }, () => []);
    for (let i = 0; i < n; i++) {
      const into = got[i]!;
      sub.subscribe(`many.${i}`, { callback: (_e, m) => void into.push(m.string()) });
    }
    // A wildcard subscription alongside sees all of them.
    let wildcard = 0;
    sub.subscribe('many.*', { callback: () => void wildcard++ });
    await sub.flush();
    for (let i = 0; i < n; i++) pub.publish(`many.${i}`, `m${i}`);
    await barrier(pub, sub);
    const wrong = got.findIndex((g, i) => g.length !== 1 || g[0] !== `m${i}`);
    assert.equal(wrong, -1, `subscription many.${wrong} got ${JSON.stringify(got[wrong])}`);
    assert.equal(wildcard, n);
  });
});

describe('drain', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  let pub: NatsConnection;

  before(async () => {
    server = await startServer();
    pub = await connectTo(server);
  });

  after(async () => {
    await closeAll(pub);
    await server.stop();
  });

  it('nc.drain() hands every pending message to the subscription, then closes', async () => {
    const nc = await connectTo(server);
    const n = 1_000;
    const s = nc.subscribe('drain.all');
    await nc.flush();
    for (let i = 0; i < n; i++) pub.publish('drain.all', `${i}`);
    await barrier(pub, nc);
    // Nothing has been read from the iterator yet: all n are pending in the client.
    const reading = (async () => {
      const got: string[] = [];
      for await (const m of s) got.push(m.string());
      return got;
    })();
    await nc.drain();
    const got = await reading;
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => `${i}`));
    assert.equal(nc.isClosed(), true);
  });

  it('sub.drain() unsubscribes on the server: later messages are not delivered', async () => {
    const nc = await connectTo(server);
    try {
      const got: string[] = [];
      const s = nc.subscribe('drain.one', { callback: (_e, m) => void got.push(m.string()) });
      await nc.flush();
      pub.publish('drain.one', 'before');
      await barrier(pub, nc);
      await s.drain();
      assert.equal(s.isClosed(), true);
      // A second subscription on the same connection proves delivery to it still works.
      const other: string[] = [];
      nc.subscribe('drain.one', { callback: (_e, m) => void other.push(m.string()) });
      await nc.flush();
      pub.publish('drain.one', 'after');
      await barrier(pub, nc);
      assert.deepEqual(got, ['before']);
      assert.deepEqual(other, ['after']);
    } finally {
      await nc.close();
    }
  });
});
