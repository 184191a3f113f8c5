/**
 * The client commands' credential and TLS flags (the nats CLI's names) and
 * their variables, end to end: the built CLI as child processes against a
 * server of NETEMITTER_TARGET configured through test/helpers/target.ts
 * (nats-server gets the equivalent config file). A `pub` exits 0 only once
 * the server has confirmed what it sent, so its exit code proves the
 * handshake; a `sub` receiving proves the data path.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { startServer, type ServerOptions, type TestServer } from '../helpers/target.js';
import { makeCerts, type TestCerts } from '../helpers/tls.js';
import { cli, killProcs, runCli, type Proc } from './proc.js';

after(killProcs);

/** The nats CLI's variables, unset (empty) unless a test sets them: the runner's own must not leak in. */
const NO_NATS_ENV = { NATS_USER: '', NATS_PASSWORD: '', NATS_TOKEN: '', NATS_NKEY: '', NATS_CERT: '', NATS_KEY: '', NATS_CA: '' };

async function run(args: string[], env: Record<string, string> = {}): Promise<Proc & { exit: { code: number | null } }> {
  return runCli(args, { env: { ...NO_NATS_ENV, ...env } });
}

function assertExit(p: Proc & { exit: { code: number | null } }, code: number): void {
  assert.equal(p.exit.code, code, p.output());
}

describe('client commands: credentials and TLS flags', () => {
  let certs: TestCerts;
  let dir: string;
  const servers: TestServer[] = [];

  before(async () => {
    certs = await makeCerts();
    dir = mkdtempSync(join(tmpdir(), 'netemitter-cli-sec-'));
  });
  after(async () => {
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function server(opts: ServerOptions): Promise<TestServer> {
    const s = await startServer(opts);
    servers.push(s);
    return s;
  }

  it('--user/--password, and NETEMITTER_USER/NETEMITTER_PASSWORD then NATS_USER/NATS_PASSWORD; a wrong password exits 1 without showing it', async () => {
    const s = await server({ authorization: { users: [{ user: 'alice', password: 'pw-right' }] } });
    assertExit(await run(['pub', 'cli.auth', 'x', '--server', s.url, '--user', 'alice', '--password', 'pw-right']), 0);
    assertExit(await run(['pub', 'cli.auth', 'x', '--server', s.url], { NETEMITTER_USER: 'alice', NETEMITTER_PASSWORD: 'pw-right' }), 0);
    assertExit(await run(['pub', 'cli.auth', 'x', '--server', s.url], { NATS_USER: 'alice', NATS_PASSWORD: 'pw-right' }), 0);
    // Ours first: a right NETEMITTER_PASSWORD wins over a wrong NATS_PASSWORD.
    assertExit(await run(['pub', 'cli.auth', 'x', '--server', s.url], { NETEMITTER_USER: 'alice', NETEMITTER_PASSWORD: 'pw-right', NATS_PASSWORD: 'pw-wrong' }), 0);
    const bad = await run(['pub', 'cli.auth', 'x', '--server', s.url, '--user', 'alice', '--password', 'pw-wrong-secret']);
    assertExit(bad, 1);
    assert.match(bad.stderr, /^netemitter: authorization failed at nats:\/\/127\.0\.0\.1:\d+: Authorization Violation$/m);
    assert.doesNotMatch(bad.stderr, /pw-wrong-secret/);
  });

  it('--token and NATS_TOKEN, with a sub receiving through the authenticated connection', async () => {
    const s = await server({ authorization: { token: 'tok-123' } });
    const sub = cli(['sub', 'cli.token', '--count', '1', '--raw', '--server', s.url], { ...NO_NATS_ENV, NATS_TOKEN: 'tok-123' });
    await sub.waitForStderr(/^subscribed to /m);
    assertExit(await run(['pub', 'cli.token', 'hello', '--server', s.url, '--token', 'tok-123']), 0);
    assert.equal((await sub.waitForExit()).code, 0, sub.output());
    assert.equal(sub.stdout, 'hello\n');
    assertExit(await run(['pub', 'cli.token', 'x', '--server', s.url, '--token', 'nope']), 1);
  });

  it('--nkey SEEDFILE (a bare seed, or one among other lines), and NATS_NKEY', async () => {
    const kp = createUser();
    const seed = new TextDecoder().decode(kp.getSeed());
    const bare = join(dir, 'user.nk');
    const wrapped = join(dir, 'user.creds');
    writeFileSync(bare, `${seed}\n`, { mode: 0o600 });
    writeFileSync(wrapped, `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`, { mode: 0o600 });
    const s = await server({ authorization: { users: [{ nkey: kp.getPublicKey() }] } });
    assertExit(await run(['pub', 'cli.nkey', 'x', '--server', s.url, '--nkey', bare]), 0);
    assertExit(await run(['pub', 'cli.nkey', 'x', '--server', s.url, '--nkey', wrapped]), 0);
    assertExit(await run(['pub', 'cli.nkey', 'x', '--server', s.url], { NATS_NKEY: bare }), 0);
  });

  it('--tlsca, --tlscert and --tlskey against mutual TLS, and NATS_CA/NATS_CERT/NATS_KEY', async () => {
    const s = await server({ tls: { cert: certs.server.cert.path, key: certs.server.key.path, ca: certs.ca.path, verify: true } });
    const tlsFlags = ['--tlsca', certs.ca.path, '--tlscert', certs.client.cert.path, '--tlskey', certs.client.key.path];
    const sub = cli(['sub', 'cli.tls', '--count', '1', '--raw', '--server', s.url, ...tlsFlags], NO_NATS_ENV);
    await sub.waitForStderr(/^subscribed to /m);
    assertExit(await run(['pub', 'cli.tls', 'secret', '--server', s.url], { NATS_CA: certs.ca.path, NATS_CERT: certs.client.cert.path, NATS_KEY: certs.client.key.path }), 0);
    assert.equal((await sub.waitForExit()).code, 0, sub.output());
    assert.equal(sub.stdout, 'secret\n');
    // Without a client certificate the server refuses the handshake.
    assertExit(await run(['pub', 'cli.tls', 'x', '--server', s.url, '--tlsca', certs.ca.path]), 1);
  });

  it('a server that requires TLS gets it without flags, and --tlsca against a server without TLS says it does not offer it', async () => {
    const tls = await server({ tls: { cert: certs.server.cert.path, key: certs.server.key.path } });
    const noCa = await run(['pub', 'x', 'y', '--server', tls.url]);
    assertExit(noCa, 1);
    assert.match(noCa.stderr, /certificate/);
    const plain = await server({});
    const p = await run(['pub', 'x', 'y', '--server', plain.url, '--tlsca', certs.ca.path]);
    assertExit(p, 1);
    assert.match(p.stderr, /does not offer TLS/);
  });

  it('flag combinations that cannot work are usage errors (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--password', 'p'], /--password needs --user/],
      [['--tlscert', certs.client.cert.path], /--tlscert and --tlskey go together/],
      [['--nkey', join(dir, 'no-such.nk')], /--nkey: cannot read .*no-such\.nk.* \(ENOENT\)/],
      [['--tlsca', join(dir, 'no-such-ca.pem')], /--tlsca: cannot read .*no-such-ca\.pem.* \(ENOENT\)/],
    ];
    const notSeed = join(dir, 'not-a-seed');
    writeFileSync(notSeed, 'hunter2\n');
    cases.push([['--nkey', notSeed], /holds no NKey seed/]);
    for (const [flags, message] of cases) {
      const p = await run(['pub', 'x', 'y', '--server', 'nats://127.0.0.1:1', ...flags]);
      assertExit(p, 2);
      assert.match(p.stderr, message);
      assert.doesNotMatch(p.stderr, /hunter2/);
    }
  });

  it('every client command takes the flags', async () => {
    const commands = [['pub'], ['sub'], ['req'], ['reply'], ['bench'], ['stream', 'add'], ['stream', 'view'], ['consumer', 'ls']];
    for (const c of commands) {
      const help = await run([...c, '--help']);
      for (const flag of ['--user', '--password', '--token', '--nkey', '--tlscert', '--tlskey', '--tlsca', '--tlsfirst']) {
        assert.ok(help.stdout.includes(flag), `${c.join(' ')} --help lacks ${flag}`);
      }
    }
  });
});
