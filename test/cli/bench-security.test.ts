/**
 * The bench's security set-ups (bench/lib/security.ts) against the target
 * server (our hub, or nats-server with NETEMITTER_TARGET=nats-server): the
 * server options it writes are accepted, the login it gives clients works,
 * the bench user's permissions cover what the workloads do, and the set-up
 * client (bench/lib/setup-client.ts) times every connection and fails on a
 * refused one. No speed is asserted.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/target.js';
import { login, serverSecurity } from '../../bench/lib/security.js';
import { timeSetups } from '../../bench/lib/setup-client.js';
import { openClient, type BenchClient } from '../../bench/lib/clients.js';
import type { Variant } from '../../bench/lib/options.js';

const servers: TestServer[] = [];
const clients: BenchClient[] = [];
after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled(servers.map((s) => s.stop()));
});

async function serverWith(v: Variant, users = 1): Promise<TestServer> {
  const s = await startServer(await serverSecurity(v, users));
  servers.push(s);
  return s;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]);
}

describe('bench security set-ups', () => {
  it('tls+perms: the set-up client verifies the certificate, logs in, and times each connection', async () => {
    const s = await serverWith('tls+perms');
    const times = await timeSetups(new URL(s.url), 5, [await login('tls+perms')]);
    assert.equal(times.length, 5);
    for (const t of times) assert.ok(Number.isFinite(t) && t > 0, String(t));
  });

  it('a wrong password fails the run with the server\'s -ERR, and the password is not in the message', async () => {
    const s = await serverWith('perms');
    const good = await login('perms');
    const bad = { ...good, pass: `${good.pass!}-wrong` };
    await assert.rejects(timeSetups(new URL(s.url), 1, [bad]), (err: Error) => {
      assert.match(err.message, /Authorization Violation/);
      assert.ok(!err.message.includes(bad.pass), err.message);
      return true;
    });
  });

  it('tls without the CA: the set-up client refuses the server certificate', async () => {
    const s = await serverWith('tls');
    await assert.rejects(timeSetups(new URL(s.url), 1, [{ ca: (await login('tls')).ca!.replace(/ca\.pem$/, 'other-ca.pem') }]), /certificate/);
  });

  it('bcrypt: connection i logs in as user i, each with its own bcrypt hash', async () => {
    const s = await serverWith('bcrypt', 2);
    const times = await timeSetups(new URL(s.url), 2, [await login('bcrypt', 0), await login('bcrypt', 1)]);
    assert.equal(times.length, 2);
    // Only two users are listed: a third is refused, so the users really are distinct.
    await assert.rejects(timeSetups(new URL(s.url), 1, [await login('bcrypt', 2)]), /Authorization Violation/);
  });

  it('perms: the bench user may publish, subscribe and request on what the workloads use (nats.js, over TLS)', async () => {
    const s = await serverWith('tls+perms');
    const l = await login('tls+perms');
    const sub = await openClient('nats', s.url, l);
    const pub = await openClient('nats', s.url, l);
    clients.push(sub, pub);
    const got = new Promise<Uint8Array>((resolve) => void sub.subscribe('bench.pubsub', resolve));
    await withTimeout(sub.roundTrip(), 5000, 'subscriber flush');
    await sub.serve('bench.request');
    pub.publish('bench.pubsub', Buffer.from('hello'));
    assert.equal(Buffer.from(await withTimeout(got, 5000, 'the published message')).toString(), 'hello');
    const reply = (await withTimeout(pub.request('bench.request', Buffer.from('ping')), 5000, 'the reply')) as { data: Uint8Array };
    assert.equal(Buffer.from(reply.data).toString(), 'ping');
  });
});
