/**
 * Client options, their defaults, and server URLs.
 *
 * URLs: nats://host:port, tcp://host:port, host:port, unix:///path/to.sock,
 * a bare absolute socket path, and Windows pipes (\\.\pipe\name). tls:// is
 * recognised and refused until TLS lands, so the option shape stays stable.
 */
import { ConfigError } from '../errors.js';
import { isWindowsPipe } from '../transport.js';
import { Defaults } from '../protocol/constants.js';
import { JS_API_PREFIX } from '../protocol/jetstream.js';

export interface ServerAddress {
  /** As given or advertised, for messages. */
  readonly url: string;
  readonly host?: string;
  readonly port?: number;
  /** Unix socket path or Windows pipe. */
  readonly path?: string;
  /** Learned from INFO connect_urls rather than configured. */
  readonly discovered: boolean;
}

export interface ReconnectOptions {
  /** Attempts per disconnection before giving up; -1 retries forever. Default -1. */
  maxAttempts?: number;
  /** First wait after a failed pass over the server list, ms. Default 250. */
  initialDelay?: number;
  /** Longest wait between passes, ms. Default 5000. */
  maxDelay?: number;
  /** Random share of each wait, 0..1, so clients do not reconnect in lockstep. Default 0.3. */
  jitter?: number;
}

export interface ConnectOptions {
  /** One URL or a list, for failover. Default nats://127.0.0.1:4222. */
  servers?: string | string[];
  /** Connection name shown by the server. */
  name?: string;
  /** Initial connect timeout per server, ms. Default 5000. */
  timeout?: number;
  /** Default request timeout, ms. Default 5000. */
  requestTimeout?: number;
  /**
   * ms drain() may take (while disconnected, it waits for a reconnect to
   * flush); then the bus is closed anyway and drain() rejects with a
   * TimeoutError. Default 30000, as nats.go's DrainTimeout.
   */
  drainTimeout?: number;
  /** Reconnect policy, or false to never reconnect. */
  reconnect?: ReconnectOptions | false;
  /** Bound on bytes queued for sending (while disconnected or under backpressure). Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Client PING interval, ms. Default 30000. */
  pingInterval?: number;
  /** Unanswered PINGs before the connection is considered dead. Default 2. */
  maxPingsOut?: number;
  /** Whether this connection receives its own events. Default true (EventEmitter semantics). */
  echo?: boolean;
  /** Keep retrying the first connect instead of failing. Default false. */
  waitOnFirstConnect?: boolean;
  /** Ignore connect_urls the server advertises. Default false. */
  ignoreClusterUpdates?: boolean;
  /** Queue group used by handle() when none is given. Default 'handlers'. */
  handlerQueue?: string;
  /** Inbox prefix for replies. Default '_INBOX'. */
  inboxPrefix?: string;
  /** Durable streams (the JetStream API). */
  jetstream?: JetStreamOptions;
}

export interface JetStreamOptions {
  /** JetStream domain: the API is then `$JS.<domain>.API`. */
  domain?: string;
  /** The API prefix itself (default `$JS.API`), e.g. one imported from another account. */
  apiPrefix?: string;
  /** ms for an API call or a durable publish's acknowledgement. Default 5000. */
  timeout?: number;
}

export interface ResolvedConnectOptions {
  servers: ServerAddress[];
  name: string | undefined;
  timeout: number;
  requestTimeout: number;
  drainTimeout: number;
  reconnect: Required<ReconnectOptions> | false;
  maxBufferedBytes: number;
  pingInterval: number;
  maxPingsOut: number;
  echo: boolean;
  waitOnFirstConnect: boolean;
  ignoreClusterUpdates: boolean;
  handlerQueue: string;
  inboxPrefix: string;
  jetstream: { prefix: string; timeout: number };
}

export const ClientDefaults = {
  timeout: 5000,
  requestTimeout: 5000,
  drainTimeout: 30_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  pingInterval: 30_000,
  maxPingsOut: 2,
  handlerQueue: 'handlers',
  inboxPrefix: '_INBOX',
  reconnect: { maxAttempts: -1, initialDelay: 250, maxDelay: 5000, jitter: 0.3 },
  jetstreamPrefix: JS_API_PREFIX,
  jetstreamTimeout: 5000,
} as const;

/** Parses one server URL. */
export function parseServer(input: string, discovered = false): ServerAddress {
  const s = input.trim();
  if (s.length === 0) throw new ConfigError('empty server URL');
  if (isWindowsPipe(s)) return { url: s, path: s, discovered };
  if (s.startsWith('/')) return { url: `unix://${s}`, path: s, discovered };
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(s);
  const scheme = m ? m[1]!.toLowerCase() : 'nats';
  const rest = m ? m[2]! : s;
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw new ConfigError(`invalid server URL ${JSON.stringify(input)}: a unix:// URL needs an absolute path, e.g. unix:///tmp/hub.sock`);
    return { url: `unix://${rest}`, path: rest, discovered };
  }
  if (scheme === 'tls' || scheme === 'wss' || scheme === 'ws') {
    throw new ConfigError(`invalid server URL ${JSON.stringify(input)}: ${scheme}:// is not supported yet (TLS arrives in a later release)`);
  }
  if (scheme !== 'nats' && scheme !== 'tcp') throw new ConfigError(`invalid server URL ${JSON.stringify(input)}: unknown scheme ${scheme}://`);
  let url: URL;
  try {
    url = new URL(`nats://${rest}`);
  } catch {
    throw new ConfigError(`invalid server URL ${JSON.stringify(input)}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || Defaults.host;
  const port = url.port === '' ? Defaults.port : Number(url.port);
  const shown = host.includes(':') ? `[${host}]` : host;
  return { url: `nats://${shown}:${port}`, host, port, discovered };
}

function checkNumber(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new ConfigError(`option ${name} must be a number >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function resolveConnectOptions(input: string | string[] | ConnectOptions | undefined): ResolvedConnectOptions {
  const opts: ConnectOptions = typeof input === 'string' || Array.isArray(input) ? { servers: input } : (input ?? {});
  const list = opts.servers === undefined ? [`nats://${Defaults.host}:${Defaults.port}`] : Array.isArray(opts.servers) ? opts.servers : [opts.servers];
  if (list.length === 0) throw new ConfigError('option servers must not be empty');
  const servers = list.map((s) => parseServer(s));
  let reconnect: Required<ReconnectOptions> | false = false;
  if (opts.reconnect !== false) {
    const r = { ...ClientDefaults.reconnect, ...(opts.reconnect ?? {}) };
    reconnect = {
      maxAttempts: r.maxAttempts < 0 ? -1 : checkNumber('reconnect.maxAttempts', r.maxAttempts, 0),
      initialDelay: checkNumber('reconnect.initialDelay', r.initialDelay, 0),
      maxDelay: checkNumber('reconnect.maxDelay', r.maxDelay, 0),
      jitter: Math.min(1, checkNumber('reconnect.jitter', r.jitter, 0)),
    };
  }
  const inboxPrefix = opts.inboxPrefix ?? ClientDefaults.inboxPrefix;
  if (/[\s*>]/.test(inboxPrefix) || inboxPrefix.length === 0) throw new ConfigError(`option inboxPrefix must be a literal subject, got ${JSON.stringify(inboxPrefix)}`);
  const js = opts.jetstream ?? {};
  if (js.domain !== undefined && js.apiPrefix !== undefined) throw new ConfigError('options jetstream.domain and jetstream.apiPrefix exclude each other');
  if (js.domain !== undefined && (typeof js.domain !== 'string' || !/^[^\s.*>]+$/.test(js.domain))) {
    throw new ConfigError(`option jetstream.domain must be one subject token, got ${JSON.stringify(js.domain)}`);
  }
  const prefix = js.apiPrefix ?? (js.domain === undefined ? ClientDefaults.jetstreamPrefix : `$JS.${js.domain}.API`);
  if (typeof prefix !== 'string' || prefix.length === 0 || /[\s*>]/.test(prefix)) throw new ConfigError(`option jetstream.apiPrefix must be a literal subject, got ${JSON.stringify(prefix)}`);
  return {
    servers,
    name: opts.name,
    timeout: checkNumber('timeout', opts.timeout ?? ClientDefaults.timeout, 1),
    requestTimeout: checkNumber('requestTimeout', opts.requestTimeout ?? ClientDefaults.requestTimeout, 1),
    drainTimeout: checkNumber('drainTimeout', opts.drainTimeout ?? ClientDefaults.drainTimeout, 1),
    reconnect,
    maxBufferedBytes: checkNumber('maxBufferedBytes', opts.maxBufferedBytes ?? ClientDefaults.maxBufferedBytes, 1024),
    pingInterval: checkNumber('pingInterval', opts.pingInterval ?? ClientDefaults.pingInterval, 1),
    maxPingsOut: checkNumber('maxPingsOut', opts.maxPingsOut ?? ClientDefaults.maxPingsOut, 1),
    echo: opts.echo ?? true,
    waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    ignoreClusterUpdates: opts.ignoreClusterUpdates ?? false,
    handlerQueue: opts.handlerQueue ?? ClientDefaults.handlerQueue,
    inboxPrefix,
    jetstream: { prefix, timeout: checkNumber('jetstream.timeout', js.timeout ?? ClientDefaults.jetstreamTimeout, 1) },
  };
}
