/**
 * The client's wire connection: one socket at a time to one server of the
 * list, the shared protocol parser, coalesced writes that honour socket
 * backpressure, heartbeats, and reconnection with backoff and jitter.
 *
 *   connecting ──INFO──► CONNECT + SUBs + PING ──PONG──► connected
 *        ▲                                                  │ socket lost,
 *        └──── backoff, next server ◄── reconnecting ◄──────┘ stale, ldm
 *
 * What is queued while no socket is usable stays in the outbound queue (up
 * to maxBufferedBytes) and is written after the subscriptions are restored.
 * A flush() resolves only when the server has answered a PING sent after the
 * data; if the socket drops first, it rejects: unconfirmed is never reported
 * as delivered.
 *
 * On a new socket the first PONG answers the handshake (CONNECT + SUBs +
 * PING); the later ones answer the PINGs of the write queue, in order.
 *
 * The seams: reconnect.ts (when to stop, how long to wait, what to report),
 * write-queue.ts (the outbound bytes, their bound, PING waiters),
 * handshake.ts (INFO and CONNECT), types.ts (shapes shared with the bus).
 */
import type { ByteStream, Dialer } from '../transport.js';
import { ClientParser, type ClientParserHandler } from '../protocol/parser.js';
import { fromWire } from '../protocol/bytes.js';
import type { ProtocolError } from '../errors.js';
import { ClosedError, ConnectionError, DisconnectedError, UnsentError, AuthorizationError, PermissionError, SchemaViolationError } from '../errors.js';
import type { ResolvedConnectOptions, ServerAddress } from './options.js';
import { credentialsFor } from './auth.js';
import { serverErrorOf } from './server-errors.js';
import { StatusEmitter, type ConnectionHandler, type ServerInfo } from './types.js';
import { WriteQueue } from './write-queue.js';
import { backoffDelay, gaveUpError, refusalOf, refusedTooOften, serverFailure, shouldGiveUp } from './reconnect.js';
import { connectFrame, mergeServers, mustUpgrade, parseInfo } from './handshake.js';
import { hasWill, isWillRefusal, WILL_CANCEL_LINE } from './will.js';

type State = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';
export class ClientConnection implements ClientParserHandler {
  readonly status = new StatusEmitter();
  serverInfo: ServerInfo | null = null;
  private state: State = 'connecting';
  private readonly opts: ResolvedConnectOptions;
  private readonly handler: ConnectionHandler;
  private servers: ServerAddress[];
  private current: ServerAddress | null = null;
  private socket: ByteStream | null = null;
  private parser: ClientParser | null = null;
  private readonly out: WriteQueue;
  private flushScheduled = false;
  /** The last subject received in wire form, and as the user sees it (fromWire). */
  private msgWire = '';
  private msgSubject = '';
  private handshake = false;
  /** The next PONG on this socket answers the handshake's PING. */
  private handshakePong = false;
  private pingsOut = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private everConnected = false;
  /** Authorization failures in a row (connect attempts refused, or an expiry while connected). */
  private authFailures = 0;
  private firstConnect: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private closed: Promise<void> | null = null;

  constructor(opts: ResolvedConnectOptions, handler: ConnectionHandler) {
    this.opts = opts;
    this.handler = handler;
    this.servers = [...opts.servers];
    this.out = new WriteQueue(opts.maxBufferedBytes);
  }

  /** Connects to the first reachable server. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      void this.dialLoop();
    });
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }

  get isClosed(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /** The server currently connected to, if any. */
  get server(): string | undefined {
    return this.state === 'connected' ? this.current?.url : undefined;
  }

  /** Bytes queued and not yet handed to the kernel. */
  get buffered(): number {
    return this.out.size + (this.socket?.writableLength ?? 0);
  }

  // ── dialing ─────────────────────────────────────────────────────────────

  private async dialLoop(): Promise<void> {
    let attempts = 0;
    let pass = 0;
    /** The last failure of each server tried, in the order first tried. */
    const failures = new Map<string, ConnectionError>();
    const start = this.current === null ? 0 : (this.servers.indexOf(this.current) + 1) % this.servers.length;
    for (;;) {
      const order = this.servers.slice(start).concat(this.servers.slice(0, start));
      for (const server of order) {
        if (this.isClosed) return;
        attempts++;
        if (this.everConnected) this.status.emit('reconnecting', attempts, server.url);
        const err = await this.dial(server);
        if (err === null) return;
        if (this.isClosed) return;
        failures.set(server.url, err);
        const refused = refusalOf(err);
        this.authFailures = refused === null ? 0 : this.authFailures + 1;
        if (shouldGiveUp(this.opts, this.everConnected, attempts, this.servers.length)) {
          this.fail(gaveUpError(this.everConnected, [...failures.values()], attempts));
          return;
        }
        if (refused !== null && refusedTooOften(this.authFailures, this.opts)) {
          this.fail(refused);
          return;
        }
      }
      const delay = backoffDelay(this.opts.reconnect, pass++);
      await new Promise<void>((resolve) => {
        this.reconnectTimer = setTimeout(resolve, delay);
      });
      this.reconnectTimer = null;
    }
  }

  /** One attempt: resolves null once connected (PONG received), or why not (`server` set). */
  private dial(server: ServerAddress): Promise<ConnectionError | null> {
    return new Promise((resolve) => {
      this.current = server;
      this.handshake = false;
      this.handshakePong = false;
      this.parser = new ClientParser(this, { maxControlLine: 64 * 1024 });
      const abort = new AbortController();
      this.dialing = abort;
      let socket: ByteStream | null = null;
      let settled = false;
      const timer = setTimeout(() => fail(`timed out after ${this.opts.timeout} ms`), this.opts.timeout);
      const fail = (why: string | Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.dialing = null;
        abort.abort();
        socket?.destroy();
        if (this.socket === socket) this.socket = null;
        resolve(serverFailure(server, why));
      };
      this.onHandshake = (err) => {
        if (settled) return;
        if (err !== null) return fail(err);
        settled = true;
        clearTimeout(timer);
        this.dialing = null;
        resolve(null);
      };
      const listen = (s: ByteStream): (() => void) => {
        const onData = (chunk: Buffer): void => {
          if (this.socket === s) this.parser?.parse(chunk);
        };
        const onError = (err: Error): void => {
          if (!settled) fail(err);
          else this.lastSocketError = err;
        };
        const onClose = (): void => {
          if (!settled) fail('the connection closed during the handshake');
          else this.lost(s, undefined);
        };
        const onDrain = (): void => this.scheduleFlush();
        s.on('data', onData).on('error', onError).on('close', onClose).on('drain', onDrain);
        return () => void s.off('data', onData).off('error', onError).off('close', onClose).off('drain', onDrain);
      };
      const tls = this.opts.tls;
      this.secure = false;
      // The handshake on the socket dialed, which then carries everything: after a plaintext INFO that asks for
      // TLS, or at once with handshakeFirst.
      this.upgrade = async () => {
        const raw = socket!;
        this.socket = null;
        detach();
        raw.on('error', ignore);
        const upgradeTls = this.opts.platform.upgradeTls;
        if (upgradeTls === null) throw new ConnectionError(`the server asks for TLS inside the protocol, which a ${this.opts.platform.name} client cannot do (use a wss:// URL)`);
        const t = await upgradeTls(raw, tls, server, abort.signal);
        if (settled) {
          t.destroy();
          return;
        }
        socket = t;
        this.socket = t;
        this.secure = true;
        detach = listen(t);
      };
      let detach = (): void => {};
      const dialer = this.opts.dialer ?? (this.opts.platform.dialerFor(server, tls) as Dialer);
      dialer(server, abort.signal).then(
        (s) => {
          if (settled) {
            s.destroy();
            return;
          }
          socket = s;
          this.socket = s;
          detach = listen(s);
          if (tls?.handshakeFirst === true) this.upgrade!().catch(fail);
        },
        (err: Error) => fail(err),
      );
    });
  }

  /** Whether the socket of this attempt is TLS already. */
  private secure = false;
  private upgrade: (() => Promise<void>) | null = null;

  /** The attempt under way, aborted by close(). */
  private dialing: AbortController | null = null;
  private onHandshake: ((err: Error | null) => void) | null = null;
  private lastSocketError: Error | undefined;

  private connected(): void {
    this.state = 'connected';
    this.pingsOut = 0;
    this.authFailures = 0;
    this.pingTimer = setInterval(() => this.heartbeat(), this.opts.pingInterval);
    this.pingTimer.unref();
    const first = !this.everConnected;
    this.everConnected = true;
    this.onHandshake?.(null);
    this.onHandshake = null;
    const url = this.current!.url;
    if (first) {
      this.status.emit('connect', url);
      this.firstConnect?.resolve();
      this.firstConnect = null;
    } else {
      this.status.emit('reconnect', url);
      this.handler.reconnected();
    }
    this.scheduleFlush();
  }

  /** The socket went away after the handshake. */
  private lost(socket: ByteStream, err: Error | undefined): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.parser?.close();
    this.parser = null;
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    const cause = err ?? this.lastSocketError;
    this.lastSocketError = undefined;
    this.out.socketLost(cause);
    if (this.isClosed) return;
    this.state = 'reconnecting';
    this.status.emit('disconnect', this.current?.url ?? '', cause);
    if (this.opts.reconnect === false) {
      this.fail(new ConnectionError(`disconnected from ${this.current?.url ?? 'server'}`, { cause, server: this.current?.url }));
      return;
    }
    void this.dialLoop();
  }

  private fail(err: ConnectionError | AuthorizationError | PermissionError): void {
    if (this.firstConnect !== null) {
      this.firstConnect.reject(err);
      this.firstConnect = null;
    } else if (this.status.listenerCount('error') > 0) {
      this.status.emit('error', err);
    }
    void this.shutdown(false);
  }

  // ── parser events ───────────────────────────────────────────────────────

  info(json: string): void {
    const info = parseInfo(json);
    if (info === null) return this.protocolFailure(new ConnectionError('the server sent an INFO that is not JSON'));
    this.serverInfo = info;
    if (!this.handshake) {
      this.handshake = true;
      this.startSession(info).catch((err: Error) => this.onHandshake?.(err));
    }
    if (Array.isArray(info.connect_urls) && !this.opts.ignoreClusterUpdates) {
      const added = mergeServers(this.servers, info.connect_urls, this.current);
      if (added.length > 0) this.status.emit('update', added);
    }
    if (info.ldm === true) this.lameDuck();
    if (this.state === 'connected') this.handler.infoUpdated(info);
  }

  /**
   * The rest of the handshake after the first INFO: TLS when either side
   * asks for it, then CONNECT with the credentials (signing INFO's nonce),
   * the subscriptions to restore and a PING, whose PONG confirms them all.
   */
  private async startSession(info: ServerInfo): Promise<void> {
    const server = this.current!;
    if (!this.secure && mustUpgrade(info, this.opts, server)) await this.upgrade!();
    const credentials = await credentialsFor(this.opts.auth, server, typeof info.nonce === 'string' ? info.nonce : undefined);
    if (this.socket === null || this.isClosed) return;
    this.handshakePong = true;
    this.socket.write(connectFrame(this.opts, this.secure, credentials, this.handler.subscriptionLines()));
  }

  /** The server is going away: move to another one if we know any. */
  private lameDuck(): void {
    const url = this.current?.url ?? '';
    this.status.emit('ldm', url);
    if (this.servers.length > 1 && this.state === 'connected' && this.socket !== null) {
      this.flushNow();
      // Moving, not dying: the next server gets the will in CONNECT. Written past the queue, which goes there.
      if (hasWill(this.opts, this.serverInfo)) this.socket.write(WILL_CANCEL_LINE);
      this.socket.end();
    }
  }

  msg(subject: string, sid: string, reply: string | undefined, headerLength: number, payload: Buffer): void {
    // The parser hands a repeated subject over as the same string: decode it once.
    if (subject !== this.msgWire) {
      this.msgWire = subject;
      this.msgSubject = fromWire(subject);
    }
    this.handler.message(this.msgSubject, sid, reply === undefined ? undefined : fromWire(reply), headerLength, payload);
  }

  ok(): void {}

  err(text: string): void {
    // Control lines arrive byte-per-char; a subject in the text is the user's UTF-8 again.
    const err = serverErrorOf(fromWire(text), this.current?.url);
    // A will the user may not publish: the server refuses the CONNECT (and closes), as it would refuse bad credentials.
    if (this.state !== 'connected' && isWillRefusal(err, this.opts)) {
      this.onHandshake?.(err);
      return;
    }
    // A denied SUB restored during the handshake does not fail it: nats-server keeps the connection.
    if (err instanceof PermissionError) {
      this.handler.permissionDenied(err);
      if (this.status.listenerCount('error') > 0) this.status.emit('error', err);
      return;
    }
    // An event a netemitter hub refused (its schema): the connection stays open, as after a denied publish. A
    // request learns it from its 400 status, a durable publish from its PubAck: nothing here to fail.
    if (err instanceof SchemaViolationError) {
      if (this.status.listenerCount('error') > 0) this.status.emit('error', err);
      return;
    }
    if (!this.handshake || this.state !== 'connected') {
      this.onHandshake?.(err);
      return;
    }
    // The server closes the connection after this one; the disconnect carries it as its cause.
    if (err instanceof AuthorizationError) {
      this.lastSocketError = err;
      this.authFailures = 1;
    }
    if (this.status.listenerCount('error') > 0) this.status.emit('error', err);
  }

  ping(): void {
    this.socket?.write('PONG\r\n');
  }

  pong(): void {
    if (this.handshakePong) {
      this.handshakePong = false;
      this.connected();
      return;
    }
    this.pingsOut = 0;
    this.out.pong();
  }

  error(err: ProtocolError): void {
    this.protocolFailure(new ConnectionError(`the server sent something that is not NATS protocol: ${err.message}`, { cause: err }));
  }

  private protocolFailure(err: Error): void {
    if (this.state !== 'connected') this.onHandshake?.(err);
    else {
      this.lastSocketError = err;
      this.socket?.destroy();
    }
  }

  private heartbeat(): void {
    if (this.state !== 'connected' || this.socket === null) return;
    if (this.pingsOut >= this.opts.maxPingsOut) {
      this.lastSocketError = new DisconnectedError(`no PONG for ${this.pingsOut} PINGs: the connection is stale`);
      this.socket.destroy();
      return;
    }
    this.pingsOut++;
    this.out.ping(null);
    this.scheduleFlush();
  }

  // ── writing ─────────────────────────────────────────────────────────────

  /** Queues a control line (user strings are UTF-8). */
  writeLine(line: string): void {
    if (this.isClosed) throw new ClosedError();
    this.out.line(line);
    this.scheduleFlush();
  }

  /** Queues a message. Throws when it cannot be accepted. Returns whether the queue is below its high-water mark. */
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): boolean {
    if (this.isClosed) throw new ClosedError();
    const below = this.out.publish(subject, reply, headers, payload, this.serverInfo?.max_payload, this.socket?.writableLength ?? 0);
    this.scheduleFlush();
    return below;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.state !== 'connected') return;
    this.flushScheduled = true;
    process.nextTick(flushConnection, this);
  }

  /** @internal */
  flushNow(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (socket === null || this.state !== 'connected' || socket.writableNeedDrain) return;
    this.out.writeTo(socket);
  }

  /** Resolves when the server has processed everything queued before this call. */
  flush(): Promise<void> {
    if (this.isClosed) return Promise.reject(new ClosedError());
    return new Promise<void>((resolve, reject) => {
      this.out.ping({ resolve: () => resolve(), reject });
      this.scheduleFlush();
    });
  }

  // ── closing ─────────────────────────────────────────────────────────────

  /** Flushes what can be flushed, then closes. Rejects with UnsentError if events were never sent, or sent and never confirmed. */
  close(): Promise<void> {
    this.closed ??= this.shutdown(true);
    return this.closed;
  }

  private async shutdown(graceful: boolean): Promise<void> {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    // A clean close: the will must not fire (client/will.ts). Queued, it follows this connection to a new socket if
    // the flush has to wait for a reconnect.
    const cancelWill = graceful && wasConnected && hasWill(this.opts, this.serverInfo);
    if (cancelWill) this.out.line(WILL_CANCEL_LINE);
    let confirmed = false;
    if (graceful && wasConnected) {
      // Confirm what was queued before closing (bounded by the connect timeout).
      const flushed = this.flush().then(() => (confirmed = true), () => {});
      await Promise.race([flushed, new Promise((r) => setTimeout(r, this.opts.timeout).unref())]);
    }
    this.state = 'closing';
    this.dialing?.abort();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    // Written but never confirmed (the server did not answer the flush in time): they may be lost with the socket.
    const unconfirmed = graceful && wasConnected && !confirmed ? this.out.unconfirmed : 0;
    const unsent = this.out.clear();
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      // Unconfirmed (the server is slow to answer): the cancel still goes ahead of the FIN, which the server reads after it.
      if (cancelWill && !confirmed) socket.write(WILL_CANCEL_LINE);
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    }
    this.state = 'closed';
    this.status.emit('close');
    if (this.firstConnect !== null) {
      this.firstConnect.reject(new ClosedError('closed before the first connect'));
      this.firstConnect = null;
    }
    if ((unsent > 0 || unconfirmed > 0) && graceful) throw new UnsentError(unsent, unconfirmed);
  }
}

function ignore(): void {}

function flushConnection(c: ClientConnection): void {
  c.flushNow();
}
