/**
 * The WebSocket listener with the official WebSocket clients, against both
 * targets: nats.ws (the browser client) and @nats-io/nats-core's wsconnect
 * publish, subscribe and request beside a TCP client on the same server,
 * with headers and with payloads near max_payload both ways, over ws:// and
 * wss://. And what a raw WebSocket sees first: nats-server's INFO, in a
 * binary message, with the peer's address as client_ip.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { startServer, type TestServer } from '../helpers/target.js';
import { closeAll, collect, connectTo } from '../helpers/client.js';
import { makeCerts, type TestCerts } from '../helpers/tls.js';
import { firstInfo, natsWs, rawWs, wsConnect } from './ws-helpers.js';

/** Close to max_payload (1 MiB) with room for headers. */
const BIG = 1024 * 1024 - 1024;

/** The connection methods both official WebSocket clients share (nats.ws 1.x and nats-core 3.x differ in types only). */
interface WsClient {
  publish(subject: string, data?: Uint8Array | string, opts?: { headers?: never; reply?: string }): void;
  subscribe(subject: string, opts?: { max?: number }): AsyncIterable<{ data: Uint8Array; subject: string; headers?: { get(k: string): string }; respond(d: Uint8Array | string): boolean }> & { unsubscribe(): void };
  request(subject: string, data?: Uint8Array | string, opts?: { timeout: number }): Promise<{ data: Uint8Array }>;
  flush(): Promise<void>;
  close(): Promise<void>;
  isClosed(): boolean;
}

const CLIENTS: Array<{ name: string; open: (url: string, ca: Buffer | undefined) => Promise<WsClient> }> = [
  { name: 'nats.ws', open: async (url, ca) => (await natsWs(url, ca === undefined ? {} : { ca })) as unknown as WsClient },
  { name: 'wsconnect', open: async (url, ca) => (await wsConnect(url, ca === undefined ? {} : { ca })) as unknown as WsClient },
];

async function firstOf<T>(it: AsyncIterable<T>): Promise<T> {
  for await (const v of it) return v;
  throw new Error('subscription ended without a message');
}

for (const secure of [false, true]) {
  const scheme = secure ? 'wss' : 'ws';
  describe(`websocket interop over ${scheme}://`, () => {
    let server: TestServer;
    let certs: TestCerts | undefined;
    let tcp: NatsConnection;

    before(async () => {
      certs = secure ? await makeCerts() : undefined;
      server = await startServer({
        websocket: true,
        ...(certs !== undefined ? { tls: { cert: certs.server.cert.pem, key: certs.server.key.pem } } : {}),
      });
      tcp = await connectTo(server, certs !== undefined ? { tls: { ca: certs.ca.pem.toString() } } : {});
    });
    after(async () => {
      await closeAll(tcp);
      await server?.stop();
    });

    it(`serves ${scheme}:// at wsUrl`, () => {
      assert.match(server.wsUrl!, new RegExp(`^${scheme}://127\\.0\\.0\\.1:\\d+$`));
    });

    it('sends INFO first, in a binary message, with client_ip and the TCP INFO fields', async () => {
      const c = await rawWs(server.wsUrl!, certs !== undefined ? { ca: certs.ca.pem } : {});
      try {
        assert.equal(c.messages[0]!.binary, true);
        const info = firstInfo(c);
        assert.equal(info.client_ip, '127.0.0.1');
        // nats-server sends its TCP INFO over WebSocket: host and port are the NATS port's.
        assert.equal(info.port, server.port);
        assert.equal(info.headers, true);
        assert.equal(info.max_payload, 1024 * 1024);
        assert.equal(info.tls_required, secure ? true : undefined);
        assert.equal(typeof info.client_id, 'number');
      } finally {
        c.terminate();
      }
    });

    it('answers PING in a text frame as in a binary one', async () => {
      const c = await rawWs(server.wsUrl!, certs !== undefined ? { ca: certs.ca.pem } : {});
      try {
        c.send('CONNECT {"verbose":false}\r\nPING\r\n');
        await c.received('PONG\r\n');
        c.send(Buffer.from('PING\r\n'));
        await c.until('two PONGs', () => c.text().split('PONG\r\n').length === 3);
      } finally {
        c.terminate();
      }
    });

    for (const client of CLIENTS) {
      describe(client.name, () => {
        let nc: WsClient;
        before(async () => {
          nc = await client.open(server.wsUrl!, certs?.ca.pem);
        });
        after(async () => {
          if (nc !== undefined && !nc.isClosed()) await nc.close();
        });

        it('receives what a TCP client publishes', async () => {
          const sub = nc.subscribe(`ws.in.${client.name}`, { max: 1 });
          await nc.flush();
          tcp.publish(`ws.in.${client.name}`, 'from tcp');
          const m = await firstOf(sub);
          assert.equal(new TextDecoder().decode(m.data), 'from tcp');
        });

        it('publishes to a TCP subscriber', async () => {
          const sub = tcp.subscribe(`ws.out.${client.name}`, { max: 1 });
          await tcp.flush();
          nc.publish(`ws.out.${client.name}`, 'from websocket');
          const [m] = await collect(sub, 1);
          assert.equal(m!.string(), 'from websocket');
        });

        it('requests a TCP responder, and answers a TCP requester', async () => {
          const svc = tcp.subscribe(`ws.svc.${client.name}`, { max: 1, callback: (_e, m) => void m.respond(`echo ${m.string()}`) });
          await tcp.flush();
          const r = await nc.request(`ws.svc.${client.name}`, 'hi', { timeout: 5_000 });
          assert.equal(new TextDecoder().decode(r.data), 'echo hi');
          svc.unsubscribe();

          const mine = nc.subscribe(`ws.mine.${client.name}`, { max: 1 });
          (async () => {
            for await (const m of mine) m.respond(`ws echo ${new TextDecoder().decode(m.data)}`);
          })().catch(() => {});
          await nc.flush();
          const back = await tcp.request(`ws.mine.${client.name}`, 'ho', { timeout: 5_000 });
          assert.equal(back.string(), 'ws echo ho');
        });

        it('carries headers both ways', async () => {
          const sub = nc.subscribe(`ws.hdr.${client.name}`, { max: 1 });
          await nc.flush();
          const h = natsHeaders();
          h.set('X-Trace', 'abc');
          tcp.publish(`ws.hdr.${client.name}`, 'with headers', { headers: h });
          const m = await firstOf(sub);
          assert.equal(m.headers?.get('X-Trace'), 'abc');

          const back = tcp.subscribe(`ws.hdr.back.${client.name}`, { max: 1 });
          await tcp.flush();
          // Each client's own headers() would do; the TCP client's MsgHdrs encode the same bytes.
          nc.publish(`ws.hdr.back.${client.name}`, 'reply', { headers: h as never });
          const [r] = await collect(back, 1);
          assert.equal(r!.headers?.get('X-Trace'), 'abc');
        });

        it('moves a payload near max_payload both ways', async () => {
          const big = randomBytes(BIG);
          const sub = nc.subscribe(`ws.big.in.${client.name}`, { max: 1 });
          await nc.flush();
          tcp.publish(`ws.big.in.${client.name}`, big);
          const m = await firstOf(sub);
          assert.equal(Buffer.compare(Buffer.from(m.data), big), 0);

          const back = tcp.subscribe(`ws.big.out.${client.name}`, { max: 1 });
          await tcp.flush();
          nc.publish(`ws.big.out.${client.name}`, big);
          const [r] = await collect(back, 1);
          assert.equal(Buffer.compare(Buffer.from(r!.data), big), 0);
        });
      });
    }
  });
}
