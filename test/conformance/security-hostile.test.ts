/**
 * Hostile clients against a secured server (issue #14): a huge CONNECT,
 * malformed signatures, and a thousand failed logins beside a legitimate
 * client. TLS garbage (a bad ClientHello, a plaintext client on the TLS
 * port) is in tls.test.ts. Expected bytes: nats-server 2.9.10's.
 *
 * The brute-force case asserts that the legitimate client keeps working and
 * that the hub's memory does not grow with the failures; never how fast.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createUser } from '@nats-io/nkeys';
import type { NatsConnection } from '@nats-io/transport-node';
import { differs, skipUnlessHub, startServer, type TestServer, SKIP_NATS_JS } from '../helpers/target.js';
import { connectLine, RawClient, withRaw } from '../helpers/raw.js';
import { closeAll, connectTo } from '../helpers/client.js';
import { assertAllClosedWith, REFUSAL_TIMEOUT_MS, untilClosed } from '../helpers/security.js';

const VIOLATION = "-ERR 'Authorization Violation'\r\n";
const TOKEN = 'hostile-tok-77d0';

describe('hostile: huge CONNECT', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ authorization: { token: TOKEN }, maxControlLine: 1024 });
  });

  after(async () => {
    await server.stop();
  });

  it("a CONNECT over max_control_line: -ERR 'maximum control line exceeded', close, even with the right token", async () => {
    const pad = 'x'.repeat(2_000);
    assert.equal(await untilClosed(server, `CONNECT {"auth_token":${JSON.stringify(TOKEN)},"name":"${pad}"}\r\nPING\r\n`), "-ERR 'maximum control line exceeded'\r\n");
    assert.equal(await untilClosed(server, `CONNECT {"auth_token":"${pad}"}\r\nPING\r\n`), "-ERR 'maximum control line exceeded'\r\n");
  });

  it('a CONNECT that never ends is cut off at max_control_line, without waiting for its CRLF', async () => {
    assert.equal(await untilClosed(server, `CONNECT {"auth_token":"${'y'.repeat(100_000)}`), "-ERR 'maximum control line exceeded'\r\n");
  });

  it('a long CONNECT under the limit is read as usual', async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.roundTrip(connectLine({ auth_token: TOKEN, name: 'n'.repeat(800) })), 'PONG\r\n');
    });
  });
});

describe('hostile: malformed NKey signatures', () => {
  let server: TestServer;
  const user = createUser();

  before(async () => {
    server = await startServer({ authorization: { users: [{ nkey: user.getPublicKey() }] } });
  });

  after(async () => {
    await server.stop();
  });

  it('an oversized, a truncated, or a bit-flipped signature is refused', async () => {
    const good = (nonce: unknown): Buffer => Buffer.from(user.sign(new TextEncoder().encode(String(nonce))));
    const cases: Record<string, (info: Record<string, unknown>) => string> = {
      oversized: () => connectLine({ nkey: user.getPublicKey(), sig: Buffer.alloc(2_000, 7).toString('base64url') }),
      truncated: (info) => connectLine({ nkey: user.getPublicKey(), sig: good(info.nonce).subarray(0, 32).toString('base64url') }),
      'bit flipped': (info) => {
        const sig = good(info.nonce);
        sig[10]! ^= 0x01;
        return connectLine({ nkey: user.getPublicKey(), sig: sig.toString('base64url') });
      },
      'a public key that is not a user key': (info) =>
        connectLine({ nkey: 'N' + user.getPublicKey().slice(1), sig: good(info.nonce).toString('base64url') }),
      'garbage nkey': (info) => connectLine({ nkey: 'UABC', sig: good(info.nonce).toString('base64url') }),
    };
    await assertAllClosedWith(
      server,
      Object.fromEntries(Object.entries(cases).map(([name, data]) => [name, (info: Record<string, unknown>) => data(info) + 'PING\r\n'])),
      VIOLATION,
    );
  });

  it('a signature of the wrong JSON type: close (nats-server silently, the hub after -ERR)', async () => {
    const expected = differs({
      natsServer: '',
      hub: "-ERR 'Unknown Protocol Operation'\r\n",
      why: 'CONFORMANCE-NOTES 1: a CONNECT that does not decode closes; the hub says so first',
    });
    assert.equal(await untilClosed(server, `CONNECT {"nkey":${JSON.stringify(user.getPublicKey())},"sig":12345}\r\nPING\r\n`), expected);
  });
});

/** `global.gc` without --expose-gc: the flag can be set at run time, and a new context picks the function up. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('hostile: a thousand failed logins beside a legitimate client', { skip: SKIP_NATS_JS }, () => {
  const FAILURES = 1_000;
  // Failed logins run this many at a time: the hub delays each refusal more
  // as an address keeps failing (all of these come from 127.0.0.1), so one
  // after the other would take as long as the delays add up to.
  const CONCURRENCY = 500;
  const PER_LOGIN_TIMEOUT_MS = REFUSAL_TIMEOUT_MS;
  let server: TestServer;
  let requester: NatsConnection;
  let responder: NatsConnection;

  before(async () => {
    server = await startServer({ authorization: { token: TOKEN } });
    requester = await connectTo(server, { token: TOKEN, name: 'legit-requester' });
    responder = await connectTo(server, { token: TOKEN, name: 'legit-responder' });
    responder.subscribe('svc.ping', { callback: (_e, m) => void m.respond(`pong:${m.string()}`) });
    await responder.flush();
  });

  after(async () => {
    await closeAll(requester, responder);
    await server.stop();
  });

  /** One failed login: the exact refusal, then the server's close (or ours, once the refusal is in). */
  async function failOnce(i: number): Promise<void> {
    const c = await RawClient.connect(server, PER_LOGIN_TIMEOUT_MS);
    try {
      c.send(connectLine({ auth_token: `guess-${i}` }) + 'PING\r\n');
      await c.until(VIOLATION, PER_LOGIN_TIMEOUT_MS).catch(() => undefined);
      assert.equal(c.text(), VIOLATION, `attempt ${i}`);
    } finally {
      await c.close();
    }
  }

  async function failMany(n: number, from: number): Promise<void> {
    let next = from;
    const end = from + n;
    const worker = async (): Promise<void> => {
      while (next < end) await failOnce(next++);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  }

  it('each is refused exactly, and request/reply on the legitimate connection works throughout', { timeout: 180_000 }, async () => {
    let attacking = true;
    let rounds = 0;
    const legit = (async () => {
      // Request after request while the attack lasts: every one must complete.
      while (attacking) {
        const r = await requester.request('svc.ping', String(rounds), { timeout: 10_000 });
        assert.equal(r.string(), `pong:${rounds}`);
        rounds++;
      }
    })();
    // Its failure is reported by the `await legit` below, not as an unhandled rejection meanwhile.
    legit.catch(() => undefined);
    try {
      await failMany(FAILURES, 0);
    } finally {
      attacking = false;
    }
    await legit;
    assert.ok(rounds >= 1, 'at least one request/reply completed during the attack');
    const r = await requester.request('svc.ping', 'after', { timeout: 10_000 });
    assert.equal(r.string(), 'pong:after');
    assert.equal(requester.isClosed(), false);
    assert.equal(responder.isClosed(), false);
  });

  it(
    'the hub holds no more memory after another thousand failures than before them',
    { timeout: 180_000, skip: skipUnlessHub('reads this process’s heap, where the hub runs') },
    async () => {
      const gc = gcFunction();
      // The first thousand (above) warmed up whatever is allocated once.
      const before = heapAfterGc(gc);
      await failMany(FAILURES, FAILURES);
      const afterHeap = heapAfterGc(gc);
      const grown = afterHeap - before;
      // A leak of even 4 KiB per failed connection would show as 4 MB.
      assert.ok(grown < 4 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MiB over ${FAILURES} failed logins`);
      const stats = server.hub!.stats();
      assert.equal(stats.connections, 2, 'only the two legitimate clients remain');
    },
  );
});
