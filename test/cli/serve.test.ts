/**
 * `netemitter serve` end to end: a real child process, real sockets on
 * 127.0.0.1 port 0 and temp Unix socket paths, real signals.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliProcess, RawConnection, killAll, oneLine, readInfo, runCli } from '../helpers/cli.js';
import { DUPLICATE_WINDOW_MS } from '../../src/cli/signals.js';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const CONNECT = 'CONNECT {"protocol":1,"verbose":false,"pedantic":false}\r\nPING\r\n';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netemitter-cli-'));
});
after(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function tempPath(name: string): string {
  return join(dir, `${++n}-${name}`);
}

/** Polls until a hub answers with INFO; for hubs that log nothing at their level. */
async function untilServing(to: { path: string }, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      await readInfo(to);
      return;
    } catch (err) {
      if (performance.now() > deadline) throw err;
      await sleep(25);
    }
  }
}

describe('serve with durable streams', () => {
  it('--store DIR keeps streams, messages and consumers across a restart', async () => {
    const store = tempPath('store');
    const first = new CliProcess(['serve', '--port', '0', '--store', store]);
    const nc = await natsConnect({ servers: `127.0.0.1:${await first.tcpPort()}` });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'T', subjects: ['t.>'] });
    await jsm.consumers.add('T', { durable_name: 'w', ack_policy: 'explicit' as never });
    const js = jetstream(nc);
    for (let i = 1; i <= 3; i++) assert.equal((await js.publish('t.x', `m${i}`)).seq, i);
    const m = await (await js.consumers.get('T', 'w')).next({ expires: 2000 });
    assert.equal(m?.string(), 'm1');
    assert.equal(await m!.ackAck(), true);
    await nc.close();
    first.kill();
    assert.equal((await first.waitForExit()).code, 0);
    assert.ok(existsSync(join(store, 'netemitter.db')));

    const second = new CliProcess(['serve', '--port', '0', '--store', store]);
    const nc2 = await natsConnect({ servers: `127.0.0.1:${await second.tcpPort()}` });
    try {
      const jsm2 = await jetstreamManager(nc2);
      const info = await jsm2.streams.info('T');
      assert.deepEqual([info.state.messages, info.state.last_seq], [3, 3]);
      const next = await (await jetstream(nc2).consumers.get('T', 'w')).next({ expires: 2000 });
      assert.equal(next?.string(), 'm2', 'the acked message is not delivered again');
      next!.ack();
    } finally {
      await nc2.close();
      second.kill();
    }
    assert.equal((await second.waitForExit()).code, 0);
  });

  it('--store memory keeps nothing across a restart', async () => {
    const hub = new CliProcess(['serve', '--port', '0', '--store', 'memory']);
    const nc = await natsConnect({ servers: `127.0.0.1:${await hub.tcpPort()}` });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'M', subjects: ['m'] });
    assert.equal((await jetstream(nc).publish('m', 'x')).seq, 1);
    await nc.close();
    hub.kill();
    assert.equal((await hub.waitForExit()).code, 0);
    const again = new CliProcess(['serve', '--port', '0', '--store', 'memory']);
    const nc2 = await natsConnect({ servers: `127.0.0.1:${await again.tcpPort()}` });
    try {
      await assert.rejects((await jetstreamManager(nc2)).streams.info('M'), /stream not found/);
    } finally {
      await nc2.close();
      again.kill();
    }
    assert.equal((await again.waitForExit()).code, 0);
  });

  it('a --store another hub holds: one line naming its pid, exit 1; once that hub is SIGKILLed, the directory is usable', async () => {
    const store = tempPath('held');
    const first = new CliProcess(['serve', '--port', '0', '--store', store]);
    await first.tcpPort();
    const second = await runCli(['serve', '--port', '0', '--store', store]);
    assert.equal(second.exit.code, 1, second.output());
    assert.equal(oneLine(second.stderr), `netemitter: store: ${store} is in use by another netemitter process (pid ${first.child.pid})`);
    assert.equal(second.stdout, '', 'it never listened');
    first.kill('SIGKILL');
    assert.equal((await first.waitForExit()).signal, 'SIGKILL');
    const third = new CliProcess(['serve', '--port', '0', '--store', store]);
    await third.tcpPort();
    third.kill();
    assert.equal((await third.waitForExit()).code, 0, third.output());
  });

  it('an unusable --store is a start-up failure: one line and exit 1', async () => {
    const file = tempPath('not-a-dir');
    writeFileSync(file, '');
    const p = await runCli(['serve', '--port', '0', '--store', file]);
    assert.equal(p.exit.code, 1, p.output());
    assert.equal(oneLine(p.stderr), `netemitter: store: cannot use ${file}: ${file} is not a directory`);
  });
});

describe('serve on TCP', () => {
  it('--port 0 prints where it listens and serves INFO to a raw connection', async () => {
    const hub = new CliProcess(['serve', '--port', '0']);
    const port = await hub.tcpPort();
    assert.ok(port > 0 && port !== 4222);
    const info = await readInfo({ port });
    assert.equal(info.port, port);
    assert.equal(info.max_payload, 1024 * 1024);
    assert.equal(info.proto, 1);
    hub.kill();
    assert.equal((await hub.waitForExit()).code, 0);
  });

  it('logs JSON lines when stdout is not a terminal', async () => {
    const hub = new CliProcess(['serve', '--port', '0']);
    const port = await hub.tcpPort();
    hub.kill();
    await hub.waitForExit();
    const lines = hub.stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });
    assert.ok(lines.some((l) => l.msg === `listening on nats://127.0.0.1:${port}` && l.level === 30));
    assert.ok(lines.some((l) => l.msg === 'hub closed'));
  });

  it('--log-level debug logs connects and disconnects', async () => {
    const hub = new CliProcess(['serve', '--port', '0', '--log-level', 'debug']);
    const port = await hub.tcpPort();
    const c = await RawConnection.open({ port });
    await hub.waitForOutput(/"msg":"client connected"/);
    c.close();
    await hub.waitForOutput(/"msg":"client closed"/);
    hub.kill();
    assert.equal((await hub.waitForExit()).code, 0);
  });

  it('--log-level warn prints warnings only (here: --host is ignored with --unix alone)', async () => {
    const path = tempPath('quiet.sock');
    const hub = new CliProcess(['serve', '--unix', path, '--host', '0.0.0.0', '--log-level', 'warn']);
    await hub.waitForOutput(/host 0\.0\.0\.0 is ignored: with a Unix socket, TCP is served only when a port is given too/);
    // Nothing says "listening" at this level: ready is when the socket answers.
    await untilServing({ path });
    hub.kill();
    assert.equal((await hub.waitForExit()).code, 0);
    const levels = hub.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { level: number }).level);
    assert.deepEqual(levels, [40]);
  });

  it('address in use: one line, exit 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const p = await runCli(['serve', '--port', String(port)]);
      assert.equal(p.exit.code, 1);
      assert.equal(oneLine(p.stderr), `netemitter: cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('serve on a Unix socket', () => {
  it('--unix alone listens only on the socket, with --unix-mode applied', async () => {
    const path = tempPath('hub.sock');
    const hub = new CliProcess(['serve', '--unix', path, '--unix-mode', '600']);
    await hub.waitForOutput(new RegExp(`listening on unix://${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.doesNotMatch(hub.stdout, /listening on nats:/);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const info = await readInfo({ path });
    assert.equal(info.max_payload, 1024 * 1024);
    assert.equal(info.port, undefined);
    hub.kill();
    assert.equal((await hub.waitForExit()).code, 0);
    assert.equal(existsSync(path), false, 'the socket file is removed on a clean exit');
  });

  it('--unix with an explicit --port listens on both', async () => {
    const path = tempPath('both.sock');
    const hub = new CliProcess(['serve', '--unix', path, '--port', '0']);
    const port = await hub.tcpPort();
    assert.match(hub.stdout, /listening on unix:\/\//);
    assert.equal((await readInfo({ port })).port, port);
    assert.equal(typeof (await readInfo({ path })).server_id, 'string');
    hub.kill();
    assert.equal((await hub.waitForExit()).code, 0);
  });

  it('a stale socket left by a killed hub is replaced', async () => {
    const path = tempPath('stale.sock');
    const first = new CliProcess(['serve', '--unix', path]);
    await first.waitForOutput(/listening on unix:/);
    first.kill('SIGKILL');
    await first.waitForExit();
    assert.ok(statSync(path).isSocket(), 'SIGKILL leaves the socket file behind');

    const second = new CliProcess(['serve', '--unix', path]);
    await second.waitForOutput(/listening on unix:/);
    assert.equal(typeof (await readInfo({ path })).server_id, 'string');
    second.kill();
    assert.equal((await second.waitForExit()).code, 0);
  });

  it('a live socket is refused: one line, exit 1', async () => {
    const path = tempPath('live.sock');
    const owner = new CliProcess(['serve', '--unix', path]);
    await owner.waitForOutput(/listening on unix:/);
    const p = await runCli(['serve', '--unix', path]);
    assert.equal(p.exit.code, 1);
    assert.equal(oneLine(p.stderr), `netemitter: cannot listen on ${path}: another process is listening there`);
    // The refused hub did not touch the live one.
    assert.equal(typeof (await readInfo({ path })).server_id, 'string');
    owner.kill();
    await owner.waitForExit();
  });

  it('a path that is not a socket is refused, and the file kept', async () => {
    const path = tempPath('file.txt');
    writeFileSync(path, 'precious');
    const p = await runCli(['serve', '--unix', path]);
    assert.equal(p.exit.code, 1);
    assert.equal(oneLine(p.stderr), `netemitter: cannot listen on ${path}: the file exists and is not a socket`);
    assert.ok(statSync(path).isFile());
  });
});

describe('config precedence end to end: flags > env > config file', () => {
  let config: string;
  before(() => {
    config = tempPath('hub.json');
    writeFileSync(config, JSON.stringify({ port: 0, maxPayload: '1KB', serverName: 'from-file', maxPending: 4096 }));
  });

  async function infoOf(args: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
    const hub = new CliProcess(['serve', ...args], env);
    try {
      return await readInfo({ port: await hub.tcpPort() });
    } finally {
      hub.kill();
      await hub.waitForExit();
    }
  }

  it('the config file alone (port 0 comes from it too)', async () => {
    const info = await infoOf(['--config', config], {});
    assert.equal(info.max_payload, 1024);
    assert.equal(info.server_name, 'from-file');
  });

  it('env beats the file; NETEMITTER_CONFIG names the file', async () => {
    const info = await infoOf([], { NETEMITTER_CONFIG: config, NETEMITTER_MAX_PAYLOAD: '2KB', NETEMITTER_SERVER_NAME: 'from-env' });
    assert.equal(info.max_payload, 2048);
    assert.equal(info.server_name, 'from-env');
  });

  it('a flag beats env and file; keys a flag does not set fall through', async () => {
    const info = await infoOf(['--config', config, '--max-payload', '3KB'], { NETEMITTER_MAX_PAYLOAD: '2KB' });
    assert.equal(info.max_payload, 3072);
    assert.equal(info.server_name, 'from-file');
  });

  it('an unknown key in the file: one line naming it, exit 2', async () => {
    const bad = tempPath('bad.json');
    writeFileSync(bad, JSON.stringify({ port: 0, maxPayLoad: 10 }));
    const p = await runCli(['serve', '--config', bad]);
    assert.equal(p.exit.code, 2);
    assert.equal(oneLine(p.stderr), `netemitter: unknown config key "maxPayLoad" in ${bad} (did you mean "maxPayload"?)`);
  });
});

describe('signals', () => {
  /** A hub with one protocol-1 client connected, so shutdown goes through lame duck. */
  async function hubWithClient(grace: string): Promise<{ hub: CliProcess; client: RawConnection }> {
    const hub = new CliProcess(['serve', '--port', '0', '--lame-duck-grace-period', grace]);
    const client = await RawConnection.open({ port: await hub.tcpPort() });
    client.send(CONNECT);
    await client.waitFor(/PONG\r\n/);
    return { hub, client };
  }

  it('SIGTERM: lame duck INFO to clients, grace period, then exit 0', async () => {
    const { hub, client } = await hubWithClient('300ms');
    const start = performance.now();
    hub.kill('SIGTERM');
    await client.waitFor(/INFO \{[^\r]*"ldm":true[^\r]*\}/);
    await hub.waitForOutput(/entering lame duck mode, 1 client\(s\) have 300ms to leave/);
    await client.waitForClose();
    const exit = await hub.waitForExit();
    assert.equal(exit.code, 0, hub.output());
    assert.ok(performance.now() - start >= 250, 'the client had its grace period');
    assert.match(hub.stdout, /"msg":"hub closed"/);
  });

  it('SIGINT with no clients exits 0 at once', async () => {
    const hub = new CliProcess(['serve', '--port', '0']);
    await hub.tcpPort();
    hub.kill('SIGINT');
    const exit = await hub.waitForExit();
    assert.equal(exit.code, 0, hub.output());
    assert.match(hub.stdout, /received SIGINT: shutting down/);
  });

  it('a second SIGINT forces the exit (130), a second SIGTERM too (143)', async () => {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      const { hub, client } = await hubWithClient('1m');
      hub.kill(signal);
      await hub.waitForOutput(/entering lame duck mode/);
      await sleep(DUPLICATE_WINDOW_MS + 100);
      hub.kill(signal);
      const exit = await hub.waitForExit(2_000);
      assert.equal(exit.code, code, hub.output());
      assert.match(hub.stdout, new RegExp(`received ${signal} again, exiting now`));
      client.close();
    }
  });

  it('the same signal twice at once (terminal + npm forwarding it) is one request', async () => {
    const { hub, client } = await hubWithClient('300ms');
    hub.kill('SIGINT');
    hub.kill('SIGINT');
    await client.waitForClose();
    const exit = await hub.waitForExit();
    assert.equal(exit.code, 0, hub.output());
    assert.doesNotMatch(hub.stdout, /received SIGINT again/);
  });
});
