/**
 * The hub: accepts connections on its listeners, keeps the subject index, and
 * routes every published message to its subscribers. It is an EventEmitter,
 * so an application can watch connections and subscriptions come and go
 * without touching the protocol (the seed's observer pattern, at the server).
 */
import { EventEmitter } from 'node:events';
import type { Server, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Sublist, type MatchResult } from './sublist.js';
import { Connection, CloseReason, type ClientInfo, type HubCore, type Subscription } from './connection.js';
import { resolveOptions, type HubOptions, type ResolvedHubOptions, type ListenSpec } from './options.js';
import { openListener, type HubAddress } from './listeners.js';
import { ADVERTISED_VERSION, PROTOCOL_VERSION, ProtocolErrorText } from '../protocol/constants.js';
import { subjectMatches } from '../protocol/subject.js';
import { toWire } from '../protocol/bytes.js';
import { HubClosedError } from '../errors.js';
import { JetStream, resolveJetStreamOptions } from './jetstream/index.js';
import type { JsHost } from './jetstream/host.js';

export interface SubscriptionEvent {
  readonly client: ClientInfo;
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
}

/** The hub's events. `error` is emitted only when someone listens for it; otherwise errors are logged. */
export interface HubEvents {
  listening: [addresses: HubAddress[]];
  connection: [client: ClientInfo];
  disconnect: [client: ClientInfo, reason: CloseReason];
  subscribe: [event: SubscriptionEvent];
  unsubscribe: [event: SubscriptionEvent];
  slow_consumer: [client: ClientInfo];
  lame_duck: [];
  error: [err: Error];
  close: [];
}

export interface HubStats {
  connections: number;
  totalConnections: number;
  subscriptions: number;
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  slowConsumers: number;
}

export interface CloseOptions {
  /** Milliseconds between the lame-duck INFO and closing clients. Default: the hub's lameDuckGracePeriod. */
  grace?: number;
}

const kConn = Symbol('netemitter.connection');
type HubSocket = Socket & { [kConn]?: Connection };

/** Past this many queued bytes (or 3/4 of maxPending when smaller) a consumer pauses its producers. */
const STALL_THRESHOLD_MAX = 8 * 1024 * 1024;

/** Encoded parts of the MSG lines for one subject, kept with its match result. */
interface RouteMemo {
  msg: Buffer;
  hmsg: Buffer | null;
  /** Payload size `tail` was made for (messages without reply or headers). */
  size: number;
  tail: Buffer;
}

const EMPTY = Buffer.alloc(0);

const NO_RESPONDERS_HEADER = 'NATS/1.0 503\r\n\r\n';

/** A server id in nats-server's shape: 'N' and 55 base32 characters. */
function newServerId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(55);
  let id = 'N';
  for (const b of bytes) id += alphabet[b & 31];
  return id;
}

type State = 'new' | 'listening' | 'closing' | 'closed';

export class Hub extends EventEmitter<HubEvents> implements HubCore {
  readonly options: ResolvedHubOptions;
  readonly serverId: string;
  readonly serverName: string;
  /** Queued bytes past which a consumer pauses its producers (see Connection.stall). */
  private readonly stallThreshold: number;
  private readonly sublist = new Sublist<Subscription>();
  private readonly connections = new Set<Connection>();
  private readonly servers: { server: Server; address: HubAddress; infoPrefix: string }[] = [];
  private dirty: Connection[] = [];
  private flushScheduled = false;
  /** Whether the read being handled is large (see markDirty). */
  busy = false;
  private nextId = 1;
  private state: State = 'new';
  private closing: Promise<void> | null = null;
  private readonly counters = { totalConnections: 0, inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, slowConsumers: 0 };
  /** Durable streams (the JetStream API subset), or null when off. */
  readonly jetstream: JetStream | null;
  /** Whether routed messages may be captured by streams (off for the JetStream layer's own replies). */
  private capture = true;

  constructor(options: HubOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.serverId = newServerId();
    this.serverName = this.options.serverName ?? this.serverId;
    this.stallThreshold = Math.min(Math.floor(this.options.maxPending * 0.75), STALL_THRESHOLD_MAX);
    const js = resolveJetStreamOptions(options.jetstream);
    this.jetstream = js === null ? null : new JetStream(this.jsHost(), js);
  }

  // ── lifecycle ───────────────────────────────────────────────────────────

  /** Opens every listener. Resolves with their addresses (real ports when port 0 was asked). */
  async listen(): Promise<HubAddress[]> {
    if (this.state !== 'new') throw new HubClosedError();
    this.state = 'listening';
    try {
      for (const spec of this.options.listen) await this.openOne(spec);
    } catch (err) {
      for (const s of this.servers) s.server.close();
      this.servers.length = 0;
      this.state = 'closed';
      this.jetstream?.close();
      throw err;
    }
    const addresses = this.addresses();
    for (const a of addresses) this.options.logger.info({ address: a }, `listening on ${a.url}`);
    this.emit('listening', addresses);
    return addresses;
  }

  private async openOne(spec: ListenSpec): Promise<void> {
    const { server, address } = await openListener(spec, onSocket, this);
    server.on('error', (err) => this.reportError(err));
    this.servers.push({ server, address, infoPrefix: this.infoPrefix(address) });
  }

  /** Where the hub listens. */
  addresses(): HubAddress[] {
    return this.servers.map((s) => s.address);
  }

  /** The URL of the first listener, e.g. nats://127.0.0.1:4222 or unix:///tmp/hub.sock. */
  get url(): string {
    const first = this.servers[0];
    if (first === undefined) throw new HubClosedError();
    return first.address.url;
  }

  /**
   * Graceful shutdown: stop accepting, tell clients we are going (INFO with
   * ldm:true, so they can move to another server), wait the grace period or
   * until every client has left, flush what is queued, close.
   */
  close(opts: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(opts.grace ?? this.options.lameDuckGracePeriod);
    return this.closing;
  }

  private async shutdown(grace: number): Promise<void> {
    const wasListening = this.state === 'listening';
    this.state = 'closing';
    const serversClosed = this.servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve())));
    if (wasListening && grace > 0 && this.connections.size > 0) {
      this.emit('lame_duck');
      for (const conn of this.connections) {
        if (conn.opts.protocol >= 1) conn.send(this.infoFor(conn, true));
      }
      await this.waitForClients(grace);
    }
    for (const conn of [...this.connections]) conn.close(CloseReason.SERVER_SHUTDOWN);
    await Promise.all(serversClosed);
    this.jetstream?.close();
    this.state = 'closed';
    this.emit('close');
  }

  private waitForClients(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('disconnect', check);
        resolve();
      };
      const check = (): void => {
        if (this.connections.size === 0) done();
      };
      const timer = setTimeout(done, ms);
      this.on('disconnect', check);
    });
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  stats(): HubStats {
    return { connections: this.connections.size, subscriptions: this.sublist.size, ...this.counters };
  }

  // ── connections ─────────────────────────────────────────────────────────

  /** @internal Called by a listener for each accepted socket. */
  accept(socket: HubSocket, listener: HubAddress): void {
    if (this.state !== 'listening') {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const remote = socket.remoteAddress;
    const address = remote === undefined ? (listener.path ?? '') : remote.startsWith('::ffff:') ? remote.slice(7) : remote;
    const conn = new Connection(this, socket, this.nextId++, address, socket.remotePort);
    socket[kConn] = conn;
    socket.on('data', socketOnData);
    socket.on('error', socketOnError);
    socket.on('close', socketOnClose);
    conn.infoPrefix = this.servers.find((s) => s.address === listener)!.infoPrefix;
    const info = `${conn.infoPrefix}"client_id":${conn.id}${conn.address && listener.path === undefined ? `,"client_ip":${JSON.stringify(conn.address)}` : ''}} \r\n`;
    if (this.connections.size >= this.options.maxConnections) {
      conn.send(info);
      conn.sendErr(ProtocolErrorText.MAX_CONNECTIONS);
      this.options.logger.warn({ client: conn.id, maxConnections: this.options.maxConnections }, 'maximum connections exceeded');
      conn.close(CloseReason.MAX_CONNECTIONS);
      return;
    }
    this.connections.add(conn);
    this.counters.totalConnections++;
    conn.send(info);
    conn.start();
    this.options.logger.debug({ client: conn.id, address: conn.address, port: conn.port }, 'client connected');
    if (this.listenerCount('connection') > 0) this.emit('connection', conn.info());
  }

  connectionClosed(conn: Connection, reason: CloseReason, err?: Error): void {
    if (!this.connections.delete(conn)) return;
    if (reason === CloseReason.SLOW_CONSUMER) {
      this.counters.slowConsumers++;
      if (this.listenerCount('slow_consumer') > 0) this.emit('slow_consumer', conn.info());
    }
    this.options.logger.debug({ client: conn.id, reason, err: err?.message }, 'client closed');
    if (this.listenerCount('disconnect') > 0) this.emit('disconnect', conn.info(), reason);
  }

  private infoPrefix(address: HubAddress): string {
    const fields: Record<string, unknown> = {
      server_id: this.serverId,
      server_name: this.serverName,
      version: ADVERTISED_VERSION,
      proto: PROTOCOL_VERSION,
    };
    if (address.path === undefined) {
      fields.host = address.host;
      fields.port = address.port;
    }
    fields.headers = true;
    fields.max_payload = this.options.maxPayload;
    if (this.jetstream !== null) fields.jetstream = true;
    const json = JSON.stringify(fields);
    return `INFO ${json.slice(0, -1)},`;
  }

  private infoFor(conn: Connection, ldm: boolean): string {
    return `${conn.infoPrefix}"client_id":${conn.id}${ldm ? ',"ldm":true' : ''}} \r\n`;
  }

  // ── subscriptions ───────────────────────────────────────────────────────

  addSubscription(sub: Subscription): void {
    this.sublist.insert(sub);
    if (this.listenerCount('subscribe') > 0) this.emit('subscribe', subEvent(sub));
  }

  removeSubscription(sub: Subscription): void {
    if (this.sublist.remove(sub) && this.listenerCount('unsubscribe') > 0) this.emit('unsubscribe', subEvent(sub));
  }

  // ── routing ─────────────────────────────────────────────────────────────

  /**
   * Delivers one message to every plain subscriber of its subject and to one
   * member of each queue group. The MSG line is built once per message; only
   * the sid differs per subscriber. The payload is forwarded as received.
   */
  route(from: Connection | null, subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array): void {
    const c = this.counters;
    c.inMsgs++;
    c.inBytes += payload.length;
    const js = this.jetstream;
    // The JetStream layer sees every publish first: API calls, acks, stream capture.
    const answered = js !== null && this.capture && js.onPublish(subject, reply, headerLength, payload);
    const r = this.sublist.match(subject);
    let delivered = 0;
    if (r.plain.length !== 0 || r.queues.length !== 0) {
      // The line's parts, encoded: `MSG subject ` once per subject (kept with
      // the match result), the tail once per message (kept too while messages
      // on the subject have the same size and no reply, the usual stream).
      let memo = r.memo as RouteMemo | undefined;
      if (memo === undefined) {
        memo = { msg: Buffer.from('MSG ' + subject + ' ', 'latin1'), hmsg: null, size: -1, tail: EMPTY };
        r.memo = memo;
      }
      let head: Buffer;
      let tail: Buffer;
      if (headerLength > 0) {
        head = memo.hmsg ??= Buffer.from('HMSG ' + subject + ' ', 'latin1');
        tail = Buffer.from((reply === undefined ? ' ' : ' ' + reply + ' ') + headerLength + ' ' + payload.length + '\r\n', 'latin1');
      } else {
        head = memo.msg;
        if (reply === undefined) {
          if (memo.size !== payload.length) {
            memo.size = payload.length;
            memo.tail = Buffer.from(' ' + payload.length + '\r\n', 'latin1');
          }
          tail = memo.tail;
        } else {
          tail = Buffer.from(' ' + reply + ' ' + payload.length + '\r\n', 'latin1');
        }
      }
      delivered = this.fanOut(from, r, head, tail, payload, headerLength, subject, reply);
    }
    if (delivered === 0 && reply !== undefined && from !== null && !answered) this.noResponders(from, reply);
  }

  /**
   * Hands one message to every plain subscription of a match and to one
   * member of each queue group. Returns how many took it.
   */
  private fanOut(
    from: Connection | null,
    r: MatchResult<Subscription>,
    head: Buffer,
    tail: Buffer,
    payload: Uint8Array,
    headerLength: number,
    subject: string,
    reply: string | undefined,
  ): number {
    const plain = r.plain;
    const queues = r.queues;
    const noEcho = from !== null && !from.opts.echo;
    let delivered = 0;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i]!;
      if (noEcho && sub.conn === from) continue;
      if (this.deliver(from, sub, head, tail, payload, headerLength, subject, reply)) delivered++;
    }
    for (let g = 0; g < queues.length; g++) {
      const members = queues[g]!;
      const n = members.length;
      // A random start spreads load across members, as nats-server does.
      const start = n === 1 ? 0 : Math.floor(Math.random() * n);
      for (let k = 0; k < n; k++) {
        const sub = members[(start + k) % n]!;
        if (sub.conn.closed || (noEcho && sub.conn === from)) continue;
        if (this.deliver(from, sub, head, tail, payload, headerLength, subject, reply)) {
          delivered++;
          break;
        }
      }
    }
    return delivered;
  }

  /**
   * Delivers to the subscribers of `target` a message shown as `subject`: how
   * a pull consumer hands a stored message (its own subject) to a pull inbox,
   * and (target = subject, `once`: no subject cache) how the JetStream layer
   * answers a reply subject. Returns how many subscriptions got it.
   */
  private deliverAs(target: string, subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer, once = false): number {
    const r = once ? this.sublist.matchOnce(target) : this.sublist.match(target);
    if (r.plain.length === 0 && r.queues.length === 0) return 0;
    const hdrLen = headers === null ? 0 : headers.length;
    const body = hdrLen > 0 ? Buffer.concat([headers!, payload]) : payload;
    const head = Buffer.from((hdrLen > 0 ? 'HMSG ' : 'MSG ') + subject + ' ', 'latin1');
    const tail = Buffer.from((reply === undefined ? ' ' : ' ' + reply + ' ') + (hdrLen > 0 ? hdrLen + ' ' : '') + body.length + '\r\n', 'latin1');
    return this.fanOut(null, r, head, tail, body, hdrLen, subject, reply);
  }

  /** The hub as the JetStream layer sees it. */
  private jsHost(): JsHost {
    return {
      logger: this.options.logger,
      publish: (subject, reply, headers, payload, capture = true) => {
        const body = headers === null ? payload : Buffer.concat([headers, payload]);
        const prev = this.capture;
        this.capture = capture;
        try {
          this.route(null, subject, reply, headers === null ? 0 : headers.length, body);
        } finally {
          this.capture = prev;
        }
      },
      deliverTo: (target, subject, reply, headers, payload) => this.deliverAs(target, subject, reply, headers, payload),
      reply: (subject, payload) => this.deliverAs(subject, subject, undefined, null, payload, true),
      hasInterest: (subject) => {
        const r = this.sublist.match(subject);
        return r.plain.length > 0 || r.queues.length > 0;
      },
      flush: () => this.flushAll(),
    };
  }

  private deliver(
    from: Connection | null,
    sub: Subscription,
    head: Buffer,
    tail: Buffer,
    payload: Uint8Array,
    headerLength: number,
    subject: string,
    reply: string | undefined,
  ): boolean {
    const conn = sub.conn;
    let ok: boolean;
    if (headerLength > 0 && !conn.opts.headers) {
      // A client that did not negotiate headers gets the payload alone, as a MSG.
      const body = payload.subarray(headerLength);
      const rep = reply === undefined ? ' ' : ' ' + reply + ' ';
      ok = conn.deliver(sub, Buffer.from('MSG ' + subject + ' ', 'latin1'), Buffer.from(rep + body.length + '\r\n', 'latin1'), body);
    } else {
      ok = conn.deliver(sub, head, tail, payload);
    }
    if (!ok) return false;
    if (from !== null && conn.pending > this.stallThreshold) conn.stall(from);
    this.counters.outMsgs++;
    this.counters.outBytes += payload.length;
    sub.delivered++;
    if (sub.max > 0 && sub.delivered >= sub.max) conn.removeSub(sub);
    return true;
  }

  /**
   * A request reached nobody: answer with a 503 status on the requester's own
   * reply subscription, so its request() fails at once instead of timing out.
   */
  private noResponders(from: Connection, reply: string): void {
    const o = from.opts;
    if (!o.headers || !o.noResponders || from.closed) return;
    // The first plain subscription of the requester that matches, as nats-server.
    for (const sub of from.subs.values()) {
      if (sub.queue === undefined && subjectMatches(sub.subject, reply)) {
        const n = NO_RESPONDERS_HEADER.length;
        from.send(`HMSG ${reply} ${sub.sid} ${n} ${n}\r\n${NO_RESPONDERS_HEADER}\r\n`);
        return;
      }
    }
  }

  /**
   * Publishes a message from inside the process (no connection), e.g. for
   * internal services. Subjects and reply are user strings (UTF-8).
   */
  publish(subject: string, payload: Uint8Array | string, opts: { reply?: string } = {}): void {
    if (this.state === 'closed') throw new HubClosedError();
    // A copy: a stream that captures the subject stores it after this returns, and the caller may reuse its buffer.
    const body = Buffer.from(payload);
    this.route(null, toWire(subject), opts.reply === undefined ? undefined : toWire(opts.reply), 0, body);
  }

  // ── output ──────────────────────────────────────────────────────────────

  /**
   * Queues a connection for the next flush. Under load (the read that caused
   * this was large) the flush runs on setImmediate, after every socket read of
   * this turn of the event loop, so a consumer fed by several reads gets one
   * write, not one per read. A small read is light traffic, where latency
   * matters more: its flush runs as soon as the read is handled.
   */
  markDirty(conn: Connection): void {
    if (conn.dirty) return;
    conn.dirty = true;
    this.dirty.push(conn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      if (this.busy) setImmediate(flushHub, this);
      else process.nextTick(flushHub, this);
    }
  }

  /** @internal Writes every connection's queued output: one write per connection per turn. */
  flushAll(): void {
    this.flushScheduled = false;
    const list = this.dirty;
    this.dirty = [];
    for (let i = 0; i < list.length; i++) list[i]!.flush();
  }

  private reportError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.options.logger.error({ err }, err.message);
  }
}

function subEvent(sub: Subscription): SubscriptionEvent {
  return { client: sub.conn.info(), subject: sub.subject, queue: sub.queue, sid: sub.sid };
}

function flushHub(hub: Hub): void {
  hub.flushAll();
}

function onSocket(this: Hub, socket: Socket, listener: HubAddress): void {
  this.accept(socket, listener);
}

function socketOnData(this: HubSocket, chunk: Buffer): void {
  this[kConn]!.receive(chunk);
}

function socketOnError(this: HubSocket, err: Error): void {
  this[kConn]!.close(CloseReason.SOCKET_ERROR, err);
}

function socketOnClose(this: HubSocket): void {
  this[kConn]!.socketClosed();
}

/** Creates a hub. Call `listen()` to start accepting connections. */
export function createHub(options: HubOptions = {}): Hub {
  return new Hub(options);
}
