/**
 * What the hub's modules share: the message record, the subscription, the
 * connection as routing sees it (Subscriber) and the hub as a connection sees
 * it (HubCore). Kept apart so that router.ts, connection.ts and hub.ts import
 * this file and never each other.
 */
import type { Server } from 'node:net';
import type { Peer, TransportKind } from '../transport.js';
import type { HubAddress } from './listeners.js';
import type { ResolvedTls } from './security/tls-config.js';
import type { ResolvedHubOptions } from './options.js';
import type { CompiledPermissions } from './security/permissions.js';
import type { Authenticator } from './security/auth.js';
import type { ConnectRequest } from './security/types.js';
import type { SchemaAction } from '../protocol/schemas.js';

/** The hub's counters: `hub.stats()`, and what the monitoring documents count. */
export interface HubStats {
  connections: number;
  totalConnections: number;
  subscriptions: number;
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  slowConsumers: number;
  /** Connections refused for bad or missing credentials. */
  authFailures: number;
  /** Per schema rule, in rule order: events that passed and events that broke it (whatever the action). */
  schemas: SchemaStats[];
}

/** One schema rule's counters in hub.stats(). */
export interface SchemaStats {
  /** The schema file's name, or `inline#N`. */
  name: string;
  subjects: string[];
  action: SchemaAction;
  accepted: number;
  rejected: number;
}

/**
 * A check on the publish path after the publisher's permissions (the schema
 * gate, server/schema-gate.ts). Returns whether the publish goes on; when
 * not, the gate has answered the publisher itself (-ERR, a status, nothing).
 */
export interface PublishGate {
  pass(from: Subscriber, subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array): boolean;
}

/** Why a connection ended; reported with the hub's `disconnect` event. */
export const CloseReason = {
  CLIENT: 'client closed',
  CONNECT_TIMEOUT: 'connect timeout',
  AUTH_TIMEOUT: 'authentication timeout',
  AUTH_FAILED: 'authorization violation',
  TLS_HANDSHAKE: 'tls handshake error',
  PROTOCOL: 'protocol violation',
  SLOW_CONSUMER: 'slow consumer',
  STALE: 'stale connection',
  MAX_CONNECTIONS: 'maximum connections exceeded',
  SERVER_SHUTDOWN: 'server shutdown',
  SOCKET_ERROR: 'socket error',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/**
 * One message on its way through the hub. `subject` and `reply` are wire
 * strings (one char per byte); `payload` is headers + body, `headerLength`
 * bytes of it headers (0 for none), a view that is valid only while routing.
 */
export interface Message {
  subject: string;
  reply: string | undefined;
  headerLength: number;
  payload: Uint8Array;
}

/** The CONNECT options that change how the hub talks to a client, with nats-server's defaults. */
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
  /** The authenticated user (the NKey for NKey users); undefined without authentication. */
  readonly user: string | undefined;
  /** Whether the connection is encrypted with TLS. */
  readonly tls: boolean;
}

/** A connection as routing sees it. */
export interface Subscriber {
  readonly id: number;
  readonly opts: ClientOptions;
  readonly closed: boolean;
  readonly subs: ReadonlyMap<string, Subscription>;
  /** Bytes queued and not yet taken by the kernel. */
  readonly pending: number;
  deliver(sub: Subscription, msgHead: Buffer, tail: Buffer, payload: Uint8Array): boolean;
  /** Pauses `producer`'s reading until this connection has drained. */
  stall(producer: Subscriber): void;
  removeSub(sub: Subscription): void;
  send(line: string): void;
  /** A request reached this connection: its reply subject may be answered (allowResponses). */
  grantResponse(reply: string): void;
  info(): ClientInfo;
}

export class Subscription {
  readonly conn: Subscriber;
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
  /** The sid encoded at the first delivery (a million idle subscriptions need no Buffer each), for MSG lines. */
  private sidBuf: Buffer | null = null;
  /**
   * The owner's permissions when this subscription overlaps a subscribe
   * deny (a `>` with `secret.>` denied): each message's subject is checked
   * at delivery. null for every other subscription: no cost on the hot path.
   */
  readonly filter: CompiledPermissions | null;
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

  constructor(conn: Subscriber, subject: string, queue: string | undefined, sid: string, filter: CompiledPermissions | null = null) {
    this.conn = conn;
    this.subject = subject;
    this.queue = queue;
    this.sid = sid;
    this.filter = filter;
  }

  get sidBytes(): Buffer {
    return (this.sidBuf ??= Buffer.from(this.sid, 'latin1'));
  }
}

/** A control command bound to its connection: runs with the publish's reply, header length and payload. */
export type ControlCommand = (reply: string | undefined, headerLength: number, payload: Uint8Array) => void;

/** What a connection needs from the hub. */
export interface HubCore {
  readonly options: ResolvedHubOptions;
  /** Authentication, or null when anyone may connect. */
  readonly auth: Authenticator | null;
  /**
   * A coarse clock (ms since the epoch) the hub ticks every 100 ms while
   * monitoring is on: reading it on every read costs nothing, Date.now() does.
   */
  readonly clock: { now: number };
  /** The publish path's check after permissions; null (no schema rules): nothing to pay but this test. */
  gate: PublishGate | null;
  /** The publish path: permissions were checked by the connection; routes to subscribers and streams. */
  publish(from: Subscriber, msg: Message): void;
  addSubscription(sub: Subscription): void;
  removeSubscription(sub: Subscription): void;
  /** A read of `size` bytes is being handled (large reads let flushes wait for the turn's other reads). */
  reading(size: number): void;
  /** Schedules a flush of this connection's outbound queue. */
  markDirty(conn: { flush(): void; dirty: boolean }): void;
  /**
   * A CONNECT is about to be accepted (authenticated, its permissions known;
   * every CONNECT, a second one too): the hub's services check netemitter's
   * extensions (a last will's subject, presence metadata). An `-ERR` text
   * refuses the client (sent, then the connection closes); null lets it in.
   */
  vetConnect(conn: Subscriber, request: ConnectRequest): string | null;
  /** CONNECT was accepted (and authenticated): the client is ready. */
  connectionReady(conn: Subscriber): void;
  /**
   * A ready client publishes to a subject under CONTROL_PREFIX
   * (protocol/constants.ts): the command a hub service runs for it, about
   * the client itself (not routed), or null to route it as any publish (no
   * such command, or one that needs a publish permission the client lacks).
   */
  control(conn: Subscriber, subject: string): ControlCommand | null;
  /** A client failed to authenticate. */
  authFailed(conn: Subscriber, peer: Peer): void;
  /** A connection is about to close, its subscriptions still in place. */
  closing(conn: Subscriber, reason: CloseReason): void;
  connectionClosed(conn: Subscriber, reason: CloseReason, err?: Error): void;
}

/** One open listener and what its clients are told in INFO. */
export interface HubListener {
  /** A net.Server, or the http(s).Server a WebSocket listener upgrades on. */
  server: Server;
  address: HubAddress;
  kind: TransportKind;
  /** TLS for this listener's clients, below the protocol: TCP listeners of a hub with TLS. */
  tls: ResolvedTls | null;
  infoPrefix: string;
}
