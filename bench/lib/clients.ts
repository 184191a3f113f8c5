/**
 * One small interface over each peer's standard Node client, so every
 * workload drives every peer the same way.
 *
 *   nats   @nats-io/transport-node (nats.js): callback subscriptions, flush()
 *   nats-ws  nats.ws (nats.js 2 over WebSocket) through the `ws` package's
 *          WebSocket as globalThis.WebSocket (Node 20 has none): the same calls
 *   ours   netemitter's Bus: on(…, { raw: true }), emit(), flush()
 *   mqtt   mqtt.js, QoS 0; round trip = a QoS 1 publish awaiting its PUBACK
 *   redis  ioredis (enableAutoPipelining: its own write coalescing, as the
 *          NATS clients coalesce by default); round trip = PING
 *   raw    a bare socket writing length-prefixed frames to the relay
 *
 * Every client sets TCP_NODELAY (nats.js, ioredis and ours do by default).
 * A subject is written with dots; mqtt turns the dots into slashes.
 *
 * With a server's security set-up (security.ts), the NATS clients verify its
 * certificate against the bench's CA file and log in with user and password;
 * the other clients have none.
 *
 * Request/reply is native for the NATS clients. mqtt and redis have none, so
 * it is built from pub/sub the way users do: the request carries a
 * correlation id and the reply topic, and the responder publishes the
 * request's bytes back to that topic.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as natsConnect } from '@nats-io/transport-node';
import { connect as busConnect } from '../../src/index.js';
import type { Login } from './security.js';

export const CLIENT_KINDS = ['nats', 'nats-ws', 'ours', 'mqtt', 'redis', 'raw'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface BenchClient {
  /** Subscribes; resolves once the server has the subscription. */
  subscribe(subject: string, onMsg: (data: Uint8Array) => void): Promise<void>;
  /** Queues one message (the client decides when it reaches the socket). */
  publish(subject: string, data: Uint8Array): void;
  /** A server round trip: resolves once the server has processed everything published before. */
  roundTrip(): Promise<void>;
  /** Answers requests on `subject` with the request's bytes. */
  serve(subject: string): Promise<void>;
  /** One request; resolves with the reply. */
  request(subject: string, data: Uint8Array): Promise<unknown>;
  close(): Promise<void>;
}

const REQUEST_TIMEOUT = 10_000;

/** Imports an optional package by a name the compiler does not resolve, so the build never needs it. */
export async function importOptional<T>(name: string): Promise<T> {
  return (await import(name)) as T;
}

export async function openClient(kind: ClientKind, url: string, login?: Login): Promise<BenchClient> {
  if (login !== undefined && kind !== 'nats' && kind !== 'ours') throw new Error(`the ${kind} client has no TLS or login in the bench`);
  switch (kind) {
    case 'nats':
      return openNats(url, login);
    case 'nats-ws':
      return openNatsWs(url);
    case 'ours':
      return openOurs(url, login);
    case 'mqtt':
      return openMqtt(url);
    case 'redis':
      return openRedis(url);
    case 'raw':
      return openRaw(url);
  }
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

// ── nats.js ─────────────────────────────────────────────────────────────────

/** nats.js's names, which our client shares: `tls: { caFile }`, `user`, `pass`. */
function loginOptions(login: Login | undefined): Record<string, unknown> {
  if (login === undefined) return {};
  const o: Record<string, unknown> = {};
  if (login.ca !== undefined) o.tls = { caFile: login.ca };
  if (login.user !== undefined) o.user = login.user;
  if (login.pass !== undefined) o.pass = login.pass;
  return o;
}

/** What the adapter uses of a nats.js connection: the same in nats.js 3 and nats.ws (nats.js 2). */
interface NatsMsgLike {
  readonly data: Uint8Array;
  respond(data: Uint8Array): boolean;
}
interface NatsLike {
  subscribe(subject: string, opts: { callback: (err: unknown, m: NatsMsgLike) => void }): unknown;
  publish(subject: string, data: Uint8Array): void;
  flush(): Promise<void>;
  request(subject: string, data: Uint8Array, opts: { timeout: number }): Promise<unknown>;
  close(): Promise<void>;
}

async function openNats(url: string, login?: Login): Promise<BenchClient> {
  const { host, port } = hostPort(url);
  return natsAdapter(await natsConnect({ servers: `${host}:${port}`, reconnect: false, name: 'bench', ...loginOptions(login) }));
}

interface NatsWsModule {
  connect(opts: { servers: string; reconnect: boolean; name: string }): Promise<NatsLike>;
}

/** nats.ws, the NATS client for browsers, over a ws:// URL. */
async function openNatsWs(url: string): Promise<BenchClient> {
  if (!url.startsWith('ws://') && !url.startsWith('wss://')) throw new Error(`nats.ws needs a ws:// or wss:// URL, got ${url}`);
  const g = globalThis as { WebSocket?: unknown };
  // nats.ws calls `new WebSocket(url)`: in Node 20 that global is ws's class (ws is a dependency of the package).
  g.WebSocket ??= (await import('ws')).WebSocket;
  const { connect } = await importOptional<NatsWsModule>('nats.ws');
  return natsAdapter(await connect({ servers: url, reconnect: false, name: 'bench' }));
}

function natsAdapter(nc: NatsLike): BenchClient {
  return {
    async subscribe(subject, onMsg) {
      nc.subscribe(subject, {
        callback: (err, m) => {
          if (err === null) onMsg(m.data);
        },
      });
      await nc.flush();
    },
    publish(subject, data) {
      nc.publish(subject, data);
    },
    roundTrip: () => nc.flush(),
    async serve(subject) {
      nc.subscribe(subject, {
        callback: (err, m) => {
          if (err === null) m.respond(m.data);
        },
      });
      await nc.flush();
    },
    request: (subject, data) => nc.request(subject, data, { timeout: REQUEST_TIMEOUT }),
    close: () => nc.close(),
  };
}

// ── netemitter's own client ────────────────────────────────────────────────

async function openOurs(url: string, login?: Login): Promise<BenchClient> {
  // Spread from a record: the options compile whether or not this tree's client has TLS and credentials yet.
  const bus = await busConnect({ servers: url, reconnect: false, name: 'bench', requestTimeout: REQUEST_TIMEOUT, ...loginOptions(login) });
  return {
    async subscribe(subject, onMsg) {
      bus.on(subject, (data: Buffer) => onMsg(data), { raw: true });
      await bus.flush();
    },
    publish(subject, data) {
      bus.emit(subject, data);
    },
    roundTrip: () => bus.flush(),
    async serve(subject) {
      bus.handle(subject, (_req: unknown, meta) => meta.data);
      await bus.flush();
    },
    request: (subject, data) => bus.request(subject, data),
    close: () => bus.close(),
  };
}

// ── request/reply over pub/sub (mqtt, redis) ───────────────────────────────
//
// request bytes: [u32 id][u8 n][reply topic: n bytes][padding to the payload size]

interface PubSub {
  subscribe(subject: string, onMsg: (data: Uint8Array) => void): Promise<void>;
  publish(subject: string, data: Uint8Array): void;
}

function emulatedRequestReply(ps: PubSub): Pick<BenchClient, 'serve' | 'request'> {
  let replyTopic: string | null = null;
  let subscribed: Promise<void> | null = null;
  let nextId = 1;
  const pending = new Map<number, (v: unknown) => void>();
  return {
    serve(subject) {
      return ps.subscribe(subject, (d) => {
        const b = Buffer.from(d.buffer, d.byteOffset, d.length);
        ps.publish(b.toString('latin1', 5, 5 + b[4]!), b);
      });
    },
    async request(subject, data) {
      if (subscribed === null) {
        replyTopic = `bench.reply.${process.pid}.${Math.random().toString(36).slice(2)}`;
        subscribed = ps.subscribe(replyTopic, (d) => {
          const id = Buffer.from(d.buffer, d.byteOffset, d.length).readUInt32LE(0);
          const resolve = pending.get(id);
          if (resolve !== undefined) {
            pending.delete(id);
            resolve(d);
          }
        });
      }
      await subscribed;
      const id = nextId++;
      const topic = replyTopic!;
      const b = Buffer.alloc(Math.max(data.length, 5 + topic.length));
      b.writeUInt32LE(id, 0);
      b[4] = topic.length;
      b.write(topic, 5, 'latin1');
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`request ${id} timed out`));
        }, REQUEST_TIMEOUT);
        pending.set(id, (v) => {
          clearTimeout(timer);
          resolve(v);
        });
        ps.publish(subject, b);
      });
    },
  };
}

// ── mqtt.js ─────────────────────────────────────────────────────────────────

interface MqttClient {
  stream: Socket;
  on(ev: 'message', fn: (topic: string, payload: Buffer) => void): void;
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1 }): void;
  publishAsync(topic: string, payload: Buffer, opts: { qos: 0 | 1 }): Promise<unknown>;
  subscribeAsync(topic: string, opts: { qos: 0 | 1 }): Promise<unknown>;
  endAsync(): Promise<void>;
}
interface MqttModule {
  connectAsync(url: string, opts: object): Promise<MqttClient>;
}

const EMPTY = Buffer.alloc(0);

function toBuffer(d: Uint8Array): Buffer {
  return Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.length);
}

async function openMqtt(url: string): Promise<BenchClient> {
  const mqtt = await importOptional<MqttModule>('mqtt');
  const { host, port } = hostPort(url);
  const client = await mqtt.connectAsync(`mqtt://${host}:${port}`, {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    keepalive: 0,
    clientId: `bench-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
  });
  client.stream.setNoDelay(true);
  // One subscription per client in these workloads: messages need no dispatch by topic.
  let handler: ((d: Uint8Array) => void) | null = null;
  client.on('message', (_topic, payload) => handler?.(payload));
  const ps: PubSub = {
    async subscribe(subject, onMsg) {
      if (handler !== null) throw new Error('the mqtt adapter takes one subscription per client');
      handler = onMsg;
      await client.subscribeAsync(subject.replaceAll('.', '/'), { qos: 0 });
    },
    publish(subject, data) {
      client.publish(subject.replaceAll('.', '/'), toBuffer(data), { qos: 0 });
    },
  };
  return {
    ...ps,
    ...emulatedRequestReply(ps),
    roundTrip: async () => {
      await client.publishAsync('bench/roundtrip', EMPTY, { qos: 1 });
    },
    close: () => client.endAsync(),
  };
}

// ── ioredis ─────────────────────────────────────────────────────────────────

interface RedisConn {
  connect(): Promise<void>;
  publish(channel: string, message: Buffer, cb: (err: unknown) => void): unknown;
  subscribe(channel: string): Promise<unknown>;
  on(ev: 'messageBuffer', fn: (channel: Buffer, message: Buffer) => void): void;
  ping(): Promise<unknown>;
  quit(): Promise<unknown>;
}
interface RedisModule {
  Redis: new (opts: object) => RedisConn;
}

function ignore(): void {}

async function openRedis(url: string): Promise<BenchClient> {
  const { Redis } = await importOptional<RedisModule>('ioredis');
  const { host, port } = hostPort(url);
  const options = { host, port, lazyConnect: true, enableAutoPipelining: true, maxRetriesPerRequest: 0, retryStrategy: () => null };
  const pub = new Redis(options);
  await pub.connect();
  // A connection in subscriber mode cannot publish: subscriptions get their own.
  let sub: RedisConn | null = null;
  const ps: PubSub = {
    async subscribe(subject, onMsg) {
      if (sub !== null) throw new Error('the redis adapter takes one subscription per client');
      sub = new Redis(options);
      await sub.connect();
      sub.on('messageBuffer', (_channel, message) => onMsg(message));
      await sub.subscribe(subject);
    },
    publish(subject, data) {
      pub.publish(subject, toBuffer(data), ignore);
    },
  };
  return {
    ...ps,
    ...emulatedRequestReply(ps),
    roundTrip: async () => {
      await pub.ping();
    },
    async close() {
      await Promise.all([pub.quit(), sub?.quit()]);
    },
  };
}

// ── raw frames to the relay ────────────────────────────────────────────────

const SLAB = 64 * 1024;

async function openRaw(url: string): Promise<BenchClient> {
  const { host, port } = hostPort(url);
  const socket = netConnect({ host, port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let role: 'P' | 'S' | null = null;
  const claim = (r: 'P' | 'S'): void => {
    if (role === r) return;
    if (role !== null) throw new Error('a raw client either publishes or subscribes');
    role = r;
    socket.write(r);
  };
  let slab = Buffer.allocUnsafe(SLAB);
  let used = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (used === 0) return;
    socket.write(slab.subarray(0, used));
    slab = Buffer.allocUnsafe(SLAB);
    used = 0;
  };
  return {
    async subscribe(_subject, onMsg) {
      claim('S');
      // Frames: [u32 LE length][payload]; a frame may span chunks.
      let partial: Buffer | null = null;
      socket.on('data', (chunk: Buffer) => {
        const buf = partial === null ? chunk : Buffer.concat([partial, chunk]);
        partial = null;
        let i = 0;
        while (buf.length - i >= 4) {
          const n = buf.readUInt32LE(i);
          if (buf.length - i - 4 < n) break;
          onMsg(buf.subarray(i + 4, i + 4 + n));
          i += 4 + n;
        }
        if (i < buf.length) partial = Buffer.from(buf.subarray(i));
      });
    },
    publish(_subject, data) {
      claim('P');
      const need = 4 + data.length;
      if (SLAB - used < need) flush();
      slab.writeUInt32LE(data.length, used);
      slab.set(data, used + 4);
      used += need;
      if (!scheduled) {
        scheduled = true;
        process.nextTick(flush);
      }
    },
    async roundTrip() {
      // No server protocol to ask: what the relay cannot take yet stays in the socket until it drains.
      flush();
      if (socket.writableNeedDrain) await new Promise((r) => socket.once('drain', r));
    },
    serve: () => Promise.reject(new Error('the raw relay has no request/reply')),
    request: () => Promise.reject(new Error('the raw relay has no request/reply')),
    async close() {
      flush();
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
      });
    },
  };
}
