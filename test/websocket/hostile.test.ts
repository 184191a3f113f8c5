/**
 * What the WebSocket port does with peers that are not well-behaved
 * WebSocket clients. Plain HTTP and bogus upgrades run on both targets
 * (nats-server's statuses are the reference); message size limits, the
 * handshake timeout and a thousand silent connections are hub-only.
 * Every socket a test opens is closed in finally; loops are bounded.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { createHub, type Hub } from '../../src/index.js';
import { skipUnlessHub, startServer, type TestServer } from '../helpers/target.js';
import { rawHttp, rawTcp, rawWs, within, wsConnect, WAIT_MS, type RawWs } from './ws-helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function upgradeRequest(headers: Record<string, string>, method = 'GET', path = '/'): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

const GOOD = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': KEY };

/** A client that must keep working through all of it: PING answered with PONG. */
async function stillServed(c: RawWs): Promise<void> {
  const before = c.text().split('PONG\r\n').length;
  c.send('PING\r\n');
  await c.until('a PONG', () => c.text().split('PONG\r\n').length > before);
}

function wsPort(server: TestServer): number {
  return Number(new URL(server.wsUrl!).port);
}

describe('websocket: plain HTTP and bogus upgrades (both targets)', () => {
  let server: TestServer;
  let bystander: RawWs;

  before(async () => {
    server = await startServer({ websocket: true });
    bystander = await rawWs(server.wsUrl!);
    bystander.send('CONNECT {"verbose":false}\r\n');
  });
  after(async () => {
    bystander?.terminate();
    await server?.stop();
  });

  it('answers a plain GET with 400', async () => {
    const r = await rawHttp(wsPort(server), 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(r.status, 400, r.response);
    await stillServed(bystander);
  });

  it('answers an upgrade with another method with 405', async () => {
    const r = await rawHttp(wsPort(server), upgradeRequest(GOOD, 'POST'));
    assert.equal(r.status, 405, r.response);
  });

  const bogus: Record<string, Record<string, string>> = {
    'no Sec-WebSocket-Key': { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13' },
    'an unsupported version': { ...GOOD, 'Sec-WebSocket-Version': '12' },
    'an Upgrade that is not websocket': { ...GOOD, Upgrade: 'h2c' },
  };
  for (const [what, headers] of Object.entries(bogus)) {
    it(`answers an upgrade with ${what} with 400, and other clients carry on`, async () => {
      const r = await rawHttp(wsPort(server), upgradeRequest(headers));
      assert.equal(r.status, 400, r.response);
      await stillServed(bystander);
    });
  }

  it('answers a request line that is not HTTP with 400, and other clients carry on', async () => {
    const r = await rawHttp(wsPort(server), `\x16\x03\x01${randomBytes(24).toString('hex')}\r\n\r\n`);
    assert.equal(r.status, 400, r.response);
    await stillServed(bystander);
  });
});

/** The frame header of a masked binary message claiming `length` bytes (RFC 6455 §5.2), without the payload. */
function frameHeader(length: number): Buffer {
  const h = Buffer.alloc(14);
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h; // then the 4-byte mask (zeros)
}

/** Opens a WebSocket by hand over raw TCP; resolves after the 101. */
async function handUpgrade(port: number): Promise<{ socket: Socket; text: () => string; ended: Promise<void> }> {
  const c = await rawTcp(port);
  c.socket.write(upgradeRequest(GOOD));
  const deadline = Date.now() + WAIT_MS;
  await within(
    new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (c.text().includes('\r\n\r\n')) {
          c.socket.off('data', check);
          resolve();
        } else if (Date.now() > deadline) reject(new Error('no 101'));
      };
      c.socket.on('data', check);
      check();
    }),
    WAIT_MS,
    'the 101',
  );
  assert.match(c.text(), /^HTTP\/1\.1 101 /);
  return c;
}

describe('websocket: message size and handshake defence (hub)', { skip: skipUnlessHub('maxMessageSize and handshakeTimeout are options of the hub') }, () => {
  let hub: Hub;
  let url: string;
  let port: number;
  let bystander: RawWs;

  before(async () => {
    hub = createHub({ host: '127.0.0.1', port: 0, maxPayload: 1024, websocket: { port: 0, maxMessageSize: 8192, handshakeTimeout: 500 } });
    await hub.listen();
    url = hub.websocketAddress!.url;
    port = hub.websocketAddress!.port;
    bystander = await rawWs(url);
    bystander.send('CONNECT {"verbose":false}\r\n');
  });
  after(async () => {
    bystander?.terminate();
    await hub?.close({ grace: 0 });
  });

  it('closes a message over maxMessageSize with 1009, and nothing else', async () => {
    const c = await rawWs(url);
    try {
      c.send('CONNECT {"verbose":false}\r\n');
      c.send(Buffer.alloc(8193, 0x20));
      await c.closedOrRefused();
      assert.equal(c.closed?.code, 1009);
    } finally {
      c.terminate();
    }
    await stillServed(bystander);
  });

  it('closes a frame that claims 100 MB with 1009 at its header, before any payload', async () => {
    const c = await handUpgrade(port);
    try {
      c.socket.write(Buffer.concat([frameHeader(100 * 1024 * 1024), Buffer.alloc(4)]));
      await within(c.ended, WAIT_MS, 'the close after an oversized frame header');
      const bytes = Buffer.from(c.text(), 'latin1');
      const close = bytes.indexOf(0x88, bytes.indexOf('\r\n\r\n') + 4);
      assert.ok(close >= 0, 'a close frame');
      assert.equal(bytes.readUInt16BE(close + 2), 1009);
    } finally {
      c.socket.destroy();
    }
    await stillServed(bystander);
  });

  it('closes a client that sends an unmasked frame with 1002', async () => {
    const c = await handUpgrade(port);
    try {
      c.socket.write(Buffer.from([0x82, 0x06, ...Buffer.from('PING\r\n')]));
      await within(c.ended, WAIT_MS, 'the close after an unmasked frame');
      const bytes = Buffer.from(c.text(), 'latin1');
      const close = bytes.lastIndexOf(0x88);
      assert.ok(close >= 0, 'a close frame');
      assert.equal(bytes.readUInt16BE(close + 2), 1002);
    } finally {
      c.socket.destroy();
    }
  });

  it('cuts a handshake sent a byte at a time (slowloris) at handshakeTimeout, without answering it', async () => {
    const c = await rawTcp(port);
    const request = Buffer.from(upgradeRequest(GOOD));
    let sent = 0;
    // 60 bytes a second: the whole request would take about 2 s, four times the 500 ms timeout.
    const drip = setInterval(() => {
      if (sent < request.length && !c.socket.destroyed) c.socket.write(request.subarray(sent, ++sent));
    }, 16);
    try {
      await within(c.ended, WAIT_MS, 'the cut of a slow handshake');
      assert.ok(sent < request.length, `cut after ${sent} of ${request.length} bytes`);
      assert.equal(c.text(), '');
    } finally {
      clearInterval(drip);
      c.socket.destroy();
    }
    await stillServed(bystander);
  });

  it('cuts a connection that never sends a request at handshakeTimeout', async () => {
    const c = await rawTcp(port);
    try {
      await within(c.ended, WAIT_MS, 'the cut of a silent socket');
      assert.equal(c.text(), '');
    } finally {
      c.socket.destroy();
    }
  });
});

/**
 * A barrier: the listener accepts in order, so once a plain GET opened after them is answered (or refused
 * at its accept), every connection opened before it to that port has been accepted.
 */
async function accepted(port: number): Promise<void> {
  const r = await rawHttp(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  // 503 when the probe itself is over maxConnections: answered at its accept.
  assert.ok(r.status === 400 || r.status === 503, r.response);
}

describe('websocket: upgrades in progress (hub)', { skip: skipUnlessHub('the hub\'s connection accounting') }, () => {
  it('count against maxConnections: a TCP client is refused while one upgrade is under way', async () => {
    const hub = createHub({ host: '127.0.0.1', port: 0, maxConnections: 1, websocket: { port: 0, handshakeTimeout: 60_000 } });
    try {
      await hub.listen();
      const half = await rawTcp(hub.websocketAddress!.port);
      try {
        // Half a request: the upgrade is under way, and stays so for the minute of its timeout.
        half.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        await accepted(hub.websocketAddress!.port);
        const tcp = await rawTcp(Number(new URL(hub.url).port));
        try {
          await within(tcp.ended, WAIT_MS, 'the refusal of a client over maxConnections');
          assert.match(tcp.text(), /^INFO .*\r\n-ERR 'maximum connections exceeded'\r\n$/);
        } finally {
          tcp.socket.destroy();
        }
      } finally {
        half.socket.destroy();
      }
    } finally {
      await hub.close({ grace: 0 });
    }
  });

  it('are cut at shutdown, not left to their timeout', async () => {
    const hub = createHub({ host: '127.0.0.1', port: 0, websocket: { port: 0, handshakeTimeout: 60_000 } });
    let half: Awaited<ReturnType<typeof rawTcp>> | undefined;
    try {
      await hub.listen();
      half = await rawTcp(hub.websocketAddress!.port);
      half.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      await accepted(hub.websocketAddress!.port);
      await within(hub.close({ grace: 0 }), WAIT_MS, 'the hub closing with an upgrade under way');
      await within(half.ended, WAIT_MS, 'the cut of the upgrade under way');
      assert.equal(half.text(), '');
    } finally {
      half?.socket.destroy();
      await hub.close({ grace: 0 });
    }
  });
});

describe('websocket: a thousand silent connections (hub)', { skip: skipUnlessHub('the hub\'s memory and timeouts') }, () => {
  const N = 1000;
  /** Long enough that most are still open when the last one upgrades, even on a busy machine. */
  const AUTH_TIMEOUT_MS = 5_000;

  it('holds them with bounded memory, serves others meanwhile, cuts them all at the auth timeout and closes cleanly', async (t) => {
    const hub = createHub({ host: '127.0.0.1', port: 0, authorization: { token: 't', timeout: AUTH_TIMEOUT_MS, maxFailureDelay: 0 }, websocket: { port: 0 } });
    const sockets: Array<{ socket: Socket; ended: Promise<void> }> = [];
    let cut = 0;
    try {
      await hub.listen();
      // Counted where the hub closes them: a client may not have seen its close yet.
      hub.on('disconnect', () => cut++);
      const port = hub.websocketAddress!.port;
      global.gc?.();
      const before = process.memoryUsage();
      // Opened in batches of 50 so the accept backlog never overflows.
      for (let i = 0; i < N; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => handUpgrade(port)));
        sockets.push(...batch);
      }
      const open = hub.stats().connections;
      const during = process.memoryUsage();
      const perConn = (during.rss - before.rss) / N;
      t.diagnostic(
        `${N} silent WebSocket connections: rss +${((during.rss - before.rss) / 1048576).toFixed(1)} MiB ` +
          `(${(perConn / 1024).toFixed(1)} KiB each, both ends in this process), heap +${((during.heapUsed - before.heapUsed) / 1048576).toFixed(1)} MiB`,
      );
      // Each was upgraded (handUpgrade saw its 101); on a slow machine the first may already be cut by the auth timeout.
      assert.equal(open + cut, N, `${open} open and ${cut} cut of ${N}`);
      assert.ok(open > N / 2, `only ${open} of ${N} open at once`);
      // Both ends of each connection live in this process; a hub that buffered per connection would show here.
      assert.ok(perConn < 256 * 1024, `rss grew ${perConn} bytes per connection`);

      const nc = await wsConnect(hub.websocketAddress!.url, { token: 't' });
      try {
        const sub = nc.subscribe('busy', { max: 1 });
        nc.publish('busy', 'still served');
        for await (const m of sub) assert.equal(new TextDecoder().decode(m.data), 'still served');
      } finally {
        await nc.close();
      }

      await within(Promise.all(sockets.map((s) => s.ended)), AUTH_TIMEOUT_MS + 15_000, `the auth timeout closing ${N} silent connections`);
      assert.equal(hub.stats().connections, 0);
    } finally {
      for (const s of sockets) s.socket.destroy();
      await within(hub.close({ grace: 0 }), 10_000, 'the hub closing');
    }
  });
});
