/**
 * Client options, their defaults, and server URLs.
 *
 * URLs: nats://host:port, tcp://host:port, host:port, unix:///path/to.sock,
 * a bare absolute socket path, Windows pipes (\\.\pipe\name), and
 * inprocess://<id> (a hub of this process, see in-process.ts); several in
 * one string separated by commas, or an array. tls://host:port requires TLS.
 * nats://user:pass@host and nats://token@host carry credentials, which are
 * kept out of `url` (it appears in messages).
 */
import { ConfigError } from '../errors.js';
import { isWindowsPipe, type Dialer, type WebSocketTarget } from '../transport.js';
import { Defaults } from '../protocol/constants.js';
import { JS_API_PREFIX } from '../protocol/jetstream.js';
import { checkPresenceMeta, checkWill, type PresenceMeta, type Will } from '../protocol/extensions.js';
import type { ClientPlatform, ResolvedTls, TlsOptions } from './platform.js';
import { resolveAuth, type Authenticator, type ResolvedAuth } from './auth.js';

export interface ServerAddress {
  /** As given or advertised, for messages. */
  readonly url: string;
  readonly host?: string;
  readonly port?: number;
  /** Unix socket path or Windows pipe. */
  readonly path?: string;
  /** Learned from INFO connect_urls rather than configured. */
  readonly discovered: boolean;
  /** tls://: the connection must be TLS. */
  readonly tls?: boolean;
  /** ws:// or wss://: the protocol inside WebSocket messages, to host:port and this path. */
  readonly websocket?: WebSocketTarget;
  /** inprocess://: a hub of this process (its server id), reached without a socket. */
  readonly inprocess?: string;
  /** Credentials from the URL (percent-decoded): user and password, or a token. */
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
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
  /** One URL, several separated by commas, or an array: tried in order, for failover. Default nats://127.0.0.1:4222. */
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
  /**
   * TLS: the connection must be encrypted (as with a tls:// URL), verified
   * with these settings. Without it, a server that requires TLS still gets
   * it, with Node's defaults (its trusted CAs, verification on).
   */
  tls?: TlsOptions;
  /** User name (with `pass`); wins over one in the URL. */
  user?: string;
  pass?: string;
  /** Authentication token; wins over one in the URL. */
  token?: string;
  /**
   * An NKey user seed (`SU…`, as text or its bytes): the client signs the
   * server's nonce with it and sends the public key and the signature.
   */
  nkey?: string | Uint8Array;
  /**
   * Called with the server's nonce at each connect; what it returns goes
   * into CONNECT, over the fields the other options set.
   */
  authenticator?: Authenticator;
  /**
   * Keep reconnecting after the server refused the credentials (or the
   * will) twice in a row. Default false: the bus closes then (as nats.js does).
   */
  ignoreAuthErrorAbort?: boolean;
  /**
   * Opens the byte stream to a server instead of the built-in TCP / Unix
   * socket dialers (a tunnel, a test transport). The TLS upgrade and
   * everything above it still apply to what it returns. Its writableLength
   * must count the bytes it still holds: at 0 right after a write, the
   * client fills that memory again (write-queue.ts).
   */
  dialer?: Dialer;
  /**
   * A last will: the hub publishes it when this connection ends any way but
   * close() or drain() (a killed process, a lost network, a stale
   * connection). A netemitter hub only: nats-server ignores it.
   */
  will?: Will;
  /** Presence metadata others see in `bus.presence` (a JSON object of at most 4 KB). */
  presence?: PresenceMeta;
  /**
   * Where events are checked against the schemas a netemitter hub enforces
   * (docs/schemas.md). 'server' (the default): by the hub alone. 'local':
   * also here, before anything is sent, with the hub's own rules (fetched
   * at connect, after each reconnect and at each reload): emit() throws and
   * request() / publish() reject with SchemaViolationError. connect() fails
   * when the rules cannot be fetched. A server without schemas (nats-server):
   * nothing to check.
   */
  validate?: Validate;
}

/** Values of the `validate` option. */
export const Validate = {
  /** Events are checked by the hub only. */
  SERVER: 'server',
  /** Checked before sending too, with the hub's rules. */
  LOCAL: 'local',
} as const;
export type Validate = (typeof Validate)[keyof typeof Validate];

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
  tls: ResolvedTls | null;
  auth: ResolvedAuth;
  ignoreAuthErrorAbort: boolean;
  dialer: Dialer | undefined;
  will: Will | null;
  presence: PresenceMeta | undefined;
  validate: Validate;
  /** Node's or the browser's dialers and TLS. */
  platform: ClientPlatform;
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

/** `scheme://rest` */
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is;
const KNOWN = 'nats|tcp|tls|unix|wss?|inprocess';
/**
 * A known scheme whose `://` is mistyped: `nats//host`, `nats:/host`,
 * `nats:host`. Left alone, the first two read as host `nats` with a path and
 * the third as host `nats` with port `host`.
 */
const MISTYPED = [new RegExp(`^(${KNOWN})//(.*)$`, 'is'), new RegExp(`^(${KNOWN}):/(?!/)(.*)$`, 'is'), new RegExp(`^(${KNOWN}):(?![/\\d])(.+)$`, 'is')];
/** A host name or IPv4 address: letters, digits, `-`, `_` (container names), dots. */
const HOST = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i;

/**
 * Parses one server URL: `nats://host:port`, `tcp://host:port`, `host:port`,
 * `host` (port 4222), `[v6]:port`, `unix:///path`, an absolute socket path or
 * a Windows pipe. Anything else is a ConfigError saying what is wrong: a URL
 * is never half-read (a mistyped `nats//host` is not host `nats`).
 */
export function parseServer(input: string, discovered = false): ServerAddress {
  if (typeof input !== 'string') throw new ConfigError(`a server URL must be a string, got ${describeValue(input)}`);
  const s = input.trim();
  if (s.length === 0) throw new ConfigError('empty server URL');
  // Never show credentials in a message: the user info is masked.
  const bad = (why: string): ConfigError => new ConfigError(`invalid server URL ${JSON.stringify(redactUrl(s))}: ${why}`);
  if (isWindowsPipe(s)) return { url: s, path: s, discovered };
  if (s.startsWith('/')) return { url: `unix://${s}`, path: s, discovered };
  const m = SCHEME.exec(s);
  if (m === null) {
    for (const re of MISTYPED) {
      const t = re.exec(s);
      if (t !== null) {
        const scheme = t[1]!.toLowerCase();
        const rest = scheme === 'unix' && !t[2]!.startsWith('/') ? `/${t[2]!}` : t[2]!;
        throw bad(`the scheme's "://" is mistyped (did you mean ${JSON.stringify(`${scheme}://${rest}`)}?)`);
      }
    }
  }
  const scheme = m ? m[1]!.toLowerCase() : 'nats';
  const rest = m ? m[2]! : s;
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw bad('a unix:// URL needs an absolute path, e.g. unix:///tmp/hub.sock');
    if (rest === '/') throw bad('a unix:// URL needs the path of a socket, e.g. unix:///tmp/hub.sock');
    return { url: `unix://${rest}`, path: rest, discovered };
  }
  if (scheme === 'wss' || scheme === 'ws') return webSocketServer(scheme, rest, discovered, bad);
  if (scheme === 'inprocess') {
    if (!/^[A-Za-z0-9_-]+$/.test(rest)) throw bad('an inprocess:// URL names a hub of this process, e.g. hub.url of a hub without listeners');
    return { url: `inprocess://${rest}`, inprocess: rest, discovered };
  }
  if (scheme !== 'nats' && scheme !== 'tcp' && scheme !== 'tls') throw bad(`unknown scheme ${scheme}://`);
  const { host, port, credentials } = hostPort(rest, bad);
  const shown = host.includes(':') ? `[${host}]` : host;
  const tls = scheme === 'tls';
  return { url: `${tls ? 'tls' : 'nats'}://${shown}:${port}`, host, port, discovered, ...(tls ? { tls } : {}), ...credentials };
}

/**
 * `ws://host[:port][/path]` or `wss://…`: the port defaults to 80 or 443 as
 * for any WebSocket URL (nats-server's websocket listener has no default
 * port of its own), and the path is kept: a hub that shares its HTTP port
 * takes WebSocket clients on one path.
 */
function webSocketServer(scheme: 'ws' | 'wss', rest: string, discovered: boolean, bad: (why: string) => ConfigError): ServerAddress {
  if (rest.includes('#')) throw bad('a WebSocket URL has no fragment');
  const slash = rest.search(/[/?]/);
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  let path = slash === -1 ? '/' : rest.slice(slash);
  if (path.startsWith('?')) path = `/${path}`;
  if (/\s/.test(path)) throw bad('it contains whitespace');
  const secure = scheme === 'wss';
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1);
  const hasPort = hostPart.startsWith('[') ? hostPart.includes(']:') : hostPart.includes(':');
  const { host, port, credentials } = hostPort(hasPort || hostPart === '' ? authority : `${authority}:${secure ? 443 : 80}`, bad);
  const shown = host.includes(':') ? `[${host}]` : host;
  return { url: `${scheme}://${shown}:${port}${path}`, host, port, discovered, websocket: { secure, path }, ...credentials };
}

/** The URL with its user info masked, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/** `user:pass@` (user and password) or `token@` (a token), percent-decoded. */
function userInfo(info: string, bad: (why: string) => ConfigError): { user?: string; pass?: string; token?: string } {
  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw bad('the credentials are not valid percent-encoding');
    }
  };
  if (info === '') throw bad('empty credentials before "@"');
  const colon = info.indexOf(':');
  if (colon === -1) return { token: decode(info) };
  return { user: decode(info.slice(0, colon)), pass: decode(info.slice(colon + 1)) };
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`, with at most a trailing `/`. */
function hostPort(rest: string, bad: (why: string) => ConfigError): { host: string; port: number; credentials: { user?: string; pass?: string; token?: string } } {
  const end = rest.search(/[/?#]/);
  let authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  if (authority === '') {
    throw bad(rest.startsWith('/') ? `no host (a Unix socket is unix://${rest})` : 'no host, e.g. nats://127.0.0.1:4222');
  }
  if (/\s/.test(rest)) throw bad('it contains whitespace');
  if (tail !== '' && tail !== '/') throw bad(`${JSON.stringify(tail)} after the host: a server URL has no path, query or fragment`);
  const at = authority.lastIndexOf('@');
  const credentials = at === -1 ? {} : userInfo(authority.slice(0, at), bad);
  if (at !== -1) authority = authority.slice(at + 1);
  if (authority === '') throw bad('no host after the credentials, e.g. nats://user:pass@127.0.0.1:4222');
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = close === -1 ? '' : authority.slice(1, close);
    if (!isIPv6(host)) throw bad(`${close === -1 ? authority : authority.slice(0, close + 1)} is not an IPv6 address in brackets`);
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw bad(`${JSON.stringify(after)} after the IPv6 address`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = authority.indexOf(':');
    if (colon !== authority.lastIndexOf(':')) {
      throw bad(isIPv6(authority) ? `an IPv6 address goes in brackets, e.g. [${authority}]:4222` : 'more than one ":"');
    }
    host = colon === -1 ? authority : authority.slice(0, colon);
    portText = colon === -1 ? undefined : authority.slice(colon + 1);
    if (host === '') throw bad('no host before the port, e.g. 127.0.0.1:4222');
    if (!HOST.test(host)) throw bad(`${JSON.stringify(host)} is not a host name or an IP address`);
    if (portText === undefined && /^\d+$/.test(host)) throw bad(`${host} is a port without a host, e.g. 127.0.0.1:${host}`);
  }
  return { host, port: portText === undefined ? Defaults.port : parsePort(portText, bad), credentials };
}

/**
 * Whether `s` is an IPv6 address (with an optional `%zone`), by the WHATWG
 * URL parser's rules: node:net's isIP is not in a browser.
 */
export function isIPv6(s: string): boolean {
  const zone = s.indexOf('%');
  const addr = zone === -1 ? s : s.slice(0, zone);
  if (!addr.includes(':') || (zone !== -1 && !/^%[\w.-]+$/.test(s.slice(zone)))) return false;
  try {
    new URL(`http://[${addr}]/`);
    return true;
  } catch {
    return false;
  }
}

function parsePort(text: string, bad: (why: string) => ConfigError): number {
  if (text === '') throw bad(`no port after ":" (leave the ":" out for the default port ${Defaults.port})`);
  if (!/^-?\d+$/.test(text)) throw bad(`port ${JSON.stringify(text)} is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw bad(`port ${text} is out of range 1-65535`);
  return port;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'function' ? 'a function' : `${typeof v} ${String(v)}`;
}

/**
 * The servers option: one URL, several in one string separated by commas
 * (`nats://a:4222,nats://b:4222`, as nats.go and the nats CLI take them), or
 * an array with one URL per entry. Array entries are not split, so a socket
 * path with a comma in it can still be given.
 */
export function parseServers(servers: unknown): ServerAddress[] {
  if (servers === undefined) return [parseServer(`nats://${Defaults.host}:${Defaults.port}`)];
  if (typeof servers === 'string') {
    const entries = servers.split(',');
    if (entries.length === 1) return [parseServer(servers)];
    return entries.map((entry, i) => {
      if (entry.trim() === '') throw new ConfigError(`invalid server list ${JSON.stringify(servers)}: entry ${i + 1} of ${entries.length} is empty`);
      return parseServer(entry);
    });
  }
  if (!Array.isArray(servers)) throw new ConfigError(`option servers must be a URL or an array of URLs, got ${describeValue(servers)}`);
  if (servers.length === 0) throw new ConfigError('option servers must not be empty');
  return servers.map((entry: unknown, i) => {
    if (typeof entry !== 'string') throw new ConfigError(`option servers[${i}] must be a URL, got ${describeValue(entry)}`);
    try {
      return parseServer(entry);
    } catch (err) {
      if (err instanceof ConfigError && entry.includes(',')) {
        throw new ConfigError(`invalid server URL ${JSON.stringify(entry)} in option servers: an array takes one URL per entry (several separated by commas go in one string)`);
      }
      throw err;
    }
  });
}

function checkNumber(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new ConfigError(`option ${name} must be a number >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function checkDialer(d: unknown): Dialer | undefined {
  if (d !== undefined && typeof d !== 'function') throw new ConfigError(`option dialer must be a function, got ${describeValue(d)}`);
  return d as Dialer | undefined;
}

export function resolveConnectOptions(input: string | string[] | ConnectOptions | undefined, platform: ClientPlatform): ResolvedConnectOptions {
  if (input !== undefined && input !== null && typeof input !== 'string' && typeof input !== 'object') {
    throw new ConfigError(`connect() takes a URL, an array of URLs or an options object, got ${describeValue(input)}`);
  }
  const opts: ConnectOptions = typeof input === 'string' || Array.isArray(input) ? { servers: input } : (input ?? {});
  const servers = parseServers(opts.servers);
  const tls = platform.resolveTls(opts.tls);
  if (opts.dialer === undefined) {
    for (const server of servers) {
      const why = platform.dialerFor(server, tls);
      if (typeof why === 'string') throw new ConfigError(`cannot connect to ${redactUrl(server.url)}: ${why}`);
    }
  }
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
    tls,
    auth: resolveAuth(opts),
    ignoreAuthErrorAbort: opts.ignoreAuthErrorAbort ?? false,
    dialer: checkDialer(opts.dialer),
    will: opts.will === undefined ? null : checked(checkWill(opts.will)),
    presence: opts.presence === undefined ? undefined : checked(checkPresenceMeta(opts.presence)),
    validate: checkValidate(opts.validate),
    platform,
  };
}

function checkValidate(v: unknown): Validate {
  if (v === undefined) return Validate.SERVER;
  if (v !== Validate.SERVER && v !== Validate.LOCAL) throw new ConfigError(`option validate must be 'server' or 'local', got ${JSON.stringify(v)}`);
  return v;
}

/** A checker's verdict: the value, or its complaint as a ConfigError. */
function checked<T>(v: T | string): T {
  if (typeof v === 'string') throw new ConfigError(`option ${v}`);
  return v;
}
