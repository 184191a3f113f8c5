/**
 * Settings of `netemitter serve`, from four layers, highest first:
 *
 *   flags  >  NETEMITTER_* variables  >  JSON config file  >  defaults
 *
 * Each layer is parsed into a Layer of typed values by a pure function, so
 * precedence and validation are unit-tested without a process. Every option
 * is one row of SERVE_OPTIONS; the flag, the variable and the config key are
 * derived from it (key `maxPayload` → `--max-payload`, NETEMITTER_MAX_PAYLOAD,
 * "maxPayload"), so is `--help`, and test/cli/docs.test.ts holds
 * docs/operations.md to it.
 *
 * Defaults are not filled in here: the hub applies its own (one place,
 * protocol/constants.ts), and an absent `port` must stay absent, because
 * `unix` alone means "Unix socket only" (see server/options.ts).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { Defaults } from '../protocol/constants.js';
import { LIMITS, type HubOptions } from '../server/options.js';
import { DEFAULT_MAX_COMMIT_BATCH } from '../server/jetstream/index.js';
import {
  InvalidValue,
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
export type ServeConfig = Omit<HubOptions, 'listen' | 'logger' | 'jetstream'> & {
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

/** The settings of one source. */
export type Layer = ServeConfig;

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
};

export interface OptionSpec {
  readonly key: ServeKey;
  readonly kind: ValueKind;
  /** Long flag without the value placeholder, e.g. `--max-payload`. */
  readonly flag: string;
  /** Placeholder in --help, e.g. `<size>`. */
  readonly arg: string;
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
}

/**
 * One option. Its minimum is the hub's (server/options.ts LIMITS) and its
 * default the hub's (protocol/constants.ts Defaults), so neither is written twice.
 */
function row(key: ServeKey, kind: ValueKind, description: string, o: RowOptions = {}): OptionSpec {
  const min = (LIMITS as Partial<Record<string, number>>)[key] ?? o.min ?? 0;
  const parse = PARSERS[kind];
  const hubDefault = (Defaults as Partial<Record<string, number | string>>)[key];
  return {
    key,
    kind,
    flag: o.flag ?? `--${kebab(key)}`,
    arg: o.arg ?? `<${kind === ValueKind.COUNT ? 'n' : kind}>`,
    env: ENV_PREFIX + upperSnake(key),
    description,
    defaultText: o.defaultText ?? (hubDefault === undefined ? 'none' : showDefault(kind, hubDefault)),
    parse: (raw) => parse(raw, min),
  };
}

const { TEXT, PORT, COUNT, SIZE, DURATION, FILE_MODE, LOG_LEVEL, SYNC } = ValueKind;

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
  row('logLevel', LOG_LEVEL, 'trace, debug, info, warn, error or silent', { arg: '<level>', defaultText: DEFAULT_LOG_LEVEL }),
];

const BY_KEY = new Map<string, OptionSpec>(SERVE_OPTIONS.map((o) => [o.key, o]));

/** Library options the CLI cannot express, with what to use instead. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  listen: 'use host, port and unix',
  logger: 'use logLevel',
};

/** Parses one value; an invalid one becomes a ConfigError naming where it came from. */
function parseAt<T>(where: string, raw: RawValue, parse: (raw: RawValue) => T): T {
  try {
    return parse(raw);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    throw new ConfigError(`invalid value for ${where}: ${JSON.stringify(raw)} (${err.message})`);
  }
}

function set(layer: Layer, spec: OptionSpec, raw: RawValue, where: string): void {
  (layer as Record<string, unknown>)[spec.key] = parseAt(where, raw, spec.parse);
}

/** Flags as commander hands them over (strings), keyed by option key. */
export function layerFromFlags(values: Partial<Record<ServeKey, string>>): Layer {
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
    const spec = BY_KEY.get(key);
    if (spec === undefined) {
      const instead = UNSUPPORTED_KEYS[key];
      if (instead !== undefined) throw new ConfigError(`config key "${key}" in ${file} is not supported by the CLI; ${instead}`);
      const near = SERVE_OPTIONS.find((o) => loose(o.key) === loose(key));
      const hint = near === undefined ? '' : ` (did you mean "${near.key}"?)`;
      throw new ConfigError(`unknown config key "${key}" in ${file}${hint}`);
    }
    set(layer, spec, raw, `"${key}" in ${file}`);
  }
  return layer;
}

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

/** Reads a config file. The only function here that touches the file system. */
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

/** Merges layers, highest precedence first; a key absent from a layer falls through to the next. */
export function mergeLayers(...layers: Layer[]): ServeConfig {
  const out: Record<string, unknown> = {};
  for (let i = layers.length - 1; i >= 0; i--) {
    for (const [k, v] of Object.entries(layers[i]!)) if (v !== undefined) out[k] = v;
  }
  return out as ServeConfig;
}

export interface ServeSources {
  flags?: Layer;
  env?: Layer;
  file?: Layer;
}

/** flags > env > config file; what is still absent takes the hub's default. */
export function resolveServeConfig(sources: ServeSources): ServeConfig {
  return mergeLayers(sources.flags ?? {}, sources.env ?? {}, sources.file ?? {});
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
