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
 * PONGs are matched to PINGs in order, per socket:
 *
 *   new socket:  first PONG ─► the handshake (CONNECT + SUBs + PING)
 *   then:        pongs[0], pongs[1], …   waiters whose PING was written to it
 *   not yet:     queuedPongs             waiters whose PING is still in `out`
 *
 * A lost socket fails `pongs` (their PINGs may never have arrived) but keeps
 * `queuedPongs`: their PINGs leave after the reconnect, behind the data they
 * confirm, so a flush() made while disconnected resolves once it is true.
 */
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { ClientParser, type ClientParserHandler } from '../protocol/parser.js';
import { Outbound } from '../protocol/outbound.js';
import { toWire, fromWire } from '../protocol/bytes.js';
import type { ProtocolError } from '../errors.js';
import {
  BufferFullError,
  ClosedError,
  ConnectionError,
  DisconnectedError,
  PayloadTooLargeError,
  UnsentError,
  AuthorizationError,
  PermissionError,
} from '../errors.js';
import { parseServer, type ResolvedConnectOptions, type ServerAddress } from './options.js';
import { plainDialer } from './dialer.js';
import { upgradeTls } from './tls.js';
import { credentialsFor } from './auth.js';
import { serverErrorOf } from './server-errors.js';

/** What the server told us in INFO. */
export interface ServerInfo {
  server_id: string;
  server_name?: string;
  version: string;
  proto?: number;
  headers?: boolean;
  max_payload: number;
  client_id?: number;
  connect_urls?: string[];
  ldm?: boolean;
  /** The client must upgrade to TLS after this INFO (or has, handshake first). */
  tls_required?: boolean;
  /** TLS is offered but not required (nats-server's allow_non_tls). */
  tls_available?: boolean;
  auth_required?: boolean;
  /** What an NKey signs to prove itself. */
  nonce?: string;
  [key: string]: unknown;
}

/** Lifecycle events, kept apart from user events (a user may name an event `error` or `close`). */
export interface StatusEvents {
  connect: [server: string];
  disconnect: [server: string, err: Error | undefined];
  reconnecting: [attempt: number, server: string];
  reconnect: [server: string];
  ldm: [server: string];
  update: [added: string[]];
  error: [err: Error];
  close: [];
}

export interface ConnectionHandler {
  /** Lines (SUB …) to send right after CONNECT, to restore subscriptions. */
  subscriptionLines(): string;
  message(subject: string, sid: string, reply: string | undefined, headerLength: number, payload: Buffer): void;
  /** The server denied a publish or a subscription (it is also emitted on status 'error'). */
  permissionDenied(err: PermissionError): void;
}

type State = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';
type Pong = { resolve: () => void; reject: (err: Error) => void } | null;

const VERSION = '0.1.0';

export class ClientConnection implements ClientParserHandler {
  readonly status = new StatusEmitter();
  serverInfo: ServerInfo | null = null;
  private state: State = 'connecting';
  private readonly opts: ResolvedConnectOptions;
  private readonly handler: ConnectionHandler;
  private servers: ServerAddress[];
  private current: ServerAddress | null = null;
  private socket: Duplex | null = null;
  private parser: ClientParser | null = null;
  private readonly out = new Outbound();
  private flushScheduled = false;
  private pubSubject = '';
  private pubPrefix = '';
  /** The size of the last message on pubSubject, and once a second one repeats it, its whole PUB line encoded. */
  private pubSize = -1;
  private pubLine: Buffer | null = null;
  /** The last subject received in wire form, and as the user sees it (fromWire). */
  private msgWire = '';
  private msgSubject = '';
  private handshake = false;
  /** The next PONG on this socket answers the handshake's PING. */
  private handshakePong = false;
  private pongs: Pong[] = [];
  private queuedPongs: Pong[] = [];
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
        const refused = err.cause instanceof AuthorizationError ? err.cause : null;
        this.authFailures = refused === null ? 0 : this.authFailures + 1;
        const r = this.opts.reconnect;
        const giveUp = this.everConnected
          ? r === false || (r.maxAttempts >= 0 && attempts >= r.maxAttempts)
          : !this.opts.waitOnFirstConnect && attempts >= this.servers.length;
        if (giveUp) {
          const failed = [...failures.values()];
          // A first connect that some server refused says so: the credentials are what to fix.
          const auth = failed.find((f) => f.cause instanceof AuthorizationError)?.cause as AuthorizationError | undefined;
          if (!this.everConnected && auth !== undefined) this.fail(auth);
          else this.fail(this.everConnected ? noServer('could not reconnect', failed, ` (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`) : noServer('could not connect', failed));
          return;
        }
        // nats.js's rule: refused twice in a row, the credentials will not do; retrying forever would only hammer the server.
        if (refused !== null && this.authFailures >= 2 && !this.opts.ignoreAuthErrorAbort) {
          this.fail(refused);
          return;
        }
      }
      const r = this.opts.reconnect === false ? { initialDelay: 250, maxDelay: 5000, jitter: 0.3 } : this.opts.reconnect;
      const base = Math.min(r.maxDelay, r.initialDelay * 2 ** Math.min(pass++, 20));
      const delay = base * (1 - r.jitter * Math.random());
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
      let socket: Duplex | null = null;
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
      const listen = (s: Duplex): (() => void) => {
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
      const dialer = this.opts.dialer ?? plainDialer(server);
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
    }
    this.scheduleFlush();
  }

  /** The socket went away after the handshake. */
  private lost(socket: Duplex, err: Error | undefined): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.parser?.close();
    this.parser = null;
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    const pending = this.pongs;
    this.pongs = [];
    const cause = err ?? this.lastSocketError;
    this.lastSocketError = undefined;
    for (const p of pending) p?.reject(new DisconnectedError(undefined, { cause }));
    if (this.isClosed) return;
    this.state = 'reconnecting';
    this.status.emit('disconnect', this.current?.url ?? '', cause);
    if (this.opts.reconnect === false) {
      this.fail(new ConnectionError(`disconnected from ${this.current?.url ?? 'server'}`, { cause, server: this.current?.url }));
      return;
    }
    void this.dialLoop();
  }

  private fail(err: ConnectionError | AuthorizationError): void {
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
    let info: ServerInfo;
    try {
      info = JSON.parse(json) as ServerInfo;
    } catch {
      return this.protocolFailure(new ConnectionError('the server sent an INFO that is not JSON'));
    }
    this.serverInfo = info;
    if (!this.handshake) {
      this.handshake = true;
      this.startSession(info).catch((err: Error) => this.onHandshake?.(err));
    }
    if (Array.isArray(info.connect_urls) && !this.opts.ignoreClusterUpdates) this.mergeServers(info.connect_urls);
    if (info.ldm === true) this.lameDuck();
  }

  /**
   * The rest of the handshake after the first INFO: TLS when either side
   * asks for it, then CONNECT with the credentials (signing INFO's nonce),
   * the subscriptions to restore and a PING, whose PONG confirms them all.
   */
  private async startSession(info: ServerInfo): Promise<void> {
    const server = this.current!;
    const wantTls = this.opts.tls !== null || server.tls === true;
    if (!this.secure) {
      if (info.tls_required === true || (wantTls && info.tls_available === true)) await this.upgrade!();
      else if (wantTls) throw new ConnectionError('the server does not offer TLS, and this client requires it (a tls:// URL or the tls option)');
    }
    const credentials = await credentialsFor(this.opts.auth, server, typeof info.nonce === 'string' ? info.nonce : undefined);
    if (this.socket === null || this.isClosed) return;
    const connect = {
      verbose: false,
      pedantic: false,
      tls_required: this.secure,
      ...credentials,
      protocol: 1,
      headers: true,
      no_responders: true,
      echo: this.opts.echo,
      lang: 'netemitter',
      version: VERSION,
      ...(this.opts.name !== undefined ? { name: this.opts.name } : {}),
    };
    this.handshakePong = true;
    this.socket.write(Buffer.from(`CONNECT ${JSON.stringify(connect)}\r\n${this.handler.subscriptionLines()}PING\r\n`, 'utf8'));
  }

  private mergeServers(urls: string[]): void {
    const added: string[] = [];
    for (const u of urls) {
      let s: ServerAddress;
      try {
        s = parseServer(u, true);
      } catch {
        continue;
      }
      if (!this.servers.some((x) => x.url === s.url)) {
        this.servers.push(s);
        added.push(s.url);
      }
    }
    if (added.length > 0) this.status.emit('update', added);
  }

  /** The server is going away: move to another one if we know any. */
  private lameDuck(): void {
    const url = this.current?.url ?? '';
    this.status.emit('ldm', url);
    if (this.servers.length > 1 && this.state === 'connected' && this.socket !== null) {
      this.flushNow();
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
    // A denied SUB restored during the handshake does not fail it: nats-server keeps the connection.
    if (err instanceof PermissionError) {
      this.handler.permissionDenied(err);
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
    const p = this.pongs.shift();
    p?.resolve();
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
    this.queuedPongs.push(null);
    this.out.latin1('PING\r\n');
    this.scheduleFlush();
  }

  // ── writing ─────────────────────────────────────────────────────────────

  /** Queues a control line (user strings are UTF-8). */
  writeLine(line: string): void {
    if (this.isClosed) throw new ClosedError();
    this.out.latin1(toWire(line));
    this.scheduleFlush();
  }

  /** Queues a message. Throws when it cannot be accepted. Returns whether the queue is below its high-water mark. */
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): boolean {
    if (this.isClosed) throw new ClosedError();
    const hlen = headers === null ? 0 : headers.length;
    const total = hlen + payload.length;
    const max = this.serverInfo?.max_payload;
    if (max !== undefined && total > max) throw new PayloadTooLargeError(total, max);
    const bound = this.opts.maxBufferedBytes;
    const queued = this.buffered;
    if (queued + total > bound) throw new BufferFullError(bound);
    const out = this.out;
    if (hlen === 0 && reply === undefined) {
      // The common case: `PUB <subject> ` is kept in wire form for the last subject.
      if (subject !== this.pubSubject) {
        this.pubSubject = subject;
        this.pubPrefix = toWire(`PUB ${subject} `);
        this.pubSize = -1;
      }
      if (total === this.pubSize) {
        // A stream of same-sized events: one encoded line, copied whole.
        this.pubLine ??= Buffer.from(`${this.pubPrefix}${total}\r\n`, 'latin1');
        out.line(this.pubLine, payload);
      } else {
        this.pubSize = total;
        this.pubLine = null;
        out.msgText(this.pubPrefix, `${total}\r\n`, payload);
      }
    } else {
      const r = reply === undefined ? '' : ` ${reply}`;
      const line = hlen > 0 ? `HPUB ${subject}${r} ${hlen} ${total}\r\n` : `PUB ${subject}${r} ${total}\r\n`;
      out.latin1(toWire(line));
      if (hlen > 0) out.bytes(headers!);
      out.bytes(payload);
      out.latin1('\r\n');
    }
    this.scheduleFlush();
    return queued + total < bound / 2;
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
    const chunks = this.out.take();
    if (chunks === null) return;
    // Every PING queued so far is in these chunks.
    if (this.queuedPongs.length > 0) {
      for (const p of this.queuedPongs) this.pongs.push(p);
      this.queuedPongs = [];
    }
    if (chunks.length === 1) {
      socket.write(chunks[0]!);
      return;
    }
    socket.cork();
    for (const c of chunks) socket.write(c);
    socket.uncork();
  }

  /** Resolves when the server has processed everything queued before this call. */
  flush(): Promise<void> {
    if (this.isClosed) return Promise.reject(new ClosedError());
    return new Promise<void>((resolve, reject) => {
      this.queuedPongs.push({ resolve: () => resolve(), reject });
      this.out.latin1('PING\r\n');
      this.scheduleFlush();
    });
  }

  // ── closing ─────────────────────────────────────────────────────────────

  /** Flushes what can be flushed, then closes. Rejects with UnsentError if events were never sent. */
  close(): Promise<void> {
    this.closed ??= this.shutdown(true);
    return this.closed;
  }

  private async shutdown(graceful: boolean): Promise<void> {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    if (graceful && wasConnected) {
      // Confirm what was queued before closing (bounded by the connect timeout).
      await Promise.race([this.flush().catch(() => {}), new Promise((r) => setTimeout(r, this.opts.timeout).unref())]);
    }
    this.state = 'closing';
    this.dialing?.abort();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
    const unsent = this.out.size;
    this.out.clear();
    const socket = this.socket;
    this.socket = null;
    for (const p of this.pongs.splice(0)) p?.reject(new ClosedError());
    for (const p of this.queuedPongs.splice(0)) p?.reject(new ClosedError());
    if (socket !== null) {
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
    if (unsent > 0 && graceful) throw new UnsentError(unsent);
  }
}

/**
 * Why one server could not be reached: `<url>: <detail>`, with the socket's or
 * the server's error as cause (a string is our own detail: a timeout…).
 */
function serverFailure(server: ServerAddress, why: string | Error): ConnectionError {
  if (typeof why === 'string') return new ConnectionError(`${server.url}: ${why}`, { server: server.url });
  return new ConnectionError(`${server.url}: ${why.message}`, { cause: why, server: server.url });
}

/** The short reason of a server's failure: a socket error's code (ECONNREFUSED), else its detail. */
function reasonOf(failure: ConnectionError): string {
  const cause = failure.cause as NodeJS.ErrnoException | undefined;
  if (typeof cause?.code === 'string' && typeof cause.syscall === 'string') return cause.code;
  return failure.message.slice(failure.server!.length + 2);
}

/**
 * No server could be reached. One server: `could not connect to <url>: <detail>`;
 * several: `could not connect to any server: <url> (<reason>), …` (`could
 * not reconnect …` when reconnecting gave up). The
 * failures are on `errors`; `cause` is the last one's cause, as before there
 * was a list.
 */
function noServer(what: string, failures: ConnectionError[], suffix = ''): ConnectionError {
  const last = failures.at(-1)!;
  const list = failures.length === 1 ? last.message : `any server: ${failures.map((f) => `${f.server} (${reasonOf(f)})`).join(', ')}`;
  const message = `${what} to ${list}${suffix}`;
  return new ConnectionError(message, { cause: last.cause ?? last, errors: failures });
}

function ignore(): void {}

function flushConnection(c: ClientConnection): void {
  c.flushNow();
}

/** `bus.status`: lifecycle events. `error` is emitted only when listened for, so it never throws. */
export class StatusEmitter extends EventEmitter<StatusEvents> {}
