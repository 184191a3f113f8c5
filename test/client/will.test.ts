/**
 * Last wills (issue #18): what the hub publishes for a client whose
 * connection ends any way but a clean close, and our client's side of it
 * (the will in CONNECT, its cancel in close() and drain(), a refused will).
 *
 * Most cases are the hub's own (nats-server has no wills: it ignores the
 * field); the cases that hold for both targets run against both.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, createHub, PermissionError, ConfigError, type Bus, type Hub, type ClientInfo, type Will } from '../../src/index.js';
import { startServer, skipInProcess, skipUnlessHub, differs, type ServerOptions, type TestServer } from '../helpers/target.js';
import { RawClient, connectLine } from '../helpers/raw.js';
import { spawnChild, type Child } from './helpers/procs.js';
import { TestProxy } from './helpers/proxy.js';
import { barrier, inbox, next, within, WAIT_MS, type Inbox } from './helpers/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/will-child.js', import.meta.url));
const HUB_ONLY = skipUnlessHub('nats-server has no last will');
/** Hub only, and over a socket: a child process, WebSocket or a TCP proxy between client and hub. */
const hubOverSocket = (why: string): string | false => HUB_ONLY || skipInProcess(why);

/** What each test starts, stopped after it even when it fails. */
class Scope {
  private readonly stops: (() => Promise<unknown>)[] = [];
  async server(opts: ServerOptions = {}): Promise<TestServer> {
    const s = await startServer(opts);
    this.stops.push(() => s.stop());
    return s;
  }
  async bus(server: TestServer | string, opts: Parameters<typeof connect>[0] & object = {}): Promise<Bus> {
    const url = typeof server === 'string' ? server : server.url;
    const b = await connect({ servers: url, reconnect: false, ...opts });
    this.stops.push(() => (b.isClosed ? Promise.resolve() : b.close().catch(() => {})));
    return b;
  }
  async raw(server: TestServer): Promise<RawClient> {
    const c = await RawClient.connect(server);
    this.stops.push(() => c.close());
    return c;
  }
  add(stop: () => Promise<unknown>): void {
    this.stops.push(stop);
  }
  async close(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch(() => {});
  }
}

/** Runs `fn` with a scope that is always cleaned up. */
async function scoped(fn: (s: Scope) => Promise<void>): Promise<void> {
  const s = new Scope();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

/** A bus that records the will subject (and every control subject, which the hub must never route). */
async function watcher(s: Scope, server: TestServer, subject: string): Promise<{ bus: Bus; wills: Inbox<unknown>; controls: Inbox<unknown> }> {
  const bus = await s.bus(server, { name: 'watcher' });
  const wills = inbox(bus, subject);
  const controls = inbox(bus, '$NE.CTL.>');
  await bus.flush();
  return { bus, wills, controls };
}

/** Resolves with the reason once the hub has closed the client named `name`. */
function hubClosed(hub: Hub, name: string, ms = WAIT_MS): Promise<string> {
  let fn: ((info: ClientInfo, reason: string) => void) | undefined;
  const p = new Promise<string>((resolve) => {
    fn = (info, reason) => {
      if (info.name === name) resolve(reason);
    };
    hub.on('disconnect', fn);
  });
  return within(p, ms, `the hub closing ${name}`).finally(() => hub.off('disconnect', fn!));
}

/** A raw client that sent CONNECT with `extra` and had it accepted (the PONG came back). */
async function rawWithWill(s: Scope, server: TestServer, extra: Record<string, unknown>): Promise<RawClient> {
  const c = await s.raw(server);
  await c.roundTrip(connectLine({ name: 'raw-will', ...extra }));
  return c;
}

/** A process connected to `url` with `will` (test/client/fixtures/will-child.ts), once it says it is connected. */
async function willChild(s: Scope, url: string, will: Will): Promise<Child> {
  const child = spawnChild(process.execPath, [CHILD, url, JSON.stringify(will)]);
  s.add(() => child.kill());
  const ready = new Promise<void>((resolve) => child.process.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  await within(ready, WAIT_MS, 'the child connecting').catch((err: Error) => {
    throw new Error(`${err.message}: ${child.log()}`);
  });
  return child;
}

/** Runs a CPU burner process while `fn` runs: the scheduling a busy CI machine gives. */
async function besideBurner(fn: () => Promise<void>): Promise<void> {
  const burner = spawn(process.execPath, ['-e', 'for(;;);'], { stdio: 'ignore' });
  try {
    await fn();
  } finally {
    const gone = new Promise((resolve) => burner.once('exit', resolve));
    burner.kill('SIGKILL');
    await gone;
  }
}

describe('last will', () => {
  it('INFO lists the will feature (hub only: nats-server sends no netemitter field)', () =>
    scoped(async (s) => {
      const server = await s.server();
      const c = await s.raw(server);
      assert.deepEqual(
        Array.isArray(c.info.netemitter) && c.info.netemitter.includes('will'),
        differs({ hub: true, natsServer: false, why: 'the netemitter list is ours' }),
      );
    }));

  it('a client with a will connects to either target; a clean close sends no cancel where no will is kept and fires nothing', () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'both.left');
      const b = await s.bus(server, { name: 'both', will: { subject: 'both.left', payload: 'gone' } });
      b.emit('both.hello', 1);
      const closed = server.hub === undefined ? null : hubClosed(server.hub, 'both');
      await b.close();
      await closed;
      await barrier(w.bus);
      assert.deepEqual(w.wills.payloads, []);
      // Against nats-server a cancel would be an ordinary message, and would arrive here.
      assert.deepEqual(w.controls.payloads, []);
    }));

  it('is published when the process is killed with SIGKILL, with its payload and headers', { skip: hubOverSocket('the client is a child process') }, () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'workers.left');
      const will = { subject: 'workers.left', payload: 'worker 7 died', headers: { Worker: '7', Tag: ['a', 'b'] } };
      const child = await willChild(s, server.url, will);
      assert.deepEqual(w.wills.payloads, []);
      const closed = hubClosed(server.hub!, 'will-child');
      await child.kill();
      // The kernel closes a killed process's sockets: a FIN, or a reset when bytes it had not read were waiting.
      assert.match(await closed, /^(client closed|socket error)$/);
      const [got] = await w.wills.atLeast(1, 'the will');
      assert.equal(got!.payload, 'worker 7 died');
      assert.equal(got!.meta.headers?.get('worker'), '7');
      assert.deepEqual(got!.meta.headers?.values('Tag'), ['a', 'b']);
      await barrier(w.bus);
      assert.equal(w.wills.length, 1);
    }));

  it('over WebSocket as over TCP: SIGKILL publishes it, close() does not', { skip: hubOverSocket('WebSocket runs over a socket') }, () =>
    scoped(async (s) => {
      const server = await s.server({ websocket: true });
      const w = await watcher(s, server, 'ws.left');
      const clean = await s.bus(server.wsUrl!, { name: 'ws-clean', will: { subject: 'ws.left', payload: 'clean' } });
      const cleanGone = hubClosed(server.hub!, 'ws-clean');
      await clean.close();
      await cleanGone;
      const child = await willChild(s, server.wsUrl!, { subject: 'ws.left', payload: 'killed' });
      const killedGone = hubClosed(server.hub!, 'will-child');
      await child.kill();
      await killedGone;
      await w.wills.atLeast(1, 'the will');
      await barrier(w.bus);
      assert.deepEqual(w.wills.payloads, ['killed']);
    }));

  it('is published when the socket is destroyed', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'raw.left');
      const c = await rawWithWill(s, server, { will: { subject: 'raw.left', payload: 'x' } });
      const closed = hubClosed(server.hub!, 'raw-will');
      await c.close();
      await closed;
      assert.deepEqual((await w.wills.atLeast(1, 'the will')).map((r) => r.payload), ['x']);
    }));

  it('is published for a stale connection (no PONG within pingInterval × maxPingsOut)', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server({ pingInterval: 100, maxPingsOut: 2 });
      const w = await watcher(s, server, 'stale.left');
      // The watcher answers PINGs (our client does); the raw client never does.
      const c = await rawWithWill(s, server, { will: { subject: 'stale.left', payload: 'stale' } });
      const reason = await hubClosed(server.hub!, 'raw-will');
      assert.equal(reason, 'stale connection');
      await c.until("-ERR 'Stale Connection'");
      assert.deepEqual((await w.wills.atLeast(1, 'the will')).map((r) => r.payload), ['stale']);
    }));

  it('is not published on close(), with events still in flight', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'closing.left');
      const load = inbox(w.bus, 'closing.load');
      await w.bus.flush();
      const b = await s.bus(server, { name: 'closer', will: { subject: 'closing.left', payload: 'crashed' } });
      const body = 'x'.repeat(1024);
      for (let i = 0; i < 500; i++) b.emit('closing.load', body);
      const closed = hubClosed(server.hub!, 'closer');
      await b.close();
      assert.equal(await closed, 'client closed');
      await load.atLeast(500, 'the events sent before close()');
      await barrier(w.bus);
      assert.deepEqual(w.wills.payloads, []);
    }));

  it('is not published on drain(), with a handler still running', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'draining.left');
      const b = await s.bus(server, { name: 'drainer', will: { subject: 'draining.left', payload: 'crashed' } });
      let release!: () => void;
      const started = new Promise<void>((resolve) => {
        b.handle('draining.job', async () => {
          resolve();
          await new Promise<void>((r) => (release = r));
          return 'done';
        });
      });
      await b.flush();
      const reply = w.bus.request('draining.job', 1);
      await within(started, WAIT_MS, 'the handler starting');
      const closed = hubClosed(server.hub!, 'drainer');
      const drained = b.drain();
      release();
      await drained;
      assert.equal(await reply, 'done');
      await closed;
      await barrier(w.bus);
      assert.deepEqual(w.wills.payloads, []);
    }));

  it('is not published on close() or drain() beside a CPU burner, 20 times over', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'busy.left');
      await besideBurner(async () => {
        for (let i = 0; i < 20; i++) {
          const name = `busy-${i}`;
          const b = await s.bus(server, { name, will: { subject: 'busy.left', payload: name } });
          for (let j = 0; j < 200; j++) b.emit('busy.load', j);
          const closed = hubClosed(server.hub!, name);
          await (i % 2 === 0 ? b.close() : b.drain());
          await closed;
        }
      });
      await barrier(w.bus);
      assert.deepEqual(w.wills.payloads, []);
    }));

  it('is not published on a close() whose flush the hub does not confirm in time: the cancel goes ahead of the FIN', { skip: hubOverSocket('a TCP proxy holds the PONG back') }, () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'unconfirmed.left');
      const proxy = await TestProxy.start({ host: server.host, port: server.port });
      s.add(() => proxy.close());
      const b = await s.bus(`nats://127.0.0.1:${proxy.port}`, { name: 'unconfirmed', timeout: 300, will: { subject: 'unconfirmed.left', payload: 'x' } });
      const closed = hubClosed(server.hub!, 'unconfirmed');
      // The hub's PONG never reaches the bus: close() gives up waiting after `timeout` and closes anyway.
      proxy.hold();
      await b.close();
      await closed;
      await barrier(w.bus);
      assert.deepEqual(w.wills.payloads, []);
    }));

  it('is not published when the hub shuts down: its clients did not vanish, the hub did', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server();
      // Connected first, closed first: the watcher, still subscribed, would get the will before its own close.
      await rawWithWill(s, server, { will: { subject: 'shutdown.left', payload: 'x' } });
      const w = await watcher(s, server, 'shutdown.left');
      const gone = next(w.bus.status, 'disconnect');
      await server.stop();
      await gone;
      assert.deepEqual(w.wills.payloads, []);
    }));

  it('is cancelled by a client that follows a lame-duck INFO to another server, and left with that server', { skip: hubOverSocket('a TCP proxy cuts the second connection') }, () =>
    scoped(async (s) => {
      const a = await s.server();
      const b = await s.server();
      const wa = await watcher(s, a, 'moving.left');
      const wb = await watcher(s, b, 'moving.left');
      // B behind a proxy, which can cut the connection as a network would.
      const proxy = await TestProxy.start({ host: b.host, port: b.port });
      s.add(() => proxy.close());
      const bUrl = `nats://127.0.0.1:${proxy.port}`;
      const mover = await s.bus(a, { servers: [a.url, bUrl], name: 'mover', will: { subject: 'moving.left', payload: 'm' }, reconnect: { initialDelay: 10 } });
      const leftA = hubClosed(a.hub!, 'mover');
      const moved = next(mover.status, 'reconnect');
      // The hub waits its grace period for clients to leave; the watcher on it stays to the end.
      const closing = a.hub!.close({ grace: 2_000 });
      s.add(() => closing);
      await moved;
      assert.equal(await leftA, 'client closed');
      await barrier(wa.bus);
      assert.deepEqual(wa.wills.payloads, []);
      // The new server holds the will: a lost connection fires it there.
      assert.equal(mover.server, bUrl);
      const leftB = hubClosed(b.hub!, 'mover');
      proxy.drop();
      await leftB;
      assert.deepEqual((await wb.wills.atLeast(1, 'the will on the new server')).map((r) => r.payload), ['m']);
    }));

  it('is forgotten after PUB $NE.CTL.WILL.CANCEL, which is acknowledged to its reply subject and routed to nobody', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'cancel.left');
      const c = await rawWithWill(s, server, { will: { subject: 'cancel.left', payload: 'x' }, verbose: true });
      const text = await c.roundTrip('SUB ack.cancel 1\r\nPUB $NE.CTL.WILL.CANCEL ack.cancel 0\r\n\r\n');
      // SUB's +OK, the control PUB's +OK, then the acknowledgement: +OK before the command runs, as nats-server
      // acknowledges a PUB before routing it (server/connection.ts).
      assert.match(text, /PONG\r\n\+OK\r\n\+OK\r\nMSG ack\.cancel 1 0\r\n\r\nPONG\r\n$/);
      const closed = hubClosed(server.hub!, 'raw-will');
      await c.close();
      await closed;
      await barrier(w.bus);
      assert.deepEqual(w.wills.payloads, []);
      assert.deepEqual(w.controls.payloads, []);
    }));

  it('is replaced by a later CONNECT with a will, and kept by one without', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server();
      const w = await watcher(s, server, 'replace.>');
      const c = await rawWithWill(s, server, { will: { subject: 'replace.first', payload: '1' } });
      await c.roundTrip(connectLine({ name: 'raw-will', will: { subject: 'replace.second', payload: '2' } }));
      await c.roundTrip(connectLine({ name: 'raw-will' }));
      const closed = hubClosed(server.hub!, 'raw-will');
      await c.close();
      await closed;
      const [got] = await w.wills.atLeast(1, 'the will');
      assert.equal(got!.meta.subject, 'replace.second');
      await barrier(w.bus);
      assert.equal(w.wills.length, 1);
    }));

  it('is stored by a stream that captures its subject: a durable record of the death', { skip: HUB_ONLY }, () =>
    scoped(async (s) => {
      const server = await s.server({ jetstream: true });
      const admin = await s.bus(server, { name: 'admin' });
      await admin.streams.add({ name: 'DEATHS', subjects: ['deaths.>'] });
      const c = await rawWithWill(s, server, { will: { subject: 'deaths.worker', payload: 'w1', headers: { Why: 'crash' } } });
      const closed = hubClosed(server.hub!, 'raw-will');
      await c.close();
      await closed;
      const m = await admin.streams.getMessage('DEATHS', { seq: 1 });
      assert.equal(m.subject, 'deaths.worker');
      assert.equal(Buffer.from(m.data).toString(), 'w1');
      assert.equal(m.headers?.get('Why'), 'crash');
    }));

  describe('permissions', () => {
    const authorization = {
      users: [
        { user: 'worker', password: 'pw', permissions: { publish: { allow: ['work.>', 'deaths.allowed', '_INBOX.>'] } } },
        { user: 'watcher', password: 'pw' },
      ],
    };

    it('a will on a subject its user may not publish to refuses the CONNECT: connect() rejects with a PermissionError', () =>
      scoped(async (s) => {
        const server = await s.server({ authorization });
        const opts = { user: 'worker', pass: 'pw', will: { subject: 'deaths.denied', payload: 'x' } };
        const outcome = await connect({ servers: server.url, reconnect: false, ...opts }).then(
          async (b) => {
            await b.close();
            return 'connected';
          },
          (err: unknown) => err,
        );
        if (differs({ hub: true, natsServer: false, why: 'nats-server ignores the will' })) {
          assert.ok(outcome instanceof PermissionError, `expected a PermissionError, got ${String(outcome)}`);
          assert.equal(outcome.subject, 'deaths.denied');
          assert.equal(outcome.operation, 'publish');
        } else {
          assert.equal(outcome, 'connected');
        }
        // A will it may publish is accepted.
        const ok = await s.bus(server, { ...opts, will: { subject: 'deaths.allowed' } });
        assert.equal(ok.isConnected, true);
      }));

    it('on the wire: nats-server\'s Permissions Violation text, then the close', { skip: HUB_ONLY }, () =>
      scoped(async (s) => {
        const server = await s.server({ authorization });
        const c = await s.raw(server);
        c.send(connectLine({ user: 'worker', pass: 'pw', will: { subject: 'deaths.denied' } }) + 'PING\r\n');
        await c.expect(`-ERR 'Permissions Violation for Publish to "deaths.denied"'\r\n`);
        assert.equal(await c.waitClosed(), true);
        assert.doesNotMatch(c.text(), /PONG/);
      }));

    it('a reconnect refused for its will ends the bus with the error instead of retrying forever', { skip: HUB_ONLY }, () =>
      scoped(async (s) => {
        let allowed = true;
        const hub = createHub({
          host: '127.0.0.1',
          port: 0,
          authenticate: () => ({ user: 'worker', permissions: { publish: allowed ? ['>'] : ['work.>'] } }),
        });
        const [addr] = await hub.listen();
        s.add(() => hub.close({ grace: 0 }));
        const proxy = await TestProxy.start({ host: '127.0.0.1', port: addr!.port! });
        s.add(() => proxy.close());
        const b = await s.bus(`nats://127.0.0.1:${proxy.port}`, {
          name: 'refused',
          will: { subject: 'deaths.x' },
          reconnect: { initialDelay: 10, maxDelay: 50 },
        });
        const errors: Error[] = [];
        b.status.on('error', (err) => errors.push(err));
        const closed = next(b.status, 'close');
        allowed = false;
        proxy.drop();
        await closed;
        assert.equal(b.isClosed, true);
        const last = errors.at(-1);
        assert.ok(last instanceof PermissionError, `expected a PermissionError, got ${String(last)}`);
        assert.equal(last.subject, 'deaths.x');
      }));
    it('a later CONNECT as a user who may not publish the will kept is refused, and the will is not published', { skip: HUB_ONLY }, () =>
      scoped(async (s) => {
        const server = await s.server({ authorization });
        const watch = await s.bus(server, { name: 'watch', user: 'watcher', pass: 'pw' });
        const wills = inbox(watch, 'deaths.>');
        await watch.flush();
        const c = await s.raw(server);
        await c.roundTrip(connectLine({ name: 'raw-will', user: 'watcher', pass: 'pw', will: { subject: 'deaths.other', payload: 'x' } }));
        const closed = hubClosed(server.hub!, 'raw-will');
        c.send(connectLine({ name: 'raw-will', user: 'worker', pass: 'pw' }));
        await c.until(`-ERR 'Permissions Violation for Publish to "deaths.other"'\r\n`);
        assert.equal(await closed, 'protocol violation');
        await barrier(watch);
        assert.deepEqual(wills.payloads, []);
      }));
  });

  describe('invalid wills', () => {
    const cases: [string, unknown, RegExp][] = [
      ['not an object', 'workers.left', /Invalid Will: will must be an object/],
      ['a wildcard subject', { subject: 'workers.*' }, /Invalid Will: will\.subject must be a literal subject/],
      ['a payload that is not a string', { subject: 'a', payload: 3 }, /Invalid Will: will\.payload must be a string/],
      ['a header name with a colon', { subject: 'a', headers: { 'a:b': 'v' } }, /Invalid Will: will\.headers has an invalid name/],
      ['a header value with a line break', { subject: 'a', headers: { k: 'v\r\nX: y' } }, /Invalid Will: will\.headers\.k must be/],
      ['more than max_payload', { subject: 'a', payload: 'x'.repeat(600) }, /Invalid Will: 600 bytes of headers and payload, more than max_payload \(512\)/],
    ];
    for (const [what, will, text] of cases) {
      it(`${what}: -ERR 'Invalid Will: …', then the close`, { skip: HUB_ONLY }, () =>
        scoped(async (s) => {
          const server = await s.server({ maxPayload: 512 });
          const c = await s.raw(server);
          c.send(connectLine({ will }) + 'PING\r\n');
          await c.until('\r\n');
          assert.match(c.text(), /^-ERR '[^'\r\n]+'\r\n$/);
          assert.match(c.text(), text);
          assert.equal(await c.waitClosed(), true);
        }));
    }

    it('our client checks the will before dialing', async () => {
      await assert.rejects(connect({ servers: 'nats://127.0.0.1:1', will: { subject: 'a.>' } }), ConfigError);
    });
  });
});
