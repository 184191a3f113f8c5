/**
 * The hub's WebSocket listener, hub-only: authentication and permissions
 * over WebSocket (the same -ERR texts as on TCP), maxConnections, Origin
 * checks, the path, compression, wss:// with client certificates, sharing
 * the monitoring port, close frames, and WebSocket pings as liveness.
 * nats-server's own answers to the same requests are in interop.test.ts and
 * hostile.test.ts where both targets agree.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createHub, type Hub, type HubOptions } from '../../src/index.js';
import type { ClientInfo } from '../../src/server/types.js';
import { skipUnlessHub } from '../helpers/target.js';
import { makeCerts } from '../helpers/tls.js';
import { RawWs, rawWs, firstInfo, wsConnect, within, WAIT_MS } from './ws-helpers.js';

const skip = skipUnlessHub('options of the hub\'s WebSocket listener');
const HOST = '127.0.0.1';

/** A listening hub with a WebSocket listener; `fn` runs with it, and it is closed after, pass or fail. */
async function withHub(opts: HubOptions, fn: (hub: Hub, url: string) => Promise<void>): Promise<void> {
  const hub = createHub({ host: HOST, port: 0, websocket: { port: 0 }, ...opts });
  try {
    await hub.listen();
    await fn(hub, hub.websocketAddress!.url);
  } finally {
    await hub.close({ grace: 0 });
  }
}

/** Opens raw WebSockets; all are terminated after `fn`, pass or fail. */
async function withRaw<T>(fn: (open: (url: string, opts?: ConstructorParameters<typeof RawWs>[1]) => RawWs) => Promise<T>): Promise<T> {
  const all: RawWs[] = [];
  try {
    return await fn((url, opts) => {
      const c = new RawWs(url, opts);
      all.push(c);
      return c;
    });
  } finally {
    for (const c of all) c.terminate();
  }
}

describe('websocket: authentication and permissions', { skip }, () => {
  const authorization = {
    maxFailureDelay: 0,
    users: [
      { user: 'alice', password: 'wonder', permissions: { publish: { deny: ['secret.>'] } } },
      { user: 'bob', password: 'builder' },
    ],
  };

  it('takes a user and password from nats-core wsconnect, and refuses a wrong one', async () => {
    await withHub({ authorization }, async (_hub, url) => {
      const nc = await wsConnect(url, { user: 'bob', pass: 'builder' });
      try {
        await nc.flush();
      } finally {
        await nc.close();
      }
      await assert.rejects(wsConnect(url, { user: 'bob', pass: 'wrong' }), /Authorization Violation/i);
    });
  });

  it('takes a token', async () => {
    await withHub({ authorization: { token: 's3cret', maxFailureDelay: 0 } }, async (_hub, url) => {
      const nc = await wsConnect(url, { token: 's3cret' });
      await nc.close();
      await assert.rejects(wsConnect(url, { token: 'nope' }), /Authorization Violation/i);
    });
  });

  it("refuses a bad CONNECT with TCP's -ERR, then a 1008 'Authentication Failure' close frame", async () => {
    await withHub({ authorization }, async (_hub, url) => {
      const c = await rawWs(url);
      try {
        c.send('CONNECT {"user":"alice","pass":"bad"}\r\n');
        await c.received("-ERR 'Authorization Violation'\r\n");
        await c.closedOrRefused();
        assert.deepEqual(c.closed, { code: 1008, reason: 'Authentication Failure' });
      } finally {
        c.terminate();
      }
    });
  });

  it('answers a publish its permissions deny with the Permissions Violation -ERR, and stays open', async () => {
    await withHub({ authorization }, async (_hub, url) => {
      const c = await rawWs(url);
      try {
        c.send('CONNECT {"user":"alice","pass":"wonder","verbose":false}\r\nPUB secret.x 1\r\nx\r\nPING\r\n');
        await c.received('PONG\r\n');
        assert.match(c.text(), /-ERR 'Permissions Violation for Publish to "secret\.x"'\r\n/);
        assert.equal(c.closed, null);
      } finally {
        c.terminate();
      }
    });
  });

  it('closes a client that never authenticates with Authentication Timeout (1008)', async () => {
    await withHub({ authorization: { ...authorization, timeout: 200 } }, async (_hub, url) => {
      const c = await rawWs(url);
      try {
        await c.received("-ERR 'Authentication Timeout'\r\n");
        await c.closedOrRefused();
        assert.deepEqual(c.closed, { code: 1008, reason: 'Authentication Timeout' });
      } finally {
        c.terminate();
      }
    });
  });
});

describe('websocket: limits and close frames', { skip }, () => {
  it('counts WebSocket clients in maxConnections: the one over the limit is refused before its upgrade (503)', async () => {
    await withHub({ maxConnections: 1 }, async (_hub, url) => {
      await withRaw(async (open) => {
        const first = open(url);
        await first.received('INFO ');
        const second = open(url);
        await second.closedOrRefused();
        assert.equal(second.refusedWith, 503);
        // The first is still served.
        first.send('CONNECT {"verbose":false}\r\nPING\r\n');
        await first.received('PONG\r\n');
      });
    });
  });

  it("closes a message over max_payload with -ERR 'Maximum Payload Violation' and 1009", async () => {
    await withHub({}, async (_hub, url) => {
      const c = await rawWs(url);
      try {
        c.send('CONNECT {"verbose":false}\r\nPUB a 2000000\r\n');
        await c.received("-ERR 'Maximum Payload Violation'\r\n");
        await c.closedOrRefused();
        assert.deepEqual(c.closed, { code: 1009, reason: 'Maximum Message Payload Exceeded' });
      } finally {
        c.terminate();
      }
    });
  });

  it("closes on a protocol error with 1002 'Protocol Violation'", async () => {
    await withHub({}, async (_hub, url) => {
      const c = await rawWs(url);
      try {
        c.send('FOO\r\n');
        await c.received("-ERR 'Unknown Protocol Operation'\r\n");
        await c.closedOrRefused();
        assert.deepEqual(c.closed, { code: 1002, reason: 'Protocol Violation' });
      } finally {
        c.terminate();
      }
    });
  });

  it("sends 1001 'Server Shutdown' at close(), and a client's close frame is a 'client closed' disconnect", async () => {
    const hub = createHub({ host: HOST, port: 0, websocket: { port: 0 } });
    try {
      await hub.listen();
      const url = hub.websocketAddress!.url;
      const reasons: string[] = [];
      hub.on('disconnect', (_c, reason) => reasons.push(reason));
      const leaving = await rawWs(url);
      const gone = new Promise<void>((resolve) => hub.once('disconnect', () => resolve()));
      leaving.ws.close(1000, 'bye');
      await within(gone, WAIT_MS, 'the disconnect of a client that sent a close frame');
      assert.deepEqual(reasons, ['client closed']);
      const staying = await rawWs(url);
      try {
        await hub.close({ grace: 0 });
        await staying.closedOrRefused();
        assert.deepEqual(staying.closed, { code: 1001, reason: 'Server Shutdown' });
      } finally {
        staying.terminate();
      }
    } finally {
      await hub.close({ grace: 0 });
    }
  });

  it('takes WebSocket pings as liveness: a pinging client is not stale, a silent one is', async () => {
    await withHub({ pingInterval: 300, maxPingsOut: 1 }, async (_hub, url) => {
      const silent = await rawWs(url);
      const pinging = await rawWs(url);
      const timer = setInterval(() => pinging.ws.ping(), 30);
      try {
        silent.send('CONNECT {"verbose":false}\r\n');
        pinging.send('CONNECT {"verbose":false}\r\n');
        await silent.received("-ERR 'Stale Connection'\r\n");
        await silent.closedOrRefused();
        assert.deepEqual(silent.closed, { code: 1001, reason: 'Stale Connection' });
        // A second silent client opened now lives at least two heartbeats: the pinging one, which never answers
        // a NATS PING either, would have been cut meanwhile if its WebSocket pings did not count.
        const later = await rawWs(url);
        try {
          later.send('CONNECT {"verbose":false}\r\n');
          await later.received("-ERR 'Stale Connection'\r\n");
        } finally {
          later.terminate();
        }
        assert.equal(pinging.closed, null);
        assert.doesNotMatch(pinging.text(), /Stale/);
      } finally {
        clearInterval(timer);
        silent.terminate();
        pinging.terminate();
      }
    });
  });
});

describe('websocket: framing', { skip }, () => {
  for (const compression of [false, true]) {
    it(`sends a flush of several chunks (a line, a large payload, CRLF) as one message${compression ? ', compressed' : ''}`, async () => {
      await withHub({ websocket: { port: 0, compression } }, async (_hub, url) => {
        const c = await rawWs(url, { perMessageDeflate: compression });
        try {
          const payload = Buffer.alloc(200_000, 0x61);
          c.send('CONNECT {"verbose":false}\r\nSUB big 1\r\nPING\r\n');
          await c.received('PONG\r\n');
          const before = c.messages.length;
          c.send(Buffer.concat([Buffer.from(`PUB big ${payload.length}\r\n`), payload, Buffer.from('\r\nPING\r\n')]));
          await c.until('the message and the PONG', () => c.text().split('PONG\r\n').length === 3);
          const got = c.messages.slice(before).map((m) => m.data.toString('latin1'));
          const msg = got.find((m) => m.startsWith('MSG big 1 200000\r\n'));
          assert.ok(msg !== undefined, `no message starts with the MSG line: ${JSON.stringify(got.map((m) => m.slice(0, 30)))}`);
          assert.ok(msg.startsWith(`MSG big 1 200000\r\n${payload.toString('latin1')}\r\n`), 'the line, the payload and its CRLF in one message');
        } finally {
          c.terminate();
        }
      });
    });
  }
});

describe('websocket: origins, path, compression', { skip }, () => {
  it('allowedOrigins: an allowed Origin and no Origin upgrade, another gets 403', async () => {
    await withHub({ websocket: { port: 0, allowedOrigins: ['https://app.example.com'] } }, async (_hub, url) => {
      await withRaw(async (open) => {
        const ok = open(url, { origin: 'https://app.example.com' });
        await ok.received('INFO ');
        const none = open(url);
        await none.received('INFO ');
        const evil = open(url, { origin: 'https://evil.example.com' });
        await evil.closedOrRefused();
        assert.equal(evil.refusedWith, 403);
        const otherPort = open(url, { origin: 'https://app.example.com:8443' });
        await otherPort.closedOrRefused();
        assert.equal(otherPort.refusedWith, 403);
      });
    });
  });

  it("sameOrigin: the Origin must be the request's Host", async () => {
    await withHub({ websocket: { port: 0, sameOrigin: true } }, async (hub, url) => {
      await withRaw(async (open) => {
        const same = open(url, { origin: `http://127.0.0.1:${hub.websocketAddress!.port}` });
        await same.received('INFO ');
        const other = open(url, { origin: `http://localhost:${hub.websocketAddress!.port}` });
        await other.closedOrRefused();
        assert.equal(other.refusedWith, 403);
      });
    });
  });

  it('path: only that path upgrades (404 elsewhere), and the address names it', async () => {
    await withHub({ websocket: { port: 0, path: '/nats' } }, async (hub, url) => {
      assert.equal(url, `ws://127.0.0.1:${hub.websocketAddress!.port}/nats`);
      await withRaw(async (open) => {
        const ok = open(url);
        await ok.received('INFO ');
        const elsewhere = open(url.replace('/nats', '/other'));
        await elsewhere.closedOrRefused();
        assert.equal(elsewhere.refusedWith, 404);
      });
    });
  });

  for (const compression of [true, false]) {
    it(`compression ${compression ? 'on: permessage-deflate is negotiated' : 'off: it is not'}`, async () => {
      await withHub({ websocket: { port: 0, compression } }, async (_hub, url) => {
        const c = await rawWs(url, { perMessageDeflate: true });
        try {
          assert.equal(c.ws.extensions.includes('permessage-deflate'), compression);
          c.send('CONNECT {"verbose":false}\r\nSUB z 1\r\nPUB z 5000\r\n' + 'z'.repeat(5000) + '\r\nPING\r\n');
          await c.received('PONG\r\n');
          assert.match(c.text(), /MSG z 1 5000\r\nz{5000}\r\n/);
        } finally {
          c.terminate();
        }
      });
    });
  }
});

describe('websocket: TLS and the shared HTTP port', { skip }, () => {
  it('wss:// with tls.verify: a client certificate is verified and shows in the peer, none is refused', async () => {
    const certs = await makeCerts();
    const tls = { cert: certs.server.cert.pem, key: certs.server.key.pem, ca: certs.ca.pem, verify: true };
    await withHub({ tls }, async (hub, url) => {
      assert.match(url, /^wss:\/\//);
      const seen: ClientInfo[] = [];
      hub.on('connection', (c) => seen.push(c));
      const c = await rawWs(url, { ca: certs.ca.pem, cert: certs.client.cert.pem, key: certs.client.key.pem });
      try {
        assert.equal(firstInfo(c).tls_verify, true);
        assert.equal(seen.length, 1);
        assert.equal(seen[0]!.tls, true);
      } finally {
        c.terminate();
      }
      const bare = new RawWs(url, { ca: certs.ca.pem });
      try {
        await bare.closedOrRefused();
        assert.equal(bare.messages.length, 0);
        assert.equal(bare.ws.readyState === bare.ws.OPEN, false);
      } finally {
        bare.terminate();
      }
    });
  });

  it('noTls: plain ws:// on a hub with tls', async () => {
    const certs = await makeCerts();
    await withHub({ tls: { cert: certs.server.cert.pem, key: certs.server.key.pem }, websocket: { port: 0, noTls: true } }, async (_hub, url) => {
      assert.match(url, /^ws:\/\//);
      const c = await rawWs(url);
      c.terminate();
    });
  });

  it("port 'http': /varz and a WebSocket client on the monitoring port, at /nats", async () => {
    await withHub({ httpPort: 0, websocket: { port: 'http' } }, async (hub, url) => {
      const m = hub.monitorAddress!;
      assert.equal(url, `ws://127.0.0.1:${m.port}/nats`);
      const varz = (await (await fetch(`${m.url}/varz`)).json()) as { server_id: string };
      assert.equal(varz.server_id, hub.serverId);
      const nc = await wsConnect(url);
      try {
        nc.publish('shared.port', 'x');
        await nc.flush();
      } finally {
        await nc.close();
      }
      await withRaw(async (open) => {
        const elsewhere = open(url.replace('/nats', '/varz'));
        await elsewhere.closedOrRefused();
        assert.equal(elsewhere.refusedWith, 404);
      });
    });
  });

  it("port 'http' with TLS: wss:// on the monitor's HTTPS port", async () => {
    const certs = await makeCerts();
    await withHub({ httpPort: 0, tls: { cert: certs.server.cert.pem, key: certs.server.key.pem }, websocket: { port: 'http' } }, async (hub, url) => {
      assert.equal(url, `wss://127.0.0.1:${hub.monitorAddress!.port}/nats`);
      const c = await rawWs(url, { ca: certs.ca.pem });
      try {
        assert.equal(firstInfo(c).client_ip, '127.0.0.1');
      } finally {
        c.terminate();
      }
    });
  });
});

describe('websocket: options', { skip }, () => {
  const bad: Array<[string, HubOptions, RegExp]> = [
    ["port 'http' without httpPort", { websocket: { port: 'http' } }, /set httpPort/],
    ['a port out of range', { websocket: { port: 70000 } }, /websocket\.port must be at most 65535/],
    ['a missing port', { websocket: {} as never }, /websocket\.port is required/],
    ['an unknown key', { websocket: { port: 0, bogus: 1 } as never }, /unknown key "bogus"/],
    ['a path without /', { websocket: { port: 0, path: 'nats' } }, /websocket\.path must be a URL path/],
    ['an origin with a path', { websocket: { port: 0, allowedOrigins: ['https://a.example/x'] } }, /is not an origin/],
    ['a message size below one message', { websocket: { port: 0, maxMessageSize: 1000 } }, /must be at least maxPayload \+ maxControlLine \+ 2/],
    ['a zero handshake timeout', { websocket: { port: 0, handshakeTimeout: 0 } }, /websocket\.handshakeTimeout must be an integer >= 1/],
    ["noTls with port 'http'", { httpPort: 0, websocket: { port: 'http', noTls: true } }, /noTls does not apply/],
  ];
  for (const [what, opts, message] of bad) {
    it(`refuses ${what} with a ConfigError`, () => {
      assert.throws(() => createHub({ port: 0, ...opts }), { name: 'ConfigError', message });
    });
  }

  it("refuses port 'http' with tls.verify and authorization (the monitor asks for no certificate then)", async () => {
    const certs = await makeCerts();
    const tls = { cert: certs.server.cert.pem, key: certs.server.key.pem, ca: certs.ca.pem, verify: true };
    assert.throws(() => createHub({ port: 0, httpPort: 0, tls, authorization: { token: 't' }, websocket: { port: 'http' } }), {
      name: 'ConfigError',
      message: /cannot verify client certificates/,
    });
  });

  it('fails listen() with a ListenError when its port is taken, and releases the others', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, HOST, () => resolve()));
    const port = (taken.address() as { port: number }).port;
    const hub = createHub({ host: HOST, port: 0, websocket: { port } });
    try {
      await assert.rejects(hub.listen(), { name: 'ListenError', message: `cannot listen for WebSocket clients on 127.0.0.1:${port}: address already in use` });
      assert.equal(hub.closed, true);
    } finally {
      await hub.close({ grace: 0 });
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it('logs where it listens, and warns that ws:// is plaintext', async () => {
    const lines: Array<[string, string]> = [];
    const log = (level: string) => (_o: unknown, msg?: string) => void lines.push([level, msg ?? '']);
    const logger = { trace: log('trace'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    await withHub({ logger }, async (_hub, url) => {
      assert.ok(lines.some(([l, m]) => l === 'info' && m === `websocket clients on ${url}`), JSON.stringify(lines));
      assert.ok(lines.some(([l, m]) => l === 'warn' && /plaintext/.test(m)), JSON.stringify(lines));
    });
  });
});
