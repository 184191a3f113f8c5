/**
 * The seed programs. `echo-server` and `echo-client` must behave like the
 * originals (test/fixtures/seed/, plain node:net) and interoperate with them
 * both ways: every pairing of {original, ours} server × client prints the
 * same lines as the originals talking to each other.
 *
 * Two things vary from run to run and are normalised before comparing: the
 * ports (ephemeral), and how the echo is split into chunks (the server's
 * echo and its " exit" are two writes; the client may read one chunk or
 * two, and prints one line per chunk), so consecutive "received" lines are
 * joined.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEchoServer, runEchoClient } from 'netemitter';
import { oneLine } from '../helpers/cli.js';
import { cli, killProcs, lines, runCli, seed, type Proc } from './proc.js';

type Side = 'original' | 'ours';
const HOST = '127.0.0.1';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netemitter-echo-'));
});
after(async () => {
  await killProcs();
  rmSync(dir, { recursive: true, force: true });
});

function startServer(side: Side): Proc {
  return side === 'ours' ? cli(['echo-server', '--host', HOST, '--port', '0']) : seed('echo-server', [HOST, '0']);
}

function startClient(side: Side, port: number, message?: string): Proc {
  const extra = message === undefined ? [] : [message];
  return side === 'ours' ? cli(['echo-client', '--host', HOST, '--port', String(port), ...extra]) : seed('echo-client', [HOST, String(port), ...extra]);
}

/** The port from `server listening on {…}`. */
async function listeningPort(server: Proc): Promise<number> {
  const m = await server.waitForStdout(/^server listening on (\{.*\})$/m);
  return (JSON.parse(m[1]!) as AddressInfo).port;
}

/** Joins consecutive lines that carry one chunk each of the same stream. */
function joinChunks(out: string[], prefix: RegExp): string[] {
  const joined: string[] = [];
  for (const line of out) {
    const m = prefix.exec(line);
    const last = joined.length > 0 ? prefix.exec(joined[joined.length - 1]!) : null;
    if (m !== null && last !== null && m[1] === last[1]) joined[joined.length - 1] += line.slice(m[0].length);
    else joined.push(line);
  }
  return joined;
}

interface Exchange {
  server: string[];
  client: string[];
  serverProc: Proc;
  clientProc: Proc;
}

/** One client run against one server, both child processes; ports replaced by <PORT> and <PEER>. */
async function exchange(serverSide: Side, clientSide: Side, message?: string): Promise<Exchange> {
  const serverProc = startServer(serverSide);
  const port = await listeningPort(serverProc);
  const clientProc = startClient(clientSide, port, message);
  await clientProc.waitForExit();
  await serverProc.waitForStdout(/^connection from .* closed$/m);
  serverProc.kill();
  await serverProc.waitForExit();
  const peer = /^new client connected: [\d.]+:(\d+)$/m.exec(serverProc.stdout)?.[1];
  assert.ok(peer !== undefined, serverProc.output());
  const norm = (s: string): string => s.replaceAll(`:${port}`, ':<PORT>').replaceAll(`:${peer}`, ':<PEER>');
  return {
    server: joinChunks(lines(serverProc.stdout).map(norm), /^(\S+ Says: )/),
    client: joinChunks(lines(clientProc.stdout).map(norm), /^(Client received: )/),
    serverProc,
    clientProc,
  };
}

const EXPECTED_SERVER = [
  'server listening on {"address":"127.0.0.1","family":"IPv4","port":<PORT>}',
  'new client connected: 127.0.0.1:<PEER>',
  '127.0.0.1:<PEER> Says: Hello World!',
  'connection from 127.0.0.1:<PEER> closed',
];
const EXPECTED_CLIENT = ['Client connected to: 127.0.0.1:<PORT>', 'Client received: Hello World! exit', 'Client closed'];

describe('echo: the originals and ours, all four pairings over TCP', () => {
  let baseline: Exchange;

  it('original server × original client: the reference output', async () => {
    baseline = await exchange('original', 'original');
    assert.deepEqual(baseline.server, EXPECTED_SERVER, baseline.serverProc.output());
    assert.deepEqual(baseline.client, EXPECTED_CLIENT, baseline.clientProc.output());
  });

  for (const [serverSide, clientSide] of [['original', 'ours'], ['ours', 'original'], ['ours', 'ours']] as const) {
    it(`${serverSide} server × ${clientSide} client: the same lines as the originals`, async () => {
      const run = await exchange(serverSide, clientSide);
      assert.deepEqual(run.server, baseline.server, run.serverProc.output());
      assert.deepEqual(run.client, baseline.client, run.clientProc.output());
      assert.equal(run.clientProc.exit!.code, 0);
      assert.equal(run.clientProc.stderr, '');
      if (serverSide === 'ours') assert.deepEqual(run.serverProc.exit, { code: 0, signal: null }, 'SIGTERM is a clean stop');
    });
  }

  it('a MESSAGE argument is sent instead of Hello World!, by both clients alike', async () => {
    const message = 'bonjour à tous';
    const original = await exchange('ours', 'original', message);
    const ours = await exchange('ours', 'ours', message);
    assert.deepEqual(ours.client, original.client);
    assert.deepEqual(ours.client[1], `Client received: ${message} exit`);
    assert.deepEqual(ours.server[2], `127.0.0.1:<PEER> Says: ${message}`);
  });
});

describe('echo over a Unix socket', () => {
  it('ours × ours: the socket path stands where an address would be', async () => {
    const path = join(dir, 'echo.sock');
    const server = cli(['echo-server', '--unix', path]);
    await server.waitForStdout(/^server listening on /m);
    const client = cli(['echo-client', '--unix', path]);
    assert.equal((await client.waitForExit()).code, 0, client.output());
    await server.waitForStdout(/^connection from .* closed$/m);
    server.kill();
    assert.equal((await server.waitForExit()).code, 0, server.output());
    assert.deepEqual(lines(server.stdout), [
      `server listening on ${JSON.stringify(path)}`,
      `new client connected: ${path}`,
      `${path} Says: Hello World!`,
      `connection from ${path} closed`,
    ]);
    assert.deepEqual(joinChunks(lines(client.stdout), /^(Client received: )/), [`Client connected to: ${path}`, 'Client received: Hello World! exit', 'Client closed']);
    assert.equal(existsSync(path), false, 'the socket file is removed on exit');
  });

  it('a socket file left by a killed server is replaced', async () => {
    const path = join(dir, 'stale.sock');
    const first = cli(['echo-server', '--unix', path]);
    await first.waitForStdout(/^server listening on /m);
    first.kill('SIGKILL');
    await first.waitForExit();
    assert.ok(existsSync(path));
    const second = cli(['echo-server', '--unix', path]);
    await second.waitForStdout(/^server listening on /m);
    const client = cli(['echo-client', '--unix', path, 'again']);
    assert.equal((await client.waitForExit()).code, 0, client.output());
    second.kill();
    assert.equal((await second.waitForExit()).code, 0, second.output());
  });
});

describe('echo-server: a failing client costs only its own connection', () => {
  for (const side of ['original', 'ours'] as const) {
    it(`${side}: a reset connection prints its error, and the next client is served`, async () => {
      const server = startServer(side);
      const port = await listeningPort(server);
      const raw = netConnect(port, HOST);
      raw.on('error', () => {});
      await new Promise((resolve) => raw.once('connect', resolve));
      const peer = `127.0.0.1:${raw.localPort}`;
      await server.waitForStdout(new RegExp(`^new client connected: ${peer}$`, 'm'));
      raw.resetAndDestroy();
      await server.waitForStdout(new RegExp(`^connection from ${peer} closed$`, 'm'));
      const client = cli(['echo-client', '--host', HOST, '--port', String(port)]);
      assert.equal((await client.waitForExit()).code, 0, client.output());
      await server.waitForLines(/^connection from .* closed$/, 2);
      server.kill();
      await server.waitForExit();
      const out = lines(server.stdout);
      assert.deepEqual(out.slice(1, 4), [`new client connected: ${peer}`, `Connection ${peer} error: read ECONNRESET`, `connection from ${peer} closed`]);
      assert.match(out[5]!, /^127\.0\.0\.1:\d+ Says: Hello World!$/);
    });
  }
});

describe('echo errors', () => {
  it('echo-client: a refused connection prints one line and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve));
    const port = (blocker.address() as AddressInfo).port;
    await new Promise((resolve) => blocker.close(resolve));
    const p = await runCli(['echo-client', '--host', HOST, '--port', String(port)]);
    assert.equal(p.exit.code, 1, p.output());
    assert.equal(oneLine(p.stderr), `netemitter: cannot connect to ${HOST}:${port}: connection refused`);
    assert.equal(p.stdout, '');
  });

  it('echo-client: a missing socket file prints one line and exits 1', async () => {
    const path = join(dir, 'nobody.sock');
    const p = await runCli(['echo-client', '--unix', path]);
    assert.equal(p.exit.code, 1, p.output());
    assert.equal(oneLine(p.stderr), `netemitter: cannot connect to ${path}: no such socket file`);
  });

  it('echo-server: a port in use prints one line and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const p = await runCli(['echo-server', '--host', HOST, '--port', String(port)]);
      assert.equal(p.exit.code, 1, p.output());
      assert.equal(oneLine(p.stderr), `netemitter: cannot listen on ${HOST}:${port}: address already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('usage errors exit 2 with one line', async () => {
    const port = await runCli(['echo-server', '--port', 'http']);
    assert.equal(port.exit.code, 2, port.output());
    assert.equal(oneLine(port.stderr), 'netemitter: invalid value for --port: "http" (expected an integer 0-65535)');
    const both = await runCli(['echo-client', '--unix', '/tmp/x.sock', '--port', '1']);
    assert.equal(both.exit.code, 2, both.output());
    assert.equal(oneLine(both.stderr), 'netemitter: --unix cannot be combined with --host or --port');
    const extra = await runCli(['echo-client', 'one', 'two']);
    assert.equal(extra.exit.code, 2, extra.output());
  });

  it('--help and --version exit 0', async () => {
    for (const cmd of ['echo-server', 'echo-client']) {
      const [help, version] = await Promise.all([runCli([cmd, '--help']), runCli([cmd, '--version'])]);
      assert.equal(help.exit.code, 0, help.output());
      assert.match(help.stdout, new RegExp(`^Usage: netemitter ${cmd} `));
      assert.match(help.stdout, /--unix <path>/);
      assert.equal(version.exit.code, 0, version.output());
      assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    }
  });
});

describe('echo as a library: import { createEchoServer, runEchoClient } from "netemitter"', () => {
  it('runs both ends in one process with the same lines', async () => {
    const serverLines: string[] = [];
    const clientLines: string[] = [];
    const server = createEchoServer({ log: (l) => serverLines.push(l) });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      await runEchoClient({ host: HOST, port, message: 'from the library', log: (l) => clientLines.push(l) });
      assert.equal(clientLines[0], `Client connected to: ${HOST}:${port}`);
      assert.equal(clientLines.slice(1, -1).map((l) => l.replace(/^Client received: /, '')).join(''), 'from the library exit');
      assert.equal(clientLines.at(-1), 'Client closed');
      assert.equal(serverLines[0], `server listening on ${JSON.stringify({ address: HOST, family: 'IPv4', port })}`);
      assert.match(serverLines[2]!, /^127\.0\.0\.1:\d+ Says: from the library$/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('runEchoClient rejects with a ConnectionError when nothing listens', async () => {
    const path = join(dir, 'none.sock');
    await assert.rejects(runEchoClient({ path, log: () => {} }), { code: 'ERR_NETEMITTER_CONNECTION', message: `cannot connect to ${path}: no such socket file` });
  });
});
