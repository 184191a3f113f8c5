/**
 * Authentication: each mechanism accepted and refused, NKey nonce signing
 * with real key pairs, bcrypt hashes made at test time, the bounds on bcrypt
 * work, the hook, validation messages (never holding a secret) and the
 * brute-force tracker's bound.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { hash as bcryptHash } from 'bcryptjs';
import { createUser, createAccount } from '@nats-io/nkeys';
import { nkeyAuthenticator, usernamePasswordAuthenticator, tokenAuthenticator } from '@nats-io/transport-node';
import { Authenticator, FailureTracker, AuthDefaults, FailureDefaults, type AuthResult } from '../../../src/server/security/auth.js';
import { ConfigError } from '../../../src/errors.js';
import type { Peer } from '../../../src/transport.js';
import type { AuthorizationOptions, AuthenticateHook, ConnectRequest, Identity } from '../../../src/server/security/types.js';

const peer: Peer = { address: '127.0.0.1', port: 50000, listener: { kind: 'tcp', url: 'nats://127.0.0.1:4222' }, tls: null };

function make(opts: AuthorizationOptions | undefined, hook?: AuthenticateHook, limits?: Parameters<typeof Authenticator.create>[2]): Authenticator {
  const a = Authenticator.create(opts, hook, limits);
  assert.ok(a !== null);
  return a;
}

/** A check that must answer synchronously. */
function now(a: Authenticator, connect: ConnectRequest, nonce?: string): AuthResult | null {
  const r = a.check(connect, peer, nonce);
  assert.ok(!(r instanceof Promise), 'expected a synchronous answer');
  return r;
}

function userOf(r: AuthResult | null): string | undefined | null {
  return r === null ? null : r.identity.user;
}

describe('Authenticator.create', () => {
  it('is null when nothing is configured', () => {
    assert.equal(Authenticator.create(undefined, undefined), null);
    assert.equal(Authenticator.create({}, undefined), null);
    assert.equal(Authenticator.create({ timeout: 5000, defaultPermissions: { subscribe: ['x'] } }, undefined), null);
    assert.equal(Authenticator.create({ users: [] }, undefined), null);
    assert.notEqual(Authenticator.create(undefined, () => null), null);
  });

  it('has nats-server defaults: a 2 s timeout; a nonce only for NKey users or a hook', () => {
    assert.equal(make({ token: 't' }).timeout, 2000);
    assert.equal(AuthDefaults.timeout, 2000);
    assert.equal(make({ token: 't', timeout: 500 }).timeout, 500);
    assert.equal(make({ token: 't' }).nonce, false);
    assert.equal(make({ users: [{ user: 'a', password: 'b' }] }).nonce, false);
    assert.equal(make({ users: [{ nkey: createUser().getPublicKey() }] }).nonce, true);
    assert.equal(make(undefined, () => null).nonce, true);
  });

  it('makes nonces as nats-server does: 11 random bytes, base64url without padding', () => {
    const a = make({ token: 't' });
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const n = a.newNonce();
      assert.match(n, /^[A-Za-z0-9_-]{15}$/);
      assert.equal(Buffer.from(n, 'base64url').length, 11);
      seen.add(n);
    }
    assert.equal(seen.size, 100);
  });
});

describe('validation', () => {
  const SECRET = 's3cr3t-value';
  function message(opts: unknown, hook?: unknown): string {
    try {
      Authenticator.create(opts as AuthorizationOptions, hook as AuthenticateHook);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.ok(!err.message.includes(SECRET), 'no secret in the message');
      return err.message;
    }
    assert.fail('expected a ConfigError');
  }
  const alice = { user: 'alice', password: SECRET };

  it('refuses combinations nats-server refuses', () => {
    assert.equal(message({ token: SECRET, users: [alice] }), 'authorization: a token cannot be combined with users (nats-server refuses it too)');
    assert.equal(message({ token: SECRET, users: [{ nkey: createUser().getPublicKey() }] }), 'authorization: a token cannot be combined with users (nats-server refuses it too)');
    assert.equal(message({ token: SECRET, user: 'u', password: SECRET }), 'authorization: a token cannot be combined with user and password');
    assert.equal(message({ user: 'u', password: SECRET, users: [alice] }), 'authorization: a single user and password cannot be combined with users (list that user in users instead)');
  });

  it('refuses users that cannot log in', () => {
    assert.equal(message({ users: [alice, { user: 'alice', password: SECRET }] }), 'authorization.users[1]: user "alice" is listed twice');
    assert.equal(message({ users: [alice, { user: 'bob' }] }), 'authorization.users[1]: user "bob" has no password');
    assert.equal(message({ users: [{ permissions: {} }] }), 'authorization.users[0]: needs a user and password, or an nkey');
    assert.equal(message({ users: [{ user: '', password: SECRET }] }), 'authorization.users[0].user: expected a non-empty string');
    assert.equal(message({ users: ['alice'] }), 'authorization.users[0]: expected an object with user and password, or nkey');
    assert.equal(message({ users: [{ ...alice, pasword: SECRET }] }), 'authorization.users[0]: unknown key "pasword" (expected user, password, nkey, permissions)');
    assert.equal(message({ user: 'u' }), 'authorization.user: has no password');
    assert.equal(message({ password: SECRET }), 'authorization.password: has no user');
    assert.equal(message({ token: '' }), 'authorization.token: expected a non-empty string');
    assert.equal(message({ users: [{ user: 'a', password: '$2a$10$tooShort' + SECRET }] }), 'authorization.users[0].password: starts like a bcrypt hash but is not one this hub can check ($2a$, $2b$ or $2y$, 60 characters)');
    assert.match(message({ token: '$2x$04$' + 'a'.repeat(53) }), /^authorization\.token: starts like a bcrypt hash/);
  });

  it('refuses NKeys that are not a user public key', () => {
    const user = createUser();
    const where = 'authorization.users[0].nkey: not a user\'s public NKey (56 characters starting with U)';
    assert.equal(message({ users: [{ nkey: createAccount().getPublicKey() }] }), where);
    assert.equal(message({ users: [{ nkey: user.getPublicKey().slice(0, -1) + 'A' }] }), where);
    assert.equal(message({ users: [{ nkey: new TextDecoder().decode(user.getSeed()) }] }), where);
    assert.equal(message({ users: [{ nkey: user.getPublicKey(), user: 'x' }] }), 'authorization.users[0]: an NKey user takes no user or password');
    const pk = user.getPublicKey();
    assert.equal(message({ users: [{ nkey: pk }, { nkey: pk }] }), 'authorization.users[1]: this NKey is listed twice');
  });

  it('checks timeout, permissions and the hook', () => {
    assert.equal(message({ token: 't', timeout: -1 }), 'authorization.timeout: expected a positive integer of milliseconds');
    assert.equal(message({ token: 't', timeout: 1.5 }), 'authorization.timeout: expected a positive integer of milliseconds');
    assert.equal(message({ timeout: 0 }), 'authorization.timeout: expected a positive integer of milliseconds');
    assert.equal(message({ users: [{ ...alice, permissions: { publish: ['a..b'] } }] }), 'authorization.users[0].permissions.publish[0]: "a..b" is not a subject');
    assert.equal(message({ defaultPermissions: { subscribe: 'x y z' } }), 'authorization.defaultPermissions.subscribe[0]: "x y z" is not a subject or "subject queue"');
    assert.equal(message({ tokn: SECRET }), 'authorization: unknown key "tokn" (expected timeout, token, user, password, users, defaultPermissions, maxFailureDelay)');
    assert.equal(message(undefined, 'yes'), 'authenticate: expected a function');
  });
});

describe('token', () => {
  const a = make({ token: 'T0ken' });
  it('accepts the token, refuses anything else', () => {
    const ok = now(a, { auth_token: 'T0ken' });
    assert.ok(ok !== null);
    assert.equal(ok.identity.user, undefined);
    assert.equal(ok.permissions, null);
    assert.equal(now(a, { auth_token: 'T0ken!' }), null);
    assert.equal(now(a, { auth_token: '' }), null);
    assert.equal(now(a, {}), null);
    assert.equal(now(a, { user: 'T0ken', pass: 'T0ken' }), null);
    assert.equal(now(a, { auth_token: 42 as unknown as string }), null);
  });
});

describe('single user and password', () => {
  const a = make({ user: 'admin', password: 'pw' });
  it('accepts the pair, refuses a wrong user or password', () => {
    assert.equal(userOf(now(a, { user: 'admin', pass: 'pw' })), 'admin');
    assert.equal(now(a, { user: 'admin', pass: 'pW' }), null);
    assert.equal(now(a, { user: 'Admin', pass: 'pw' }), null);
    assert.equal(now(a, { pass: 'pw' }), null);
    assert.equal(now(a, { auth_token: 'pw' }), null);
  });
});

describe('users with plain and bcrypt passwords', () => {
  let bcrypt: string;
  let a: Authenticator;
  before(async () => {
    bcrypt = await bcryptHash('b-pass', 4);
    a = make({
      users: [
        { user: 'alice', password: 'a-pass', permissions: { publish: ['orders.>'] } },
        { user: 'bob', password: bcrypt },
        { user: 'carol', password: 'c-pass' },
      ],
      defaultPermissions: { subscribe: ['public.>'] },
    });
  });

  it('plain: accepted with the user\'s permissions, synchronously', () => {
    const r = now(a, { user: 'alice', pass: 'a-pass' });
    assert.ok(r !== null && r.permissions !== null);
    assert.equal(r.identity.user, 'alice');
    assert.deepEqual(r.identity.permissions, { publish: ['orders.>'] });
    assert.equal(r.permissions.canPublish('orders.new'), true);
    assert.equal(r.permissions.canPublish('other'), false);
    // Shared between connections: one compiled object, one warm cache.
    assert.equal(now(a, { user: 'alice', pass: 'a-pass' })!.permissions, r.permissions);
  });

  it('plain: refused for a wrong password, an unknown or missing user', () => {
    assert.equal(now(a, { user: 'alice', pass: 'a-pas' }), null);
    assert.equal(now(a, { user: 'alice', pass: 'c-pass' }), null);
    assert.equal(now(a, { user: 'alice' }), null);
    assert.equal(now(a, { user: 'dave', pass: 'a-pass' }), null);
    assert.equal(now(a, { pass: 'a-pass' }), null);
    assert.equal(now(a, { auth_token: 'a-pass' }), null);
  });

  it('users without permissions get defaultPermissions', () => {
    const r = now(a, { user: 'carol', pass: 'c-pass' });
    assert.ok(r !== null && r.permissions !== null);
    assert.equal(r.permissions.canSubscribe('public.x', undefined), true);
    assert.equal(r.permissions.canSubscribe('private.x', undefined), false);
    assert.equal(make({ users: [{ user: 'x', password: 'y' }] }).check({ user: 'x', pass: 'y' }, peer, undefined) !== null, true);
    assert.equal(now(make({ users: [{ user: 'x', password: 'y' }] }), { user: 'x', pass: 'y' })!.permissions, null);
  });

  it('bcrypt: a Promise the first time, then remembered', async () => {
    const first = a.check({ user: 'bob', pass: 'b-pass' }, peer, undefined);
    assert.ok(first instanceof Promise);
    assert.equal(userOf(await first), 'bob');
    assert.equal(userOf(now(a, { user: 'bob', pass: 'b-pass' })), 'bob');
  });

  it('bcrypt: a wrong password is refused, and never remembered', async () => {
    for (let i = 0; i < 2; i++) {
      const r = a.check({ user: 'bob', pass: 'b-pasS' }, peer, undefined);
      assert.ok(r instanceof Promise);
      assert.equal(await r, null);
    }
  });

  it('bcrypt works for a token and a single password too (nats-server compares them the same way)', async () => {
    assert.equal(userOf(await make({ token: bcrypt }).check({ auth_token: 'b-pass' }, peer, undefined)), undefined);
    assert.equal(await make({ token: bcrypt }).check({ auth_token: 'nope' }, peer, undefined), null);
    assert.equal(userOf(await make({ user: 'u', password: bcrypt }).check({ user: 'u', pass: 'b-pass' }, peer, undefined)), 'u');
  });

  it('bounds bcrypt work: past the queue, refused at once; the queue drains', async () => {
    const small = make({ users: [{ user: 'bob', password: bcrypt }] }, undefined, { bcryptConcurrency: 1, bcryptQueue: 2 });
    const answers = Array.from({ length: 6 }, (_, i) => small.check({ user: 'bob', pass: `wrong${i}` }, peer, undefined));
    const queued = answers.filter((r) => r instanceof Promise);
    assert.equal(queued.length, 3, 'one running and two waiting');
    assert.deepEqual(answers.slice(3), [null, null, null]);
    assert.deepEqual(await Promise.all(queued), [null, null, null]);
    assert.equal(userOf(await small.check({ user: 'bob', pass: 'b-pass' }, peer, undefined)), 'bob');
  });
});

describe('NKey users', () => {
  const kp = createUser();
  const other = createUser();
  const pk = kp.getPublicKey();
  const a = make({ users: [{ nkey: pk, permissions: { publish: ['nk.>'] } }, { user: 'alice', password: 'a-pass' }] });
  const sign = (nonce: string, key = kp): Uint8Array => key.sign(new TextEncoder().encode(nonce));

  it('accepts a signature of the nonce (base64url, or standard base64), the NKey as user', () => {
    const nonce = a.newNonce();
    const r = now(a, { nkey: pk, sig: Buffer.from(sign(nonce)).toString('base64url') }, nonce);
    assert.ok(r !== null && r.permissions !== null);
    assert.equal(r.identity.user, pk);
    assert.equal(r.permissions.canPublish('nk.x'), true);
    assert.equal(r.permissions.canPublish('other'), false);
    assert.equal(userOf(now(a, { nkey: pk, sig: Buffer.from(sign(nonce)).toString('base64') }, nonce)), pk);
  });

  it('accepts what nats.js sends (its authenticators fill CONNECT: std base64 with padding, as it happens)', () => {
    const nonce = a.newNonce();
    const fields = nkeyAuthenticator(kp.getSeed())(nonce) as ConnectRequest;
    assert.equal(userOf(now(a, fields, nonce)), pk);
    assert.equal(now(a, fields, a.newNonce()), null, 'signed another nonce');
    assert.equal(userOf(now(a, usernamePasswordAuthenticator('alice', 'a-pass')(undefined) as ConnectRequest)), 'alice');
    assert.equal(userOf(now(make({ token: 'tok' }), tokenAuthenticator('tok')(undefined) as ConnectRequest)), undefined);
    assert.equal(now(make({ token: 'tok' }), tokenAuthenticator('tak')(undefined) as ConnectRequest), null);
  });

  it('refuses a bad signature', () => {
    const nonce = a.newNonce();
    assert.equal(now(a, { nkey: pk, sig: Buffer.from(sign(a.newNonce())).toString('base64url') }, nonce), null, 'another nonce');
    assert.equal(now(a, { nkey: pk, sig: Buffer.from(sign(nonce, other)).toString('base64url') }, nonce), null, 'another key');
    assert.equal(now(a, { nkey: pk, sig: Buffer.from(sign(nonce)).subarray(1).toString('base64url') }, nonce), null, 'too short');
    assert.equal(now(a, { nkey: pk, sig: 'not base64!' }, nonce), null, 'not base64');
    assert.equal(now(a, { nkey: pk }, nonce), null, 'no signature');
    assert.equal(now(a, { nkey: pk, sig: Buffer.from(sign(nonce)).toString('base64url') }, undefined), null, 'no nonce sent');
    assert.equal(now(a, { nkey: other.getPublicKey(), sig: Buffer.from(sign(nonce, other)).toString('base64url') }, nonce), null, 'not a configured user');
  });

  it('CONNECT with an nkey is decided by the NKey, even beside a good password (nats-server\'s order)', () => {
    const nonce = a.newNonce();
    assert.equal(now(a, { nkey: pk, sig: 'bad', user: 'alice', pass: 'a-pass' }, nonce), null);
    assert.equal(userOf(now(a, { user: 'alice', pass: 'a-pass' }, nonce)), 'alice');
  });
});

describe('the authenticate hook', () => {
  const seen: { connect: ConnectRequest; peer: Peer }[] = [];
  const hook: AuthenticateHook = (connect, p) => {
    seen.push({ connect, peer: p });
    if (connect.user === 'sync') return { user: 'sync-user' };
    if (connect.user === 'async') return Promise.resolve({ user: 'async-user', permissions: { publish: ['a.>'] } });
    if (connect.user === 'throws') throw new Error('boom');
    if (connect.user === 'rejects') return Promise.reject(new Error('boom'));
    if (connect.user === 'false') return false;
    return null;
  };

  it('alone: decides every client, synchronously when it answers synchronously', async () => {
    const a = make(undefined, hook);
    seen.length = 0;
    assert.equal(userOf(now(a, { user: 'sync' })), 'sync-user');
    assert.equal(seen[0]!.peer, peer);
    const r = await a.check({ user: 'async' }, peer, undefined);
    assert.ok(r !== null && r.permissions !== null);
    assert.equal(r.identity.user, 'async-user');
    assert.equal(r.permissions.canPublish('b'), false);
    for (const refuse of ['throws', 'rejects', 'false', 'nobody']) assert.equal(await a.check({ user: refuse }, peer, undefined), null, refuse);
  });

  it('beside users: called only when they refused', async () => {
    const bcrypt = await bcryptHash('b-pass', 4);
    const a = make({ users: [{ user: 'alice', password: 'a-pass' }, { user: 'bob', password: bcrypt }] }, hook);
    seen.length = 0;
    assert.equal(userOf(now(a, { user: 'alice', pass: 'a-pass' })), 'alice');
    assert.equal(seen.length, 0);
    assert.equal(userOf(await a.check({ user: 'bob', pass: 'b-pass' }, peer, undefined)), 'bob');
    assert.equal(seen.length, 0);
    assert.equal(userOf(now(a, { user: 'sync', pass: 'x' })), 'sync-user');
    assert.equal(await a.check({ user: 'bob', pass: 'wrong' }, peer, undefined), null);
    assert.equal(seen.length, 2, 'and after a refused bcrypt compare');
  });

  it('identities without permissions get defaultPermissions; permissions objects are compiled once', () => {
    const perms = { subscribe: ['x.>'] };
    const identities: Record<string, Identity> = { d: { user: 'd' }, p: { user: 'p', permissions: perms } };
    const a = make({ defaultPermissions: { publish: ['pub.>'] } }, (c) => identities[c.user ?? ''] ?? null);
    const d = now(a, { user: 'd' });
    assert.ok(d !== null && d.permissions !== null);
    assert.equal(d.permissions.canPublish('pub.x'), true);
    assert.deepEqual(d.identity.permissions, { publish: ['pub.>'] });
    const p1 = now(a, { user: 'p' });
    const p2 = now(a, { user: 'p' });
    assert.ok(p1 !== null && p1.permissions !== null);
    assert.equal(p1.permissions, p2!.permissions);
    assert.equal(p1.permissions.canSubscribe('x.y', undefined), true);
  });

  it('invalid permissions from the hook are the embedder\'s bug: a ConfigError', async () => {
    const a = make(undefined, (c) => (c.user === 'sync' ? { permissions: { publish: ['a b'] } } : Promise.resolve({ permissions: { nope: 1 } as never })));
    assert.throws(() => a.check({ user: 'sync' }, peer, undefined), /^ConfigError: authenticate\(\) permissions\.publish\[0\]: "a b" is not a subject$/);
    await assert.rejects(Promise.resolve(a.check({ user: 'async' }, peer, undefined)), ConfigError);
  });
});

describe('FailureTracker', () => {
  it('the first failure is free, then the delay doubles up to maxDelay', () => {
    const t = new FailureTracker({ baseDelay: 100, maxDelay: 1000 });
    const delays = Array.from({ length: 7 }, (_, i) => t.fail('10.0.0.1', i));
    assert.deepEqual(delays, [0, 100, 200, 400, 800, 1000, 1000]);
    assert.equal(t.fail('10.0.0.2', 7), 0, 'per address');
    assert.equal(t.fail('10.0.0.1', 1e6 * 1000), 0, 'far apart: counted again');
    for (let i = 0; i < 100; i++) t.fail('10.0.0.3', 10);
    assert.equal(t.fail('10.0.0.3', 10), 1000);
  });

  it('a success starts the count again', () => {
    const t = new FailureTracker();
    t.fail('a', 0);
    assert.equal(t.fail('a', 1), FailureDefaults.baseDelay);
    t.succeed('a');
    assert.equal(t.size, 0);
    assert.equal(t.fail('a', 2), 0);
  });

  it('stays bounded with 100,000 distinct addresses', () => {
    const t = new FailureTracker({ maxEntries: 1000 });
    for (let i = 0; i < 100_000; i++) {
      t.fail(`2001:db8::${i.toString(16)}`, i);
      assert.ok(t.size <= 1000);
    }
    assert.equal(t.size, 1000);
    // The most recent ones are remembered.
    assert.equal(t.fail(`2001:db8::${(99_999).toString(16)}`, 100_000), FailureDefaults.baseDelay);
  });

  it('forgets quiet addresses as new failures come', () => {
    const t = new FailureTracker({ window: 100 });
    for (let i = 0; i < 50; i++) t.fail(`a${i}`, 0);
    t.fail('late', 1000);
    assert.equal(t.size, 1);
  });
});
