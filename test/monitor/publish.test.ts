/**
 * POST /api/publish and POST /api/request (LIVE-API.md) against the hub over
 * real HTTP, with the official client on the other side: delivery, stream
 * capture, replies, no responders, timeouts, the bounds and the viewer.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createHub, type Hub } from '../../src/index.js';
import { openMonitor, type MonitorServer } from '../../src/monitor/http.js';
import { apiRoutes } from '../../src/monitor/api.js';
import type { MonitorViewer } from '../../src/monitor/route.js';
import type { MonitorSource } from '../../src/monitor/types.js';
import { skipUnlessHub } from '../helpers/target.js';
import { collect } from '../helpers/client.js';
import { SseClient } from './sse.js';

const HUB_ONLY = { skip: skipUnlessHub('the live API is the hub\'s own') };
const dec = new TextDecoder();

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function post(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const stream = body instanceof Readable;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: stream ? (Readable.toWeb(body) as ReadableStream) : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
    ...(stream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: parsed };
}

describe('POST /api/publish and /api/request', HUB_ONLY, () => {
  let hub: Hub;
  let base: string;
  let nc: NatsConnection;

  before(async () => {
    hub = createHub({ port: 0, httpPort: 0, jetstream: true, maxPayload: 4096, maxMonitorRequests: 2, lameDuckGracePeriod: 0 });
    await hub.listen();
    base = hub.monitorAddress!.url;
    nc = await connect({ servers: hub.url, reconnect: false, name: 'publish-test' });
  });
  after(async () => {
    await nc.close();
    await hub.close();
  });

  it('a publish reaches a NATS subscriber, with its headers and reply', async () => {
    const sub = nc.subscribe('ui.out');
    await nc.flush();
    const a = await post(`${base}/api/publish`, { subject: 'ui.out', payload: 'héllo', headers: { 'X-From': 'ui' }, reply: 'ui.back' });
    assert.deepEqual(a, { status: 200, body: { ok: true } });
    const [m] = await collect(sub, 1);
    assert.equal(dec.decode(m!.data), 'héllo');
    assert.equal(m!.headers?.get('X-From'), 'ui');
    assert.equal(m!.reply, 'ui.back');
  });

  it('a publish to a stream subject is stored', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'UI', subjects: ['uistore.>'] });
    const a = await post(`${base}/api/publish`, { subject: 'uistore.one', payload: 'kept' });
    assert.equal(a.status, 200);
    const m = await jsm.streams.getMessage('UI', { seq: 1 });
    assert.equal(m?.subject, 'uistore.one');
    assert.equal(dec.decode(m!.data), 'kept');
  });

  it('a request gets the responder\'s answer', async () => {
    const sub = nc.subscribe('svc.echo', {
      callback: (_err, m) => {
        const h = natsHeaders();
        h.set('Answered-By', 'svc');
        m.respond(`echo: ${dec.decode(m.data)} ${m.headers?.get('X-Q') ?? ''}`, { headers: h });
      },
    });
    await nc.flush();
    const a = await post(`${base}/api/request`, { subject: 'svc.echo', payload: 'ping', headers: { 'X-Q': 'q1' } });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.body.subject, 'svc.echo');
    assert.equal(Buffer.from(a.body.payload, 'base64').toString(), 'echo: ping q1');
    assert.equal(a.body.size, 'echo: ping q1'.length);
    assert.deepEqual(a.body.headers, [['Answered-By', 'svc']]);
    assert.equal(typeof a.body.elapsed_ms, 'number');
    sub.unsubscribe();
  });

  it('answers the JetStream API, which the hub itself serves', async () => {
    const a = await post(`${base}/api/request`, { subject: '$JS.API.INFO' });
    assert.equal(a.status, 200);
    assert.equal(JSON.parse(Buffer.from(a.body.payload, 'base64').toString()).type, 'io.nats.jetstream.api.v1.account_info_response');
  });

  it('503 with no responders, 504 on timeout', async () => {
    assert.deepEqual(await post(`${base}/api/request`, { subject: 'nobody.here' }), { status: 503, body: { error: 'no responders' } });
    const sub = nc.subscribe('svc.silent');
    await nc.flush();
    assert.deepEqual(await post(`${base}/api/request`, { subject: 'svc.silent', timeout_ms: 100 }), { status: 504, body: { error: 'timeout' } });
    sub.unsubscribe();
  });

  it('the request inbox is gone once no request waits', async () => {
    await nc.flush();
    const before = hub.stats().subscriptions;
    assert.equal((await post(`${base}/api/request`, { subject: 'nobody.here' })).status, 503);
    assert.equal(hub.stats().subscriptions, before);
  });

  it('bounds the requests waiting at once (429)', async () => {
    const sub = nc.subscribe('svc.slow');
    await nc.flush();
    const waiting = [post(`${base}/api/request`, { subject: 'svc.slow', timeout_ms: 3000 }), post(`${base}/api/request`, { subject: 'svc.slow', timeout_ms: 3000 })];
    // Both are waiting once the subscriber has seen them.
    const seen = await collect(sub, 2);
    const third = await post(`${base}/api/request`, { subject: 'svc.slow', timeout_ms: 3000 });
    assert.equal(third.status, 429);
    assert.match(third.body.error, /maxMonitorRequests/);
    for (const m of seen) m.respond('late but fine');
    for (const a of await Promise.all(waiting)) assert.equal(a.status, 200);
    sub.unsubscribe();
  });

  it('400 for a bad subject, body, header, timeout or size; 405 for GET', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/api/publish', { subject: 'a.*' }, /invalid subject/],
      ['/api/publish', { subject: '' }, /invalid subject/],
      ['/api/publish', { payload: 'x' }, /invalid subject/],
      ['/api/publish', { subject: 'a', payload: 5 }, /payload must be a string/],
      ['/api/publish', { subject: 'a', headers: { 'Bad Name': 'x' } }, /invalid header key/],
      ['/api/publish', { subject: 'a', headers: { A: 1 } }, /object of strings/],
      ['/api/publish', { subject: 'a', reply: 'b.>' }, /invalid reply/],
      ['/api/publish', { subject: 'a', payload: 'x'.repeat(5000) }, /maximum payload exceeded/],
      ['/api/publish', '{not json', /not JSON/],
      ['/api/publish', '[1]', /JSON object/],
      ['/api/request', { subject: 'a', timeout_ms: 0 }, /timeout_ms/],
      ['/api/request', { subject: 'a', timeout_ms: 30_001 }, /timeout_ms/],
    ];
    for (const [path, body, re] of cases) {
      const a = await post(base + path, body);
      assert.equal(a.status, 400, `${path} ${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(a.body)}`);
      assert.match(a.body.error, re);
    }
    // Past maxPayload + 64 KiB the body is not read: 413, with a declared length and without one (chunked).
    const big = JSON.stringify({ subject: 'a', payload: 'x'.repeat(200_000) });
    const declared = await post(`${base}/api/publish`, big);
    assert.equal(declared.status, 413);
    assert.match(declared.body.error, /too large/);
    const chunked = await post(`${base}/api/publish`, Readable.from([big.slice(0, 100_000), big.slice(100_000)]) as unknown as string, {
      'content-type': 'application/json',
    });
    assert.equal(chunked.status, 413);
    const plain = await post(`${base}/api/publish`, { subject: 'a' }, { 'content-type': 'text/plain' });
    assert.equal(plain.status, 400);
    assert.match(plain.body.error, /Content-Type/);
    const get = await fetch(`${base}/api/publish`);
    assert.equal(get.status, 405);
    await get.text();
  });
});

describe('publish and request: the viewer', HUB_ONLY, () => {
  let hub: Hub;
  let mon: MonitorServer;
  let nc: NatsConnection;
  let base: string;

  before(async () => {
    hub = createHub({ port: 0 });
    await hub.listen();
    const src = (hub as unknown as { monitor: { source(): MonitorSource } }).monitor.source();
    // A viewer as the monitor's authentication gives one: may publish to ui.> only.
    const viewer: MonitorViewer = { user: 'bob', maySubscribe: () => true, mayPublish: (s) => s.startsWith('ui.') };
    mon = await openMonitor(() => src, { host: '127.0.0.1', port: 0, routes: apiRoutes(), authenticate: () => viewer });
    base = `http://127.0.0.1:${mon.port}`;
    nc = await connect({ servers: hub.url, reconnect: false });
  });
  after(async () => {
    await nc.close();
    await mon.close();
    await hub.close();
  });

  it('403 where the viewer may not publish, and nothing is published', async () => {
    const sub = nc.subscribe('>');
    await nc.flush();
    const a = await post(`${base}/api/publish`, { subject: 'admin.reset', payload: 'x' });
    assert.equal(a.status, 403);
    assert.match(a.body.error, /Permissions Violation for Publish to "admin.reset"/);
    assert.equal((await post(`${base}/api/request`, { subject: 'admin.reset' })).status, 403);
    assert.equal((await post(`${base}/api/publish`, { subject: 'ui.ok', payload: 'y' })).status, 200);
    // Messages from one publisher arrive in order: the first one is the allowed one.
    const [m] = await collect(sub, 1);
    assert.equal(m!.subject, 'ui.ok');
  });
});

describe('the live API with the hub\'s authorization (Basic auth)', HUB_ONLY, () => {
  let hub: Hub;
  let base: string;
  let nc: NatsConnection;
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  before(async () => {
    hub = createHub({
      port: 0,
      httpPort: 0,
      lameDuckGracePeriod: 0,
      authorization: {
        maxFailureDelay: 0,
        users: [
          { user: 'alice', password: 'alice-pw', permissions: { publish: ['orders.>'], subscribe: ['orders.>'] } },
          { user: 'admin', password: 'admin-pw' },
        ],
      },
    });
    await hub.listen();
    base = hub.monitorAddress!.url;
    nc = await connect({ servers: hub.url, reconnect: false, user: 'admin', pass: 'admin-pw' });
  });
  after(async () => {
    await nc.close();
    await hub.close();
  });

  it('needs credentials', async () => {
    assert.equal((await post(`${base}/api/publish`, { subject: 'orders.x' })).status, 401);
    const s = await SseClient.open(`${base}/api/live`);
    assert.equal(s.status, 401);
    s.close();
  });

  it('publishes only where the user may, and tails only what the user may subscribe to', async () => {
    const alice = { 'content-type': 'application/json', authorization: basic('alice', 'alice-pw') };
    const s = await SseClient.open(`${base}/api/live?tail=%3E`, { authorization: basic('alice', 'alice-pw') });
    assert.equal(s.status, 200);
    assert.equal((await s.waitFor('hello')).data.user, 'alice');
    await s.waitFor('stats');
    const denied = await post(`${base}/api/publish`, { subject: 'secret.plans', payload: 'x' }, alice);
    assert.equal(denied.status, 403);
    nc.publish('secret.plans', 'by admin');
    await nc.flush();
    assert.equal((await post(`${base}/api/publish`, { subject: 'orders.new', payload: 'ok' }, alice)).status, 200);
    await s.waitFor('msg', (d) => d.subject === 'orders.new');
    assert.deepEqual(s.named('msg').map((e) => e.data.subject), ['orders.new']);
    s.close();
  });
});
