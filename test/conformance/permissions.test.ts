/**
 * Per-user publish and subscribe permissions (issue #14): allow and deny
 * lists with wildcards (deny wins), the delivery-time subscribe deny,
 * allowResponses, default permissions, and JetStream API subjects. The
 * violations' exact -ERR text and the connection staying open are
 * nats-server 2.9.10's (test/CONFORMANCE-NOTES.md, "Security").
 *
 * Raw connections make the wire exact; `roundTrip` (PING/PONG) is the
 * barrier: once a connection's PONG arrives, everything it sent before has
 * been handled, and a receiver's own round trip after that shows whether a
 * message was delivered.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startServer, type TestServer, SKIP_NATS_JS } from '../helpers/target.js';
import { connectLine, RawClient } from '../helpers/raw.js';
import { closeAll, connectTo, rejection } from '../helpers/client.js';
import type { AuthorizationOptions } from '../../src/server/security/types.js';

const pubViolation = (s: string): string => `-ERR 'Permissions Violation for Publish to "${s}"'\r\n`;
const subViolation = (s: string, q?: string): string =>
  `-ERR 'Permissions Violation for Subscription to "${s}"${q === undefined ? '' : ` using queue "${q}"`}'\r\n`;

const PASS = 'pw';

const AUTH: AuthorizationOptions = {
  users: [
    {
      user: 'alice',
      password: PASS,
      permissions: {
        publish: { allow: ['orders.>'], deny: ['orders.secret'] },
        subscribe: { allow: ['orders.>', '_INBOX.>'], deny: ['orders.audit'] },
      },
    },
    { user: 'admin', password: PASS, permissions: { publish: ['>'], subscribe: ['>'] } },
    { user: 'watcher', password: PASS, permissions: { subscribe: { allow: ['>'], deny: ['secret.>', 'audit'] } } },
    { user: 'denyonly', password: PASS, permissions: { subscribe: { deny: ['secret.>'] } } },
    { user: 'resp', password: PASS, permissions: { publish: { deny: ['>'] }, subscribe: ['svc.>'], allowResponses: true } },
    { user: 'resp2', password: PASS, permissions: { publish: { deny: ['>'] }, subscribe: ['svc.>'], allowResponses: { max: 2 } } },
    { user: 'respexp', password: PASS, permissions: { publish: { deny: ['>'] }, subscribe: ['svc.>'], allowResponses: { max: 5, expires: 200 } } },
    // No permissions of its own: defaultPermissions apply.
    { user: 'plain', password: PASS },
  ],
  defaultPermissions: { publish: ['public.>'], subscribe: ['public.>', '_INBOX.>'] },
};

/** A raw client logged in as `user`, its CONNECT handled. */
async function login(server: TestServer, user: string, connect: Record<string, unknown> = {}): Promise<RawClient> {
  const c = await RawClient.connect(server);
  const expected = connect.verbose === true ? '+OK\r\nPONG\r\n' : 'PONG\r\n';
  assert.equal(await step(c, connectLine({ user, pass: PASS, ...connect })), expected, `${user} logged in`);
  return c;
}

/** How much of each client's received text a step has already returned. */
const consumed = new WeakMap<RawClient, number>();

/**
 * Sends `data` + PING and returns everything received since the previous
 * step on this client (deliveries that arrived meanwhile included), up to
 * this round trip's PONG.
 */
async function step(c: RawClient, data: string): Promise<string> {
  const text = await c.roundTrip(data);
  const from = consumed.get(c) ?? 0;
  consumed.set(c, text.length);
  return text.slice(from);
}

describe('permissions: publish and subscribe', () => {
  let server: TestServer;
  const open: RawClient[] = [];
  const as = async (user: string, connect?: Record<string, unknown>): Promise<RawClient> => {
    const c = await login(server, user, connect);
    open.push(c);
    return c;
  };

  before(async () => {
    server = await startServer({ authorization: AUTH });
  });

  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await server.stop();
  });

  it('publish denied: the exact -ERR, the connection stays open, and the message reaches nobody', async () => {
    const admin = await as('admin');
    const alice = await as('alice');
    assert.equal(await step(admin, 'SUB > 1\r\n'), 'PONG\r\n');
    // Denied by deny (inside allow), then not in allow, then allowed.
    assert.equal(
      await step(alice, 'PUB orders.secret 1\r\na\r\nPUB other 1\r\nb\r\nPUB orders.ok 1\r\nc\r\n'),
      pubViolation('orders.secret') + pubViolation('other') + 'PONG\r\n',
    );
    assert.equal(alice.isClosed, false);
    assert.equal(await step(admin, ''), 'MSG orders.ok 1 1\r\nc\r\nPONG\r\n');
  });

  it('HPUB is checked like PUB', async () => {
    const alice = await as('alice');
    assert.equal(await step(alice, 'HPUB orders.secret 12 14\r\nNATS/1.0\r\n\r\nhi\r\n'), pubViolation('orders.secret') + 'PONG\r\n');
  });

  it('a denied publish with verbose on: the -ERR alone, no +OK', async () => {
    const alice = await as('alice', { verbose: true });
    assert.equal(await step(alice, 'PUB orders.secret 1\r\na\r\n'), pubViolation('orders.secret') + 'PONG\r\n');
    assert.equal(await step(alice, 'PUB orders.ok 1\r\na\r\n'), '+OK\r\nPONG\r\n');
  });

  it('a denied SUB with verbose on: the -ERR alone; an UNSUB of its sid is +OK', async () => {
    const alice = await as('alice', { verbose: true });
    assert.equal(await step(alice, 'SUB other 1\r\nUNSUB 1\r\nSUB orders.x 2\r\n'), subViolation('other') + '+OK\r\n+OK\r\nPONG\r\n');
  });

  it('the reply subject of a PUB is not checked against publish permissions', async () => {
    const alice = await as('alice');
    assert.equal(await step(alice, 'PUB orders.x elsewhere.reply 1\r\na\r\n'), 'PONG\r\n');
  });

  it('subscribe denied: the exact -ERR (with the queue when there is one); the connection stays open', async () => {
    const alice = await as('alice');
    assert.equal(
      await step(alice, 'SUB orders.audit 1\r\nSUB orders.audit q1 2\r\nSUB other 3\r\nSUB other grp 4\r\nSUB > 5\r\n'),
      subViolation('orders.audit') + subViolation('orders.audit', 'q1') + subViolation('other') + subViolation('other', 'grp') + subViolation('>') + 'PONG\r\n',
    );
    assert.equal(alice.isClosed, false);
  });

  it('a refused SUB is not added: nothing is delivered on its sid', async () => {
    const admin = await as('admin');
    const alice = await as('alice');
    assert.equal(await step(alice, 'SUB other 7\r\n'), subViolation('other') + 'PONG\r\n');
    assert.equal(await step(admin, 'PUB other 1\r\nx\r\n'), 'PONG\r\n');
    assert.equal(await step(alice, ''), 'PONG\r\n');
  });

  it('a wildcard SUB inside a subscribe deny is refused; one that merely overlaps it is allowed', async () => {
    const watcher = await as('watcher');
    assert.equal(
      await step(watcher, 'SUB secret.* 1\r\nSUB secret.> 2\r\nSUB > 3\r\nSUB * 4\r\n'),
      subViolation('secret.*') + subViolation('secret.>') + 'PONG\r\n',
    );
  });

  it('a SUB to > never receives a subject its subscribe deny covers, and receives the others in order', async () => {
    const admin = await as('admin');
    // One subscription per connection: the order in which one message reaches two subscriptions of a connection is not specified.
    const watcher = await as('watcher');
    const watcherStar = await as('watcher');
    const denyOnly = await as('denyonly');
    assert.equal(await step(watcher, 'SUB > 1\r\n'), 'PONG\r\n');
    assert.equal(await step(watcherStar, 'SUB * 2\r\n'), 'PONG\r\n');
    assert.equal(await step(denyOnly, 'SUB > 3\r\n'), 'PONG\r\n');
    assert.equal(await step(admin, 'PUB secret.x 1\r\n1\r\nPUB audit 1\r\n2\r\nPUB open 1\r\n3\r\nPUB secret 1\r\n4\r\nPUB secret.a.b 1\r\n5\r\n'), 'PONG\r\n');
    assert.equal(await step(watcher, ''), 'MSG open 1 1\r\n3\r\nMSG secret 1 1\r\n4\r\nPONG\r\n');
    assert.equal(await step(watcherStar, ''), 'MSG open 2 1\r\n3\r\nMSG secret 2 1\r\n4\r\nPONG\r\n');
    assert.equal(await step(denyOnly, ''), 'MSG audit 3 1\r\n2\r\nMSG open 3 1\r\n3\r\nMSG secret 3 1\r\n4\r\nPONG\r\n');
  });

  it('an allowed SUB that overlaps a deny (orders.>, or orders.* in a queue group) is filtered at delivery', async () => {
    const admin = await as('admin');
    const alice = await as('alice');
    const aliceQueue = await as('alice');
    assert.equal(await step(alice, 'SUB orders.> 1\r\n'), 'PONG\r\n');
    assert.equal(await step(aliceQueue, 'SUB orders.* q 2\r\n'), 'PONG\r\n');
    assert.equal(await step(admin, 'PUB orders.audit 1\r\na\r\nPUB orders.new 1\r\nn\r\n'), 'PONG\r\n');
    assert.equal(await step(alice, ''), 'MSG orders.new 1 1\r\nn\r\nPONG\r\n');
    assert.equal(await step(aliceQueue, ''), 'MSG orders.new 2 1\r\nn\r\nPONG\r\n');
  });

  it('defaultPermissions apply to a user that lists none, and not to users that list their own', async () => {
    const plain = await as('plain');
    assert.equal(
      await step(plain, 'SUB private 1\r\nPUB private 1\r\nx\r\nSUB public.a 2\r\nPUB public.a 1\r\ny\r\n'),
      subViolation('private') + pubViolation('private') + 'MSG public.a 2 1\r\ny\r\nPONG\r\n',
    );
    // alice's own permissions allow orders.x, which the defaults do not.
    const alice = await as('alice');
    assert.equal(await step(alice, 'SUB orders.x 1\r\nPUB orders.x 1\r\nz\r\nPUB public.a 1\r\ny\r\n'), 'MSG orders.x 1 1\r\nz\r\n' + pubViolation('public.a') + 'PONG\r\n');
  });

  it('nats.js reports a denied publish as a PermissionViolationError and stays connected', { skip: SKIP_NATS_JS }, async () => {
    const nc = await connectTo(server, { user: 'alice', pass: PASS });
    try {
      const errors: Error[] = [];
      const watching = (async () => {
        for await (const s of nc.status()) if (s.type === 'error') errors.push(s.error);
      })();
      nc.publish('orders.secret', 'x');
      await nc.flush();
      const err = await rejection(nc.request('other', 'x', { timeout: 2_000 }));
      assert.ok(err.cause instanceof PermissionViolationError, `got ${err.name}: ${err.message}`);
      assert.equal(err.cause.message, 'Permissions Violation for Publish to "other"');
      assert.equal(nc.isClosed(), false);
      await nc.close();
      await watching;
      assert.ok(
        errors.some((e) => e instanceof PermissionViolationError && e.message === 'Permissions Violation for Publish to "orders.secret"'),
        `status errors: ${errors.map((e) => e.message).join('; ')}`,
      );
    } finally {
      await closeAll(nc);
    }
  });
});

describe('permissions: allowResponses', () => {
  let server: TestServer;
  let admin: RawClient;
  let n = 0;

  before(async () => {
    server = await startServer({ authorization: AUTH });
    admin = await login(server, 'admin');
  });

  after(async () => {
    await admin.close();
    await server.stop();
  });

  /** `user` subscribed to svc.echo, with one request from admin received; returns its connection and the reply subject. */
  async function requested(user: string): Promise<{ r: RawClient; inbox: string; sid: number }> {
    const r = await login(server, user);
    const sid = ++n;
    const inbox = `_INBOX.req${sid}`;
    assert.equal(await step(r, 'SUB svc.echo 1\r\n'), 'PONG\r\n');
    assert.equal(await step(admin, `SUB ${inbox} ${sid}\r\nPUB svc.echo ${inbox} 2\r\nhi\r\n`), 'PONG\r\n');
    await r.until(`MSG svc.echo 1 ${inbox} 2\r\nhi\r\n`);
    assert.equal(await step(r, ''), `MSG svc.echo 1 ${inbox} 2\r\nhi\r\nPONG\r\n`);
    return { r, inbox, sid };
  }

  it('true: one reply to a received request passes, a second is refused, an arbitrary _INBOX is refused', async () => {
    const { r, inbox, sid } = await requested('resp');
    try {
      assert.equal(await step(r, `PUB ${inbox} 2\r\nr1\r\n`), 'PONG\r\n');
      assert.equal(await step(r, `PUB ${inbox} 2\r\nr2\r\n`), pubViolation(inbox) + 'PONG\r\n');
      assert.equal(await step(r, 'PUB _INBOX.other 2\r\nr3\r\n'), pubViolation('_INBOX.other') + 'PONG\r\n');
      assert.equal(await step(admin, `UNSUB ${sid}\r\n`), `MSG ${inbox} ${sid} 2\r\nr1\r\nPONG\r\n`);
    } finally {
      await r.close();
    }
  });

  it('{ max: 2 }: two replies pass, the third is refused', async () => {
    const { r, inbox, sid } = await requested('resp2');
    try {
      assert.equal(await step(r, `PUB ${inbox} 2\r\nr1\r\nPUB ${inbox} 2\r\nr2\r\n`), 'PONG\r\n');
      assert.equal(await step(r, `PUB ${inbox} 2\r\nr3\r\n`), pubViolation(inbox) + 'PONG\r\n');
      assert.equal(await step(admin, `UNSUB ${sid}\r\n`), `MSG ${inbox} ${sid} 2\r\nr1\r\nMSG ${inbox} ${sid} 2\r\nr2\r\nPONG\r\n`);
    } finally {
      await r.close();
    }
  });

  it('{ expires: 200 ms }: a reply after the right expired is refused', async () => {
    const { r, inbox, sid } = await requested('respexp');
    try {
      // Not an ordering barrier: the condition under test is the right's age.
      await sleep(500);
      assert.equal(await step(r, `PUB ${inbox} 2\r\nr1\r\n`), pubViolation(inbox) + 'PONG\r\n');
      assert.equal(await step(admin, `UNSUB ${sid}\r\n`), 'PONG\r\n');
    } finally {
      await r.close();
    }
  });

  it('without a request there is no right: a reply-shaped publish is refused', async () => {
    const r = await login(server, 'resp');
    try {
      assert.equal(await step(r, 'PUB _INBOX.req999 1\r\nx\r\n'), pubViolation('_INBOX.req999') + 'PONG\r\n');
    } finally {
      await r.close();
    }
  });

  it('nats.js: a responder without publish rights answers a request', { skip: SKIP_NATS_JS }, async () => {
    const responder = await connectTo(server, { user: 'resp', pass: PASS });
    const requester = await connectTo(server, { user: 'admin', pass: PASS });
    try {
      responder.subscribe('svc.echo', { callback: (_e, m) => void m.respond(`echo:${m.string()}`) });
      await responder.flush();
      const reply = await requester.request('svc.echo', 'ping', { timeout: 5_000 });
      assert.equal(reply.string(), 'echo:ping');
    } finally {
      await closeAll(responder, requester);
    }
  });
});

describe('permissions: JetStream API subjects', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  let admin: NatsConnection;
  let limited: NatsConnection;

  before(async () => {
    server = await startServer({
      jetstream: true,
      authorization: {
        users: [
          { user: 'admin', password: PASS },
          {
            user: 'limited',
            password: PASS,
            permissions: { publish: { allow: ['$JS.API.>'], deny: ['$JS.API.STREAM.CREATE.>'] }, subscribe: ['_INBOX.>'] },
          },
        ],
      },
    });
    admin = await connectTo(server, { user: 'admin', pass: PASS });
    limited = await connectTo(server, { user: 'limited', pass: PASS });
  });

  after(async () => {
    await closeAll(admin, limited);
    await server.stop();
  });

  it('a user without $JS.API.STREAM.CREATE.> cannot create a stream; a user with it can, and the first still reads it', async () => {
    const jsLimited = await jetstreamManager(limited);
    const err = await rejection(jsLimited.streams.add({ name: 'DENIED', subjects: ['denied.>'] }));
    assert.ok(err.cause instanceof PermissionViolationError, `got ${err.name}: ${err.message}`);
    assert.equal(err.cause.message, 'Permissions Violation for Publish to "$JS.API.STREAM.CREATE.DENIED"');

    const jsAdmin = await jetstreamManager(admin);
    const created = await jsAdmin.streams.add({ name: 'ALLOWED', subjects: ['allowed.>'] });
    assert.equal(created.config.name, 'ALLOWED');
    assert.equal((await jsLimited.streams.info('ALLOWED')).config.name, 'ALLOWED');
    assert.deepEqual((await jsAdmin.streams.names().next()).sort(), ['ALLOWED']);
    assert.equal(limited.isClosed(), false);
  });
});
