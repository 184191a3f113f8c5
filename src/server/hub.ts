/**
 * The hub: accepts connections on its listeners, authenticates them, and
 * hands their messages to the router. It is an EventEmitter, so an
 * application can watch clients and subscriptions come and go without
 * touching the protocol (the seed's observer pattern, at the server).
 *
 *   listener ──► socket ──► [TLS handshake] ──► Connection (any Duplex + Peer)
 *                                                  │ CONNECT ─► Authenticator
 *                                                  │ PUB/SUB ─► permissions
 *                                                  ▼
 *                                               Router ──► subscribers, JetStream
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Connection } from './connection.js';
import { CloseReason, type HubCore, type HubListener, type HubStats, type Subscriber } from './types.js';
import { attachStream, connectionOf, hubStats, internalMessage, refuseStream, routerJsHost, schemaHost, subEvent, waitForClients } from './hub-wiring.js';
import { SchemaService } from './schema-service.js';

export type { HubStats };
export type { CloseOptions, HubEvents, SubscriptionEvent } from './hub-events.js';
import type { CloseOptions, HubEvents } from './hub-events.js';
import { Router } from './router.js';
import { clientIp, infoLine, infoPrefix, newServerId, type InfoClient, type InfoServer } from './info.js';
import { createLifecycle, type Lifecycle } from './lifecycle.js';
import { resolveOptions, type HubOptions, type ResolvedHubOptions, type ListenSpec, type SchemaRule } from './options.js';
import { openListener, type HubAddress } from './listeners.js';
import { ProtocolErrorText } from '../protocol/constants.js';
import { toWire } from '../protocol/bytes.js';
import { HubClosedError } from '../errors.js';
import { TransportKind, type Peer } from '../transport.js';
import { JetStream, resolveJetStreamOptions } from './jetstream/index.js';
import { HubMonitor, type HubMonitorHost } from './hub-monitor.js';
import { Authenticator } from './security/auth.js';
import { resolveTls, type ResolvedTls } from './security/tls-config.js';
import { peerTls, serverHandshake } from './security/handshake.js';
import { WebSocketListener, type WebSocketAddress, type WebSocketHost } from './websocket.js';
import { InProcessListener, type InProcessConnectOptions } from './in-process.js';
import type { Bus } from '../client/bus.js';
import type { EventMap } from '../client/bus-types.js';


type State = 'new' | 'listening' | 'closing' | 'closed';
/** What admit() needs of the listener a stream came through (a socket listener, WebSocket, in-process). */
type AdmitListener = Pick<HubListener, 'kind' | 'infoPrefix'>;

export class Hub extends EventEmitter<HubEvents> {
  readonly options: ResolvedHubOptions;
  readonly serverId: string;
  readonly serverName: string;
  /** Durable streams (the JetStream API subset), or null when off. */
  readonly jetstream: JetStream | null;
  private readonly router: Router;
  private readonly core: HubCore;
  private readonly auth: Authenticator | null;
  private readonly tls: ResolvedTls | null;
  private readonly connections = new Set<Connection>();
  /** Sockets in their TLS handshake or WebSocket upgrade: counted against maxConnections, closed at shutdown. */
  private readonly handshaking = new Set<{ destroy(): void }>();
  /** The WebSocket listener, or null when off. */
  private readonly ws: WebSocketListener | null;
  private readonly servers: HubListener[] = [];
  private nextId = 1;
  private state: State = 'new';
  private closing: Promise<void> | null = null;
  private readonly counters = { totalConnections: 0, slowConsumers: 0, authFailures: 0 };
  private readonly startTime = Date.now();
  /** The monitoring side: HTTP endpoints, dashboard, closed connections, $SYS answers. */
  private readonly monitor: HubMonitor;
  /** Where the SQLite store lives, for /jsz; '' in memory. */
  private readonly storeDir: string;
  /** The JSON Schemas publishes must meet (issue #19). */
  private readonly schemas: SchemaService;
  /** Advisories, presence, last wills: what follows each client's life after CONNECT. */
  private readonly lifecycle: Lifecycle;
  /** Clients of this process, with no socket: hub.connect() and the inprocess:// URL. */
  private readonly inProcess: InProcessListener;
  /** listen()'s promise, once called. */
  private starting: Promise<HubAddress[]> | null = null;

  constructor(options: HubOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.serverId = newServerId();
    this.serverName = this.options.serverName ?? this.serverId;
    this.tls = resolveTls(options.tls);
    this.auth = Authenticator.create(options.authorization, options.authenticate);
    this.router = new Router(this.options.maxPending);
    this.ws = this.options.websocket === null ? null : new WebSocketListener(this.wsHost(), this.options.websocket);
    this.monitor = new HubMonitor(this.monitorHost());
    this.core = this.makeCore();
    // Before the store opens: a schema that does not compile throws with nothing to undo.
    this.schemas = new SchemaService(schemaHost(this.router, () => this.jetstream, this.options.logger, () => this.announceSchemas()), options.schemas);
    this.schemas.bind(this.core);
    const js = resolveJetStreamOptions(options.jetstream);
    const spec = js?.store;
    this.storeDir = typeof spec === 'object' && !('transaction' in spec) ? spec.dir : '';
    this.jetstream = js === null ? null : new JetStream(routerJsHost(this.router, this.options.logger), js);
    this.lifecycle = createLifecycle({
      options: this.options,
      serverId: this.serverId,
      serverName: this.serverName,
      jetstream: this.jetstream !== null,
      schemas: this.schemas,
      publish: (subject, reply, headers, payload) =>
        this.router.publish(null, internalMessage(toWire(subject), reply === undefined ? undefined : toWire(reply), headers, payload)),
      hasInterest: (subject) => this.router.hasInterest(subject) || this.jetstream?.captures(subject) === true,
      connections: () => [...this.connections].filter((c) => c.ready),
      sysServer: () => this.monitor.sysServer(),
    });
    const admit = (stream: Duplex, peer: Peer, listener: AdmitListener): void => this.admit(stream, peer, listener);
    this.inProcess = new InProcessListener({ serverId: this.serverId, infoServer: () => this.infoServer(), authRequired: this.auth !== null, admit });
    const jetstream = this.jetstream;
    this.router.tap = this.lifecycle.tap(this.monitor.tap(jetstream === null ? null : (subject, reply, hl, payload) => jetstream.onPublish(subject, reply, hl, payload)));
  }

  // ── lifecycle ───────────────────────────────────────────────────────────

  /** Opens every listener. Resolves with their addresses (real ports when port 0 was asked). */
  listen(): Promise<HubAddress[]> {
    if (this.state !== 'new') return Promise.reject(new HubClosedError());
    // Kept: a hub.connect() while the hub starts waits for it.
    return (this.starting = this.start());
  }

  private async start(): Promise<HubAddress[]> {
    this.state = 'listening';
    try {
      for (const spec of this.options.listen) await this.openOne(spec);
      await this.ws?.listen();
      await this.monitor.open();
      this.ws?.ready(this.monitor.server, this.monitor.address);
      this.inProcess.start();
    } catch (err) {
      void this.ws?.close();
      void this.monitor.close();
      for (const s of this.servers) s.server.close();
      this.servers.length = 0;
      this.state = 'closed';
      this.jetstream?.close();
      throw err;
    }
    const addresses = this.addresses();
    for (const a of addresses) this.options.logger.info({ address: a }, `listening on ${a.url}${this.tlsOn(a) ? ' (TLS)' : ''}`);
    const monitor = this.monitor.address;
    if (monitor !== null) this.options.logger.info({ monitor }, `monitoring on ${monitor.url}`);
    this.ws?.logListening();
    this.emit('listening', addresses);
    return addresses;
  }

  /** Where the monitoring endpoints listen (the real port when httpPort 0 was asked), or null when off. */
  get monitorAddress(): { url: string; host: string; port: number } | null {
    return this.monitor.address;
  }

  /** Where WebSocket clients connect (ws:// or wss://, the real port when 0 was asked), or null when off. */
  get websocketAddress(): WebSocketAddress | null {
    return this.ws?.address ?? null;
  }

  private infoServer(): InfoServer {
    return {
      serverId: this.serverId,
      serverName: this.serverName,
      maxPayload: this.options.maxPayload,
      jetstream: this.jetstream !== null,
      features: this.lifecycle.features,
    };
  }

  /** The hub as its WebSocket listener sees it. */
  private wsHost(): WebSocketHost {
    const hub = this;
    return {
      options: this.options,
      tls: this.tls,
      authRequired: this.auth !== null,
      handshaking: this.handshaking,
      infoServer: () => this.infoServer(),
      connectionCount: () => this.connections.size,
      accepting: () => this.state === 'listening',
      get tcpInfoPrefix() {
        return hub.servers.find((s) => s.kind === TransportKind.TCP)?.infoPrefix;
      },
      admit: (stream, peer, listener) => this.admit(stream, peer, listener),
      activity: (stream) => connectionOf(stream)?.touch(),
    };
  }

  /** The hub as its monitoring side reads it. */
  private monitorHost(): HubMonitorHost {
    const hub = this;
    return {
      options: this.options,
      serverId: this.serverId,
      serverName: this.serverName,
      startTime: this.startTime,
      auth: this.auth,
      tls: this.tls,
      get jetstream() {
        return hub.jetstream;
      },
      get storeDir() {
        return hub.storeDir;
      },
      router: this.router,
      core: () => this.core,
      addresses: () => this.addresses(),
      upgrade: this.ws?.upgradeHook ?? null,
      connections: () => this.connections,
      healthy: () => this.state === 'listening',
      counters: () => this.stats(),
      authFailed: () => this.counters.authFailures++,
    };
  }

  private tlsOn(a: HubAddress): boolean {
    return this.servers.some((s) => s.address === a && s.tls !== null);
  }

  private async openOne(spec: ListenSpec): Promise<void> {
    const entry = {} as HubListener;
    const { server, address } = await openListener(
      spec,
      function acceptOn(this: Hub, socket: Socket) {
        this.accept(socket, entry);
      },
      this,
    );
    server.on('error', (err) => this.reportError(err));
    const kind = address.path === undefined ? TransportKind.TCP : address.url.startsWith('unix://') ? TransportKind.UNIX : TransportKind.PIPE;
    // Unix sockets and pipes stay plaintext: filesystem permissions are their access control.
    const tls = kind === TransportKind.TCP ? this.tls : null;
    const prefix = infoPrefix(this.infoServer(), { host: address.host, port: address.port, tls: tls !== null, tlsVerify: tls?.verify ?? false, auth: this.auth !== null });
    Object.assign(entry, { server, address, kind, tls, infoPrefix: prefix });
    this.servers.push(entry);
  }

  /** Where the hub listens. */
  addresses(): HubAddress[] {
    return this.servers.map((s) => s.address);
  }

  /**
   * The URL of the first listener, e.g. nats://127.0.0.1:4222 or
   * unix:///tmp/hub.sock; for a hub without listeners (`listen: []`), its
   * inprocess:// URL, which connect() takes in this process only.
   */
  get url(): string {
    if (this.options.listen.length === 0) return this.inProcess.url;
    const first = this.servers[0];
    if (first === undefined) throw new HubClosedError();
    return first.address.url;
  }

  /**
   * A bus connected to this hub in-process, with no socket, under every
   * protocol rule (credentials in `options`); starts the hub if it was not.
   * No reconnect unless `options` asks: a closed hub does not come back.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  connect<E extends EventMap = Record<string, any>>(options: InProcessConnectOptions = {}): Promise<Bus<E>> {
    return this.inProcess.connect<E>(options, () => (this.state === 'new' ? this.listen() : this.starting));
  }

  /**
   * Re-reads the TLS certificate, key and CA files, for handshakes from now
   * on; connections already up keep theirs. Throws a ConfigError, and keeps
   * the old ones, when the new files cannot be used. No-op without TLS.
   */
  reloadTls(): void {
    this.tls?.reload();
  }

  /**
   * Compiles `rules` (or the current ones, their files read again), enforced from the next publish on; INFO
   * tells clients the new generation when anything changed. A ConfigError keeps the rules in force.
   */
  reloadSchemas(rules?: SchemaRule[]): void {
    this.schemas.reload(rules);
  }

  /** An async INFO with the new schema generation to every ready client (protocol 1, as nats-server's async INFO). */
  private announceSchemas(): void {
    for (const conn of this.connections) if (conn.ready && conn.opts.protocol >= 1) conn.send(infoLine(conn.infoPrefix, this.infoClient(conn)));
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
    this.inProcess.stop();
    const serversClosed = this.servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve())));
    const monitorClosed = this.monitor.close();
    if (monitorClosed !== null) serversClosed.push(monitorClosed);
    if (this.ws !== null) serversClosed.push(this.ws.close());
    for (const s of this.handshaking) s.destroy();
    if (wasListening && grace > 0 && this.connections.size > 0) {
      this.emit('lame_duck');
      for (const conn of this.connections) {
        if (conn.opts.protocol >= 1) conn.send(infoLine(conn.infoPrefix, this.infoClient(conn), true));
      }
      await waitForClients(this, () => this.connections.size === 0, grace);
    }
    for (const conn of [...this.connections]) conn.close(CloseReason.SERVER_SHUTDOWN);
    await Promise.all(serversClosed);
    this.auth?.close();
    this.jetstream?.close();
    this.state = 'closed';
    this.emit('close');
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  stats(): HubStats {
    return hubStats(this.router, this.connections.size, this.counters, this.schemas.stats());
  }

  // ── connections ─────────────────────────────────────────────────────────

  /** A listener accepted a socket. */
  private accept(socket: Socket, listener: HubListener): void {
    if (this.state !== 'listening') {
      socket.destroy();
      return;
    }
    const remote = socket.remoteAddress;
    if (listener.kind === TransportKind.TCP) socket.setNoDelay(true);
    const peer: Peer = {
      address: remote === undefined ? (listener.address.path ?? '') : remote.startsWith('::ffff:') ? remote.slice(7) : remote,
      port: socket.remotePort,
      listener: { kind: listener.kind, url: listener.address.url },
      tls: null,
    };
    const tls = listener.tls;
    if (tls === null) {
      this.admit(socket, peer, listener);
      return;
    }
    const greeting = this.greet(socket, peer, listener);
    if (greeting === null) return;
    const { id, nonce, info } = greeting;
    // nats-server's default flow: INFO in plaintext, then the client's ClientHello.
    if (!tls.handshakeFirst) socket.write(info);
    this.handshaking.add(socket);
    serverHandshake(socket, tls, (err, secure) => {
      this.handshaking.delete(socket);
      if (err !== null || secure === null) {
        this.options.logger.debug({ client: id, address: peer.address, port: peer.port, err: err?.message }, 'TLS handshake failed');
        return;
      }
      if (this.state !== 'listening') {
        secure.destroy();
        return;
      }
      this.serve(secure, id, { ...peer, tls: peerTls(secure) }, nonce, listener, tls.handshakeFirst ? info : null);
    });
  }

  /**
   * The transport seam's entry: serves a stream that is ready to carry the
   * protocol (a plaintext socket, or a WebSocket made into a Duplex after its
   * upgrade and any TLS below it). INFO goes first; over maxConnections the
   * stream gets INFO and the error instead.
   */
  admit(stream: Duplex, peer: Peer, listener: AdmitListener): void {
    if (this.state !== 'listening') {
      stream.destroy();
      return;
    }
    const greeting = this.greet(stream, peer, listener);
    if (greeting !== null) this.serve(stream, greeting.id, peer, greeting.nonce, listener, greeting.info);
  }

  /** The connection's id, nonce and INFO; null (and the stream refused) over maxConnections. */
  private greet(stream: Duplex, peer: Peer, listener: AdmitListener): { id: number; nonce: string | undefined; info: string } | null {
    const id = this.nextId++;
    const nonce = this.auth !== null && this.auth.nonce ? this.auth.newNonce() : undefined;
    const info = infoLine(listener.infoPrefix, { id, ip: clientIp(listener, peer), nonce, schemas: this.schemas.generation });
    if (this.connections.size + this.handshaking.size >= this.options.maxConnections) {
      // As nats-server: INFO, then the error, in plaintext.
      refuseStream(stream, `${info}-ERR '${ProtocolErrorText.MAX_CONNECTIONS}'\r\n`, this.options.writeDeadline);
      this.options.logger.warn({ client: id, maxConnections: this.options.maxConnections }, 'maximum connections exceeded');
      return null;
    }
    return { id, nonce, info };
  }

  /** Serves a connected stream: INFO (unless already sent), the parser, the timers. */
  private serve(stream: Duplex, id: number, peer: Peer, nonce: string | undefined, listener: AdmitListener, info: string | null): void {
    const conn = new Connection(this.core, stream, id, peer, nonce);
    conn.infoPrefix = listener.infoPrefix;
    attachStream(stream, conn);
    this.connections.add(conn);
    this.counters.totalConnections++;
    if (info !== null) conn.send(info);
    conn.start();
    this.options.logger.debug({ client: conn.id, address: peer.address, port: peer.port, tls: peer.tls !== null }, 'client connected');
    if (this.listenerCount('connection') > 0) this.emit('connection', conn.info());
  }

  private infoClient(conn: Connection): InfoClient {
    return { id: conn.id, ip: clientIp(conn.peer.listener, conn.peer), nonce: conn.nonce, schemas: this.schemas.generation };
  }

  /** The hub as its connections see it. */
  private makeCore(): HubCore {
    const router = this.router;
    return {
      options: this.options,
      auth: this.auth,
      clock: this.monitor.clock,
      gate: null,
      publish: (from, msg) => router.publish(from, msg),
      addSubscription: (sub) => {
        router.sublist.insert(sub);
        // A push consumer waits for a subscriber on its deliver subject.
        this.jetstream?.subscribed(sub.subject);
        if (this.listenerCount('subscribe') > 0) this.emit('subscribe', subEvent(sub));
      },
      removeSubscription: (sub) => {
        if (router.sublist.remove(sub) && this.listenerCount('unsubscribe') > 0) this.emit('unsubscribe', subEvent(sub));
      },
      reading: (size) => router.reading(size),
      markDirty: (conn) => router.markDirty(conn),
      vetConnect: (conn, request) => this.lifecycle.vet(conn, request),
      connectionReady: (conn) => {
        this.options.logger.debug({ client: conn.id, name: conn.opts.name, user: (conn as Connection).user }, 'client ready');
        this.lifecycle.ready(conn);
        if (this.listenerCount('ready') > 0) this.emit('ready', conn.info());
      },
      control: (conn, subject) => this.lifecycle.control(conn, subject),
      authFailed: (conn, peer) => {
        this.counters.authFailures++;
        this.options.logger.warn({ client: conn.id, address: peer.address, port: peer.port }, 'authentication failed');
      },
      closing: (conn, reason) => this.monitor.recordClose(conn as Connection, reason),
      connectionClosed: (conn, reason, err) => this.connectionClosed(conn, reason, err),
    };
  }

  private connectionClosed(conn: Subscriber, reason: CloseReason, err?: Error): void {
    if (!this.connections.delete(conn as Connection)) return;
    this.ws?.closing((conn as Connection).stream, reason, err);
    if (reason === CloseReason.SLOW_CONSUMER) {
      this.counters.slowConsumers++;
      if (this.listenerCount('slow_consumer') > 0) this.emit('slow_consumer', conn.info());
    }
    this.options.logger.debug({ client: conn.id, reason, err: err?.message }, 'client closed');
    this.lifecycle.closed(conn, reason);
    if (this.listenerCount('disconnect') > 0) this.emit('disconnect', conn.info(), reason);
  }

  /**
   * Publishes a message from inside the process (no connection), e.g. for
   * internal services. Subjects and reply are user strings (UTF-8). Throws
   * SchemaViolationError when the payload breaks the schema of its subject
   * (unless the rule's action is `drop`: then it returns, nothing published).
   */
  publish(subject: string, payload: Uint8Array | string, opts: { reply?: string } = {}): void {
    if (this.state === 'closed') throw new HubClosedError();
    // A copy: a stream that captures the subject stores it after this returns, and the caller may reuse its buffer.
    const body = Buffer.from(payload);
    const wire = toWire(subject);
    if (!this.schemas.passEmbedded(wire, body)) return;
    this.router.publish(null, { subject: wire, reply: opts.reply === undefined ? undefined : toWire(opts.reply), headerLength: 0, payload: body });
  }

  private reportError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.options.logger.error({ err }, err.message);
  }
}

/** Creates a hub. Call `listen()` to start accepting connections. */
export function createHub(options: HubOptions = {}): Hub {
  return new Hub(options);
}
