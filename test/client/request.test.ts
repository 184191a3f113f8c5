/**
 * Request/reply: bus.request() and bus.handle(), errors with stable codes
 * (RemoteError, NoRespondersError, TimeoutError), responders in a queue
 * group. Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, ErrorCode, RemoteError, type Bus, type EventMeta } from '../../src/index.js';
import { startServer, type ServerHandle } from './helpers/server.js';
import { rejection, until } from './helpers/wait.js';

describe('request/reply', () => {
  let server: ServerHandle;
  let requester: Bus;
  let responder: Bus;
  const extra: Bus[] = [];

  async function bus(name: string): Promise<Bus> {
    const x = await connect({ servers: server.url, name });
    extra.push(x);
    return x;
  }

  before(async () => {
    server = await startServer();
    requester = await connect({ servers: server.url, name: 'rr-requester' });
    responder = await connect({ servers: server.url, name: 'rr-responder' });
    responder.handle('math.add', (req: { a: number; b: number }) => req.a + req.b);
    responder.handle('svc.async', async (req: string, meta: EventMeta) => {
      await new Promise((r) => setImmediate(r));
      return { echo: req, subject: meta.subject, trace: meta.headers?.get('X-Trace') ?? null };
    });
    responder.handle('svc.fail', (req: { status?: number }) => {
      throw Object.assign(new Error('the order\r\nwas not found'), req.status === undefined ? {} : { status: req.status });
    });
    responder.handle('svc.nothing', () => undefined);
    responder.handle('svc.bigint', () => 10n as never);
    responder.handle('svc.wild.*', (_req: unknown, meta: EventMeta) => meta.subject);
    responder.on('svc.silent', () => {}); // subscribed, never answers
    responder.on('svc.manual', (p: unknown, meta: EventMeta) => meta.respond({ manual: p }, { headers: { 'X-Answered-By': 'listener' } }));
    await responder.flush();
  });

  after(async () => {
    await Promise.all([requester, responder, ...extra].map((x) => (x.isClosed ? undefined : x.close())));
    await server.stop();
  });

  it('resolves with the handler\'s result', async () => {
    assert.equal(await requester.request('math.add', { a: 2, b: 40 }), 42);
  });

  it('passes headers to an async handler and resolves with its result', async () => {
    const r = await requester.request('svc.async', 'hi', { headers: { 'X-Trace': 't-1' } });
    assert.deepEqual(r, { echo: 'hi', subject: 'svc.async', trace: 't-1' });
  });

  it('routes 100 concurrent requests to their own replies', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => requester.request('math.add', { a: i, b: 1000 })));
    assert.deepEqual(replies, Array.from({ length: 100 }, (_, i) => i + 1000));
  });

  it('resolves undefined when the handler returns nothing', async () => {
    assert.equal(await requester.request('svc.nothing', 1), undefined);
  });

  it('answers a wildcard handler with the concrete subject in meta', async () => {
    assert.equal(await requester.request('svc.wild.eu', null), 'svc.wild.eu');
  });

  it('lets a plain listener answer with meta.respond()', async () => {
    assert.deepEqual(await requester.request('svc.manual', 5), { manual: 5 });
  });

  it('rejects with RemoteError carrying the handler\'s message and status', async () => {
    const err = await rejection(requester.request('svc.fail', {}));
    assert.ok(err instanceof RemoteError);
    assert.equal(err.code, ErrorCode.REMOTE);
    assert.equal(err.message, 'the order was not found');
    assert.equal(err.status, 500);
    const e404 = await rejection(requester.request('svc.fail', { status: 404 }));
    assert.equal((e404 as RemoteError).status, 404);
    assert.equal(responder.isConnected, true, 'the responder is unharmed');
  });

  it('rejects with RemoteError when the handler\'s result cannot be sent', async () => {
    const err = await rejection(requester.request('svc.bigint', null, { timeout: 10_000 }));
    assert.equal((err as { code?: string }).code, ErrorCode.REMOTE);
    assert.match(err.message, /BigInt/);
  });

  it('rejects with NoRespondersError when nobody handles the subject', async () => {
    // A long timeout: only the server's no-responders status can end this request early.
    const err = await rejection(requester.request('svc.nobody.home', 1, { timeout: 20_000 }));
    assert.equal((err as { code?: string }).code, ErrorCode.NO_RESPONDERS);
    assert.match(err.message, /svc\.nobody\.home/);
  });

  it('rejects with TimeoutError when a subscriber never answers', async () => {
    const err = await rejection(requester.request('svc.silent', 1, { timeout: 150 }));
    assert.equal((err as { code?: string }).code, ErrorCode.TIMEOUT);
  });

  it('uses the connection\'s requestTimeout by default', async () => {
    const x = await connect({ servers: server.url, requestTimeout: 150 });
    extra.push(x);
    const err = await rejection(x.request('svc.silent', 1));
    assert.equal((err as { code?: string }).code, ErrorCode.TIMEOUT);
  });

  it('rejects at once on an invalid subject', async () => {
    const err = await rejection(requester.request('svc.*', 1));
    assert.equal((err as { code?: string }).code, ErrorCode.INVALID_SUBJECT);
  });

  it('shares requests among responders of the same subject (a queue group by default)', async () => {
    const r1 = await bus('rr-worker-1');
    const r2 = await bus('rr-worker-2');
    const count = { w1: 0, w2: 0 };
    r1.handle('svc.shared', () => ++count.w1 && 'w1');
    r2.handle('svc.shared', () => ++count.w2 && 'w2');
    await Promise.all([r1.flush(), r2.flush()]);
    assert.deepEqual(await server.subscriptions('rr-worker-1'), ['svc.shared handlers']);
    const replies = await Promise.all(Array.from({ length: 40 }, () => requester.request('svc.shared', null)));
    assert.equal(count.w1 + count.w2, 40, 'each request handled once');
    assert.equal(replies.filter((r) => r === 'w1').length, count.w1);
    assert.equal(replies.filter((r) => r === 'w2').length, count.w2);
  });

  it('handle() with queue: false subscribes without a group; unhandle() stops answering', async () => {
    const x = await bus('rr-unhandle');
    x.handle('svc.solo', () => 'solo', { queue: false });
    assert.throws(() => x.handle('svc.solo', () => 'twice'), TypeError);
    await x.flush();
    assert.deepEqual(await server.subscriptions('rr-unhandle'), ['svc.solo']);
    assert.equal(await requester.request('svc.solo', null), 'solo');
    x.unhandle('svc.solo');
    await x.flush();
    await until(async () => (await server.subscriptions('rr-unhandle')).length === 0, 'unsubscribed');
    const err = await rejection(requester.request('svc.solo', null, { timeout: 20_000 }));
    assert.equal((err as { code?: string }).code, ErrorCode.NO_RESPONDERS);
  });

  it('creates one inbox subscription for all its requests', async () => {
    const x = await bus('rr-inbox');
    await Promise.all([x.request('math.add', { a: 1, b: 1 }), x.request('math.add', { a: 2, b: 2 })]);
    await x.request('math.add', { a: 3, b: 3 });
    await x.flush();
    const subs = await server.subscriptions('rr-inbox');
    assert.equal(subs.length, 1);
    assert.match(subs[0]!, /^_INBOX\.[A-Za-z0-9]+\.\*$/);
  });
});
