/**
 * Request/reply, no responders and headers with the official client.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headers, RequestError, type NatsConnection } from '@nats-io/transport-node';
import { startServer, type TestServer, SKIP_NATS_JS } from '../helpers/target.js';
import { barrier, closeAll, collect, connectTo, rejection } from '../helpers/client.js';

describe('request/reply', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  let requester: NatsConnection;
  let responder: NatsConnection;

  before(async () => {
    server = await startServer();
    requester = await connectTo(server, { name: 'requester' });
    responder = await connectTo(server, { name: 'responder' });
    responder.subscribe('svc.echo', { callback: (_e, m) => void m.respond(`echo:${m.string()}`) });
    responder.subscribe('svc.headers', {
      callback: (_e, m) => {
        const h = headers();
        h.set('X-Seen', m.headers?.get('X-Req') ?? 'none');
        m.respond('ok', { headers: h });
      },
    });
    await responder.flush();
  });

  after(async () => {
    await closeAll(requester, responder);
    await server.stop();
  });

  it('gets the reply to a request', async () => {
    const r = await requester.request('svc.echo', 'ping', { timeout: 5_000 });
    assert.equal(r.string(), 'echo:ping');
  });

  it('routes 100 concurrent replies to their own requests', async () => {
    const rs = await Promise.all(
      Array.from({ length: 100 }, (_, i) => requester.request('svc.echo', `r${i}`, { timeout: 5_000 })),
    );
    assert.deepEqual(
      rs.map((r) => r.string()),
      Array.from({ length: 100 }, (_, i) => `echo:r${i}`),
    );
  });

  it('works without the muxed inbox (noMux)', async () => {
    const r = await requester.request('svc.echo', 'solo', { timeout: 5_000, noMux: true });
    assert.equal(r.string(), 'echo:solo');
  });

  it('carries headers both ways', async () => {
    const h = headers();
    h.set('X-Req', 'abc');
    const r = await requester.request('svc.headers', '', { timeout: 5_000, headers: h });
    assert.equal(r.string(), 'ok');
    assert.equal(r.headers?.get('X-Seen'), 'abc');
  });

  it('gets exactly one reply from a queue group of responders', async () => {
    const extra = await connectTo(server, { name: 'responders' });
    try {
      for (let i = 0; i < 3; i++) {
        extra.subscribe('svc.q', { queue: 'pool', callback: (_e, m) => void m.respond(`from-${i}`) });
      }
      await extra.flush();
      const replies: string[] = [];
      const inbox = requester.subscribe('my.inbox.q', { callback: (_e, m) => void replies.push(m.string()) });
      await requester.flush();
      requester.publish('svc.q', '', { reply: 'my.inbox.q' });
      await barrier(requester, extra);
      await barrier(extra, requester);
      inbox.unsubscribe();
      assert.equal(replies.length, 1, `replies: ${JSON.stringify(replies)}`);
      assert.match(replies[0]!, /^from-[012]$/);
    } finally {
      await extra.close();
    }
  });
});

describe('no responders', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  let nc: NatsConnection;

  before(async () => {
    server = await startServer();
    nc = await connectTo(server);
  });

  after(async () => {
    await closeAll(nc);
    await server.stop();
  });

  // The request timeout (20 s) is far beyond the test timeout (10 s): only a
  // 503 from the server can make this test pass; a timeout fails it.
  it('a request with no subscriber rejects with "no responders"', { timeout: 10_000 }, async () => {
    const err = await rejection(nc.request('nobody.home', 'x', { timeout: 20_000 }));
    assert.ok(err instanceof RequestError, `got ${err.name}: ${err.message}`);
    assert.match(err.message, /no responders/);
    assert.match(err.message, /nobody\.home/);
    assert.equal(err.isNoResponders(), true);
  });

  it('a noMux request with no subscriber rejects with "no responders"', { timeout: 10_000 }, async () => {
    const err = await rejection(nc.request('nobody.solo', 'x', { timeout: 20_000, noMux: true }));
    assert.match(err.message, /no responders/);
  });

  it('the connection keeps working afterwards', async () => {
    const s = nc.subscribe('still.here', { max: 1 });
    nc.publish('still.here', 'yes');
    const [m] = await collect(s, 1);
    assert.equal(m!.string(), 'yes');
  });
});

describe('headers', { skip: SKIP_NATS_JS }, () => {
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

  it('delivers multi-valued headers in order, keys as sent', async () => {
    const s = sub.subscribe('hdr.multi', { max: 1 });
    await sub.flush();
    const h = headers();
    h.append('X-Multi', 'a');
    h.append('X-Multi', 'b');
    h.append('X-Multi', 'c');
    h.set('X-Colon', 'k: v');
    h.set('lower-case-key', 'kept');
    pub.publish('hdr.multi', 'body', { headers: h });
    const [m] = await collect(s, 1);
    assert.equal(m!.string(), 'body');
    assert.deepEqual(m!.headers?.values('X-Multi'), ['a', 'b', 'c']);
    assert.equal(m!.headers?.get('X-Colon'), 'k: v');
    assert.deepEqual(m!.headers?.keys().sort(), ['X-Colon', 'X-Multi', 'lower-case-key']);
  });

  it('delivers a header-only message (empty payload)', async () => {
    const s = sub.subscribe('hdr.only', { max: 1 });
    await sub.flush();
    const h = headers();
    h.set('X-Only', '1');
    pub.publish('hdr.only', undefined, { headers: h });
    const [m] = await collect(s, 1);
    assert.equal(m!.data.length, 0);
    assert.equal(m!.headers?.get('X-Only'), '1');
  });

  it('keeps headers and a binary payload with CRLF apart', async () => {
    const s = sub.subscribe('hdr.bin', { max: 1 });
    await sub.flush();
    const h = headers();
    h.set('X-Kind', 'binary');
    const payload = Buffer.from('\r\n\r\nNATS/1.0\r\nX-Fake: 1\r\n\r\n\x00\xff', 'latin1');
    pub.publish('hdr.bin', payload, { headers: h });
    const [m] = await collect(s, 1);
    assert.deepEqual(Buffer.from(m!.data), payload);
    assert.deepEqual(m!.headers?.keys(), ['X-Kind']);
  });

  it('passes a status line (code and description) through unchanged', async () => {
    const s = sub.subscribe('hdr.status', { max: 1 });
    await sub.flush();
    const h = headers(418, "I'm a teapot");
    h.set('X-After-Status', 'yes');
    pub.publish('hdr.status', 'tea', { headers: h });
    const [m] = await collect(s, 1);
    assert.equal(m!.headers?.code, 418);
    assert.equal(m!.headers?.description, "I'm a teapot");
    assert.equal(m!.headers?.get('X-After-Status'), 'yes');
    assert.equal(m!.string(), 'tea');
  });
});
