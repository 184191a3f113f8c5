/**
 * The bench's security set-ups (bench/lib/security.ts) against the target
 * server (our hub, or nats-server with NETEMITTER_TARGET=nats-server): the
 * server options it writes are accepted, the login it gives clients works,
 * the bench user's permissions cover what the workloads do, and the set-up
 * client (bench/lib/setup-client.ts) times every connection and fails on a
 * refused one; the stall client (bench/lib/stall-client.ts) times a pinger's
 * round trips before and while bcrypt users log in, and `--security
 * --workloads stall` runs that case end to end. No speed is asserted.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type TestServer } from '../helpers/target.js';
import { login, serverSecurity } from '../../bench/lib/security.js';
import { timeSetups } from '../../bench/lib/setup-client.js';
import { measureStall } from '../../bench/lib/stall-client.js';
import { Child, killAll } from '../helpers/cli.js';
import { openClient, type BenchClient } from '../../bench/lib/clients.js';
import type { Variant } from '../../bench/lib/options.js';

const servers: TestServer[] = [];
const clients: BenchClient[] = [];
after(async () => {
  await killAll();
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

  it('stall: the pinger\'s round trips are timed idle and while two bcrypt users log in at a time', async () => {
    const s = await serverWith('bcrypt', 4);
    const r = await measureStall({ url: s.url, pinger: await login('bcrypt', 3), logins: [await login('bcrypt', 0), await login('bcrypt', 1), await login('bcrypt', 2)], parallel: 2, idlePings: 5 });
    assert.equal(r.idle.length, 5);
    assert.equal(r.logins.length, 3);
    // The pinger pings until the last log-in has its PONG: at least once, since a log-in costs a bcrypt compare.
    assert.ok(r.during.length >= 1, String(r.during.length));
    for (const t of [...r.idle, ...r.during, ...r.logins, r.elapsedUs]) assert.ok(Number.isFinite(t) && t > 0, String(t));
  });

  it('stall: a refused log-in fails the measurement with the server\'s -ERR', async () => {
    const s = await serverWith('bcrypt', 2);
    const good = await login('bcrypt', 0);
    await assert.rejects(
      measureStall({ url: s.url, pinger: await login('bcrypt', 1), logins: [good, { ...good, pass: `${good.pass!}-wrong` }], parallel: 2, idlePings: 1 }),
      /Authorization Violation/,
    );
  });

  it('--security --workloads stall: every installed peer\'s run succeeds and reports its round trips', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-stall-'));
    try {
      const out = join(dir, 'stall.json');
      const main = fileURLToPath(new URL('../../bench/main.js', import.meta.url));
      const args = [main, '--security', '--workloads', 'stall', '--runs', '1', '--stall-logins', '2', '--peers', 'hub,nats-server', '--out', out];
      const p = new Child(process.execPath, args, { name: 'bench --security --workloads stall' });
      await p.waitForExit(120_000);
      assert.equal(p.exit?.code, 0, p.output());
      const report = JSON.parse(readFileSync(out, 'utf8')) as { skipped: Record<string, string>; records: { caseId: string; peer: string; ok: boolean; error?: string; metrics: Record<string, number> }[] };
      const ran = report.records.filter((r) => r.caseId === 'stall');
      // The hub is always there; nats-server when installed.
      assert.ok(ran.some((r) => r.peer === 'hub+bcrypt'), JSON.stringify(ran));
      assert.equal(ran.length + Object.keys(report.skipped).length, 2);
      for (const r of ran) {
        assert.equal(r.ok, true, `${r.peer}: ${r.error}`);
        assert.ok(r.metrics.pings! >= 1 && Number.isFinite(r.metrics['median µs']) && Number.isFinite(r.metrics['idle median µs']), JSON.stringify(r.metrics));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
