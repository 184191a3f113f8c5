/**
 * One client connection to the hub: the socket, its parser, its options from
 * CONNECT, its subscriptions, its outbound queue and its heartbeat.
 *
 * Each protocol operation has one handler method (connect, pub, sub, unsub,
 * ping, pong); routing and delivery across connections belong to the hub
 * (server/router.ts), which this module reaches through the HubCore interface.
 */
import type { Socket } from 'node:net';
import { ServerParser, type ServerParserHandler } from '../protocol/parser.js';
import { Outbound } from '../protocol/outbound.js';
import { ProtocolErrorText, PROTOCOL_VERSION } from '../protocol/constants.js';
import { isValidSubject, isValidLiteralSubject, isValidToken } from '../protocol/subject.js';
import type { ProtocolError } from '../errors.js';
import type { ResolvedHubOptions } from './options.js';

/** A read at least this large means the peer is streaming: flushes may wait for the turn's other reads. */
const BUSY_READ = 16 * 1024;

/** Why a connection ended; reported with the hub's `disconnect` event. */
export const CloseReason = {
  CLIENT: 'client closed',
  CONNECT_TIMEOUT: 'connect timeout',
  PROTOCOL: 'protocol violation',
  SLOW_CONSUMER: 'slow consumer',
  STALE: 'stale connection',
  MAX_CONNECTIONS: 'maximum connections exceeded',
  SERVER_SHUTDOWN: 'server shutdown',
  SOCKET_ERROR: 'socket error',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** The CONNECT options, with nats-server's defaults for omitted fields. */
export interface ClientOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  headers: boolean;
  noResponders: boolean;
  protocol: number;
  name: string | undefined;
  lang: string | undefined;
  version: string | undefined;
}

/** What applications see of a connection in hub events. */
export interface ClientInfo {
  readonly id: number;
  /** Remote address, or the socket path for Unix sockets and pipes. */
  readonly address: string;
  readonly port: number | undefined;
  readonly name: string | undefined;
  readonly lang: string | undefined;
  readonly version: string | undefined;
}

export class Subscription {
  readonly conn: Connection;
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
  /** The sid encoded once, for MSG lines. */
  readonly sidBytes: Buffer;
  /** Auto-unsubscribe after this many deliveries; 0 for never. */
  max = 0;
  delivered = 0;
  /**
   * The whole MSG line of the last delivery that repeated the one before it
   * (same encoded head and tail: a stream of same-sized messages on one
   * subject), so the next ones copy one buffer. `lastHead`/`lastTail` are
   * the parts seen last; one-off lines (replies) only move these pointers.
   */
  line: Buffer | null = null;
  lineHead: Buffer | null = null;
  lineTail: Buffer | null = null;
  lastHead: Buffer | null = null;
  lastTail: Buffer | null = null;

  constructor(conn: Connection, subject: string, queue: string | undefined, sid: string) {
    this.conn = conn;
    this.subject = subject;
    this.queue = queue;
    this.sid = sid;
    this.sidBytes = Buffer.from(sid, 'latin1');
  }
}

/** What a connection needs from the hub. */
export interface HubCore {
  readonly options: ResolvedHubOptions;
  /** Set by a connection for the read it is handling (see Hub.markDirty). */
  busy: boolean;
  route(from: Connection, subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array): void;
  addSubscription(sub: Subscription): void;
  removeSubscription(sub: Subscription): void;
  /** Schedules a flush of this connection's outbound queue. */
  markDirty(conn: Connection): void;
  connectionClosed(conn: Connection, reason: CloseReason, err?: Error): void;
}

export class Connection implements ServerParserHandler, ClientInfo {
  readonly id: number;
  readonly address: string;
  readonly port: number | undefined;
  readonly socket: Socket;
  readonly subs = new Map<string, Subscription>();
  readonly out = new Outbound();
  readonly opts: ClientOptions = {
    verbose: true,
    pedantic: true,
    echo: true,
    headers: false,
    noResponders: false,
    protocol: 0,
    name: undefined,
    lang: undefined,
    version: undefined,
  };
  connected = false;
  closed = false;
  /** Queued for the hub's next flush. */
  dirty = false;
  /** The INFO line of the listener this connection came through, up to client fields. */
  infoPrefix = '';
  /**
   * Bytes the socket still held after our last write (its writableLength
   * then). Between writes it can only shrink, so this errs high by at most
   * what drained, and reading it costs nothing on the delivery path.
   */
  private backlog = 0;
  private readonly maxPending: number;
  private readonly hub: HubCore;
  private readonly parser: ServerParser;
  private pingsOut = 0;
  private activity = false;
  private pingTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private endTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;

  constructor(hub: HubCore, socket: Socket, id: number, address: string, port: number | undefined) {
    this.hub = hub;
    this.socket = socket;
    this.id = id;
    this.address = address;
    this.port = port;
    const o = hub.options;
    this.maxPending = o.maxPending;
    this.parser = new ServerParser(this, { maxControlLine: o.maxControlLine, maxPayload: o.maxPayload });
  }

  get name(): string | undefined {
    return this.opts.name;
  }
  get lang(): string | undefined {
    return this.opts.lang;
  }
  get version(): string | undefined {
    return this.opts.version;
  }

  /** A snapshot for events: does not keep the connection alive. */
  info(): ClientInfo {
    return { id: this.id, address: this.address, port: this.port, name: this.name, lang: this.lang, version: this.version };
  }

  start(): void {
    const o = this.hub.options;
    this.pingTimer = setInterval(onPingTimer, o.pingInterval, this);
    if (o.connectTimeout > 0) this.connectTimer = setTimeout(onConnectTimeout, o.connectTimeout, this);
  }

  /** The first operation arrived: the connection is a client, not an idle socket. */
  private greeted(): void {
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
  }

  connectTimedOut(): void {
    this.connectTimer = null;
    this.sendErr(ProtocolErrorText.CONNECT_TIMEOUT);
    this.close(CloseReason.CONNECT_TIMEOUT);
  }

  /** Bytes from the socket. */
  receive(chunk: Buffer): void {
    this.activity = true;
    this.hub.busy = chunk.length >= BUSY_READ;
    this.parser.parse(chunk);
  }

  // ── queueing output ──────────────────────────────────────────────────────

  send(line: string): void {
    if (this.closed) return;
    this.out.latin1(line);
    this.hub.markDirty(this);
  }

  sendErr(text: string): void {
    this.send(`-ERR '${text}'\r\n`);
  }

  /**
   * Queues a message for one subscription. Returns false when the
   * connection was cut off instead (slow consumer).
   */
  deliver(sub: Subscription, msgHead: Buffer, tail: Buffer, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const size = msgHead.length + sub.sidBytes.length + tail.length + payload.length + 2;
    if (this.out.size + this.backlog + size > this.maxPending) {
      this.hub.options.logger.warn({ client: this.id, maxPending: this.maxPending }, `Slow Consumer Detected: MaxPending of ${this.maxPending} Exceeded`);
      this.close(CloseReason.SLOW_CONSUMER);
      return false;
    }
    if (sub.lineTail === tail && sub.lineHead === msgHead) {
      this.out.line(sub.line!, payload);
    } else {
      if (sub.lastTail === tail && sub.lastHead === msgHead) {
        // The second delivery with these parts: a stream; keep its line whole.
        const line = Buffer.allocUnsafe(msgHead.length + sub.sidBytes.length + tail.length);
        msgHead.copy(line, 0);
        sub.sidBytes.copy(line, msgHead.length);
        tail.copy(line, msgHead.length + sub.sidBytes.length);
        sub.line = line;
        sub.lineHead = msgHead;
        sub.lineTail = tail;
      }
      sub.lastHead = msgHead;
      sub.lastTail = tail;
      this.out.msg(msgHead, sub.sidBytes, tail, payload);
    }
    if (!this.dirty) this.hub.markDirty(this);
    return true;
  }

  /** Writes what is queued. Called by the hub once per turn. */
  flush(): void {
    this.dirty = false;
    if (this.closed) return;
    const chunks = this.out.take();
    if (chunks === null) return;
    const socket = this.socket;
    let ok: boolean;
    if (chunks.length === 1) {
      ok = socket.write(chunks[0]!);
    } else {
      socket.cork();
      for (let i = 0; i < chunks.length - 1; i++) socket.write(chunks[i]!);
      ok = socket.write(chunks[chunks.length - 1]!);
      socket.uncork();
    }
    this.backlog = socket.writableLength;
    if (!ok) {
      if (this.deadlineTimer === null) {
        // The kernel buffer is full: the client must catch up within the write deadline.
        this.deadlineTimer = setTimeout(onWriteDeadline, this.hub.options.writeDeadline, this);
        socket.once('drain', () => this.drained());
      }
    } else if (this.producers !== null) {
      this.releaseProducers();
    }
  }

  /** The socket wrote everything it held. */
  private drained(): void {
    this.backlog = 0;
    this.clearDeadline();
    if (this.producers !== null) this.releaseProducers();
  }

  /** Bytes queued for this client and not yet taken by the kernel. */
  get pending(): number {
    return this.out.size + this.backlog;
  }

  // ── flow control ─────────────────────────────────────────────────────────
  //
  // A consumer with more than `stallThreshold` bytes queued pauses reading
  // from the connections that publish to it, so a fast publisher cannot grow
  // the hub's memory; they resume when it drains. If it stays blocked past
  // the write deadline, or passes maxPending, it is cut off instead and they
  // resume then.

  /** Connections whose reading is paused until this one drains. */
  private producers: Set<Connection> | null = null;
  /** How many consumers this connection's reading is paused for. */
  private stalls = 0;

  /** Pauses `producer` until this connection has drained. */
  stall(producer: Connection): void {
    if (producer === this || producer.closed) return;
    this.producers ??= new Set();
    if (this.producers.has(producer)) return;
    this.producers.add(producer);
    if (producer.stalls++ === 0) producer.socket.pause();
  }

  private releaseProducers(): void {
    const list = this.producers!;
    this.producers = null;
    for (const p of list) {
      if (--p.stalls === 0 && !p.closed) p.socket.resume();
    }
  }

  private clearDeadline(): void {
    if (this.deadlineTimer !== null) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = null;
    }
  }

  /**
   * Ends the connection. Queued output is written first unless the reason
   * makes that pointless (slow consumer, socket error).
   */
  close(reason: CloseReason, err?: Error): void {
    if (this.closed) return;
    this.parser.close();
    const flushFirst = reason !== CloseReason.SLOW_CONSUMER && reason !== CloseReason.SOCKET_ERROR;
    if (flushFirst) this.flush();
    this.closed = true;
    this.out.clear();
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.greeted();
    this.clearDeadline();
    if (this.producers !== null) this.releaseProducers();
    for (const sub of this.subs.values()) this.hub.removeSubscription(sub);
    this.subs.clear();
    if (flushFirst) {
      this.socket.end();
      // A peer that never reads must not hold the socket open.
      this.endTimer = setTimeout(destroySocket, this.hub.options.writeDeadline, this.socket);
    } else {
      this.socket.destroy();
    }
    this.hub.connectionClosed(this, reason, err);
  }

  /** The socket is gone (either side closed it). */
  socketClosed(): void {
    this.close(CloseReason.CLIENT);
    // close() may just have armed it: the socket it guards is already gone.
    if (this.endTimer !== null) clearTimeout(this.endTimer);
    this.endTimer = null;
  }

  /** Sends `-ERR` and, for fatal errors, closes. */
  private protocolError(text: string, fatal: boolean): void {
    this.sendErr(text);
    if (fatal) this.close(CloseReason.PROTOCOL);
  }

  // ── protocol handlers (ServerParserHandler) ──────────────────────────────

  connect(json: string): void {
    const c = parseConnect(json);
    if (c === null) {
      // nats-server closes silently on a CONNECT it cannot read; we say why.
      this.protocolError(ProtocolErrorText.UNKNOWN_OP, true);
      return;
    }
    const o = this.opts;
    o.verbose = c.verbose ?? o.verbose;
    o.pedantic = c.pedantic ?? o.pedantic;
    o.echo = c.echo ?? o.echo;
    o.headers = c.headers ?? o.headers;
    o.noResponders = c.no_responders ?? o.noResponders;
    o.name = c.name ?? o.name;
    o.lang = c.lang ?? o.lang;
    o.version = c.version ?? o.version;
    o.protocol = c.protocol ?? o.protocol;
    if (o.protocol < 0 || o.protocol > PROTOCOL_VERSION) {
      this.protocolError(ProtocolErrorText.BAD_PROTOCOL, true);
      return;
    }
    if (o.noResponders && !o.headers) {
      this.protocolError(ProtocolErrorText.NO_RESPONDERS_HEADERS, true);
      return;
    }
    this.connected = true;
    this.greeted();
    if (o.verbose) this.send('+OK\r\n');
  }

  pub(subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array, withHeaders: boolean): void {
    if (withHeaders && !this.opts.headers) {
      // nats-server closes without a word when headers were not negotiated.
      this.close(CloseReason.PROTOCOL);
      return;
    }
    if (this.connectTimer !== null) this.greeted();
    // Pedantic only warns: nats-server still delivers the message.
    if (this.opts.pedantic && !isValidLiteralSubject(subject)) this.sendErr(ProtocolErrorText.INVALID_PUBLISH_SUBJECT);
    if (this.opts.verbose) this.send('+OK\r\n');
    this.hub.route(this, subject, reply, headerLength, payload);
  }

  sub(subject: string, queue: string | undefined, sid: string): void {
    this.greeted();
    if (!isValidSubject(subject) || (queue !== undefined && !isValidToken(queue))) {
      this.sendErr(ProtocolErrorText.INVALID_SUBJECT);
      return;
    }
    // Checked before the duplicate-sid rule, as nats-server does.
    const max = this.hub.options.maxSubscriptions;
    if (max > 0 && this.subs.size >= max) {
      this.sendErr(ProtocolErrorText.MAX_SUBSCRIPTIONS);
      return;
    }
    if (!this.subs.has(sid)) {
      // A duplicate sid is ignored: the first subscription stays (as nats-server).
      const s = new Subscription(this, subject, queue, sid);
      this.subs.set(sid, s);
      this.hub.addSubscription(s);
    }
    if (this.opts.verbose) this.send('+OK\r\n');
  }

  unsub(sid: string, max: number | undefined): void {
    this.greeted();
    const s = this.subs.get(sid);
    if (s !== undefined) {
      if (max !== undefined && max > 0 && s.delivered < max) s.max = max;
      else this.removeSub(s);
    }
    if (this.opts.verbose) this.send('+OK\r\n');
  }

  removeSub(s: Subscription): void {
    if (this.subs.get(s.sid) !== s) return;
    this.subs.delete(s.sid);
    this.hub.removeSubscription(s);
  }

  ping(): void {
    this.greeted();
    this.send('PONG\r\n');
  }

  pong(): void {
    this.pingsOut = 0;
  }

  error(err: ProtocolError): void {
    if (err.text !== undefined) this.sendErr(err.text);
    this.close(CloseReason.PROTOCOL, err);
  }

  /** Heartbeat tick: PING an idle client; give up after maxPingsOut unanswered. */
  heartbeat(): void {
    if (this.activity) {
      // Bytes arrived since the last tick: the peer is alive, no PING needed.
      this.activity = false;
      this.pingsOut = 0;
      return;
    }
    if (this.pingsOut + 1 > this.hub.options.maxPingsOut) {
      this.sendErr(ProtocolErrorText.STALE_CONNECTION);
      this.close(CloseReason.STALE);
      return;
    }
    this.pingsOut++;
    this.send('PING\r\n');
  }

  writeDeadlinePassed(): void {
    this.deadlineTimer = null;
    this.hub.options.logger.warn(
      { client: this.id, writeDeadline: this.hub.options.writeDeadline },
      `Slow Consumer Detected: WriteDeadline of ${this.hub.options.writeDeadline}ms Exceeded`,
    );
    this.close(CloseReason.SLOW_CONSUMER);
  }
}

interface ConnectFields {
  verbose?: boolean;
  pedantic?: boolean;
  echo?: boolean;
  headers?: boolean;
  no_responders?: boolean;
  protocol?: number;
  name?: string;
  lang?: string;
  version?: string;
}

const BOOL_FIELDS = ['verbose', 'pedantic', 'echo', 'headers', 'no_responders'] as const;
const STRING_FIELDS = ['name', 'lang', 'version'] as const;

/**
 * Reads CONNECT's JSON. null when it is not an object or a known field has
 * the wrong type (nats-server refuses both); unknown fields are ignored.
 */
function parseConnect(json: string): ConnectFields | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  for (const k of BOOL_FIELDS) if (o[k] !== undefined && typeof o[k] !== 'boolean') return null;
  for (const k of STRING_FIELDS) if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') return null;
  if (o.protocol !== undefined && (typeof o.protocol !== 'number' || !Number.isInteger(o.protocol))) return null;
  const out: ConnectFields = {};
  for (const k of BOOL_FIELDS) if (typeof o[k] === 'boolean') out[k] = o[k] as boolean;
  for (const k of STRING_FIELDS) if (typeof o[k] === 'string') out[k] = o[k] as string;
  if (typeof o.protocol === 'number') out.protocol = o.protocol;
  return out;
}

function onPingTimer(conn: Connection): void {
  conn.heartbeat();
}

function onConnectTimeout(conn: Connection): void {
  conn.connectTimedOut();
}

function onWriteDeadline(conn: Connection): void {
  conn.writeDeadlinePassed();
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}
