/**
 * connect(): server URLs, Unix sockets, failover on the first connect, and
 * the options' validation. Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createHub, ConnectionError, ErrorCode, type Bus } from '../../src/index.js';
import { parseServer, resolveConnectOptions, ClientDefaults } from '../../src/client/options.js';
import { nodePlatform } from '../../src/client/node.js';
import { skipInProcess, startServer, targetKind, TargetKind, type ServerHandle } from './helpers/server.js';
import { barrier, inbox, rejection } from './helpers/wait.js';

/** A loopback port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Emits to itself (echo) and checks the event comes back. */
async function roundTrip(bus: Bus, subject: string): Promise<void> {
  const box = inbox(bus, subject);
  bus.emit(subject, { hello: subject });
  await barrier(bus);
  await box.atLeast(1, subject);
  assert.deepEqual(box.payloads, [{ hello: subject }]);
}

describe('connect()', () => {
  let server: ServerHandle;
  const buses: Bus[] = [];

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close())));
    await server.stop();
  });

  it('connects with nats://, tcp:// and bare host:port URLs', { skip: skipInProcess('the URLs name a TCP port') }, async () => {
    for (const url of [server.url, `tcp://127.0.0.1:${server.port}`, `127.0.0.1:${server.port}`]) {
      const bus = await connect(url);
      buses.push(bus);
      assert.equal(bus.isConnected, true);
      assert.equal(bus.server, server.url, `${url} is shown normalised`);
      assert.equal(typeof bus.info?.server_id, 'string');
      await roundTrip(bus, 'connect.url');
      await bus.close();
      assert.equal(bus.isClosed, true);
    }
  });

  it('accepts an options object with a server list and a name', async () => {
    const bus = await connect({ servers: [server.url], name: 'connect-named' });
    buses.push(bus);
    bus.on('connect.named', () => {});
    await bus.flush();
    assert.deepEqual(await server.subscriptions('connect-named'), ['connect.named']);
    await bus.close();
  });

  it('fails over to the next server of the list on the first connect', async () => {
    const dead = `nats://127.0.0.1:${await deadPort()}`;
    const bus = await connect({ servers: [dead, server.url] });
    buses.push(bus);
    assert.equal(bus.server, server.url);
    await roundTrip(bus, 'connect.failover');
    await bus.close();
  });

  it('rejects with ConnectionError when no server of the list answers', async () => {
    const urls = [`nats://127.0.0.1:${await deadPort()}`, `nats://127.0.0.1:${await deadPort()}`];
    const err = await rejection(connect({ servers: urls }));
    assert.equal((err as { code?: string }).code, ErrorCode.CONNECTION);
    for (const u of urls) assert.ok(err.message.includes(u), err.message);
  });

  it('when no server answers, says why for each one, and gives each failure on err.errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netemitter-nosock-'));
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer((sock) => void sockets.add(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const refused = `nats://127.0.0.1:${await deadPort()}`;
      const missing = `unix://${join(dir, 'none.sock')}`;
      const mute = `nats://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const err = await rejection(connect({ servers: [refused, missing, mute], timeout: 200 }));
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.code, ErrorCode.CONNECTION);
      assert.equal(err.message, `could not connect to any server: ${refused} (ECONNREFUSED), ${missing} (ENOENT), ${mute} (timed out after 200 ms)`);
      assert.deepEqual(err.errors.map((e) => [e.constructor, e.code, e.server]), [
        [ConnectionError, ErrorCode.CONNECTION, refused],
        [ConnectionError, ErrorCode.CONNECTION, missing],
        [ConnectionError, ErrorCode.CONNECTION, mute],
      ]);
      assert.equal((err.errors[0]!.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      assert.equal((err.errors[1]!.cause as NodeJS.ErrnoException).code, 'ENOENT');
      assert.equal(err.errors[2]!.message, `${mute}: timed out after 200 ms`);
      assert.equal(err.server, undefined);

      // One server: its own detail, as before there was a list.
      const one = await rejection(connect(refused));
      assert.ok(one instanceof ConnectionError);
      assert.match(one.message, new RegExp(`^could not connect to ${refused}: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+$`));
      assert.equal(one.errors.length, 1);
      assert.equal((one.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives up on a server that accepts but never speaks, after the connect timeout', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer((sock) => void sockets.add(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `nats://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const err = await rejection(connect({ servers: url, timeout: 200 }));
      assert.equal((err as { code?: string }).code, ErrorCode.CONNECTION);
      assert.match(err.message, /timed out/);
      // With a live server next in the list, it moves on.
      const bus = await connect({ servers: [url, server.url], timeout: 200 });
      buses.push(bus);
      assert.equal(bus.server, server.url);
      await bus.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('dials ws:// and wss:// over WebSocket (a dead port is a ConnectionError), and refuses the tls option with ws://', { skip: skipInProcess('WebSocket needs a socket') }, async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    for (const url of [`ws://127.0.0.1:${port}`, `wss://127.0.0.1:${port}/nats`]) {
      const err = await rejection(connect({ servers: url, reconnect: false, timeout: 2000 }));
      assert.equal((err as { code?: string }).code, ErrorCode.CONNECTION, url);
      assert.match(err.message, /ECONNREFUSED/);
    }
    const tls = await rejection(connect({ servers: [server.url, 'ws://127.0.0.1:4443'], tls: {} }));
    assert.equal((tls as { code?: string }).code, ErrorCode.CONFIG, 'the tls option with a ws:// URL in the list');
    assert.match(tls.message, /cannot connect to ws:\/\/127\.0\.0\.1:4443\/: the tls option needs a wss:\/\/ URL/);
  });

  it('reads tls:// URLs and URL credentials, percent-decoded, and keeps them out of url', () => {
    assert.deepEqual(parseServer('tls://127.0.0.1:4443'), { url: 'tls://127.0.0.1:4443', host: '127.0.0.1', port: 4443, discovered: false, tls: true });
    const a = parseServer('nats://al%40ice:p%3Ass%2Fw@host:4222');
    assert.deepEqual([a.url, a.user, a.pass, a.token], ['nats://host:4222', 'al@ice', 'p:ss/w', undefined]);
    const t = parseServer('tls://s3cr%20t@host');
    assert.deepEqual([t.url, t.user, t.token, t.tls], ['tls://host:4222', undefined, 's3cr t', true]);
    // A raw "@" in the password still splits at the last one.
    assert.equal(parseServer('nats://u:a@b@host').pass, 'a@b');
  });

  it('never shows URL credentials in an error message', () => {
    for (const url of ['nats://user:secret@host:abc', 'nats://secret@host:4222/x', 'nats://user:%E0%A4%A@host', 'nats://secret@']) {
      assert.throws(() => parseServer(url), (err: Error) => {
        assert.equal((err as { code?: string }).code, ErrorCode.CONFIG);
        assert.doesNotMatch(err.message, /secret|%E0/, err.message);
        assert.match(err.message, /\*\*\*@/);
        return true;
      });
    }
  });

  it('refuses malformed URLs and options with ConfigError', async () => {
    const bad: unknown[] = ['http://127.0.0.1:4222', 'unix://relative/path.sock', '', [], { servers: server.url, maxBufferedBytes: 10 }, { servers: server.url, timeout: -1 }, { servers: server.url, inboxPrefix: 'a b' }];
    for (const input of bad) {
      const err = await rejection(connect(input as string));
      assert.equal((err as { code?: string }).code, ErrorCode.CONFIG, JSON.stringify(input));
    }
  });

  it('refuses each malformed URL with a ConfigError that says what is wrong (issue 13)', async () => {
    const cases: [string, RegExp][] = [
      ['nats//127.0.0.1:4222', /"nats\/\/127\.0\.0\.1:4222": the scheme's "\:\/\/" is mistyped \(did you mean "nats:\/\/127\.0\.0\.1:4222"\?\)$/],
      ['nats:/host', /mistyped \(did you mean "nats:\/\/host"\?\)$/],
      ['nats:host', /mistyped \(did you mean "nats:\/\/host"\?\)$/],
      ['unix:/tmp/hub.sock', /mistyped \(did you mean "unix:\/\/\/tmp\/hub\.sock"\?\)$/],
      ['nats://', /: no host, e\.g\. nats:\/\/127\.0\.0\.1:4222$/],
      ['tcp://', /: no host/],
      ['nats:///tmp/hub.sock', /: no host \(a Unix socket is unix:\/\/\/tmp\/hub\.sock\)$/],
      ['nats://:4222', /: no host before the port/],
      ['nats://host:', /: no port after ":" \(leave the ":" out for the default port 4222\)$/],
      ['host:', /: no port after ":"/],
      ['nats://host:abc', /: port "abc" is not a number$/],
      ['host:port', /: port "port" is not a number$/],
      ['nats://host:1e3', /: port "1e3" is not a number$/],
      ['http://host', /: unknown scheme http:\/\/$/],
      ['nats://a b:4222', /: it contains whitespace$/],
      ['nats://host:4222/path', /: "\/path" after the host: a server URL has no path, query or fragment$/],
      ['nats://host:4222?x=1', /"\?x=1" after the host/],
      ['::1', /: an IPv6 address goes in brackets, e.g\. \[::1\]:4222$/],
      ['nats://host::4222', /: more than one ":"$/],
      ['nats://[::1:4222', /is not an IPv6 address in brackets$/],
      ['nats://%20', /"%20" is not a host name or an IP address$/],
      ['4222', /: 4222 is a port without a host, e\.g\. 127\.0\.0\.1:4222$/],
      ['unix:///', /needs the path of a socket/],
    ];
    for (const [url, message] of cases) {
      const err = await rejection(connect(url));
      assert.equal((err as { code?: string }).code, ErrorCode.CONFIG, url);
      assert.ok(err.message.startsWith(`invalid server URL ${JSON.stringify(url)}: `), err.message);
      assert.match(err.message, message, url);
    }
    for (const blank of ['', '   ']) assert.throws(() => parseServer(blank), { code: ErrorCode.CONFIG, message: 'empty server URL' });
  });

  it('says why a port is out of range', () => {
    for (const port of ['0', '65536', '70000', '-1', '99999999999999999999']) {
      assert.throws(() => parseServer(`nats://127.0.0.1:${port}`), { code: ErrorCode.CONFIG, message: `invalid server URL "nats://127.0.0.1:${port}": port ${port} is out of range 1-65535` });
    }
    assert.equal(parseServer('nats://127.0.0.1:1').port, 1);
    assert.equal(parseServer('nats://127.0.0.1:65535').port, 65535);
  });

  it('keeps reading the forms it always read, each to one normalised URL', () => {
    const cases: [string, string][] = [
      ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
      ['tcp://127.0.0.1:4333', 'nats://127.0.0.1:4333'],
      ['NATS://demo.nats.io:4222', 'nats://demo.nats.io:4222'],
      ['127.0.0.1:4333', 'nats://127.0.0.1:4333'],
      ['localhost', 'nats://localhost:4222'],
      ['nats:4222', 'nats://nats:4222'], // a host named nats (a container), not a scheme
      ['nats_1:4222', 'nats://nats_1:4222'],
      ['nats://host', 'nats://host:4222'],
      ['nats://host:4222/', 'nats://host:4222'],
      ['nats://host:04222', 'nats://host:4222'],
      ['  nats://host:4222  ', 'nats://host:4222'],
      ['[::1]:4333', 'nats://[::1]:4333'],
      ['nats://[::1]', 'nats://[::1]:4222'],
    ];
    for (const [input, url] of cases) assert.equal(parseServer(input).url, url, input);
  });

  it('reads several servers from one string separated by commas; an array takes one per entry', async () => {
    const list = (servers: unknown): string[] => resolveConnectOptions({ servers } as never, nodePlatform).servers.map((s) => s.url);
    assert.deepEqual(list('nats://a:4222,nats://b:4223'), ['nats://a:4222', 'nats://b:4223']);
    assert.deepEqual(list(' a , b:4223 ,unix:///tmp/c.sock'), ['nats://a:4222', 'nats://b:4223', 'unix:///tmp/c.sock']);
    assert.deepEqual(resolveConnectOptions('nats://a,nats://b', nodePlatform).servers.map((s) => s.url), ['nats://a:4222', 'nats://b:4222']);
    assert.deepEqual(list(['nats://a', 'b:4223']), ['nats://a:4222', 'nats://b:4223']);
    assert.deepEqual(list(['/tmp/odd,name.sock']), ['unix:///tmp/odd,name.sock'], 'an array entry is one URL, commas and all');
    assert.throws(() => list('nats://a,'), { code: ErrorCode.CONFIG, message: 'invalid server list "nats://a,": entry 2 of 2 is empty' });
    assert.throws(() => list('a,,b'), { code: ErrorCode.CONFIG, message: 'invalid server list "a,,b": entry 2 of 3 is empty' });
    assert.throws(() => list('nats://a,nats//b'), { code: ErrorCode.CONFIG, message: /^invalid server URL "nats\/\/b": the scheme's/ });
    assert.throws(() => list(['nats://a,nats://b']), { code: ErrorCode.CONFIG, message: /in option servers: an array takes one URL per entry/ });
    assert.throws(() => list([4222]), { code: ErrorCode.CONFIG, message: 'option servers[0] must be a URL, got number 4222' });
    assert.throws(() => list(4222), { code: ErrorCode.CONFIG, message: 'option servers must be a URL or an array of URLs, got number 4222' });
    assert.throws(() => resolveConnectOptions(4222 as never, nodePlatform), { code: ErrorCode.CONFIG });
  });

  it('fails over along a comma-separated list, as along an array', async () => {
    const bus = await connect(`nats://127.0.0.1:${await deadPort()},${server.url}`);
    buses.push(bus);
    assert.equal(bus.server, server.url);
    await roundTrip(bus, 'connect.commas');
    await bus.close();
  });

  it('parses unix://, bare socket paths and Windows pipes', () => {
    assert.deepEqual(parseServer('unix:///tmp/hub.sock'), { url: 'unix:///tmp/hub.sock', path: '/tmp/hub.sock', discovered: false });
    assert.deepEqual(parseServer('/tmp/hub.sock'), { url: 'unix:///tmp/hub.sock', path: '/tmp/hub.sock', discovered: false });
    assert.equal(parseServer('\\\\.\\pipe\\netemitter').path, '\\\\.\\pipe\\netemitter');
    assert.equal(parseServer('//./pipe/netemitter').path, '//./pipe/netemitter');
    assert.equal(parseServer('\\\\.\\pipe\\my pipe').path, '\\\\.\\pipe\\my pipe', 'a pipe name may hold spaces');
    assert.equal(parseServer('/tmp/my dir/hub.sock').path, '/tmp/my dir/hub.sock', 'so may a socket path');
    assert.equal(parseServer('unix:///tmp/my dir/hub.sock').path, '/tmp/my dir/hub.sock');
    assert.deepEqual(parseServer('nats://[::1]:4333'), { url: 'nats://[::1]:4333', host: '::1', port: 4333, discovered: false });
    assert.equal(parseServer('localhost').url, 'nats://localhost:4222');
  });

  it('reconnects forever by default, with backoff and jitter', () => {
    const o = resolveConnectOptions('nats://127.0.0.1:4222', nodePlatform);
    assert.notEqual(o.reconnect, false);
    assert.deepEqual(o.reconnect, { ...ClientDefaults.reconnect });
    assert.equal(ClientDefaults.reconnect.maxAttempts, -1);
    assert.ok(ClientDefaults.reconnect.jitter > 0);
    assert.ok(ClientDefaults.reconnect.maxDelay > ClientDefaults.reconnect.initialDelay);
  });

  it('connects over a Unix socket (unix:// URL and bare path)', { skip: targetKind() === TargetKind.NATS_SERVER ? 'nats-server 2.9 has no Unix socket listener for clients' : skipInProcess('tests the Unix socket dialer') }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netemitter-unix-'));
    const path = join(dir, 'hub.sock');
    const hub = createHub({ unix: path });
    await hub.listen();
    try {
      for (const url of [`unix://${path}`, path]) {
        const bus = await connect(url);
        buses.push(bus);
        assert.equal(bus.server, `unix://${path}`);
        await roundTrip(bus, 'connect.unix');
        await bus.close();
      }
    } finally {
      await hub.close({ grace: 0 });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
