/**
 * Auth and TLS on the monitoring listener (issue #16): the hub's own
 * credentials (token, users with plain and bcrypt passwords) over
 * Authorization headers or a login session, refusals counted in
 * authFailures, what is open, per-viewer documents, and HTTPS with the hub's
 * certificates. Hub only: nats-server's monitor has no authentication.
 *
 * Secrets are throwaway values made up for the test.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import bcrypt from 'bcryptjs';
import { createUser } from '@nats-io/nkeys';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { createHub, type Hub, type HubOptions } from '../../src/index.js';
import { SessionStore } from '../../src/monitor/sessions.js';
import { parseAuthorization, viewerOf } from '../../src/monitor/auth.js';
import { compilePermissions } from '../../src/server/security/permissions.js';
import { skipUnlessHub } from '../helpers/target.js';
import { closeAll } from '../helpers/client.js';
import { makeCerts, type TestCerts } from '../helpers/tls.js';
import { SseClient } from './sse.js';

const SKIP = skipUnlessHub("nats-server's monitor has no authentication");
const TIMEOUT_MS = 5_000;
const TOKEN = 'mon-tok-81c2';
const ALICE_PW = 'alice-pw-5e1';
const BOB_PW = 'bob-pw-07d';
const CAROL_PW = 'carol-pw-a93';
const DAVE_PW = 'dave-pw-3b4';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json(): Record<string, unknown>;
}

async function call(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

function login(base: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return call(base, '/api/login', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** `name=value` of the session cookie a login set. */
function sessionCookie(a: Answer): string {
  const set = a.headers.get('set-cookie');
  assert.ok(set, 'the login sets a cookie');
  return set.split(';')[0]!;
}

/** A login whose body comes in chunks without a Content-Length, `size` bytes in all; resolves with the status. */
function chunkedLogin(base: string, size: number): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    // Once the answer is in, a close that follows is no failure (the promise is settled).
    req.on('error', (err) => reject(err));
    const body = JSON.stringify({ user: 'alice', password: 'x'.repeat(size) });
    for (let i = 0; i < body.length; i += 1000) req.write(body.slice(i, i + 1000));
    req.end();
  });
}

async function startHub(opts: HubOptions): Promise<{ hub: Hub; base: string }> {
  const hub = createHub({ port: 0, httpPort: 0, ...opts });
  await hub.listen();
  return { hub, base: hub.monitorAddress!.url };
}

describe('monitoring auth: a token', { skip: SKIP }, () => {
  let hub: Hub;
  let base: string;
  before(async () => {
    ({ hub, base } = await startHub({ authorization: { token: TOKEN, maxFailureDelay: 0 } }));
  });
  after(() => hub?.close());

  it('documents need credentials: 401 with a Basic challenge', async () => {
    for (const path of ['/varz', '/connz', '/subsz', '/jsz', '/accountz']) {
      const a = await call(base, path);
      assert.equal(a.status, 401, path);
      assert.equal(a.headers.get('www-authenticate'), 'Basic realm="netemitter", charset="UTF-8"', path);
    }
  });

  it('the API answers 401 in JSON, without a challenge (no browser dialog)', async () => {
    const a = await call(base, '/api/whoami');
    assert.equal(a.status, 401);
    assert.equal(a.headers.get('www-authenticate'), null);
    assert.match(a.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(a.json(), { error: 'authentication required', auth_required: true });
  });

  it('Bearer <token> and Basic with the token as password are let in', async () => {
    const v = await call(base, '/varz', { headers: bearer(TOKEN) });
    assert.equal(v.status, 200);
    assert.equal(v.json().auth_required, true);
    assert.equal((await call(base, '/connz', { headers: basic('', TOKEN) })).status, 200);
    assert.deepEqual((await call(base, '/api/whoami', { headers: bearer(TOKEN) })).json(), { user: null, auth_required: true });
  });

  it('a wrong token is refused and counted in authFailures; no credentials at all is not counted', async () => {
    const before = hub.stats().authFailures;
    const a = await call(base, '/varz', { headers: bearer('nope') });
    assert.equal(a.status, 401);
    assert.equal(a.text.includes('nope'), false, 'the refusal does not echo the credential');
    assert.equal((await call(base, '/varz', { headers: { authorization: 'Basic !!!' } })).status, 401);
    assert.equal(hub.stats().authFailures, before + 2);
    await call(base, '/varz');
    assert.equal(hub.stats().authFailures, before + 2);
  });

  it('refusals go through the hub’s brute-force tracker, shared with NATS logins; a success clears the address', async () => {
    // The tracker is the hub's own (private): reached into here, since its delay is what a test must not time.
    const failures = (hub as unknown as { auth: { failures: { size: number } } }).auth.failures;
    await call(base, '/varz', { headers: bearer('nope') });
    assert.equal(failures.size, 1);
    const nc = await connect({ servers: hub.url, token: TOKEN, reconnect: false });
    await nc.close();
    assert.equal(failures.size, 0, 'a NATS login from the same address cleared it');
    await call(base, '/varz', { headers: bearer('nope') });
    assert.equal(failures.size, 1);
    await call(base, '/varz', { headers: bearer(TOKEN) });
    assert.equal(failures.size, 0);
  });

  it('/healthz, / and the login route are open', async () => {
    const h = await call(base, '/healthz');
    assert.equal(h.status, 200);
    assert.deepEqual(h.json(), { status: 'ok' });
    assert.equal((await call(base, '/')).status, 200);
    assert.equal((await call(base, '/api/login', { method: 'GET' })).status, 405);
  });

  it('login with { token }', async () => {
    const a = await login(base, { token: TOKEN });
    assert.equal(a.status, 200);
    assert.deepEqual(a.json(), { user: null });
    assert.equal((await call(base, '/varz', { headers: { cookie: sessionCookie(a) } })).status, 200);
  });
});

describe('monitoring auth: users, sessions and per-viewer documents', { skip: SKIP }, () => {
  let hub: Hub;
  let base: string;
  let admin: NatsConnection;
  let alice: NatsConnection;
  before(async () => {
    ({ hub, base } = await startHub({
      jetstream: true,
      maxMonitorSessions: 3,
      authorization: {
        maxFailureDelay: 0,
        users: [
          { user: 'alice', password: ALICE_PW, permissions: { publish: ['orders.>'], subscribe: ['orders.>'] } },
          // bcrypt at the lowest cost: the test checks that a hash works, not how slow it is.
          { user: 'bob', password: bcrypt.hashSync(BOB_PW, 4) },
          { user: 'carol', password: CAROL_PW, permissions: { subscribe: { deny: ['secret.>', 'mixed.secret'] } } },
          { user: 'dave', password: DAVE_PW, permissions: { subscribe: ['orders.eu.>'] } },
        ],
      },
    }));
    admin = await connect({ servers: hub.url, user: 'bob', pass: BOB_PW, reconnect: false, name: 'admin' });
    for (const s of ['orders.x', 'secret.y', '>']) admin.subscribe(s);
    alice = await connect({ servers: hub.url, user: 'alice', pass: ALICE_PW, reconnect: false, name: 'alice' });
    alice.subscribe('orders.eu.>');
    const jsm = await jetstreamManager(admin);
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    await jsm.consumers.add('ORDERS', { durable_name: 'all', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('ORDERS', { durable_name: 'eu', ack_policy: AckPolicy.Explicit, filter_subject: 'orders.eu.>' });
    await jsm.consumers.add('ORDERS', { durable_name: 'us', ack_policy: AckPolicy.Explicit, filter_subject: 'orders.us.>' });
    await jsm.streams.add({ name: 'SECRET', subjects: ['secret.>'] });
    await jsm.consumers.add('SECRET', { durable_name: 'spy', ack_policy: AckPolicy.Explicit });
    await jsm.streams.add({ name: 'MIXED', subjects: ['mixed.pub', 'mixed.secret'] });
    await admin.flush();
    await alice.flush();
  });
  after(async () => {
    await closeAll(admin, alice);
    await hub?.close();
  });

  it('Basic with a plain and with a bcrypt password', async () => {
    assert.deepEqual((await call(base, '/api/whoami', { headers: basic('alice', ALICE_PW) })).json(), { user: 'alice', auth_required: true });
    assert.deepEqual((await call(base, '/api/whoami', { headers: basic('bob', BOB_PW) })).json(), { user: 'bob', auth_required: true });
  });

  it('a wrong password is refused and counted', async () => {
    const before = hub.stats().authFailures;
    assert.equal((await call(base, '/varz', { headers: basic('alice', 'wrong') })).status, 401);
    assert.equal((await call(base, '/varz', { headers: basic('bob', 'wrong') })).status, 401);
    assert.equal((await call(base, '/varz', { headers: basic('nobody', ALICE_PW) })).status, 401);
    assert.equal((await call(base, '/varz', { headers: bearer(ALICE_PW) })).status, 401, 'a token means nothing to a users list');
    assert.equal(hub.stats().authFailures, before + 4);
  });

  it('login sets an HttpOnly, SameSite=Strict session cookie; whoami, logout', async () => {
    const a = await login(base, { user: 'alice', password: ALICE_PW });
    assert.equal(a.status, 200);
    assert.deepEqual(a.json(), { user: 'alice' });
    const set = a.headers.get('set-cookie')!;
    assert.match(set, /^netemitter_session=[A-Za-z0-9_-]{43}; /);
    for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=43200']) assert.ok(set.split('; ').includes(attr), `${attr} in ${set}`);
    assert.equal(set.includes('Secure'), false, 'plain HTTP: no Secure');
    const cookie = sessionCookie(a);
    assert.deepEqual((await call(base, '/api/whoami', { headers: { cookie } })).json(), { user: 'alice', auth_required: true });
    assert.equal((await call(base, '/connz', { headers: { cookie } })).status, 200);

    const out = await call(base, '/api/logout', { method: 'POST', headers: { cookie } });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /^netemitter_session=; .*Max-Age=0/);
    const after = await call(base, '/api/whoami', { headers: { cookie } });
    assert.equal(after.status, 401);
    assert.deepEqual(after.json(), { error: 'session expired', auth_required: true });
  });

  it('a refused login is 401 JSON and counted; a bad body is 400 or 413, not counted', async () => {
    const before = hub.stats().authFailures;
    const a = await login(base, { user: 'alice', password: 'wrong' });
    assert.equal(a.status, 401);
    assert.equal(a.headers.get('set-cookie'), null);
    assert.deepEqual(a.json(), { error: 'invalid credentials', auth_required: true });
    assert.equal(hub.stats().authFailures, before + 1);

    assert.equal((await call(base, '/api/login', { method: 'POST', body: '{not json' })).status, 400);
    assert.equal((await login(base, { user: 'alice' })).status, 400);
    assert.equal((await login(base, { user: 'alice', password: 'x'.repeat(5000) })).status, 413);
    assert.equal((await chunkedLogin(base, 5000)).status, 413, 'no Content-Length: counted as it comes');
    const noType = await call(base, '/api/login', { method: 'POST', body: JSON.stringify({ user: 'alice', password: ALICE_PW }) });
    assert.equal(noType.status, 400);
    assert.equal(noType.json().error, 'Content-Type must be application/json');
    assert.equal(hub.stats().authFailures, before + 1);
  });

  it('an NKey-only user cannot log in over HTTP', async () => {
    const nkey = createUser().getPublicKey();
    const nkeyHub = createHub({ port: 0, httpPort: 0, authorization: { maxFailureDelay: 0, users: [{ nkey }] } });
    await nkeyHub.listen();
    try {
      const url = nkeyHub.monitorAddress!.url;
      const a = await call(url, '/varz', { headers: basic(nkey, 'anything') });
      assert.equal(a.status, 401);
    } finally {
      await nkeyHub.close();
    }
  });

  it('a cross-origin POST is refused; a same-origin one is not', async () => {
    const evil = await login(base, { user: 'alice', password: ALICE_PW }, { origin: 'https://evil.example' });
    assert.equal(evil.status, 403);
    const own = await login(base, { user: 'alice', password: ALICE_PW }, { origin: base });
    assert.equal(own.status, 200);
    // Behind a proxy that rewrites Host, a browser's Sec-Fetch-Site still tells.
    assert.equal((await login(base, { user: 'alice', password: ALICE_PW }, { origin: 'https://hub.example', 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal((await login(base, { user: 'alice', password: ALICE_PW }, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await call(base, '/api/logout', { method: 'POST', headers: { 'sec-fetch-site': 'same-site' } })).status, 403);
  });

  it('sessions are bounded: past maxMonitorSessions the oldest ends', async () => {
    const cookies: string[] = [];
    for (let i = 0; i < 4; i++) cookies.push(sessionCookie(await login(base, { user: 'carol', password: CAROL_PW })));
    const statuses = [];
    for (const cookie of cookies) statuses.push((await call(base, '/api/whoami', { headers: { cookie } })).status);
    assert.deepEqual(statuses, [401, 200, 200, 200]);
  });

  it('/connz lists only the subscriptions a viewer may subscribe to; counts stay totals', async () => {
    const subjects = async (auth: Record<string, string>): Promise<Record<string, { n: number; list: string[] }>> => {
      const doc = (await call(base, '/connz?subs=1', { headers: auth })).json() as { connections: { name: string; subscriptions: number; subscriptions_list?: string[] }[] };
      return Object.fromEntries(doc.connections.map((c) => [c.name, { n: c.subscriptions, list: (c.subscriptions_list ?? []).sort() }]));
    };
    const asBob = await subjects(basic('bob', BOB_PW));
    assert.deepEqual(asBob.admin!.list.filter((s) => !s.startsWith('_INBOX')), ['>', 'orders.x', 'secret.y']);
    const asAlice = await subjects(basic('alice', ALICE_PW));
    assert.deepEqual(asAlice.admin!.list, ['orders.x']);
    assert.equal(asAlice.admin!.n, asBob.admin!.n, 'the count is the total');
    assert.deepEqual(asAlice.alice!.list, ['orders.eu.>']);
    const asCarol = await subjects(basic('carol', CAROL_PW));
    assert.deepEqual(asCarol.admin!.list.filter((s) => !s.startsWith('_INBOX')), ['>', 'orders.x'], 'SUB > overlaps the deny but is allowed, as in nats-server');

    const detail = (await call(base, '/connz?subs=detail', { headers: basic('alice', ALICE_PW) })).json() as { connections: { name: string; subscriptions_list_detail?: { subject: string }[] }[] };
    const adminDetail = detail.connections.find((c) => c.name === 'admin')!;
    assert.deepEqual(adminDetail.subscriptions_list_detail!.map((s) => s.subject), ['orders.x']);
  });

  it('/subsz lists only visible subscriptions; num_subscriptions stays the total', async () => {
    const asBob = (await call(base, '/subsz?subs=1&limit=1000', { headers: basic('bob', BOB_PW) })).json();
    const asAlice = (await call(base, '/subsz?subs=1&limit=1000', { headers: basic('alice', ALICE_PW) })).json();
    const list = (d: Record<string, unknown>): string[] => (d.subscriptions_list as { subject: string }[]).map((s) => s.subject).sort();
    assert.deepEqual(list(asAlice), ['orders.eu.>', 'orders.x']);
    assert.equal(asAlice.total, 2);
    assert.equal(asAlice.num_subscriptions, asBob.num_subscriptions);
    assert.ok(list(asBob).includes('secret.y'));
    const tested = (await call(base, '/subsz?subs=1&test=secret.y', { headers: basic('alice', ALICE_PW) })).json();
    // Nothing to list: nats-server's counts-only form.
    assert.deepEqual([tested.total, 'subscriptions_list' in tested, typeof tested.num_subscriptions], [undefined, false, 'number'], 'a test subject the viewer may not read shows nothing');
  });

  it('/jsz shows the streams whose subjects the viewer may all subscribe to, and their consumers it may read; totals stay', async () => {
    const streams = async (auth: Record<string, string>): Promise<{ doc: Record<string, unknown>; shown: Record<string, string[]> }> => {
      const doc = (await call(base, '/jsz?consumers=1', { headers: auth })).json();
      const details = (doc.account_details as { stream_detail?: { name: string; consumer_detail?: { name: string }[] }[] }[])[0]!.stream_detail ?? [];
      return { doc, shown: Object.fromEntries(details.map((s) => [s.name, (s.consumer_detail ?? []).map((c) => c.name).sort()])) };
    };
    const bob = await streams(basic('bob', BOB_PW));
    assert.deepEqual(bob.shown, { ORDERS: ['all', 'eu', 'us'], SECRET: ['spy'], MIXED: [] });
    const alice = await streams(basic('alice', ALICE_PW));
    assert.deepEqual(alice.shown, { ORDERS: ['all', 'eu', 'us'] });
    assert.equal(alice.doc.streams, 3, 'the totals are the hub’s');
    assert.equal(alice.doc.consumers, 4);
    // carol may not read mixed.secret: MIXED's numbers count it, so MIXED is hidden.
    const carol = await streams(basic('carol', CAROL_PW));
    assert.deepEqual(carol.shown, { ORDERS: ['all', 'eu', 'us'] });
    // dave may read orders.eu.> only: not the stream as a whole (orders.>), so not the stream.
    const dave = await streams(basic('dave', DAVE_PW));
    assert.deepEqual(dave.shown, {});
  });
  it('the live API: 401 without credentials; a tail of > shows only what the user may read', async () => {
    const refused = await SseClient.open(`${base}/api/live`);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['www-authenticate'], undefined, 'an API path: no browser dialog');
    refused.close();

    const cookie = sessionCookie(await login(base, { user: 'alice', password: ALICE_PW }));
    const live = await SseClient.open(`${base}/api/live?tail=%3E`, { cookie });
    try {
      assert.equal(live.status, 200);
      const hello = await live.waitFor('hello');
      assert.deepEqual([hello.data.user, hello.data.auth_required], ['alice', true]);
      await live.waitFor('stats');
      admin.publish('secret.y', 'hidden');
      admin.publish('orders.x', 'shown');
      await admin.flush();
      await live.waitFor('msg', (d) => d.subject === 'orders.x');
      // secret.y went first on the same connection: had the tail let it through, it would be here already.
      assert.deepEqual(live.named('msg').map((e) => e.data.subject), ['orders.x']);
    } finally {
      live.close();
    }
  });

  it('the live streams view and publish follow the same permissions', async () => {
    const view = await SseClient.open(`${base}/api/live?view=streams`, basic('carol', CAROL_PW));
    try {
      const v = await view.waitFor('view');
      assert.deepEqual(v.data.streams.map((st: { name: string }) => st.name).sort(), ['ORDERS']);
    } finally {
      view.close();
    }
    const publish = (subject: string): Promise<Answer> =>
      call(base, '/api/publish', { method: 'POST', headers: { 'content-type': 'application/json', ...basic('alice', ALICE_PW) }, body: JSON.stringify({ subject, payload: 'x' }) });
    assert.equal((await publish('secret.z')).status, 403);
    assert.equal((await publish('orders.p')).status, 200);
  });
});

describe('monitoring auth: without authorization', { skip: SKIP }, () => {
  it('everything is open; whoami says so; login is a no-op', async () => {
    const { hub, base } = await startHub({});
    try {
      assert.equal((await call(base, '/varz')).status, 200);
      assert.deepEqual((await call(base, '/api/whoami')).json(), { user: null, auth_required: false });
      const a = await login(base, { token: 'whatever' });
      assert.deepEqual(a.json(), { user: null });
      assert.equal(a.headers.get('set-cookie'), null);
    } finally {
      await hub.close();
    }
  });
});

// ── the viewer and the session store, without a listener ─────────────────

describe('monitoring viewer', () => {
  it('a tail of > for a user allowed orders.> sees orders.x, not secret.y', () => {
    const permissions = compilePermissions({ subscribe: ['orders.>'], publish: { deny: ['orders.locked'] } });
    const v = viewerOf({ identity: { user: 'alice' }, permissions });
    assert.equal(v.user, 'alice');
    assert.equal(v.maySubscribe('orders.x'), true);
    assert.equal(v.maySubscribe('secret.y'), false);
    assert.equal(v.maySubscribe('>'), false, 'as a SUB would be judged');
    assert.equal(v.mayPublish('orders.x'), true);
    assert.equal(v.mayPublish('orders.locked'), false);
  });

  it('a deny is checked on each literal subject, as delivery checks it', () => {
    const v = viewerOf({ identity: { user: 'carol' }, permissions: compilePermissions({ subscribe: { deny: ['secret.>'] } }) });
    assert.equal(v.maySubscribe('orders.x'), true);
    assert.equal(v.maySubscribe('secret.y'), false);
    assert.equal(v.maySubscribe('>'), true, 'SUB > is allowed; its secret messages are not delivered');
  });

  it('a user without permissions, or a token, may do everything', () => {
    const v = viewerOf({ identity: {}, permissions: null });
    assert.equal(v.user, undefined);
    assert.equal(v.maySubscribe('anything.at.all'), true);
    assert.equal(v.mayPublish('x'), true);
  });

  it('reads Authorization headers', () => {
    assert.deepEqual(parseAuthorization('Bearer abc'), { kind: 'token', token: 'abc' });
    assert.deepEqual(parseAuthorization('bAsIc ' + Buffer.from('u:p:q').toString('base64')), { kind: 'basic', user: 'u', password: 'p:q' });
    for (const bad of ['Basic', 'Basic !!', 'Basic ' + Buffer.from('nocolon').toString('base64'), 'Digest x', 'Bearer a b']) {
      assert.equal(typeof parseAuthorization(bad), 'symbol', bad);
    }
  });
});

describe('monitoring sessions', () => {
  it('expire after their ttl', () => {
    const s = new SessionStore<string>(10, 1000);
    const id = s.create('alice', 0);
    assert.equal(s.get(id, 999), 'alice');
    assert.equal(s.get(id, 1000), undefined);
    assert.equal(s.size, 0);
  });

  it('expired ones are swept as new ones come; past max the oldest goes', () => {
    const s = new SessionStore<number>(2, 1000);
    const a = s.create(1, 0);
    const b = s.create(2, 10);
    const c = s.create(3, 20);
    assert.deepEqual([s.get(a, 30), s.get(b, 30), s.get(c, 30)], [undefined, 2, 3]);
    s.create(4, 2000);
    assert.equal(s.size, 1);
  });

  it('unknown and malformed ids, logout', () => {
    const s = new SessionStore<number>(2, 1000);
    const id = s.create(1, 0);
    assert.equal(s.get('x', 0), undefined);
    assert.equal(s.get(id.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')), 0), undefined);
    assert.equal(s.delete(id), true);
    assert.equal(s.get(id, 0), undefined);
  });

  it('bad limits are config errors', () => {
    assert.throws(() => createHub({ port: 0, maxMonitorSessions: 0 }), /maxMonitorSessions/);
    assert.throws(() => createHub({ port: 0, monitorSessionTtl: -1 }), /monitorSessionTtl/);
  });
});

// ── HTTPS ─────────────────────────────────────────────────────────────────

interface TlsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** An HTTPS request trusting the test CA (fetch cannot be given a CA). */
function httpsCall(url: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...tls, method: init.method ?? 'GET', headers: init.headers, timeout: TIMEOUT_MS, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('monitoring over HTTPS', { skip: SKIP }, () => {
  let certs: TestCerts;
  before(async () => {
    certs = await makeCerts();
  });

  it('serves HTTPS with the hub’s certificate; plain HTTP to it gets a 400', async () => {
    const { hub, base } = await startHub({ tls: { cert: certs.server.cert.path, key: certs.server.key.path }, authorization: { token: TOKEN } });
    try {
      assert.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
      const v = await httpsCall(`${base}/varz`, { ca: certs.ca.pem }, { headers: bearer(TOKEN) });
      assert.equal(v.status, 200);
      const varz = JSON.parse(v.text) as Record<string, unknown>;
      assert.deepEqual([varz.http_port, varz.https_port], [0, hub.monitorAddress!.port]);
      assert.equal((await httpsCall(`${base}/varz`, { ca: certs.ca.pem })).status, 401);

      const l = await httpsCall(`${base}/api/login`, { ca: certs.ca.pem }, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
      assert.equal(l.status, 200);
      const set = String(l.headers['set-cookie']);
      assert.ok(set.split('; ').includes('Secure'), set);

      // As nats-server (Go's net/http) answers it.
      const plain = await call(base.replace('https:', 'http:'), '/healthz');
      assert.equal(plain.status, 400);
      assert.equal(plain.text, 'Client sent an HTTP request to an HTTPS server.\n');
    } finally {
      await hub.close();
    }
  });

  it('with tls.verify and authorization, no client certificate is asked for', async () => {
    const tls = { cert: certs.server.cert.path, key: certs.server.key.path, ca: certs.ca.path, verify: true };
    const { hub, base } = await startHub({ tls, authorization: { token: TOKEN } });
    try {
      assert.equal((await httpsCall(`${base}/varz`, { ca: certs.ca.pem }, { headers: bearer(TOKEN) })).status, 200);
    } finally {
      await hub.close();
    }
  });

  it('with tls.verify and no authorization, the certificate is the guard: required', async () => {
    const tls = { cert: certs.server.cert.path, key: certs.server.key.path, ca: certs.ca.path, verify: true };
    const { hub, base } = await startHub({ tls });
    try {
      const client = { ca: certs.ca.pem, cert: certs.client.cert.pem, key: certs.client.key.pem };
      assert.equal((await httpsCall(`${base}/varz`, client)).status, 200);
      await assert.rejects(httpsCall(`${base}/varz`, { ca: certs.ca.pem }));
      await assert.rejects(httpsCall(`${base}/varz`, { ca: certs.ca.pem, cert: certs.untrustedClient.cert.pem, key: certs.untrustedClient.key.pem }));
    } finally {
      await hub.close();
    }
  });
});
