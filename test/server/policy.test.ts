/**
 * The policy seam at the hub (hub-only: the authenticate hook, the `ready`
 * event and the Peer record are netemitter's API). The wire behaviour of
 * each mechanism is in test/conformance/, run against nats-server too.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { createHub, type Hub, type HubOptions } from '../../src/index.js';
import type { ClientInfo } from '../../src/server/types.js';
import type { ConnectRequest, Identity } from '../../src/server/security/types.js';
import type { Peer } from '../../src/transport.js';
import { RawClient, connectLine } from '../helpers/raw.js';

const hubs: Hub[] = [];
after(async () => {
  await Promise.all(hubs.map((h) => h.close({ grace: 0 })));
});

async function startHub(opts: HubOptions): Promise<{ hub: Hub; host: string; port: number }> {
  const hub = createHub({ host: '127.0.0.1', port: 0, ...opts });
  hubs.push(hub);
  const [a] = await hub.listen();
  return { hub, host: a!.host!, port: a!.port! };
}

/** A promise with its resolve, for a hook the test answers when it chooses. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('the ready event', () => {
  it('fires after CONNECT with the name, lang and version; connection fires before, without them', async () => {
    const { hub, host, port } = await startHub({});
    const connected = once(hub, 'connection') as Promise<[ClientInfo]>;
    const ready = once(hub, 'ready') as Promise<[ClientInfo]>;
    const c = await RawClient.connect({ host, port });
    try {
      const [first] = await connected;
      assert.equal(first.name, undefined);
      c.send(connectLine({ name: 'worker-1', lang: 'raw', version: '9.9' }));
      const [info] = await ready;
      assert.deepEqual(
        { id: info.id, name: info.name, lang: info.lang, version: info.version, user: info.user, tls: info.tls, address: info.address },
        { id: first.id, name: 'worker-1', lang: 'raw', version: '9.9', user: undefined, tls: false, address: '127.0.0.1' },
      );
    } finally {
      await c.close();
    }
  });
});

describe('the authenticate hook', () => {
  it('holds back what the client sent behind CONNECT until it resolves, then handles it in order', async () => {
    const verdict = deferred<Identity | null>();
    const called = deferred<{ connect: ConnectRequest; peer: Peer; nonce: string | undefined }>();
    const { hub, host, port } = await startHub({
      authenticate: (connect, peer, nonce) => {
        called.resolve({ connect, peer, nonce });
        return verdict.promise;
      },
    });
    const ready = once(hub, 'ready') as Promise<[ClientInfo]>;
    const c = await RawClient.connect({ host, port });
    try {
      assert.equal(c.info.auth_required, true);
      // One write, as our client and nats.js send it.
      c.send(connectLine({ user: 'ann', pass: 'pw', name: 'n1' }) + 'SUB a 1\r\nPUB a 2\r\nhi\r\nPING\r\n');
      const { connect, peer, nonce } = await called.promise;
      assert.equal(typeof c.info.nonce, 'string');
      assert.equal(nonce, c.info.nonce);
      assert.equal(connect.user, 'ann');
      assert.equal(connect.pass, 'pw');
      assert.equal(connect.name, 'n1');
      assert.deepEqual({ address: peer.address, kind: peer.listener.kind, tls: peer.tls }, { address: '127.0.0.1', kind: 'tcp', tls: null });
      assert.equal(typeof peer.port, 'number');
      // A PING/PONG of the hub with itself is not possible here; what we can know is that nothing came yet.
      assert.equal(c.text(), '');
      verdict.resolve({ user: 'ann' });
      assert.equal(await c.until('PONG\r\n'), 'MSG a 1 2\r\nhi\r\nPONG\r\n');
      const [info] = await ready;
      assert.equal(info.user, 'ann');
      assert.equal(info.name, 'n1');
    } finally {
      await c.close();
    }
  });

  it("a refusal gets -ERR 'Authorization Violation' and the close, counted in stats", async () => {
    const { hub, host, port } = await startHub({ authenticate: async () => null });
    let readyFired = false;
    hub.on('ready', () => (readyFired = true));
    const c = await RawClient.connect({ host, port });
    c.send(connectLine() + 'PING\r\n');
    assert.equal(await c.waitClosed(), true);
    assert.equal(c.text(), "-ERR 'Authorization Violation'\r\n");
    assert.equal(readyFired, false);
    assert.equal(hub.stats().authFailures, 1);
  });

  it('a hook that throws refuses the client like a null verdict', async () => {
    const { host, port } = await startHub({
      authenticate: () => {
        throw new Error('directory down');
      },
    });
    const c = await RawClient.connect({ host, port });
    c.send(connectLine() + 'PING\r\n');
    assert.equal(await c.waitClosed(), true);
    assert.equal(c.text(), "-ERR 'Authorization Violation'\r\n");
  });

  it("a hook that never answers ends in -ERR 'Authentication Timeout' at the authorization timeout", async () => {
    const { host, port } = await startHub({ authenticate: () => new Promise<never>(() => {}), authorization: { timeout: 200 } });
    const c = await RawClient.connect({ host, port });
    c.send(connectLine() + 'PING\r\n');
    assert.equal(await c.waitClosed(5_000), true);
    assert.equal(c.text(), "-ERR 'Authentication Timeout'\r\n");
  });

  it('permissions from the hook apply: a denied publish gets the error and the connection stays; a > subscription never sees a denied subject', async () => {
    const { host, port } = await startHub({
      authenticate: (connect) =>
        connect.user === 'limited'
          ? { user: 'limited', permissions: { publish: { deny: ['secret.>'] }, subscribe: { deny: ['secret.>'] } } }
          : { user: 'admin' },
    });
    const admin = await RawClient.connect({ host, port });
    const limited = await RawClient.connect({ host, port });
    try {
      // roundTrip returns everything received so far: each step checks what it added.
      const step = async (c: RawClient, data: string): Promise<string> => {
        const before = c.text().length;
        return (await c.roundTrip(data)).slice(before);
      };
      assert.equal(await step(admin, connectLine({ user: 'admin' })), 'PONG\r\n');
      assert.equal(await step(limited, connectLine({ user: 'limited' }) + 'SUB > 1\r\n'), 'PONG\r\n');
      assert.equal(await step(limited, 'PUB secret.x 1\r\na\r\n'), `-ERR 'Permissions Violation for Publish to "secret.x"'\r\nPONG\r\n`);
      const mark = limited.text().length;
      assert.equal(await step(admin, 'PUB secret.x 1\r\nb\r\nPUB public.y 1\r\nc\r\n'), 'PONG\r\n');
      // The hub routed the admin's publishes before its PONG, so they are queued to `limited` before the PONG
      // of this round trip (they may have arrived already).
      assert.equal((await limited.roundTrip()).slice(mark), 'MSG public.y 1 1\r\nc\r\nPONG\r\n');
    } finally {
      await admin.close();
      await limited.close();
    }
  });
});

describe('authentication on a Unix socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('applies there too; the Peer record names the socket and INFO has no client_ip', async () => {
    const path = join(dir, 'hub.sock');
    const peers: Peer[] = [];
    const hub = createHub({
      unix: path,
      authenticate: (connect, peer) => {
        peers.push(peer);
        return connect.auth_token === 's3cret' ? { user: 'token' } : null;
      },
    });
    hubs.push(hub);
    await hub.listen();
    for (const [token, expected] of [
      ['nope', "-ERR 'Authorization Violation'\r\n"],
      ['s3cret', 'PONG\r\n'],
    ] as const) {
      const sock = netConnect(path);
      let text = '';
      sock.setEncoding('latin1');
      sock.on('data', (s: string) => (text += s));
      await once(sock, 'connect');
      sock.write(connectLine({ auth_token: token }) + 'PING\r\n');
      const info = await waitFor(() => /\r\n(?:PONG|-ERR[^\r]*)\r\n$/.test(text) && text);
      const [line] = info.split('\r\n');
      assert.equal(JSON.parse(line!.slice(5)).client_ip, undefined);
      assert.equal(JSON.parse(line!.slice(5)).auth_required, true);
      assert.equal(info.slice(line!.length + 2), expected);
      sock.destroy();
    }
    assert.deepEqual(
      peers.map((p) => [p.address, p.port, p.listener.kind, p.tls]),
      [
        [path, undefined, 'unix', null],
        [path, undefined, 'unix', null],
      ],
    );
  });
});

/** Polls a condition that raises no event (socket text), bounded. */
async function waitFor<T>(f: () => T | false, ms = 2_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== false) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a faulty authenticate hook', () => {
  it('returning invalid permissions refuses the client, logs the error, and leaves the hub serving others', async () => {
    const errors: string[] = [];
    const noop = (): void => {};
    const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: (_o: unknown, msg?: string) => errors.push(msg ?? '') };
    const { host, port } = await startHub({
      logger,
      authenticate: (connect) => (connect.user === 'bad' ? { user: 'bad', permissions: { publish: 42 as unknown as string[] } } : { user: 'ok' }),
    });
    const bad = await RawClient.connect({ host, port });
    bad.send(connectLine({ user: 'bad' }) + 'PING\r\n');
    assert.equal(await bad.waitClosed(), true);
    assert.equal(bad.text(), "-ERR 'Authorization Violation'\r\n");
    assert.equal(errors.length, 1);
    const good = await RawClient.connect({ host, port });
    try {
      assert.equal(await good.roundTrip(connectLine({ user: 'ok' })), 'PONG\r\n');
    } finally {
      await good.close();
    }
  });
});

describe('brute force', () => {
  it('the second failure in a row from an address waits before its -ERR and close; other clients are served meanwhile', async () => {
    const { hub, host, port } = await startHub({ authorization: { token: 'right', maxFailureDelay: 60_000 } });
    const first = await RawClient.connect({ host, port });
    first.send(connectLine({ auth_token: 'wrong' }));
    assert.equal(await first.waitClosed(), true, 'the first failure closes at once');
    assert.equal(first.text(), "-ERR 'Authorization Violation'\r\n");

    const second = await RawClient.connect({ host, port });
    const failed = new Promise<void>((resolve) => {
      const check = (): void => {
        if (hub.stats().authFailures === 2) resolve();
        else setImmediate(check);
      };
      check();
    });
    second.send(connectLine({ auth_token: 'wrong' }) + 'PING\r\n');
    await failed;
    // Held: nothing said yet, not closed, and a client with the right token is served at once.
    const good = await RawClient.connect({ host, port });
    try {
      assert.equal(await good.roundTrip(connectLine({ auth_token: 'right' }) + 'SUB a 1\r\nPUB a 1\r\nx\r\n'), 'MSG a 1 1\r\nx\r\nPONG\r\n');
    } finally {
      await good.close();
    }
    assert.equal(second.text(), '');
    assert.equal(await second.waitClosed(50), false);
    // Shutdown does not wait for the delay.
    await hub.close({ grace: 0 });
    assert.equal(await second.waitClosed(), true);
  });
});
