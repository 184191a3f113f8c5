/**
 * Settings of `netemitter serve`, from four layers, highest first:
 *
 *   flags  >  NETEMITTER_* variables  >  JSON config file  >  defaults
 *
 * Each layer is parsed into a Layer of typed values by a pure function, so
 * precedence and validation are unit-tested without a process. Every option
 * is one row of SERVE_OPTIONS; the flag, the variable and the config key are
 * derived from it (key `maxPayload` → `--max-payload`, NETEMITTER_MAX_PAYLOAD,
 * "maxPayload"), so is `--help`, and test/docs/options-table.test.ts holds
 * docs/operations.md to it.
 *
 * The security flags set one key of a section of the config file instead
 * (`--tls-cert` → tls.cert, `--auth` → authorization.token), so a flag
 * overrides that key and keeps the file's others. Their option keys are
 * section + field (tlsCert, authToken), hence NETEMITTER_TLS_CERT and
 * NETEMITTER_AUTH_TOKEN: not NETEMITTER_TOKEN or NETEMITTER_USER, which a
 * shell set up for the client commands may hold, and which must not turn
 * on auth in a hub started from the same shell. The sections themselves are
 * parsed in security-config.ts.
 *
 * `schemas` (issue #19) is a list of rules, or the path of a JSON file
 * holding one (so is `--schemas`): schema-config.ts checks their shape and
 * makes their paths absolute; createHub() compiles them.
 *
 * Defaults are not filled in here: the hub applies its own (one place,
 * protocol/constants.ts), and an absent `port` must stay absent, because
 * `unix` alone means "Unix socket only" (see server/options.ts).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { Defaults } from '../protocol/constants.js';
import { LIMITS, WebSocketDefaults, type HubOptions, type WebSocketOptions } from '../server/options.js';
import { DEFAULT_MAX_COMMIT_BATCH } from '../server/jetstream/index.js';
import type { AuthorizationOptions, TlsOptions } from '../server/security/types.js';
import { parseAuthorizationSection, parseTlsSection } from './security-config.js';
import { parseOriginList, parseWebSocketPort, parseWebSocketSection } from './websocket-config.js';
import { parseSchemasFlag, parseSchemasSection } from './schema-config.js';
import {
  parseAt,
  parseBoolean,
  parseCount,
  parseDuration,
  parseFileMode,
  parseLogLevel,
  parsePort,
  parseSize,
  parseString,
  parseSyncMode,
  type LogLevel,
  type SyncModeName,
  type RawValue,
} from './values.js';

export const ENV_PREFIX = 'NETEMITTER_';
export const CONFIG_ENV = `${ENV_PREFIX}CONFIG`;
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/**
 * Everything `serve` can be told, all optional (absent = the default): the
 * hub's options that a flag can express, and the log level.
 */
export type ServeConfig = Omit<HubOptions, 'listen' | 'logger' | 'jetstream' | 'authenticate'> & {
  logLevel?: LogLevel;
  /** Where durable streams are kept: a directory (SQLite, dir/netemitter.db) or 'memory'. */
  store?: string;
  storeSync?: SyncModeName;
  deadLetterPrefix?: string;
  maxCommitBatch?: number;
};

/** Where `serve` keeps durable streams when not told: ./data, relative to the working directory. */
export const DEFAULT_STORE_DIR = './data';
export const STORE_MEMORY = 'memory';

export type ServeKey = keyof ServeConfig;

/** The config file's sections, which several flags fill in key by key. */
export type Section = 'tls' | 'authorization' | 'websocket';

/** The flags that set one key of a section: section + field. */
export type SectionFlagKey =
  | 'authToken'
  | 'authUser'
  | 'authPassword'
  | 'tlsCert'
  | 'tlsKey'
  | 'tlsCa'
  | 'tlsVerify'
  | `websocket${'Port' | 'Host' | 'Path' | 'NoTls' | 'AllowedOrigins' | 'SameOrigin' | 'Compression' | 'HandshakeTimeout' | 'MaxMessageSize'}`;

/** What a row of SERVE_OPTIONS is keyed by: a top-level config key, or a section flag. */
export type OptionKey = Exclude<ServeKey, Section> | SectionFlagKey;

/** The settings of one source. A layer may hold part of the TLS settings (a flag gives only the key); merged, they must be whole. */
export type Layer = Omit<ServeConfig, 'tls' | 'websocket'> & { tls?: Partial<TlsOptions>; websocket?: Partial<WebSocketOptions> };

/** What kind of value an option takes: how it is parsed, shown in --help and its default printed. */
export const ValueKind = {
  TEXT: 'text',
  PORT: 'port',
  COUNT: 'count',
  SIZE: 'size',
  DURATION: 'duration',
  FILE_MODE: 'fileMode',
  LOG_LEVEL: 'logLevel',
  SYNC: 'sync',
  BOOLEAN: 'boolean',
  /** A port, or `http` (the monitoring port). */
  WEBSOCKET_PORT: 'websocketPort',
  /** Comma-separated in a flag or variable, a JSON array in a file. */
  LIST: 'list',
  /** A JSON file holding a list of schema rules (schema-config.ts). */
  SCHEMAS: 'schemas',
} as const;
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

const PARSERS: Record<ValueKind, (raw: RawValue, min: number) => unknown> = {
  text: parseString,
  port: parsePort,
  count: parseCount,
  size: parseSize,
  duration: parseDuration,
  fileMode: parseFileMode,
  logLevel: parseLogLevel,
  sync: parseSyncMode,
  boolean: parseBoolean,
  websocketPort: parseWebSocketPort,
  list: parseOriginList,
  schemas: parseSchemasFlag,
};

export interface OptionSpec {
  readonly key: OptionKey;
  readonly kind: ValueKind;
  /** Long flag without the value placeholder, e.g. `--max-payload`. */
  readonly flag: string;
  /** Placeholder in --help, e.g. `<size>`; empty for a switch (`--tls-verify`). */
  readonly arg: string;
  /** Where it goes in the config file: `maxPayload`, or `tls.cert` for a section flag. */
  readonly configKey: string;
  /** For a section flag: the section and the field it sets. */
  readonly section?: { readonly name: Section; readonly field: string };
  /** A token or password: never quoted back in an error. */
  readonly secret: boolean;
  readonly env: string;
  readonly description: string;
  /** The default as shown to people. */
  readonly defaultText: string;
  readonly parse: (raw: RawValue) => unknown;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function upperSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** A default in the units people type: 1MiB, 4KiB, 10s, 2m. */
function showDefault(kind: ValueKind, n: number | string): string {
  if (typeof n === 'string') return n;
  if (kind === ValueKind.SIZE) {
    if (n >= MiB && n % MiB === 0) return `${n / MiB}MiB`;
    if (n >= KiB && n % KiB === 0) return `${n / KiB}KiB`;
  } else if (kind === ValueKind.DURATION) {
    if (n >= 60_000 && n % 60_000 === 0) return `${n / 60_000}m`;
    if (n >= 1000 && n % 1000 === 0) return `${n / 1000}s`;
    return `${n}ms`;
  }
  return String(n);
}

interface RowOptions {
  arg?: string;
  flag?: string;
  /** For options without a default in protocol/constants.ts. */
  defaultText?: string;
  /** For options without a minimum in LIMITS. */
  min?: number;
  /** A section flag: which key of which section it sets. */
  section?: { name: Section; field: string };
  secret?: boolean;
}

/**
 * One option. Its minimum is the hub's (server/options.ts LIMITS) and its
 * default the hub's (protocol/constants.ts Defaults), so neither is written twice.
 */
function row(key: OptionKey, kind: ValueKind, description: string, o: RowOptions = {}): OptionSpec {
  const min = (LIMITS as Partial<Record<string, number>>)[key] ?? o.min ?? 0;
  const parse = PARSERS[kind];
  const hubDefault = (Defaults as Partial<Record<string, number | string>>)[key];
  return {
    key,
    kind,
    flag: o.flag ?? `--${kebab(key)}`,
    arg: o.arg ?? (kind === ValueKind.BOOLEAN ? '' : `<${kind === ValueKind.COUNT ? 'n' : kind === ValueKind.WEBSOCKET_PORT ? 'port|http' : kind}>`),
    configKey: o.section === undefined ? key : `${o.section.name}.${o.section.field}`,
    ...(o.section !== undefined ? { section: o.section } : {}),
    secret: o.secret ?? false,
    env: ENV_PREFIX + upperSnake(key),
    description,
    defaultText: o.defaultText ?? (hubDefault === undefined ? 'none' : showDefault(kind, hubDefault)),
    parse: (raw) => parse(raw, min),
  };
}

const { TEXT, PORT, COUNT, SIZE, DURATION, FILE_MODE, LOG_LEVEL, SYNC, BOOLEAN, WEBSOCKET_PORT, LIST, SCHEMAS } = ValueKind;

const TLS = (field: string): { name: Section; field: string } => ({ name: 'tls', field });
const AUTH = (field: string): { name: Section; field: string } => ({ name: 'authorization', field });
const WS = (field: string): { name: Section; field: string } => ({ name: 'websocket', field });

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  row('host', TEXT, 'TCP address to listen on', { arg: '<host>' }),
  row('port', PORT, 'TCP port; 0 picks a free port'),
  row('unix', TEXT, 'Unix socket to listen on; alone, TCP is off unless a port is given', { arg: '<path>' }),
  row('unixMode', FILE_MODE, 'file mode of the Unix socket, octal (e.g. 660)', { arg: '<mode>', defaultText: 'per umask' }),
  row('serverName', TEXT, 'server name announced in INFO', { arg: '<name>', flag: '--name', defaultText: 'the server id' }),
  row('maxPayload', SIZE, 'largest message accepted (headers + payload)'),
  row('maxControlLine', SIZE, 'longest protocol line'),
  row('maxConnections', COUNT, 'connections served at once'),
  row('maxSubscriptions', COUNT, 'subscriptions per connection; 0 = unlimited'),
  row('maxPending', SIZE, 'bytes queued to one client before it is cut off'),
  row('writeDeadline', DURATION, 'time a blocked write may take before the client is cut off'),
  row('pingInterval', DURATION, 'interval between PINGs to an idle client'),
  row('maxPingsOut', COUNT, 'unanswered PINGs before a client is dropped as stale'),
  row('lameDuckGracePeriod', DURATION, 'time clients get to leave at shutdown'),
  row('connectTimeout', DURATION, 'time a new connection has to send its first operation; 0 = no limit'),
  row('store', TEXT, `where durable streams are kept: a directory (SQLite) or "${STORE_MEMORY}"`, { arg: '<dir|memory>', defaultText: DEFAULT_STORE_DIR }),
  row('storeSync', SYNC, 'SQLite sync at each commit: full (survives power loss) or normal (survives a crash)', { arg: '<mode>', defaultText: 'full' }),
  row('deadLetterPrefix', TEXT, 'subject prefix of dead letters: <prefix>.<stream>.<consumer>', { arg: '<prefix>', defaultText: 'dlq' }),
  row('maxCommitBatch', COUNT, 'publishes and acks stored per transaction; more in one turn are committed in slices', {
    defaultText: String(DEFAULT_MAX_COMMIT_BATCH),
    min: 1,
  }),
  row('httpPort', PORT, 'port of the monitoring endpoints (/varz, /connz, …); 0 picks a free port', { defaultText: 'off' }),
  row('httpHost', TEXT, 'address of the monitoring endpoints', { arg: '<host>', defaultText: 'the hub host' }),
  row('maxClosedClients', COUNT, 'closed connections /connz remembers'),
  row('maxMonitorSessions', COUNT, 'dashboard login sessions kept at once; past it the oldest ends'),
  row('monitorSessionTtl', DURATION, 'how long a dashboard login session lasts'),
  row('monitorTailRate', COUNT, "messages per second the dashboard's live tail sends each page; the rest are counted as skipped"),
  row('monitorTailMaxPayload', SIZE, "payload bytes of a tailed message sent to the page; longer ones are cut"),
  row('maxMonitorLiveClients', COUNT, 'dashboard live streams (GET /api/live) open at once'),
  row('maxMonitorRequests', COUNT, 'dashboard requests (POST /api/request) waiting for a reply at once'),
  row('schemas', SCHEMAS, 'JSON file holding the list of schema rules the hub enforces (docs/schemas.md); paths in it are relative to its directory', {
    arg: '<file>',
    defaultText: 'none',
  }),
  row('logLevel', LOG_LEVEL, 'trace, debug, info, warn, error or silent', { arg: '<level>', defaultText: DEFAULT_LOG_LEVEL }),
  // nats-server's flag names (issue #14); relative paths are relative to the working directory.
  row('authToken', TEXT, 'token clients must send (CONNECT auth_token)', { flag: '--auth', arg: '<token>', section: AUTH('token'), secret: true }),
  row('authUser', TEXT, 'user name clients must send; needs --pass', { flag: '--user', arg: '<user>', section: AUTH('user') }),
  row('authPassword', TEXT, 'password for --user: plain, or a bcrypt hash from `netemitter passwd`', {
    flag: '--pass',
    arg: '<password>',
    section: AUTH('password'),
    secret: true,
  }),
  row('tlsCert', TEXT, 'TLS certificate (PEM file) of the TCP listeners; needs --tls-key', { arg: '<file>', section: TLS('cert') }),
  row('tlsKey', TEXT, 'private key (PEM file) of --tls-cert', { arg: '<file>', section: TLS('key') }),
  row('tlsCa', TEXT, 'CA certificates (PEM file) that client certificates must chain to', { arg: '<file>', section: TLS('ca'), defaultText: "Node's roots" }),
  row('tlsVerify', BOOLEAN, 'require and verify a client certificate (mutual TLS)', { section: TLS('verify'), defaultText: 'off' }),
  row('websocketPort', WEBSOCKET_PORT, 'WebSocket listener for browsers: a port (0 picks a free one), or "http" for the monitoring port', {
    section: WS('port'),
    defaultText: 'off',
  }),
  row('websocketHost', TEXT, 'address of the WebSocket port', { arg: '<host>', section: WS('host'), defaultText: 'the hub host' }),
  row('websocketPath', TEXT, 'the only request path that upgrades (404 elsewhere)', {
    arg: '<path>',
    section: WS('path'),
    defaultText: `any; ${WebSocketDefaults.httpPath} on the monitoring port`,
  }),
  row('websocketNoTls', BOOLEAN, 'plain ws:// even when TLS is configured', { section: WS('noTls'), defaultText: 'off' }),
  row('websocketAllowedOrigins', LIST, 'origins (scheme://host[:port]) a browser page may connect from', {
    arg: '<origins>',
    section: WS('allowedOrigins'),
    defaultText: 'any',
  }),
  row('websocketSameOrigin', BOOLEAN, "a browser's Origin must be the request's Host", { section: WS('sameOrigin'), defaultText: 'off' }),
  row('websocketCompression', BOOLEAN, 'permessage-deflate when the client offers it', { section: WS('compression'), defaultText: 'off' }),
  row('websocketHandshakeTimeout', DURATION, 'time from TCP accept to a finished upgrade (TLS included)', {
    section: WS('handshakeTimeout'),
    defaultText: showDefault(DURATION, WebSocketDefaults.handshakeTimeout),
    min: 1,
  }),
  row('websocketMaxMessageSize', SIZE, 'largest WebSocket message; a larger one closes its connection (1009)', {
    section: WS('maxMessageSize'),
    defaultText: showDefault(SIZE, WebSocketDefaults.maxMessageSize),
    min: 1,
  }),
];

/** The options a config file sets at its top level (the section flags are set inside `tls` and `authorization`). */
const BY_KEY = new Map<string, OptionSpec>(SERVE_OPTIONS.filter((o) => o.section === undefined).map((o) => [o.key, o]));

/** Library options the CLI cannot express, with what to use instead. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  listen: 'use host, port and unix',
  logger: 'use logLevel',
  authenticate: 'it is a function for embedders; use authorization.users',
};

function set(layer: Layer, spec: OptionSpec, raw: RawValue, where: string): void {
  const value = parseAt(where, raw, spec.parse, spec.secret);
  if (spec.section === undefined) {
    (layer as Record<string, unknown>)[spec.key] = value;
  } else {
    const section = ((layer as Record<string, unknown>)[spec.section.name] ??= {}) as Record<string, unknown>;
    section[spec.section.field] = value;
  }
}

/** Flags as commander hands them over (strings; true for a switch), keyed by option key. */
export function layerFromFlags(values: Partial<Record<OptionKey, string | boolean>>): Layer {
  const layer: Layer = {};
  for (const spec of SERVE_OPTIONS) {
    const raw = values[spec.key];
    if (raw !== undefined) set(layer, spec, raw, spec.flag);
  }
  return layer;
}

/** NETEMITTER_* variables. An empty variable counts as unset (`NETEMITTER_PORT= netemitter serve`). */
export function layerFromEnv(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  for (const spec of SERVE_OPTIONS) {
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') set(layer, spec, raw, spec.env);
  }
  return layer;
}

/** Normalised spelling, to suggest `maxPayload` for `max_payload` or `MaxPayload`. */
function loose(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

/** The parsed JSON of a config file; `file` names it in error messages. */
export function layerFromConfig(json: unknown, file: string): Layer {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  const layer: Layer = {};
  for (const [key, raw] of Object.entries(json)) {
    if (Object.hasOwn(SECTION_PARSERS, key)) {
      (layer as Record<string, unknown>)[key] = SECTION_PARSERS[key as Section](raw, file);
      continue;
    }
    // A list here, or a list file relative to this file (the flag's is relative to the working directory).
    if (key === 'schemas') {
      layer.schemas = parseSchemasSection(raw, { file });
      continue;
    }
    const spec = BY_KEY.get(key);
    if (spec === undefined) {
      const instead = UNSUPPORTED_KEYS[key];
      if (instead !== undefined) throw new ConfigError(`config key "${key}" in ${file} is not supported by the CLI; ${instead}`);
      const near = [...BY_KEY.values()].find((o) => loose(o.key) === loose(key));
      const hint = near === undefined ? '' : ` (did you mean "${near.key}"?)`;
      throw new ConfigError(`unknown config key "${key}" in ${file}${hint}`);
    }
    set(layer, spec, raw, `"${key}" in ${file}`);
  }
  return layer;
}

/** The sections of a config file: objects whose keys flags may override one by one. */
const SECTION_PARSERS: Record<Section, (raw: unknown, file: string) => object> = {
  tls: (raw, file) => parseTlsSection(raw, { file }),
  authorization: (raw, file) => parseAuthorizationSection(raw, { file }),
  websocket: (raw, file) => parseWebSocketSection(raw, { file }),
};

/** Text of a config file, parsed as JSON. */
export function parseConfigText(text: string, file: string): Layer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return layerFromConfig(json, file);
}

/** Reads a config file, and the schema list file it may name: with --schemas' list file, all the file reading here. */
export function loadConfigFile(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigError(`cannot read config file ${file}: ${why}`, { cause: err });
  }
  return parseConfigText(text, file);
}

/** Which config file to read: --config, else NETEMITTER_CONFIG, else none. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) return parseAt('--config', flag, parseString);
  const fromEnv = env[CONFIG_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/**
 * Merges layers, highest precedence first; a key absent from a layer falls
 * through to the next. Inside `tls` and `authorization` too: `--pass` replaces
 * the file's password and keeps its users.
 */
export function mergeLayers(...layers: Layer[]): Layer {
  const out: Record<string, unknown> = {};
  for (let i = layers.length - 1; i >= 0; i--) {
    for (const [k, v] of Object.entries(layers[i]!)) {
      if (v === undefined) continue;
      if (Object.hasOwn(SECTION_PARSERS, k)) {
        const merged = { ...(out[k] as object | undefined) } as Record<string, unknown>;
        for (const [f, fv] of Object.entries(v as object)) if (fv !== undefined) merged[f] = fv;
        out[k] = merged;
      } else {
        out[k] = v;
      }
    }
  }
  return out as Layer;
}

/** How people name a section's key: the config key, and the flag that sets it if there is one. */
function named(section: Section, field: string): string {
  const spec = SERVE_OPTIONS.find((o) => o.section?.name === section && o.section.field === field);
  return spec === undefined ? `${section}.${field}` : `${spec.flag} (${section}.${field})`;
}

/** Settings that need a partner: a user its password, a certificate its key. */
function checkPartners(layer: Layer): ServeConfig {
  const auth: AuthorizationOptions | undefined = layer.authorization;
  if (auth !== undefined && (auth.user === undefined) !== (auth.password === undefined)) {
    const [has, lacks] = auth.user === undefined ? ['password', 'user'] : ['user', 'password'];
    throw new ConfigError(`${named('authorization', has)} needs ${named('authorization', lacks)}`);
  }
  const ws = layer.websocket;
  if (ws !== undefined && ws.port === undefined) {
    const given = Object.keys(ws).map((f) => named('websocket', f)).join(', ');
    throw new ConfigError(`${given} needs ${named('websocket', 'port')}`);
  }
  const tls = layer.tls;
  if (tls === undefined) return layer as ServeConfig;
  if (tls.cert === undefined || tls.key === undefined) {
    if (tls.cert !== undefined) throw new ConfigError(`${named('tls', 'cert')} needs ${named('tls', 'key')}`);
    if (tls.key !== undefined) throw new ConfigError(`${named('tls', 'key')} needs ${named('tls', 'cert')}`);
    const given = Object.keys(tls).map((f) => named('tls', f)).join(', ');
    throw new ConfigError(`${given} needs a certificate and its key: ${named('tls', 'cert')} and ${named('tls', 'key')}`);
  }
  return layer as ServeConfig;
}

export interface ServeSources {
  flags?: Layer;
  env?: Layer;
  file?: Layer;
}

/**
 * flags > env > config file; what is still absent takes the hub's default.
 * A setting without its partner (a user without a password, a certificate
 * without its key) is a ConfigError, whichever layers they came from.
 */
export function resolveServeConfig(sources: ServeSources): ServeConfig {
  return checkPartners(mergeLayers(sources.flags ?? {}, sources.env ?? {}, sources.file ?? {}));
}

/** The options for createHub(), without the logger. */
export function toHubOptions(config: ServeConfig): HubOptions {
  const { logLevel: _cliOnly, store, storeSync, deadLetterPrefix, maxCommitBatch, ...hub } = config;
  const where = store ?? DEFAULT_STORE_DIR;
  return {
    ...hub,
    jetstream: {
      store: where === STORE_MEMORY ? STORE_MEMORY : { dir: where, ...(storeSync !== undefined ? { sync: storeSync } : {}) },
      ...(deadLetterPrefix !== undefined ? { deadLetterPrefix } : {}),
      ...(maxCommitBatch !== undefined ? { maxCommitBatch } : {}),
    },
  };
}

export function logLevelOf(config: ServeConfig): LogLevel {
  return config.logLevel ?? DEFAULT_LOG_LEVEL;
}
