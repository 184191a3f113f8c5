/**
 * The WebSocket listener: browsers (nats.ws, `netemitter/browser`) reach the
 * hub over ws:// or, with the hub's `tls`, wss://. Each accepted WebSocket
 * becomes a Duplex (websocket-stream.ts) that the hub serves through
 * admit(), so the parser, limits, authentication and permissions apply
 * exactly as on TCP.
 *
 *   own port:  net.Server ─accept─► [TLS: serverHandshake] ─► http.Server (never listens) ─upgrade─┐
 *   shared:    the monitor's HTTP(S) server ─'upgrade' hook──────────────────────────────────────────┤
 *                                        path (404) ─► Origin (403) ─► ws.handleUpgrade (400/405) ◄─┘
 *                                                                   └─► WebSocketStream ─► host.admit()
 *
 * Defence before the upgrade (own port): the handshake timeout covers TCP
 * accept → TLS → the upgrade's last header, so a peer that dribbles its
 * request (slowloris) is cut at it; sockets in that phase are in the hub's
 * `handshaking` set, counted against maxConnections and destroyed at
 * shutdown; a request that is not an upgrade gets 400 (405 for another
 * method) as from nats-server; one WebSocket message is bounded by
 * maxMessageSize (larger: closed with 1009, that connection only).
 * On the shared port the monitor's HTTP server reads the request: its own
 * limits apply, and the upgrade itself is immediate.
 */
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { WebSocketServer, ServerOptions, WebSocket } from 'ws';
import { lazy } from '../lazy.js';
import { ConfigError, ListenError } from '../errors.js';
import { TransportKind, type Peer } from '../transport.js';
import type { ResolvedHubOptions, ResolvedWebSocketOptions } from './options.js';
import { peerTls, serverHandshake } from './security/handshake.js';
import type { ResolvedTls } from './security/tls-config.js';
import type { CloseReason, HubListener } from './types.js';
import type { UpgradeHook } from '../monitor/http.js';
import { infoPrefix, type InfoServer } from './info.js';
import { checkOrigin } from './websocket-origin.js';
import { closeFrameFor, WebSocketStream } from './websocket-stream.js';

/** ws, loaded when the first WebSocket listener is made. */
const ws = lazy<typeof import('ws')>('ws');

/** What the listener needs of the hub. */
export interface WebSocketHost {
  readonly options: ResolvedHubOptions;
  /** The hub's TLS settings (the listener's own port uses them unless noTls). */
  readonly tls: ResolvedTls | null;
  /** Clients must authenticate (the shared port then asks for no client certificate). */
  readonly authRequired: boolean;
  /** Upgrades in progress: the hub counts them against maxConnections and destroys them at shutdown. */
  readonly handshaking: Set<{ destroy(): void }>;
  /** Connections the hub serves. */
  connectionCount(): number;
  /** Listening, not shutting down. */
  accepting(): boolean;
  /** The server's part of INFO. */
  infoServer(): InfoServer;
  /** The TCP listener's INFO (up to the client's fields): nats-server sends it over WebSocket too. undefined: no TCP listener. */
  readonly tcpInfoPrefix: string | undefined;
  /** Serves an upgraded WebSocket. */
  admit(stream: Duplex, peer: Peer, listener: HubListener): void;
  /** A frame without protocol bytes (ping, pong) arrived on a served stream: the peer is alive. */
  activity(stream: Duplex): void;
}

export interface WebSocketAddress {
  /** ws://host:port or wss://host:port, with the path when only one path upgrades. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The only path that upgrades; undefined: any. */
  readonly path: string | undefined;
  readonly secure: boolean;
}

/** What the dedicated port answers a request that is not an upgrade: nats-server's status, body and header. */
const NOT_AN_UPGRADE = 'Bad Request\n';

type RawState = { timer: NodeJS.Timeout };
const kRaw = Symbol('netemitter.websocketRaw');
type Tagged = Duplex & { [kRaw]?: Socket };

export class WebSocketListener {
  private readonly host: WebSocketHost;
  private readonly opts: ResolvedWebSocketOptions;
  /** TLS on the listener's own port: the hub's, unless noTls. */
  private readonly tls: ResolvedTls | null;
  private readonly wss: WebSocketServer;
  private tcp: Server | null = null;
  private http: HttpServer | null = null;
  private shared: Server | null = null;
  private readonly raw = new Map<Socket, RawState>();
  private addr: WebSocketAddress | null = null;
  /** What the hub's admit() is told about this listener; set once ready. */
  private record: HubListener | null = null;
  /** For the monitoring listener's 'upgrade' event when sharing its port; null on a port of its own. */
  readonly upgradeHook: UpgradeHook | null;

  constructor(host: WebSocketHost, opts: ResolvedWebSocketOptions) {
    if (opts.port === null && host.tls?.verify === true && host.authRequired) {
      // The monitor asks for no client certificate when credentials guard it (monitor/tls.ts): it could not verify one.
      throw new ConfigError(
        "option websocket.port 'http' cannot verify client certificates (tls.verify) when authorization is on: give the WebSocket listener a port of its own",
      );
    }
    this.host = host;
    this.opts = opts;
    this.upgradeHook = opts.port === null ? (req, socket, head) => this.upgrade(req, socket, head) : null;
    this.tls = opts.noTls ? null : host.tls;
    const wsOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      maxPayload: opts.maxMessageSize,
      perMessageDeflate: opts.compression,
      // nats-server reads text frames as bytes too: a payload need not be UTF-8.
      skipUTF8Validation: true,
      // A peer that never answers our close frame is cut off, as a TCP peer that never reads (ws 8.19+; @types/ws lacks it).
      closeTimeout: host.options.writeDeadline,
    };
    this.wss = new (ws().WebSocketServer)(wsOptions);
  }

  /** Where the listener is, once listening (or sharing). */
  get address(): WebSocketAddress | null {
    return this.addr;
  }

  /** Opens the listener's own port (nothing to do when it shares the monitoring port). */
  async listen(): Promise<void> {
    const o = this.opts;
    if (o.port === null) return;
    const http = createHttpServer(onPlainRequest);
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    const tcp = createTcpServer({ noDelay: true }, (socket) => this.accept(socket));
    const where = o.host.includes(':') ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        reject(new ListenError(`cannot listen for WebSocket clients on ${where}: ${why}`, { cause: err }));
      });
      tcp.listen(o.port!, o.host, () => resolve());
    });
    tcp.removeAllListeners('error');
    tcp.on('error', (err) => this.host.options.logger.error({ err }, `WebSocket listener: ${err.message}`));
    const a = tcp.address();
    if (a === null || typeof a === 'string') throw new ListenError(`cannot listen for WebSocket clients on ${where}: no address`);
    this.tcp = tcp;
    this.http = http;
    this.addr = makeAddress(a.address, a.port, o.path, this.tls !== null);
  }

  /**
   * Starts serving, once the hub's listeners are open: on the monitoring port (port 'http'), whose HTTP
   * server hands upgrades to upgradeHook, the address is the monitor's.
   */
  ready(monitor: Server | null, monitorAddress: { url: string; host: string; port: number } | null): void {
    if (this.addr === null) {
      if (monitor === null || monitorAddress === null) throw new ListenError("websocket.port 'http': the monitoring listener is not open");
      this.shared = monitor;
      this.addr = makeAddress(monitorAddress.host, monitorAddress.port, this.opts.path, monitorAddress.url.startsWith('https:'));
    }
    const a = this.addr;
    const tls = a.secure ? this.host.tls : null;
    this.record = {
      server: this.tcp ?? this.shared!,
      address: { url: a.url, host: a.host, port: a.port },
      kind: TransportKind.WEBSOCKET,
      tls,
      infoPrefix:
        this.host.tcpInfoPrefix ??
        infoPrefix(this.host.infoServer(), { host: a.host, port: a.port, tls: tls !== null, tlsVerify: tls?.verify === true, auth: this.host.authRequired }),
    };
  }

  /** Whether upgrades are taken: the hub listens and this listener is ready. */
  private accepting(): boolean {
    return this.record !== null && this.host.accepting();
  }

  /** The `listening` log lines, and a warning when the listener is plaintext. */
  logListening(): void {
    const a = this.addr;
    if (a === null) return;
    const log = this.host.options.logger;
    log.info({ websocket: a }, `websocket clients on ${a.url}`);
    if (!a.secure) log.warn({ websocket: a }, 'websocket clients are served without TLS (plaintext ws://): set tls, or put a TLS proxy in front');
  }

  /** The close frame for the hub's reason, sent once the stream's queued bytes are out. */
  closing(stream: Duplex, reason: CloseReason, err?: Error): void {
    if (!(stream instanceof WebSocketStream)) return;
    const f = closeFrameFor(reason, err);
    stream.closeWith(f.code, f.text);
  }

  /** Stops accepting; resolves once the port is closed (served connections are the hub's to close). */
  close(): Promise<void> {
    this.wss.close();
    for (const socket of this.raw.keys()) socket.destroy();
    const tcp = this.tcp;
    if (tcp === null) return Promise.resolve();
    return new Promise((resolve) => tcp.close(() => resolve()));
  }

  // ── own port ────────────────────────────────────────────────────────────

  private accept(socket: Socket): void {
    const h = this.host;
    if (!this.accepting()) {
      socket.destroy();
      return;
    }
    const o = h.options;
    if (h.connectionCount() + h.handshaking.size >= o.maxConnections) {
      o.logger.warn({ maxConnections: o.maxConnections }, 'maximum connections exceeded (WebSocket upgrade refused)');
      // Over plaintext the peer learns why; a TLS peer cannot read plaintext.
      if (this.tls === null) refuse(socket, 503, 'maximum connections exceeded\n', this.opts.handshakeTimeout);
      else socket.destroy();
      return;
    }
    const timer = setTimeout(onHandshakeTimeout, this.opts.handshakeTimeout, this, socket);
    this.raw.set(socket, { timer });
    h.handshaking.add(socket);
    socket.on('error', ignore);
    socket.once('close', () => this.settled(socket));
    const http = this.http!;
    const tls = this.tls;
    if (tls === null) {
      http.emit('connection', socket);
      return;
    }
    serverHandshake(socket, tls, (err, secure) => {
      if (err !== null || secure === null) {
        o.logger.debug({ address: socket.remoteAddress, port: socket.remotePort, err: err?.message }, 'WebSocket TLS handshake failed');
        return;
      }
      if (!this.raw.has(socket)) {
        secure.destroy();
        return;
      }
      (secure as Tagged)[kRaw] = socket;
      http.emit('connection', secure);
    });
  }

  /** The handshake phase of `socket` is over (upgraded, or gone): it no longer counts as one in progress. */
  private settled(socket: Socket): void {
    const state = this.raw.get(socket);
    if (state === undefined) return;
    clearTimeout(state.timer);
    this.raw.delete(socket);
    this.host.handshaking.delete(socket);
  }

  handshakeTimedOut(socket: Socket): void {
    this.host.options.logger.debug(
      { address: socket.remoteAddress, port: socket.remotePort, handshakeTimeout: this.opts.handshakeTimeout },
      'WebSocket handshake timed out',
    );
    socket.destroy();
  }

  // ── the upgrade (both ports) ────────────────────────────────────────────

  /** An HTTP upgrade request: on the listener's own port, or handed over by the monitoring listener. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const o = this.opts;
    socket.on('error', ignore);
    if (!this.accepting()) {
      socket.destroy();
      return;
    }
    const secure = socket instanceof TLSSocket;
    if (o.path !== undefined) {
      let path: string;
      try {
        path = new URL(req.url ?? '/', 'http://h').pathname;
      } catch {
        path = '';
      }
      if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
      if (path !== o.path) {
        refuse(socket, 404, '404 page not found\n', o.handshakeTimeout);
        return;
      }
    }
    const why = checkOrigin(req.headers, o, secure);
    if (why !== null) {
      this.host.options.logger.debug({ address: req.socket.remoteAddress, origin: req.headers.origin }, `WebSocket upgrade refused: ${why}`);
      refuse(socket, 403, `${why}\n`, o.handshakeTimeout);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.upgraded(ws, socket));
  }

  private upgraded(ws: WebSocket, socket: Duplex): void {
    const raw = (socket as Tagged)[kRaw] ?? (socket as Socket);
    this.settled(raw);
    if (!this.accepting()) {
      ws.terminate();
      return;
    }
    const s = socket as Socket;
    const remote = s.remoteAddress ?? '';
    const peer: Peer = {
      address: remote.startsWith('::ffff:') ? remote.slice(7) : remote,
      port: s.remotePort,
      listener: { kind: TransportKind.WEBSOCKET, url: this.addr!.url },
      tls: socket instanceof TLSSocket ? peerTls(socket) : null,
    };
    const stream = new WebSocketStream(ws);
    const host = this.host;
    stream.onActivity = () => host.activity(stream);
    host.admit(stream, peer, this.record!);
  }
}

function makeAddress(host: string, port: number, path: string | undefined, secure: boolean): WebSocketAddress {
  const h = host.includes(':') ? `[${host}]` : host;
  return { url: `${secure ? 'wss' : 'ws'}://${h}:${port}${path ?? ''}`, host, port, path, secure };
}

/** A request that is not an upgrade, on the listener's own port. */
function onPlainRequest(req: IncomingMessage, res: ServerResponse): void {
  const get = req.method === 'GET';
  const body = get ? NOT_AN_UPGRADE : 'Method Not Allowed\n';
  res.writeHead(get ? 400 : 405, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Sec-WebSocket-Version': '13',
    Connection: 'close',
  });
  res.end(body);
}

/** Answers an upgrade with an HTTP error and closes; a peer that does not read it is cut off after `linger`. */
function refuse(socket: Duplex, status: number, body: string, linger: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.on('error', ignore);
  socket.once('finish', () => socket.destroy());
  const timer = setTimeout(destroy, linger, socket);
  socket.once('close', () => clearTimeout(timer));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function onHandshakeTimeout(l: WebSocketListener, socket: Socket): void {
  l.handshakeTimedOut(socket);
}

function destroy(socket: Duplex): void {
  socket.destroy();
}

function ignore(): void {}
