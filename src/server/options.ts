/**
 * Hub options: one named option per limit, defaults in one place
 * (protocol/constants.ts), validated once at createHub().
 */
import { Defaults } from '../protocol/constants.js';
import { ConfigError } from '../errors.js';
import type { Store, StoreSpec } from '../store/index.js';
import type { TlsOptions, AuthorizationOptions, AuthenticateHook } from './security/types.js';

import type { JsonSchema, SchemaAction } from '../protocol/schemas.js';

export type { SchemaAction, JsonSchema };

/** A pino-compatible logger. The hub is silent unless one is given. */
export interface Logger {
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** A TCP endpoint. Port 0 picks a free port (see hub.addresses()). */
export interface TcpListenSpec {
  host?: string;
  port: number;
}

/**
 * A Unix domain socket path, or a Windows named pipe (`\\.\pipe\name`).
 * A stale socket file is replaced; a live one is refused.
 */
export interface PathListenSpec {
  path: string;
  /** File mode set on the socket after listening, e.g. 0o660. Unix only. */
  mode?: number;
}

export type ListenSpec = TcpListenSpec | PathListenSpec;

export interface HubOptions {
  /** TCP host. Default 127.0.0.1. */
  host?: string;
  /** TCP port. Default 4222 when no `unix` is given; 0 picks a free port. */
  port?: number;
  /** Unix socket path or Windows pipe. Alone, the hub listens only there; with `port`, on both. */
  unix?: string;
  /** File mode of the Unix socket (e.g. 0o600). Default: as created (umask). */
  unixMode?: number;
  /**
   * Several listeners at once; overrides host/port/unix. `[]`: none at all,
   * the hub is reached in-process only (hub.connect(), or its inprocess:// `url`).
   */
  listen?: ListenSpec[];
  /** Name in INFO (`server_name`). Default: the generated server id. */
  serverName?: string;
  /** Largest message (headers + payload) accepted, bytes. Default 1 MiB. */
  maxPayload?: number;
  /** Longest protocol line, bytes. Default 4096. */
  maxControlLine?: number;
  /** Connections served at once; more are refused. Default 65536. */
  maxConnections?: number;
  /** Subscriptions per connection; 0 means unlimited. Default 0. */
  maxSubscriptions?: number;
  /** Bytes queued to one connection before it is cut off as a slow consumer. Default 64 MiB. */
  maxPending?: number;
  /** Milliseconds a blocked write may last before the connection is cut off. Default 10 s. */
  writeDeadline?: number;
  /** Milliseconds between server PINGs to an idle client. Default 2 min. */
  pingInterval?: number;
  /** Unanswered PINGs before `Stale Connection`. Default 2. */
  maxPingsOut?: number;
  /** Milliseconds between the lame-duck INFO and closing clients at close(). Default 2 s. */
  lameDuckGracePeriod?: number;
  /**
   * Milliseconds a new connection has to send its first operation (CONNECT,
   * or any other: without auth, nats-server accepts operations before
   * CONNECT); then it is closed. 0 disables. Default 10 s.
   */
  connectTimeout?: number;
  /** A pino-compatible logger. Default: silent. */
  logger?: Logger;
  /**
   * Port of the monitoring HTTP endpoints (/varz, /connz, … in nats-server's
   * shapes; docs/monitoring.md). Absent: off. 0 picks a free port (see hub.monitorAddress).
   */
  httpPort?: number;
  /** Host of the monitoring endpoints. Default: the hub's `host`. */
  httpHost?: string;
  /** Closed connections /connz?state=closed remembers, newest kept. Default 10000 (nats-server's). */
  maxClosedClients?: number;
  /** Messages per second the dashboard's live tail sends each page; the rest are counted as skipped. Default 50. */
  monitorTailRate?: number;
  /** Payload bytes of a tailed message sent to the page; longer ones are cut (`truncated`). Default 16 KiB. */
  monitorTailMaxPayload?: number;
  /** Dashboard live streams (GET /api/live) open at once; more are refused with 503. Default 16. */
  maxMonitorLiveClients?: number;
  /** Dashboard requests (POST /api/request) waiting for a reply at once; more are refused with 429. Default 16. */
  maxMonitorRequests?: number;
  /**
   * Dashboard sessions (`POST /api/login`) kept at once when the hub has
   * authorization; past it the oldest is ended. Default 1000.
   */
  maxMonitorSessions?: number;
  /** Milliseconds a dashboard session lasts from its login. Default 12 h. */
  monitorSessionTtl?: number;
  /**
   * Durable streams and pull consumers, served as the JetStream API subset
   * (docs/durability.md). Absent or false: off, as nats-server without `-js`
   * (JetStream clients get "no responders"). `true`: on, in memory.
   */
  jetstream?: boolean | HubJetStreamOptions;
  /** TLS on the TCP listeners (docs/security.md). Absent: plaintext. */
  tls?: TlsOptions;
  /** Who may connect, and what each user may publish and subscribe to (docs/security.md). Absent: anyone, everything. */
  authorization?: AuthorizationOptions;
  /**
   * The embedder's auth callout, called for every CONNECT (after the
   * configured users, when both are set: a client that matches none of
   * them is handed to the hook). See AuthenticateHook.
   */
  authenticate?: AuthenticateHook;
  /** A WebSocket listener for browsers (nats.ws, `netemitter/browser`): docs/operations.md, "WebSocket listener". Absent: off. */
  websocket?: WebSocketOptions;
  /**
   * JSON Schemas the hub enforces on publishes (docs/schemas.md): the first
   * rule whose subjects match a publish's subject applies. Compiled once here;
   * a schema that does not compile is a ConfigError. Absent or empty: no
   * payload is parsed.
   */
  schemas?: SchemaRule[];
}

/** One schema rule: which subjects, which schema, what to do with an event that breaks it. */
export interface SchemaRule {
  /** Subject patterns (`*` and `>` wildcards), at least one. */
  subjects: string[];
  /**
   * The JSON Schema itself, or the path of a JSON file holding it (relative
   * paths: to the working directory; the CLI resolves them from the config
   * file's directory). `$ref` to another file resolves by name, relative to
   * the referring file's directory. No `$schema`: draft 2020-12; draft-07 too.
   */
  schema: JsonSchema | string;
  /** Default 'reject'. */
  action?: SchemaAction;
  /**
   * The rule's name in errors, dead-letter headers, stats and what clients
   * are sent. Default: the schema path relative to the working directory, or
   * `inline#N`. The CLI sets it to the path as written in the config file.
   */
  name?: string;
}

/** The WebSocket listener (ws:// or, with the hub's `tls`, wss://). */
export interface WebSocketOptions {
  /** A port of its own (0: a free one), or 'http': upgrades on the monitoring HTTP listener (httpPort must be set). */
  port: number | 'http';
  /** Address of its own port. Default: the hub's `host`. */
  host?: string;
  /** Only this request path upgrades (404 elsewhere). Default: any path on its own port, '/nats' on the HTTP port. */
  path?: string;
  /** Plain ws:// even when the hub has `tls`. Default false. */
  noTls?: boolean;
  /** Origins (scheme://host[:port]) a browser page may connect from; a request without Origin is not a browser's and passes. Default: any. */
  allowedOrigins?: string[];
  /** The Origin's host and port must be the request's Host. Default false. */
  sameOrigin?: boolean;
  /** permessage-deflate when the client offers it. Default false. */
  compression?: boolean;
  /** Milliseconds from TCP accept to a finished upgrade, TLS included. Default 2000 (nats-server's). */
  handshakeTimeout?: number;
  /** Bytes of one WebSocket message; a larger one closes its connection with 1009. Default 8 MiB (at least a full message and 64 KiB). */
  maxMessageSize?: number;
}

export interface ResolvedWebSocketOptions {
  /** A port of its own, or null: upgrades on the monitoring HTTP listener. */
  port: number | null;
  host: string;
  /** undefined: any path. */
  path: string | undefined;
  noTls: boolean;
  /** Normalised `scheme://host:port`, explicit port; empty: any origin. */
  allowedOrigins: string[];
  sameOrigin: boolean;
  compression: boolean;
  handshakeTimeout: number;
  maxMessageSize: number;
}

export const WebSocketDefaults = {
  /** nats-server's websocket handshake_timeout. */
  handshakeTimeout: 2_000,
  /**
   * nats.ws sends its whole outbound buffer as one message, flushing at
   * 32 KiB, so its messages stay under max_payload + 32 KiB; 8 MiB leaves
   * room for clients that batch more (a burst of publishes in one turn).
   */
  maxMessageSize: 8 * 1024 * 1024,
  /** The path a WebSocket upgrade takes on the shared HTTP port (nats.ws and nats-server have none: any path). */
  httpPath: '/nats',
} as const;

const WEBSOCKET_KEYS = ['port', 'host', 'path', 'noTls', 'allowedOrigins', 'sameOrigin', 'compression', 'handshakeTimeout', 'maxMessageSize'];

export interface HubJetStreamOptions {
  /** Where streams are kept: 'memory', `{ dir, sync }` for SQLite in dir/netemitter.db, or an open Store. Default 'memory'. */
  store?: StoreSpec | Store;
  /** Default subject prefix for dead letters: `<prefix>.<stream>.<consumer>`. Default 'dlq'. */
  deadLetterPrefix?: string;
  /**
   * Most publishes and acks applied in one transaction (default 512). A turn
   * with more than 64 is committed in two halves or more, each slice's
   * answers sent before the next is stored, so a client is already handling
   * the first PubAcks while the hub stores the rest.
   */
  maxCommitBatch?: number;
}

export interface ResolvedHubOptions {
  listen: ListenSpec[];
  serverName: string | undefined;
  maxPayload: number;
  maxControlLine: number;
  maxConnections: number;
  maxSubscriptions: number;
  maxPending: number;
  writeDeadline: number;
  pingInterval: number;
  maxPingsOut: number;
  lameDuckGracePeriod: number;
  connectTimeout: number;
  maxClosedClients: number;
  maxMonitorSessions: number;
  monitorSessionTtl: number;
  monitorTailRate: number;
  monitorTailMaxPayload: number;
  maxMonitorLiveClients: number;
  maxMonitorRequests: number;
  /** undefined: monitoring off. */
  httpPort: number | undefined;
  httpHost: string;
  /** null: no WebSocket listener. */
  websocket: ResolvedWebSocketOptions | null;
  logger: Logger;
}

const noop = (): void => {};
export const silentLogger: Logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };

/** The numeric limits, with the smallest value each accepts. */
export const LIMITS = {
  maxPayload: 1,
  maxControlLine: 64,
  maxConnections: 1,
  maxSubscriptions: 0,
  maxPending: 1,
  writeDeadline: 1,
  pingInterval: 1,
  maxPingsOut: 1,
  lameDuckGracePeriod: 0,
  connectTimeout: 0,
  maxClosedClients: 0,
  maxMonitorSessions: 1,
  monitorSessionTtl: 1,
  monitorTailRate: 0,
  monitorTailMaxPayload: 0,
  maxMonitorLiveClients: 0,
  maxMonitorRequests: 0,
} as const satisfies Partial<Record<keyof HubOptions, number>>;

type LimitName = keyof typeof LIMITS;

export function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ConfigError(`option ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function isPathSpec(spec: ListenSpec): spec is PathListenSpec {
  return typeof (spec as PathListenSpec).path === 'string';
}

function checkListen(spec: ListenSpec): ListenSpec {
  if (isPathSpec(spec)) {
    if (spec.path.length === 0) throw new ConfigError('a Unix socket path must not be empty');
    if (spec.mode !== undefined && checkInt('unixMode', spec.mode, 0) > 0o777) {
      throw new ConfigError(`option unixMode must be a file mode of at most 0o777, got 0o${spec.mode.toString(8)}`);
    }
    return spec;
  }
  const port = checkInt('port', spec.port, 0);
  if (port > 65535) throw new ConfigError(`option port must be at most 65535, got ${port}`);
  return { host: spec.host ?? Defaults.host, port };
}

export function resolveOptions(opts: HubOptions = {}): ResolvedHubOptions {
  let listen: ListenSpec[];
  if (opts.listen !== undefined) {
    if (!Array.isArray(opts.listen)) throw new ConfigError('option listen must be an array (empty: in-process clients only)');
    listen = opts.listen;
  } else {
    listen = [];
    if (opts.unix !== undefined) {
      listen.push(opts.unixMode !== undefined ? { path: opts.unix, mode: opts.unixMode } : { path: opts.unix });
    }
    if (opts.unix === undefined || opts.port !== undefined) {
      listen.push({ host: opts.host ?? Defaults.host, port: opts.port ?? Defaults.port });
    }
  }
  const limits = {} as Record<LimitName, number>;
  for (const name of Object.keys(LIMITS) as LimitName[]) {
    const v = opts[name] ?? Defaults[name];
    limits[name] = checkInt(name, v, LIMITS[name]);
  }
  if (limits.maxPayload > limits.maxPending) {
    throw new ConfigError(`maxPayload (${limits.maxPayload}) cannot be higher than maxPending (${limits.maxPending})`);
  }
  let httpPort: number | undefined;
  if (opts.httpPort !== undefined) {
    httpPort = checkInt('httpPort', opts.httpPort, 0);
    if (httpPort > 65535) throw new ConfigError(`option httpPort must be at most 65535, got ${httpPort}`);
  }
  if (opts.httpHost !== undefined && (typeof opts.httpHost !== 'string' || opts.httpHost === '')) {
    throw new ConfigError(`option httpHost must be a non-empty string, got ${JSON.stringify(opts.httpHost)}`);
  }
  return {
    listen: listen.map(checkListen),
    serverName: opts.serverName,
    ...limits,
    httpPort,
    httpHost: opts.httpHost ?? opts.host ?? Defaults.host,
    websocket: opts.websocket === undefined ? null : resolveWebSocket(opts.websocket, opts.host ?? Defaults.host, httpPort, limits),
    logger: opts.logger ?? silentLogger,
  };
}

function wsFlag(v: unknown, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ConfigError(`option websocket.${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** `scheme://host:port` of an allowed origin, with the scheme's default port made explicit. */
export function normaliseOrigin(origin: string): string | null {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return null;
  if (u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '' || (u.pathname !== '/' && u.pathname !== '')) return null;
  const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
  return `${u.protocol}//${u.hostname}:${port}`;
}

function resolveWebSocket(
  ws: WebSocketOptions,
  hubHost: string,
  httpPort: number | undefined,
  limits: { maxPayload: number; maxControlLine: number },
): ResolvedWebSocketOptions {
  if (ws === null || typeof ws !== 'object' || Array.isArray(ws)) throw new ConfigError('option websocket must be an object, e.g. { port: 8080 }');
  for (const k of Object.keys(ws)) {
    if (!WEBSOCKET_KEYS.includes(k) && (ws as unknown as Record<string, unknown>)[k] !== undefined) {
      throw new ConfigError(`option websocket: unknown key ${JSON.stringify(k)} (expected ${WEBSOCKET_KEYS.join(', ')})`);
    }
  }
  let port: number | null;
  if (ws.port === 'http') {
    if (httpPort === undefined) throw new ConfigError("option websocket.port 'http' shares the monitoring port: set httpPort too");
    if (ws.noTls === true) throw new ConfigError("option websocket.noTls does not apply with port 'http': the monitoring listener decides between ws:// and wss://");
    if (ws.host !== undefined) throw new ConfigError("option websocket.host does not apply with port 'http': the monitoring listener's httpHost does");
    port = null;
  } else {
    if (ws.port === undefined) throw new ConfigError("option websocket.port is required: a port number (0 picks a free one) or 'http'");
    port = checkInt('websocket.port', ws.port, 0);
    if (port > 65535) throw new ConfigError(`option websocket.port must be at most 65535, got ${port}`);
  }
  if (ws.host !== undefined && (typeof ws.host !== 'string' || ws.host === '')) {
    throw new ConfigError(`option websocket.host must be a non-empty string, got ${JSON.stringify(ws.host)}`);
  }
  let path = ws.path ?? (port === null ? WebSocketDefaults.httpPath : undefined);
  if (path !== undefined) {
    if (typeof path !== 'string' || !path.startsWith('/') || /[\s?#]/.test(path)) {
      throw new ConfigError(`option websocket.path must be a URL path starting with '/', got ${JSON.stringify(path)}`);
    }
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  }
  const allowed = ws.allowedOrigins ?? [];
  if (!Array.isArray(allowed)) throw new ConfigError('option websocket.allowedOrigins must be an array of origins, e.g. ["https://app.example.com"]');
  const allowedOrigins = allowed.map((o) => {
    const n = typeof o === 'string' ? normaliseOrigin(o) : null;
    if (n === null) throw new ConfigError(`option websocket.allowedOrigins: ${JSON.stringify(o)} is not an origin (http[s]://host[:port], no path)`);
    return n;
  });
  const handshakeTimeout = checkInt('websocket.handshakeTimeout', ws.handshakeTimeout ?? WebSocketDefaults.handshakeTimeout, 1);
  // One whole message (control line, payload, CRLF) must fit in one WebSocket message.
  const least = limits.maxPayload + limits.maxControlLine + 2;
  const maxMessageSize = checkInt('websocket.maxMessageSize', ws.maxMessageSize ?? Math.max(WebSocketDefaults.maxMessageSize, least + 64 * 1024), 1);
  if (maxMessageSize < least) {
    throw new ConfigError(
      `option websocket.maxMessageSize (${maxMessageSize}) must be at least maxPayload + maxControlLine + 2 (${least}): a whole message must fit in one WebSocket message`,
    );
  }
  return {
    port,
    host: ws.host ?? hubHost,
    path,
    noTls: wsFlag(ws.noTls, 'noTls'),
    allowedOrigins,
    sameOrigin: wsFlag(ws.sameOrigin, 'sameOrigin'),
    compression: wsFlag(ws.compression, 'compression'),
    handshakeTimeout,
    maxMessageSize,
  };
}
