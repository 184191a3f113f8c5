/**
 * One client connection to the hub: its byte stream (any Duplex: TCP, TLS, a
 * Unix socket), its parser, its options from CONNECT, who it is and what it
 * may do, its subscriptions, its outbound queue and its heartbeat.
 *
 * Each protocol operation has one handler method (connect, pub, sub, unsub,
 * ping, pong). PUB and SUB go through one policy path each (permissions,
 * then the hub); routing and delivery across connections belong to the
 * router (server/router.ts), which this module reaches through HubCore.
 */
import type { Duplex } from 'node:stream';
import { ServerParser, type ServerParserHandler } from '../protocol/parser.js';
import { CONTROL_PREFIX, ProtocolErrorText } from '../protocol/constants.js';
import { isValidSubject, isValidLiteralSubject, isValidToken } from '../protocol/subject.js';
import type { ProtocolError } from '../errors.js';
import type { Peer } from '../transport.js';
import { applyConnect, parseConnect } from './connect.js';
import { ResponseRights, type CompiledPermissions } from './security/permissions.js';
import type { AuthResult } from './security/auth.js';
import type { ConnectRequest } from './security/types.js';
import { DOUBLE_ZERO, Writer } from './writer.js';
import { CloseReason, Subscription, type ClientInfo, type ClientOptions, type HubCore, type Message, type Subscriber } from './types.js';

/** nats-server sends its first PING this long after CONNECT (or at pingInterval when that is shorter). */
const FIRST_PING_MS = 2_000;
const EMPTY = new Uint8Array(0);

/** Where a connection is in its life: before an accepted CONNECT, authenticating (async), ready. */
const Phase = {
  NEW: 0,
  AUTHENTICATING: 1,
  READY: 2,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export class Connection extends Writer implements ServerParserHandler, Subscriber, ClientInfo {
  readonly peer: Peer;
  readonly subs = new Map<string, Subscription>();
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
  /** The authenticated user; undefined without authentication. */
  user: string | undefined = undefined;
  /** The last CONNECT read (its netemitter extensions, `will` and `presence`, raw), or null before one. */
  request: ConnectRequest | null = null;
  /** The nonce sent in INFO for an NKey signature, when authentication asks for one. */
  readonly nonce: string | undefined;
  /** The INFO line of the listener this connection came through, up to client fields. */
  infoPrefix = '';
  /** When the connection was accepted, and when bytes last arrived (ms since the epoch), for /connz. */
  readonly startTime = Date.now();
  lastActivity = this.startTime;
  private phase: Phase = Phase.NEW;
  /** What this client may publish and subscribe to; null: everything. */
  private perms: CompiledPermissions | null = null;
  /** Reply subjects this client may answer despite its publish permissions (allowResponses). */
  private rights: ResponseRights | null = null;
  /** The message being published, reused: routing is synchronous and copies what it keeps. */
  private readonly msg: Message = { subject: '', reply: undefined, headerLength: 0, payload: EMPTY };
  private readonly parser: ServerParser;
  private pingsOut = 0;
  private activity = false;
  /** Whether any byte has arrived yet. */
  private started = false;
  private pingTimer: NodeJS.Timeout | null = null;
  /** The round trip of the last PING this hub sent, in milliseconds, for /connz; before its PONG, INFO to CONNECT; 0 before CONNECT. */
  rtt = DOUBLE_ZERO;
  /**
   * When the unanswered PING went out (performance.now()), or 0. A double
   * field from the start: the first PING goes out 2 s after CONNECT, in the
   * middle of a client's first burst, and a 0 here turned into a fraction
   * then deoptimised the whole hot path at once.
   */
  private rttStart = DOUBLE_ZERO;
  /** When INFO went out, about (performance.now()): the first CONNECT gives the first round trip. */
  private readonly opened = performance.now();
  /** The first PING after CONNECT, which measures the round trip early as nats-server does. */
  private firstPingTimer: NodeJS.Timeout | null = null;
  private endTimer: NodeJS.Timeout | null = null;
  /** The connect timeout, or with authentication the authentication timeout. */
  private connectTimer: NodeJS.Timeout | null = null;

  /** The permissions CONNECT gave this client; null: it may do anything. */
  get permissions(): CompiledPermissions | null {
    return this.perms;
  }

  constructor(hub: HubCore, stream: Duplex, id: number, peer: Peer, nonce: string | undefined) {
    super(hub, stream, id);
    this.peer = peer;
    const o = hub.options;
    this.parser = new ServerParser(this, { maxControlLine: o.maxControlLine, maxPayload: o.maxPayload });
    this.nonce = nonce;
  }

  get address(): string {
    return this.peer.address;
  }
  get port(): number | undefined {
    return this.peer.port;
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
  get tls(): boolean {
    return this.peer.tls !== null;
  }
  /** Whether a CONNECT was accepted (and authenticated, when the hub asks for it). */
  get ready(): boolean {
    return this.phase === Phase.READY;
  }

  /** A snapshot for events: does not keep the connection alive. */
  info(): ClientInfo {
    return {
      id: this.id,
      address: this.address,
      port: this.port,
      name: this.name,
      lang: this.lang,
      version: this.version,
      user: this.user,
      tls: this.tls,
    };
  }

  /** Starts the heartbeat and the connect (or authentication) timeout. INFO is the hub's to send. */
  start(): void {
    const o = this.hub.options;
    this.pingTimer = setInterval(onPingTimer, o.pingInterval, this);
    const auth = this.hub.auth;
    const timeout = auth !== null ? auth.timeout : o.connectTimeout;
    if (timeout > 0) this.connectTimer = setTimeout(onConnectTimeout, timeout, this);
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
    if (this.hub.auth !== null) {
      this.sendErr(ProtocolErrorText.AUTH_TIMEOUT);
      this.close(CloseReason.AUTH_TIMEOUT);
    } else {
      this.sendErr(ProtocolErrorText.CONNECT_TIMEOUT);
      this.close(CloseReason.CONNECT_TIMEOUT);
    }
  }

  /** Bytes from the stream. */
  receive(chunk: Buffer): void {
    if (!this.started) {
      this.started = true;
      if (this.hub.auth !== null && (chunk[0]! | 0x20) !== 0x63 /* c */) {
        // With authentication, nats-server takes nothing but CONNECT first,
        // deciding on the op's first byte: anything else, even an unknown op
        // or an HPUB, is an Authorization Violation.
        this.parser.close();
        this.refuse();
        return;
      }
    }
    this.activity = true;
    this.lastActivity = this.hub.clock.now;
    this.hub.reading(chunk.length);
    this.parser.parse(chunk);
  }

  /** Traffic without protocol bytes (a WebSocket ping or pong): the peer is alive, as when bytes arrive. */
  touch(): void {
    this.activity = true;
    this.lastActivity = this.hub.clock.now;
  }

  /** A request reached this client: with allowResponses, it may publish to the reply subject. */
  grantResponse(reply: string): void {
    // Only a reply its publish permissions would refuse needs a right: the table stays small.
    if (this.rights !== null && !this.perms!.canPublish(reply)) this.rights.grant(reply, Date.now());
  }

  /**
   * Ends the connection. Queued output is written first unless the reason
   * makes that pointless (slow consumer, socket error).
   */
  override close(reason: CloseReason, err?: Error): void {
    if (this.closed) return;
    // Before the subscriptions go: the monitor keeps them with the closed connection.
    this.hub.closing(this, reason);
    this.parser.close();
    const flushFirst = reason !== CloseReason.SLOW_CONSUMER && reason !== CloseReason.SOCKET_ERROR;
    if (flushFirst) this.flush();
    this.closed = true;
    this.out.clear();
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    if (this.firstPingTimer !== null) clearTimeout(this.firstPingTimer);
    this.firstPingTimer = null;
    this.greeted();
    this.clearDeadline();
    if (this.producers !== null) this.releaseProducers();
    for (const sub of this.subs.values()) this.hub.removeSubscription(sub);
    this.subs.clear();
    if (flushFirst) {
      this.stream.end();
      // A peer that never reads must not hold the stream open.
      this.endTimer = setTimeout(destroyStream, this.hub.options.writeDeadline, this.stream);
    } else {
      this.stream.destroy();
    }
    this.hub.connectionClosed(this, reason, err);
  }

  /** The stream is gone (either side closed it). */
  streamClosed(): void {
    this.close(CloseReason.CLIENT);
    // close() may just have armed it: the stream it guards is already gone.
    if (this.endTimer !== null) clearTimeout(this.endTimer);
    this.endTimer = null;
  }

  /** Sends `-ERR` and, for fatal errors, closes. */
  private protocolError(text: string, fatal: boolean): void {
    this.sendErr(text);
    if (fatal) this.close(CloseReason.PROTOCOL);
  }

  /**
   * With authentication on, nothing but CONNECT is taken before an accepted
   * CONNECT: nats-server answers any other operation with an Authorization
   * Violation and closes. Returns whether the operation may go on.
   */
  private admitted(): boolean {
    if (this.phase === Phase.READY || this.hub.auth === null) return true;
    this.refuse();
    return false;
  }

  /** Authorization Violation, then the close. */
  private refuse(): void {
    this.sendErr(ProtocolErrorText.AUTH_VIOLATION);
    this.close(CloseReason.AUTH_FAILED);
  }

  // ── protocol handlers (ServerParserHandler) ──────────────────────────────

  connect(json: string): void {
    const c = parseConnect(json);
    if (c === null) {
      // nats-server closes silently on a CONNECT it cannot read; we say why.
      this.protocolError(ProtocolErrorText.UNKNOWN_OP, true);
      return;
    }
    // nats-server's first estimate, until a PONG measures one: INFO sent to CONNECT read (its /connz and advisories show it).
    if (this.request === null && this.rtt === 0) this.rtt = performance.now() - this.opened;
    this.request = c;
    const refusal = applyConnect(this.opts, c);
    if (refusal !== null) {
      this.protocolError(refusal, true);
      return;
    }
    const auth = this.hub.auth;
    if (auth === null) {
      this.accepted();
      return;
    }
    // Every CONNECT is authenticated, a second one too (as nats-server): its credentials may be wrong.
    let result: ReturnType<typeof auth.check>;
    try {
      result = auth.check(c, this.peer, this.nonce);
    } catch (err) {
      // An authenticate hook that returned something unusable: the embedder's bug, logged; the client is refused.
      this.hub.options.logger.error({ client: this.id, err: (err as Error).message }, 'authentication failed with an error');
      result = null;
    }
    if (result instanceof Promise) {
      // Operations sent behind CONNECT wait for the verdict, in order; the
      // stream stops too, so a client cannot queue unbounded bytes meanwhile.
      this.phase = Phase.AUTHENTICATING;
      this.parser.pause();
      this.pauseReading();
      result.then(
        (r) => this.authenticated(r),
        (err: unknown) => {
          this.hub.options.logger.error({ client: this.id, err: (err as Error)?.message }, 'authentication failed with an error');
          this.authenticated(null);
        },
      );
      return;
    }
    this.authenticated(result);
  }

  private authenticated(r: AuthResult | null): void {
    if (this.closed) return;
    const wasPaused = this.phase === Phase.AUTHENTICATING;
    if (r === null) {
      // Refused: no later operation of this client is read. The close comes
      // after a delay that grows with the address's recent failures, so
      // guessing is slow, and costs the hub only a timer meanwhile.
      this.greeted();
      this.parser.close();
      if (!wasPaused) this.pauseReading();
      this.hub.authFailed(this, this.peer);
      const delay = this.hub.auth!.failures.fail(this.address, Date.now());
      if (delay > 0) this.connectTimer = setTimeout(onRefuse, delay, this);
      else this.refuse();
      return;
    }
    this.hub.auth!.failures.succeed(this.address);
    this.user = r.identity.user;
    const perms = r.permissions;
    this.perms = perms;
    if (perms !== null && perms.responses !== null) this.rights = new ResponseRights(perms.responses.max, perms.responses.expires);
    if (!this.accepted()) return;
    if (wasPaused) {
      this.resumeReading();
      this.parser.resume();
    }
  }

  /** CONNECT accepted, unless a hub service refuses its extensions (then -ERR and the close; false). */
  private accepted(): boolean {
    this.greeted();
    const refusal = this.hub.vetConnect(this, this.request!);
    if (refusal !== null) {
      this.protocolError(refusal, true);
      return false;
    }
    const first = this.phase !== Phase.READY;
    this.phase = Phase.READY;
    if (this.opts.verbose) this.send('+OK\r\n');
    if (first) {
      this.firstPingTimer = setTimeout(onFirstPing, Math.min(FIRST_PING_MS, this.hub.options.pingInterval), this);
      this.hub.connectionReady(this);
    }
    return true;
  }

  /** The early PING: counted like a heartbeat's, so an unanswered one still ends a stale peer. */
  firstPing(): void {
    this.firstPingTimer = null;
    if (this.closed || this.rttStart !== 0) return;
    this.pingsOut++;
    this.sendPing();
  }

  private sendPing(): void {
    this.rttStart = performance.now();
    this.send('PING\r\n');
  }

  /** A refused client's delay is over. */
  refuseNow(): void {
    this.connectTimer = null;
    this.refuse();
  }

  pub(subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array, withHeaders: boolean): void {
    if (withHeaders && !this.opts.headers) {
      // nats-server closes without a word when headers were not negotiated.
      this.close(CloseReason.PROTOCOL);
      return;
    }
    if (this.phase !== Phase.READY && !this.admitted()) return;
    if (this.connectTimer !== null) this.greeted();
    // A command about this connection itself (server/lifecycle.ts), before permissions: its service decides.
    if (subject.charCodeAt(0) === 0x24 /* $ */ && subject.startsWith(CONTROL_PREFIX)) {
      const command = this.hub.control(this, subject);
      if (command !== null) {
        // +OK first, as nats-server acknowledges a PUB before routing it: the command may answer at once.
        if (this.opts.verbose) this.send('+OK\r\n');
        command(reply, headerLength, payload);
        return;
      }
    }
    // Pedantic only warns: nats-server still delivers the message.
    if (this.opts.pedantic && !isValidLiteralSubject(subject)) this.sendErr(ProtocolErrorText.INVALID_PUBLISH_SUBJECT);
    const perms = this.perms;
    if (perms !== null && !perms.canPublish(subject) && (this.rights === null || !this.rights.take(subject, Date.now()))) {
      this.permissionViolation('Publish', subject, undefined);
      return;
    }
    if (this.hub.gate !== null && !this.hub.gate.pass(this, subject, reply, headerLength, payload)) return;
    if (this.opts.verbose) this.send('+OK\r\n');
    this.inMsgs++;
    this.inBytes += payload.length;
    const m = this.msg;
    m.subject = subject;
    m.reply = reply;
    m.headerLength = headerLength;
    m.payload = payload;
    this.hub.publish(this, m);
    // Not kept past routing: it views the read buffer.
    m.payload = EMPTY;
  }

  sub(subject: string, queue: string | undefined, sid: string): void {
    if (this.phase !== Phase.READY && !this.admitted()) return;
    this.greeted();
    if (!isValidSubject(subject) || (queue !== undefined && !isValidToken(queue))) {
      this.sendErr(ProtocolErrorText.INVALID_SUBJECT);
      return;
    }
    const perms = this.perms;
    if (perms !== null && !perms.canSubscribe(subject, queue)) {
      this.permissionViolation('Subscription', subject, queue);
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
      const filter = perms !== null && perms.needsDeliveryCheck(subject, queue) ? perms : null;
      const s = new Subscription(this, subject, queue, sid, filter);
      this.subs.set(sid, s);
      this.hub.addSubscription(s);
    }
    if (this.opts.verbose) this.send('+OK\r\n');
  }

  /** nats-server's wording; the connection stays open. */
  private permissionViolation(op: 'Publish' | 'Subscription', subject: string, queue: string | undefined): void {
    const q = queue === undefined ? '' : ` using queue "${queue}"`;
    const text = `Permissions Violation for ${op} to "${subject}"${q}`;
    this.hub.options.logger.warn({ client: this.id, user: this.user, subject, queue }, text);
    this.sendErr(text);
  }

  unsub(sid: string, max: number | undefined): void {
    if (this.phase !== Phase.READY && !this.admitted()) return;
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
    if (this.phase !== Phase.READY && !this.admitted()) return;
    this.greeted();
    this.send('PONG\r\n');
  }

  pong(): void {
    this.pingsOut = 0;
    if (this.rttStart !== 0) {
      this.rtt = performance.now() - this.rttStart;
      this.rttStart = 0;
    }
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
    this.sendPing();
  }

}

function onPingTimer(conn: Connection): void {
  conn.heartbeat();
}

function onFirstPing(conn: Connection): void {
  conn.firstPing();
}

function onConnectTimeout(conn: Connection): void {
  conn.connectTimedOut();
}

function onRefuse(conn: Connection): void {
  conn.refuseNow();
}

function destroyStream(stream: Duplex): void {
  stream.destroy();
}
