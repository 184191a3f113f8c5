/**
 * The client's security: TLS (tls:// URLs, the upgrade on INFO tls_required,
 * CA verification, mutual TLS), credentials (token, user/password, URL
 * credentials, NKey seed, authenticator), typed errors (AuthorizationError
 * from connect(), PermissionError on bus.status and from request()), and a
 * reconnect that redoes TLS and authentication.
 *
 * Runs against NETEMITTER_TARGET; the servers are configured through
 * test/helpers/target.ts, so nats-server gets the equivalent config file.
 * Certificates are generated at test time (test/helpers/tls.ts).
 */
import { describe, it, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, createServer as createPlainServer } from 'node:net';
import { createUser } from '@nats-io/nkeys';
import {
  connect,
  AuthorizationError,
  ConnectionError,
  ErrorCode,
  PermissionError,
  type Bus,
  type ConnectOptions,
  type Dialer,
  type DialTarget,
} from '../../src/index.js';
import { skipInProcess, startServer, skipUnlessHub, type ServerOptions, type TestServer } from '../helpers/target.js';
import { makeCerts, type TestCerts } from '../helpers/tls.js';
import { TestProxy } from './helpers/proxy.js';
import { inbox, next, rejection, within } from './helpers/wait.js';

const FAST: ConnectOptions['reconnect'] = { initialDelay: 20, maxDelay: 200, jitter: 0.3 };
const WAIT = 5_000;

function seedOf(kp: ReturnType<typeof createUser>): string {
  return new TextDecoder().decode(kp.getSeed());
}

describe('client security', () => {
  let certs: TestCerts;
  const cleanup: (() => Promise<unknown>)[] = [];

  before(async () => {
    certs = await makeCerts();
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  });

  async function server(opts: ServerOptions): Promise<TestServer> {
    const s = await startServer(opts);
    cleanup.push(() => s.stop());
    return s;
  }

  async function bus(opts: ConnectOptions): Promise<Bus> {
    const b = await connect({ timeout: 2_000, ...opts });
    cleanup.push(() => (b.isClosed ? Promise.resolve() : b.close()));
    return b;
  }

  /** Why connect() failed; a bus that connects after all is closed, so a failing test leaves nothing open. */
  async function refusal(opts: ConnectOptions): Promise<Error> {
    const p = connect(opts);
    p.then((b) => b.close().catch(() => undefined), () => undefined);
    return rejection(p);
  }

  /** An event makes the round trip through the server: proof the session works. */
  async function roundTrip(b: Bus, subject = 'sec.echo'): Promise<void> {
    const got = inbox(b, subject);
    await b.flush();
    b.emit(subject, { n: 1 });
    await got.atLeast(1, subject);
    assert.deepEqual(got.payloads, [{ n: 1 }]);
    b.off(subject, got.listener);
  }

  const tlsServer = (): ServerOptions => ({ tls: { cert: certs.server.cert.path, key: certs.server.key.path } });
  const mtlsServer = (): ServerOptions => ({ tls: { cert: certs.server.cert.path, key: certs.server.key.path, ca: certs.ca.path, verify: true } });

  describe('TLS', { skip: skipInProcess('TLS runs over a socket') }, () => {
    it('connects to a tls:// URL, verifying the server with a CA file (by IP and by name, SNI)', async () => {
      const s = await server(tlsServer());
      for (const host of ['127.0.0.1', 'localhost']) {
        const b = await bus({ servers: `tls://${host}:${s.port}`, tls: { caFile: certs.ca.path } });
        await roundTrip(b);
        await b.close();
      }
    });

    it('upgrades a nats:// connection when INFO says tls_required, with the CA as PEM text or bytes', async () => {
      const s = await server(tlsServer());
      const a = await bus({ servers: s.url, tls: { ca: certs.ca.pem.toString('utf8') } });
      await roundTrip(a);
      const b = await bus({ servers: s.url, tls: { ca: certs.ca.pem } });
      await roundTrip(b);
    });

    it('upgrades with Node defaults when the server requires TLS and the client set none: an unknown CA fails verification', async () => {
      const s = await server(tlsServer());
      const err = await refusal({ servers: s.url, timeout: 2_000 });
      assert.ok(err instanceof ConnectionError, String(err));
      assert.match(String((err.cause as Error | undefined)?.message), /certificate/i);
      // The same defaults, told not to verify: the upgrade itself works.
      const b = await bus({ servers: s.url, tls: { rejectUnauthorized: false } });
      await roundTrip(b);
    });

    it('refuses a server certificate that its CA did not sign', async () => {
      const s = await server(tlsServer());
      const err = await refusal({ servers: s.url, tls: { ca: certs.otherCa.path }, timeout: 2_000 });
      assert.equal((err as ConnectionError).code, ErrorCode.CONNECTION);
    });

    it('fails clearly when it asks for TLS and the server does not offer it', async () => {
      const s = await server({});
      for (const opts of [{ servers: `tls://127.0.0.1:${s.port}` }, { servers: s.url, tls: { ca: certs.ca.path } }]) {
        const err = await refusal({ ...opts, timeout: 2_000 });
        assert.equal((err as ConnectionError).code, ErrorCode.CONNECTION);
        assert.match(err.message, /does not offer TLS/);
      }
    });

    it('mutual TLS: connects with a client certificate (paths or PEM), and is refused without one or with an untrusted one', async () => {
      const s = await server(mtlsServer());
      const a = await bus({ servers: s.url, tls: { ca: certs.ca.path, cert: certs.client.cert.path, key: certs.client.key.path } });
      await roundTrip(a);
      const b = await bus({ servers: s.url, tls: { ca: certs.ca.pem, cert: certs.client.cert.pem, key: certs.client.key.pem } });
      await roundTrip(b);
      for (const tls of [{ ca: certs.ca.path }, { ca: certs.ca.path, cert: certs.untrustedClient.cert.path, key: certs.untrustedClient.key.path }]) {
        const err = await refusal({ servers: s.url, tls, timeout: 2_000, reconnect: false });
        assert.equal((err as ConnectionError).code, ErrorCode.CONNECTION, String(err));
      }
    });

    it('handshakeFirst: the TLS handshake before INFO', { skip: skipUnlessHub('nats-server 2.9.10 has no handshake_first') }, async () => {
      const s = await server({ tls: { cert: certs.server.cert.path, key: certs.server.key.path, handshakeFirst: true } });
      const b = await bus({ servers: s.url, tls: { ca: certs.ca.path, handshakeFirst: true } });
      await roundTrip(b);
    });

    it('handshakeFirst against a server that sends a plaintext INFO first fails (no silent downgrade)', async () => {
      const s = await server(tlsServer());
      const err = await refusal({ servers: s.url, tls: { ca: certs.ca.path, handshakeFirst: true }, timeout: 1_000 });
      assert.equal((err as ConnectionError).code, ErrorCode.CONNECTION);
    });

    it('a custom dialer opens the stream, and TLS and credentials still run over it', async () => {
      const s = await server({ ...tlsServer(), authorization: { token: 'over-the-dialer' } });
      const seen: DialTarget[] = [];
      const dialer: Dialer = (target, signal) =>
        new Promise((resolve, reject) => {
          seen.push(target);
          const sock = netConnect({ host: target.host!, port: target.port! });
          signal.addEventListener('abort', () => sock.destroy(new Error('aborted')), { once: true });
          sock.once('connect', () => resolve(sock)).once('error', reject);
        });
      const b = await bus({ servers: `tls://localhost:${s.port}`, tls: { ca: certs.ca.path }, token: 'over-the-dialer', dialer });
      await roundTrip(b);
      assert.deepEqual(seen.map((t) => [t.host, t.port]), [['localhost', s.port]]);
    });

    it('reports a missing certificate file as a ConfigError before dialing', async () => {
      const err = await refusal({ servers: 'tls://127.0.0.1:1', tls: { caFile: `${certs.dir}/no-such.pem` } });
      assert.equal((err as { code?: string }).code, ErrorCode.CONFIG);
      assert.match(err.message, /tls\.caFile: cannot read .*no-such\.pem.* \(ENOENT\)/);
      const half = await refusal({ servers: 'tls://127.0.0.1:1', tls: { cert: certs.client.cert.path } });
      assert.match(half.message, /tls\.cert and tls\.key go together/);
    });
  });

  describe('credentials', () => {
    it('token: from the option or the URL; a wrong one is an AuthorizationError from connect()', { skip: skipInProcess('the URLs name a TCP port') }, async () => {
      const s = await server({ authorization: { token: 's3cr3t/t0ken' } });
      await roundTrip(await bus({ servers: s.url, token: 's3cr3t/t0ken' }));
      await roundTrip(await bus({ servers: `nats://${encodeURIComponent('s3cr3t/t0ken')}@127.0.0.1:${s.port}` }));
      const err = await refusal({ servers: s.url, token: 'wrong-token-value', timeout: 2_000 });
      assert.ok(err instanceof AuthorizationError, String(err));
      assert.equal(err.code, ErrorCode.AUTHORIZATION);
      assert.equal(err.text, 'Authorization Violation');
      assert.equal(err.server, s.url);
      assert.doesNotMatch(err.message, /wrong-token-value/);
      // No credentials at all, to a server that wants some: the same error.
      assert.ok((await refusal({ servers: s.url, timeout: 2_000 })) instanceof AuthorizationError);
    });

    it('user and password: from the options or the URL (percent-decoded); options win over the URL', { skip: skipInProcess('the URLs name a TCP port') }, async () => {
      const password = 'p@ss:w/rd %é';
      const s = await server({ authorization: { users: [{ user: 'alice', password }] } });
      await roundTrip(await bus({ servers: s.url, user: 'alice', pass: password }));
      await roundTrip(await bus({ servers: `nats://alice:${encodeURIComponent(password)}@127.0.0.1:${s.port}` }));
      await roundTrip(await bus({ servers: `nats://alice:wrong@127.0.0.1:${s.port}`, user: 'alice', pass: password }));
      const err = await refusal({ servers: s.url, user: 'alice', pass: 'not-the-password', timeout: 2_000 });
      assert.ok(err instanceof AuthorizationError, String(err));
      assert.doesNotMatch(err.message, /not-the-password/);
    });

    it('NKey: the seed signs the nonce; another user\'s seed is refused', async () => {
      const alice = createUser();
      const s = await server({ authorization: { users: [{ nkey: alice.getPublicKey() }] } });
      await roundTrip(await bus({ servers: s.url, nkey: seedOf(alice) }));
      await roundTrip(await bus({ servers: s.url, nkey: alice.getSeed() }));
      const mallory = createUser();
      const err = await refusal({ servers: s.url, nkey: seedOf(mallory), timeout: 2_000 });
      assert.ok(err instanceof AuthorizationError, String(err));
      assert.doesNotMatch(err.message, new RegExp(seedOf(mallory)));
    });

    it('authenticator: called with the server nonce at each connect, its fields go into CONNECT', async () => {
      const alice = createUser();
      const s = await server({ authorization: { users: [{ nkey: alice.getPublicKey() }] } });
      const nonces: (string | undefined)[] = [];
      const b = await bus({
        servers: s.url,
        authenticator: async (nonce) => {
          nonces.push(nonce);
          return { nkey: alice.getPublicKey(), sig: Buffer.from(alice.sign(new TextEncoder().encode(nonce ?? ''))).toString('base64url') };
        },
      });
      await roundTrip(b);
      assert.equal(nonces.length, 1);
      assert.equal(typeof nonces[0], 'string');
      assert.ok(nonces[0]!.length > 0);
    });

    it('refuses a malformed seed with a ConfigError that does not echo it', async () => {
      const err = await refusal({ servers: 'nats://127.0.0.1:1', nkey: 'SUnot-a-seed-at-all' });
      assert.equal((err as { code?: string }).code, ErrorCode.CONFIG);
      assert.doesNotMatch(err.message, /not-a-seed/);
    });

    it('stops retrying after the server refused the credentials twice in a row (waitOnFirstConnect)', async () => {
      const s = await server({ authorization: { token: 'right' } });
      const err = await within(refusal({ servers: s.url, token: 'wrong', waitOnFirstConnect: true, reconnect: FAST, timeout: 2_000 }), WAIT, 'connect() to give up');
      assert.ok(err instanceof AuthorizationError, String(err));
    });
  });

  describe('permissions', () => {
    const limited = (): ServerOptions => ({
      authorization: {
        users: [
          {
            user: 'bob',
            password: 'pw',
            permissions: {
              publish: { allow: ['ok.>', '_INBOX.>'], deny: ['ok.secret'] },
              subscribe: { allow: ['ok.>', '_INBOX.>'] },
            },
          },
        ],
      },
    });

    it('a denied emit is a PermissionError on bus.status, and the connection stays open', async () => {
      const s = await server(limited());
      const b = await bus({ servers: s.url, user: 'bob', pass: 'pw' });
      const error = next<[Error]>(b.status, 'error');
      b.emit('ok.secret', 1);
      const [err] = await error;
      assert.ok(err instanceof PermissionError, String(err));
      assert.deepEqual([err.code, err.operation, err.subject, err.queue], [ErrorCode.PERMISSION, 'publish', 'ok.secret', undefined]);
      assert.equal(b.isConnected, true);
      await roundTrip(b, 'ok.fine');
    });

    it('a denied on() is a PermissionError with the listener\'s subject (and its queue)', async () => {
      const s = await server(limited());
      const b = await bus({ servers: s.url, user: 'bob', pass: 'pw' });
      const errors: PermissionError[] = [];
      b.status.on('error', (e) => errors.push(e as PermissionError));
      b.on('no.such', () => {});
      b.on('no.queue', () => {}, { queue: 'workers' });
      await b.flush();
      assert.deepEqual(
        errors.map((e) => [e instanceof PermissionError, e.operation, e.subject, e.queue]),
        [
          [true, 'subscribe', 'no.such', undefined],
          [true, 'subscribe', 'no.queue', 'workers'],
        ],
      );
      await roundTrip(b, 'ok.still');
    });

    it('a request() to a denied subject rejects with the PermissionError at once, not at its timeout', async () => {
      const s = await server(limited());
      const b = await bus({ servers: s.url, user: 'bob', pass: 'pw' });
      b.status.on('error', () => {});
      const [denied, other] = await Promise.allSettled([b.request('ok.secret', 1, { timeout: 30_000 }), b.request('ok.nobody', 1, { timeout: 30_000 })]);
      assert.equal(denied.status, 'rejected');
      const err = (denied as PromiseRejectedResult).reason as PermissionError;
      assert.ok(err instanceof PermissionError, String(err));
      assert.deepEqual([err.operation, err.subject], ['publish', 'ok.secret']);
      // The request beside it was allowed: no responder, said at once too.
      assert.equal((other as PromiseRejectedResult).reason?.code, ErrorCode.NO_RESPONDERS);
    });
  });

  describe('reconnect', { skip: skipInProcess('TLS runs over a socket') }, () => {
    it('redoes TLS (mutual) and authentication on every reconnect, and restores subscriptions', async () => {
      const s = await server({ ...mtlsServer(), authorization: { users: [{ user: 'carol', password: 'pw2' }] } });
      const proxy = await TestProxy.start({ host: '127.0.0.1', port: s.port });
      cleanup.push(() => proxy.close());
      const b = await bus({
        servers: `tls://127.0.0.1:${proxy.port}`,
        tls: { ca: certs.ca.path, cert: certs.client.cert.path, key: certs.client.key.path },
        user: 'carol',
        pass: 'pw2',
        reconnect: FAST,
      });
      const got = inbox(b, 'sec.after');
      await b.flush();
      for (let round = 1; round <= 2; round++) {
        const reconnected = next(b.status, 'reconnect');
        proxy.drop();
        await reconnected;
        b.emit('sec.after', round);
        await got.atLeast(round, `sec.after #${round}`);
      }
      assert.deepEqual(got.payloads, [1, 2]);
    });
  });

  it('an expiry while connected, then one refusal on reconnect, closes the bus with the AuthorizationError (nats.js\'s rule)', async () => {
    // A scripted server on a real socket: no server target can revoke a live session on cue. The first
    // connection is accepted, and told its authentication expired at the client's next PING; every later
    // one is refused.
    let connections = 0;
    const srv = createPlainServer((sock) => {
      const n = ++connections;
      let pings = 0;
      sock.write('INFO {"server_id":"x","version":"2.9.10","max_payload":1048576,"auth_required":true}\r\n');
      sock.on('data', (d: Buffer) => {
        if (!d.toString().includes('PING')) return;
        if (n === 1 && ++pings === 1) sock.write('PONG\r\n');
        else if (n === 1) sock.end("-ERR 'User Authentication Expired'\r\n");
        else sock.end("-ERR 'Authorization Violation'\r\n");
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => srv.close(() => resolve())));
    const port = (srv.address() as { port: number }).port;
    const b = await bus({ servers: `nats://127.0.0.1:${port}`, token: 't', reconnect: FAST });
    const errors: Error[] = [];
    b.status.on('error', (e) => errors.push(e));
    const closed = next(b.status, 'close');
    await rejection(b.flush());
    await closed;
    assert.deepEqual(
      errors.map((e) => [e.constructor.name, (e as AuthorizationError).text]),
      [
        ['AuthorizationError', 'User Authentication Expired'],
        ['AuthorizationError', 'Authorization Violation'],
      ],
    );
    assert.equal(connections, 2, 'one reconnect attempt, refused, then no more');
    assert.equal(b.isClosed, true);
  });

  it('a plaintext server that closes on our CONNECT is not mistaken for a refusal', async () => {
    // Raw socket, real network: the server sends an INFO and hangs up on the CONNECT.
    const srv = createPlainServer((sock) => {
      sock.write('INFO {"server_id":"x","version":"2.9.10","max_payload":1048576,"auth_required":true}\r\n');
      sock.once('data', () => sock.destroy());
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => srv.close(() => resolve())));
    const port = (srv.address() as { port: number }).port;
    const err = await refusal({ servers: `nats://127.0.0.1:${port}`, token: 't', timeout: 2_000 });
    assert.equal((err as { code?: string }).code, ErrorCode.CONNECTION);
    assert.ok(!(err instanceof AuthorizationError));
  });
});
