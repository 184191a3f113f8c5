/**
 * Authentication on the wire (issue #14): token, single user, a users list
 * with plain and bcrypt passwords, NKey users, the authorization timeout,
 * and what happens to operations before CONNECT. The expected bytes are
 * nats-server 2.9.10's (test/CONFORMANCE-NOTES.md, "Security").
 *
 * Secrets here are throwaway values made up for the test; bcrypt hashes and
 * NKey pairs are generated at test time.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';
import { createUser, type KeyPair } from '@nats-io/nkeys';
import { AuthorizationError, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { differs, natsServerAuthorization, natsServerTls, startServer, type TestServer, SKIP_NATS_JS } from '../helpers/target.js';
import { connectLine, RawClient, withRaw } from '../helpers/raw.js';
import { closeAll, collect, connectTo, rejection } from '../helpers/client.js';
import { assertAllClosedWith, CLIENT_TIMEOUT_MS, REFUSAL_TIMEOUT_MS, refusesToStart, untilClosed } from '../helpers/security.js';

const VIOLATION = "-ERR 'Authorization Violation'\r\n";
const AUTH_TIMEOUT = "-ERR 'Authentication Timeout'\r\n";
const TOKEN = 'tok-3f9a1c';

/** Sends `data` then PING on a fresh connection: returns what arrived up to the PONG; the connection must stay open. */
async function accepted(server: TestServer, data: string | ((info: Record<string, unknown>) => string)): Promise<string> {
  return withRaw(server, async (c) => {
    const got = await c.roundTrip(typeof data === 'string' ? data : data(c.info));
    assert.equal(c.isClosed, false);
    return got;
  });
}

/** Each case followed by PING: a server that let the CONNECT through would answer PONG. */
function withPing(cases: Record<string, string | ((info: Record<string, unknown>) => string)>): Record<string, (info: Record<string, unknown>) => string> {
  return Object.fromEntries(
    Object.entries(cases).map(([name, data]) => [name, (info: Record<string, unknown>) => (typeof data === 'string' ? data : data(info)) + 'PING\r\n']),
  );
}

/** A publish and its delivery on one connection: proof that an authenticated client is served. */
async function pubSubWorks(nc: NatsConnection, subject: string): Promise<void> {
  const sub = nc.subscribe(subject, { max: 1 });
  nc.publish(subject, 'hello');
  const [m] = await collect(sub, 1);
  assert.equal(m!.string(), 'hello');
}

/** The CONNECT signature of an NKey user: the nonce's bytes signed with the user's key. */
function sign(kp: KeyPair, nonce: unknown, encoding: 'base64' | 'base64url' = 'base64url'): string {
  assert.equal(typeof nonce, 'string', 'INFO carries a nonce');
  return Buffer.from(kp.sign(new TextEncoder().encode(nonce as string))).toString(encoding);
}

describe('auth: token', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ authorization: { token: TOKEN } });
  });

  after(async () => {
    await server.stop();
  });

  it('INFO advertises auth_required and, without NKey users, no nonce', async () => {
    await withRaw(server, async (c) => {
      assert.equal(c.info.auth_required, true);
      assert.equal('nonce' in c.info, false);
      assert.equal('tls_required' in c.info, false);
    });
  });

  it('the right token is accepted (raw: PONG, nothing else)', async () => {
    assert.equal(await accepted(server, connectLine({ auth_token: TOKEN })), 'PONG\r\n');
  });

  it('verbose: the accepted CONNECT gets +OK', async () => {
    assert.equal(await accepted(server, connectLine({ auth_token: TOKEN, verbose: true })), '+OK\r\nPONG\r\n');
  });

  it('nats.js with the token connects and is served', { skip: SKIP_NATS_JS }, async () => {
    const nc = await connectTo(server, { token: TOKEN });
    try {
      await pubSubWorks(nc, 'auth.token');
    } finally {
      await closeAll(nc);
    }
  });

  it("a wrong token: exactly -ERR 'Authorization Violation', then close", async () => {
    assert.equal(await untilClosed(server, connectLine({ auth_token: 'not-it' }) + 'PING\r\n'), VIOLATION);
  });

  it("a missing token: exactly -ERR 'Authorization Violation', then close", async () => {
    assert.equal(await untilClosed(server, connectLine() + 'PING\r\n'), VIOLATION);
  });

  it('a user/password instead of the token is refused', async () => {
    assert.equal(await untilClosed(server, connectLine({ user: 'u', pass: TOKEN }) + 'PING\r\n'), VIOLATION);
  });

  it('nats.js with a wrong token fails with AuthorizationError', { skip: SKIP_NATS_JS }, async () => {
    const err = await rejection(connectTo(server, { token: 'not-it', timeout: CLIENT_TIMEOUT_MS }));
    assert.ok(err instanceof AuthorizationError, `got ${err.name}: ${err.message}`);
  });

  it("PING, SUB, PUB or an unknown op before CONNECT: -ERR 'Authorization Violation', close", async () => {
    const cases: Record<string, string> = {
      PING: 'PING\r\n',
      SUB: 'SUB foo 1\r\n',
      PUB: 'PUB foo 2\r\nhi\r\n',
      HPUB: 'HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n',
      UNSUB: 'UNSUB 1\r\n',
      'unknown op': 'FOO bar\r\n',
      // The violation is decided on the first op: a good CONNECT after it is never read.
      'PING, then the right CONNECT': 'PING\r\n' + connectLine({ auth_token: TOKEN }) + 'PING\r\n',
    };
    await assertAllClosedWith(server, cases, VIOLATION);
  });

  it('CONNECT with wrongly typed fields: close (nats-server silently, the hub after -ERR)', async () => {
    const cases: Record<string, string> = {
      'auth_token a number': 'CONNECT {"auth_token":123}\r\nPING\r\n',
      'user and pass numbers': 'CONNECT {"user":1,"pass":2}\r\nPING\r\n',
      'verbose a string, right token': `CONNECT {"verbose":"yes","auth_token":${JSON.stringify(TOKEN)}}\r\nPING\r\n`,
      'not JSON': 'CONNECT nope\r\nPING\r\n',
    };
    const expected = differs({
      natsServer: '',
      hub: "-ERR 'Unknown Protocol Operation'\r\n",
      why: 'CONFORMANCE-NOTES 1: nats-server closes silently on a CONNECT it cannot decode; the hub sends -ERR first',
    });
    await assertAllClosedWith(server, cases, expected);
  });

  it('a second CONNECT is authenticated again: a wrong token after an accepted one closes the connection', async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.roundTrip(connectLine({ auth_token: TOKEN })), 'PONG\r\n');
      c.send(connectLine({ auth_token: 'not-it' }) + 'PING\r\n');
      assert.equal(await c.waitClosed(REFUSAL_TIMEOUT_MS), true);
      assert.equal(c.text(), 'PONG\r\n' + VIOLATION);
    });
  });
});

describe('auth: authorization timeout', () => {
  const TIMEOUT_MS = 500;
  let server: TestServer;

  before(async () => {
    server = await startServer({ authorization: { token: TOKEN, timeout: TIMEOUT_MS } });
  });

  after(async () => {
    await server.stop();
  });

  it("no CONNECT within the timeout: exactly -ERR 'Authentication Timeout', then close", async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.waitClosed(TIMEOUT_MS + REFUSAL_TIMEOUT_MS), true, 'closed by the server');
      assert.equal(c.text(), AUTH_TIMEOUT);
    });
  });

  it('half a CONNECT line does not stop the timer', async () => {
    await withRaw(server, async (c) => {
      c.send(`CONNECT {"auth_token":${JSON.stringify(TOKEN)}`);
      assert.equal(await c.waitClosed(TIMEOUT_MS + REFUSAL_TIMEOUT_MS), true, 'closed by the server');
      assert.equal(c.text(), AUTH_TIMEOUT);
    });
  });

  it('an accepted client outlives the timeout', async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.roundTrip(connectLine({ auth_token: TOKEN })), 'PONG\r\n');
      // Not an ordering barrier: the condition under test is time passing beyond the timeout.
      await sleep(TIMEOUT_MS * 2);
      assert.equal(await c.roundTrip(), 'PONG\r\nPONG\r\n');
    });
  });
});

describe('auth: single user and password', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ authorization: { user: 'solo', password: 'pw-81c2' } });
  });

  after(async () => {
    await server.stop();
  });

  it('INFO advertises auth_required, no nonce', async () => {
    await withRaw(server, async (c) => {
      assert.equal(c.info.auth_required, true);
      assert.equal('nonce' in c.info, false);
    });
  });

  it('the right user and password are accepted; nats.js is served', { skip: SKIP_NATS_JS }, async () => {
    assert.equal(await accepted(server, connectLine({ user: 'solo', pass: 'pw-81c2' })), 'PONG\r\n');
    const nc = await connectTo(server, { user: 'solo', pass: 'pw-81c2' });
    try {
      await pubSubWorks(nc, 'auth.single');
    } finally {
      await closeAll(nc);
    }
  });

  it('a wrong password, a wrong user, no credentials, the password as a token: refused', async () => {
    const cases: Record<string, string> = {
      'wrong password': connectLine({ user: 'solo', pass: 'pw-81c3' }),
      'wrong user': connectLine({ user: 'solo2', pass: 'pw-81c2' }),
      'no credentials': connectLine(),
      'password as token': connectLine({ auth_token: 'pw-81c2' }),
      'empty password': connectLine({ user: 'solo', pass: '' }),
    };
    await assertAllClosedWith(server, withPing(cases), VIOLATION);
  });

  it('nats.js with a wrong password fails with AuthorizationError', { skip: SKIP_NATS_JS }, async () => {
    const err = await rejection(connectTo(server, { user: 'solo', pass: 'nope', timeout: CLIENT_TIMEOUT_MS }));
    assert.ok(err instanceof AuthorizationError, `got ${err.name}: ${err.message}`);
  });
});

describe('auth: users list with plain and bcrypt passwords', () => {
  let server: TestServer;
  // Cost 4, the lowest bcrypt allows: the test is about the format, not the work factor.
  const hash2b = bcrypt.hashSync('bob-secret', 4);
  // The same hash under the $2a$ prefix (same algorithm): both prefixes must be recognised.
  const hash2a = bcrypt.hashSync('carol-secret', 4).replace(/^\$2b\$/, '$2a$');

  before(async () => {
    assert.match(hash2b, /^\$2b\$04\$/);
    assert.match(hash2a, /^\$2a\$04\$/);
    server = await startServer({
      authorization: {
        users: [
          { user: 'alice', password: 'alice-plain' },
          { user: 'bob', password: hash2b },
          { user: 'carol', password: hash2a },
        ],
      },
    });
  });

  after(async () => {
    await server.stop();
  });

  it('INFO advertises auth_required and, without NKey users, no nonce', async () => {
    await withRaw(server, async (c) => {
      assert.equal(c.info.auth_required, true);
      assert.equal('nonce' in c.info, false);
    });
  });

  it('a plain password, a $2b$ and a $2a$ bcrypt password: accepted with the clear text', async () => {
    assert.equal(await accepted(server, connectLine({ user: 'alice', pass: 'alice-plain' })), 'PONG\r\n');
    assert.equal(await accepted(server, connectLine({ user: 'bob', pass: 'bob-secret' })), 'PONG\r\n');
    assert.equal(await accepted(server, connectLine({ user: 'carol', pass: 'carol-secret' })), 'PONG\r\n');
  });

  it('nats.js as a bcrypt user is served', { skip: SKIP_NATS_JS }, async () => {
    const nc = await connectTo(server, { user: 'bob', pass: 'bob-secret' });
    try {
      await pubSubWorks(nc, 'auth.bcrypt');
    } finally {
      await closeAll(nc);
    }
  });

  it('wrong passwords, the hash itself as the password, another user’s password, an unknown user: refused', async () => {
    const cases: Record<string, string> = {
      'alice wrong': connectLine({ user: 'alice', pass: 'alice-plai' }),
      'bob wrong': connectLine({ user: 'bob', pass: 'bob-secreT' }),
      'bob with his hash': connectLine({ user: 'bob', pass: hash2b }),
      'alice with bob’s password': connectLine({ user: 'alice', pass: 'bob-secret' }),
      'unknown user': connectLine({ user: 'mallory', pass: 'alice-plain' }),
      'no user': connectLine({ pass: 'alice-plain' }),
    };
    await assertAllClosedWith(server, withPing(cases), VIOLATION);
  });
});

describe('auth: NKey users', () => {
  let server: TestServer;
  const user = createUser();
  const stranger = createUser();

  before(async () => {
    server = await startServer({ authorization: { users: [{ nkey: user.getPublicKey() }, { user: 'alice', password: 'alice-plain' }] } });
  });

  after(async () => {
    await server.stop();
  });

  it('INFO carries a nonce, a fresh one per connection', async () => {
    const nonces: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      await withRaw(server, async (c) => {
        assert.equal(c.info.auth_required, true);
        nonces.push(c.info.nonce);
      });
    }
    for (const n of nonces) assert.ok(typeof n === 'string' && n.length > 0, `nonce ${JSON.stringify(n)}`);
    assert.notEqual(nonces[0], nonces[1]);
  });

  it('a signature over the nonce is accepted, in base64url and in standard base64', async () => {
    assert.equal(await accepted(server, (info) => connectLine({ nkey: user.getPublicKey(), sig: sign(user, info.nonce) })), 'PONG\r\n');
    assert.equal(await accepted(server, (info) => connectLine({ nkey: user.getPublicKey(), sig: sign(user, info.nonce, 'base64') })), 'PONG\r\n');
  });

  it('nats.js with nkeyAuthenticator is served', { skip: SKIP_NATS_JS }, async () => {
    const nc = await connectTo(server, { authenticator: nkeyAuthenticator(user.getSeed()) });
    try {
      await pubSubWorks(nc, 'auth.nkey');
    } finally {
      await closeAll(nc);
    }
  });

  it('password users still work beside NKey users', async () => {
    assert.equal(await accepted(server, connectLine({ user: 'alice', pass: 'alice-plain' })), 'PONG\r\n');
  });

  it('a bad signature, no signature, an unknown key, a signature over something else: refused', async () => {
    const cases: Record<string, (info: Record<string, unknown>) => string> = {
      'signed by another key': (info) => connectLine({ nkey: user.getPublicKey(), sig: sign(stranger, info.nonce) }),
      'no sig': () => connectLine({ nkey: user.getPublicKey() }),
      'empty sig': () => connectLine({ nkey: user.getPublicKey(), sig: '' }),
      'unknown nkey, properly signed': (info) => connectLine({ nkey: stranger.getPublicKey(), sig: sign(stranger, info.nonce) }),
      'sig over another string': () => connectLine({ nkey: user.getPublicKey(), sig: sign(user, 'not-the-nonce') }),
      'sig not base64': () => connectLine({ nkey: user.getPublicKey(), sig: '!!!not base64!!!' }),
      'a seed instead of a public key': (info) => connectLine({ nkey: new TextDecoder().decode(user.getSeed()), sig: sign(user, info.nonce) }),
    };
    await assertAllClosedWith(server, withPing(cases), VIOLATION);
  });

  it('nats.js with an unknown NKey fails with AuthorizationError', { skip: SKIP_NATS_JS }, async () => {
    const err = await rejection(connectTo(server, { authenticator: nkeyAuthenticator(stranger.getSeed()), timeout: CLIENT_TIMEOUT_MS }));
    assert.ok(err instanceof AuthorizationError, `got ${err.name}: ${err.message}`);
  });

  it('a signature made for one connection is refused on another (the nonce is per connection)', async () => {
    const first = await RawClient.connect(server);
    let replayed: string;
    try {
      replayed = sign(user, first.info.nonce);
    } finally {
      await first.close();
    }
    assert.equal(await untilClosed(server, connectLine({ nkey: user.getPublicKey(), sig: replayed }) + 'PING\r\n'), VIOLATION);
  });
});

describe('auth: configuration that cannot work', () => {
  it('a token together with users, a user/password together with users or a token, a user listed twice: the server refuses to start', async () => {
    await refusesToStart({ authorization: { token: TOKEN, users: [{ user: 'a', password: 'p' }] } });
    await refusesToStart({ authorization: { user: 'a', password: 'p', users: [{ user: 'b', password: 'p' }] } });
    await refusesToStart({ authorization: { token: TOKEN, user: 'a', password: 'p' } });
    await refusesToStart({ authorization: { users: [{ user: 'a', password: 'p' }, { user: 'a', password: 'q' }] } });
  });

  it('an NKey that is not a user public key: the server refuses to start', async () => {
    await refusesToStart({ authorization: { users: [{ nkey: 'UABC' }] } });
  });
});

describe('harness: the security options as nats-server config', () => {
  it('writes authorization with seconds, quoted strings, permissions and allow_responses', () => {
    const text = natsServerAuthorization({
      timeout: 1500,
      users: [
        { user: 'a', password: '$2a$04$abc', permissions: { publish: { allow: ['x.>'], deny: ['x.y'] }, subscribe: ['_INBOX.>'], allowResponses: { max: 1, expires: 1000 } } },
        { nkey: 'UKEY', permissions: { allowResponses: true } },
      ],
      defaultPermissions: { subscribe: ['public.>'] },
    });
    assert.equal(
      text,
      [
        'authorization {',
        '  timeout: 1.5',
        '  users: [',
        '    { user: "a", password: "$2a$04$abc", permissions: { publish: { allow: ["x.>"], deny: ["x.y"] }, subscribe: ["_INBOX.>"], allow_responses: { max: 1, expires: "1000ms" } } },',
        '    { nkey: "UKEY", permissions: { allow_responses: true } }',
        '  ]',
        '  default_permissions: { subscribe: ["public.>"] }',
        '}',
      ].join('\n'),
    );
  });

  it('writes tls with file paths and the timeout in seconds, and refuses handshakeFirst', () => {
    assert.equal(
      natsServerTls({ cert: '/c.pem', key: '/k.pem', ca: '/ca.pem', verify: true, timeout: 500 }),
      'tls {\n  cert_file: "/c.pem"\n  key_file: "/k.pem"\n  ca_file: "/ca.pem"\n  verify: true\n  timeout: 0.5\n}',
    );
    assert.throws(() => natsServerTls({ cert: '/c.pem', key: '/k.pem', handshakeFirst: true }), /handshakeFirst is not supported by nats-server 2\.9\.10/);
    assert.throws(() => natsServerTls({ cert: Buffer.from('pem'), key: '/k.pem' }), /must be written to a file first/);
  });
});
