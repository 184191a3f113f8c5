/**
 * `netemitter serve`: runs the hub until SIGINT/SIGTERM, then shuts it down
 * in lame-duck mode (clients get INFO with ldm:true and a grace period to
 * leave) and exits 0. A second signal exits at once. SIGHUP reloads the TLS
 * certificate, key and CA from their files, as nats-server's `--signal
 * reload` does for them, and the schema rules (re-read from the config file,
 * --schemas or NETEMITTER_SCHEMAS, and their schema files); it never stops
 * the hub, and a reload that fails keeps what was in use.
 */
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import type { SchemaRule } from '../../server/options.js';
import type { Hub } from '../../server/hub.js';
import { Defaults } from '../../protocol/constants.js';
import {
  CONFIG_ENV,
  DEFAULT_STORE_DIR,
  SERVE_OPTIONS,
  STORE_MEMORY,
  configPath,
  layerFromEnv,
  layerFromFlags,
  loadConfigFile,
  logLevelOf,
  resolveServeConfig,
  toHubOptions,
  type OptionKey,
  type ServeConfig,
} from '../config.js';
import { isLoopbackHost, redactAuthorization, requiresAuth } from '../security-config.js';
import { createCliLogger } from '../logger.js';
import { ExitCode, exitWith } from '../errors.js';
import { forcedExitCode, onShutdownSignals, type ShutdownSignal } from '../signals.js';

const HELP_AFTER = `
Precedence: flags > NETEMITTER_* environment variables > --config file (${CONFIG_ENV}) > defaults.
Sizes: bytes, or with a unit: 512KB, 64MiB (powers of 1024), 1M (powers of 1000).
Durations: milliseconds, or with a unit: 500ms, 10s, 2m, 1h.
TLS, authorization and WebSocket: the "tls", "authorization" and "websocket" keys of the config file; the flags set one key each.
SIGHUP reloads the TLS certificate, key and CA files, and the schemas (docs/schemas.md).
See docs/operations.md for every option, docs/security.md for TLS, users and permissions.`;

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the hub: accept NATS clients on TCP and/or a Unix socket')
    .addHelpText('after', HELP_AFTER);
  const attribute = new Map<OptionKey, string>();
  for (const spec of SERVE_OPTIONS) {
    const option = new Option(`${spec.flag} ${spec.arg}`.trim(), `${spec.description} (default: ${spec.defaultText}; env ${spec.env})`);
    attribute.set(spec.key, option.attributeName());
    cmd.addOption(option);
  }
  cmd.option('--config <file>', `JSON file with options in camelCase, e.g. {"maxPayload": "8MB"} (env ${CONFIG_ENV})`);
  cmd.action(async function serveAction(this: Command): Promise<void> {
    const opts = this.opts<Record<string, string | boolean | undefined>>();
    const flags: Partial<Record<OptionKey, string | boolean>> = {};
    for (const [key, attr] of attribute) {
      const v = opts[attr];
      if (v !== undefined) flags[key] = v;
    }
    const configFlag = opts.config as string | undefined;
    // SIGHUP reads the same sources again for the schemas.
    const reread = (): ServeConfig => readConfig(flags, configFlag, process.env);
    await serve(reread(), reread);
  });
}

/** Reads the three sources; throws ConfigError (exit 2) on any invalid value. */
function readConfig(
  flagValues: Partial<Record<OptionKey, string | boolean>>,
  configFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): ServeConfig {
  const flags = layerFromFlags(flagValues);
  const fromEnv = layerFromEnv(env);
  const file = configPath(configFlag, env);
  return resolveServeConfig({ flags, env: fromEnv, file: file === undefined ? {} : loadConfigFile(file) });
}

async function serve(config: ServeConfig, reread: () => ServeConfig): Promise<void> {
  const logger = createCliLogger({ level: logLevelOf(config) });
  const options = toHubOptions(config);
  // createHub validates the combination (e.g. maxPayload <= maxPending; TLS files that do not load; a
  // token beside users): a ConfigError, exit 2 with one line (main.ts, errors.ts).
  // It also opens the store: a directory it cannot use is a start-up failure, exit 1.
  // Loaded here, not at the top: every other command (pub, sub, --version…) starts without the hub and ajv.
  const { createHub } = await import('../../server/hub.js');
  const hub = createHub({ ...options, logger });
  logger.debug({ options: loggable(options) }, 'starting');
  const tcp = config.unix === undefined || config.port !== undefined;
  if (!tcp && config.host !== undefined) {
    logger.warn(`host ${config.host} is ignored: with a Unix socket, TCP is served only when a port is given too`);
  }
  const host = config.host ?? Defaults.host;
  if (tcp && !isLoopbackHost(host) && !requiresAuth(config.authorization) && config.tls === undefined) {
    logger.warn(
      { host },
      `host ${host} is reachable from the network, and neither authorization nor TLS is configured: anyone who can connect may publish and subscribe to every subject (see docs/security.md)`,
    );
  }
  // Installed for the life of the process: without a listener, SIGHUP would end it.
  process.on('SIGHUP', reloadOnSignal(hub, logger, { tls: config.tls !== undefined, schemas: config.schemas !== undefined, reread }));
  let requested!: (signal: ShutdownSignal) => void;
  const stopRequested = new Promise<ShutdownSignal>((resolve) => (requested = resolve));
  // Installed before listen(), so a signal during start-up still shuts down cleanly.
  const removeSignals = onShutdownSignals({
    graceful: requested,
    force(signal) {
      logger.warn({ signal }, `received ${signal} again, exiting now`);
      process.exit(forcedExitCode(signal));
    },
  });
  try {
    await hub.listen();
  } catch (err) {
    removeSignals();
    throw err;
  }
  const store = config.store ?? DEFAULT_STORE_DIR;
  logger.info({ store }, store === STORE_MEMORY ? 'durable streams kept in memory' : `durable streams kept in ${store}`);
  const signal = await stopRequested;
  await shutdown(hub, logger, signal);
  exitWith(ExitCode.OK);
}

/** The options as logged at debug level: tokens and passwords redacted. */
function loggable(options: ReturnType<typeof toHubOptions>): unknown {
  return options.authorization === undefined ? options : { ...options, authorization: redactAuthorization(options.authorization) };
}

/** What serve needs of the hub for SIGHUP; Hub.reloadTls re-reads the files, or throws and keeps the old ones. */
interface TlsReloader {
  reloadTls(): void | Promise<void>;
}

function canReloadTls(hub: Hub): hub is Hub & TlsReloader {
  return typeof (hub as Partial<TlsReloader>).reloadTls === 'function';
}

/** Hub.reloadSchemas compiles the new rules, or throws and keeps the old ones. */
interface SchemaReloader {
  reloadSchemas(rules?: SchemaRule[]): void;
}

function canReloadSchemas(hub: Hub): hub is Hub & SchemaReloader {
  return typeof (hub as Partial<SchemaReloader>).reloadSchemas === 'function';
}

interface Reloadable {
  tls: boolean;
  /** Whether schemas were configured at start; a reload also looks at the config as it is now. */
  schemas: boolean;
  reread: () => ServeConfig;
}

/** SIGHUP: reload the TLS files and the schemas, one reload at a time; log the outcome, never exit. */
function reloadOnSignal(hub: Hub, logger: Logger, what: Reloadable): () => void {
  let last: Promise<void> = Promise.resolve();
  let schemas = what.schemas;
  const reload = async (): Promise<void> => {
    if (what.tls) await reloadTls(hub, logger);
    // Schemas added to the config since start are picked up too; with none then or now there is nothing to say.
    const reloaded = reloadSchemas(hub, logger, what.reread, schemas);
    schemas = reloaded ?? schemas;
    if (!what.tls && !schemas && reloaded === undefined) {
      logger.info({ signal: 'SIGHUP' }, 'received SIGHUP: no TLS configured, nothing to reload');
    }
  };
  return function onSighup(): void {
    last = last.then(reload);
  };
}

/**
 * Reads the config again and hands its schema rules to the hub. Returns
 * whether schemas are configured now (undefined: none before and none now,
 * nothing done); on any error, logs one line and leaves the hub's rules.
 */
function reloadSchemas(hub: Hub, logger: Logger, reread: () => ServeConfig, before: boolean): boolean | undefined {
  const fail = (why: string): boolean => {
    logger.error({ signal: 'SIGHUP' }, `received SIGHUP: schemas not reloaded, the old rules stay in use: ${why}`);
    return before;
  };
  let rules: SchemaRule[] | undefined;
  try {
    rules = reread().schemas;
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  if (rules === undefined && !before) return undefined;
  if (!canReloadSchemas(hub)) return fail('this hub cannot reload schemas; restart it to use new ones');
  try {
    hub.reloadSchemas(rules ?? []);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const n = rules?.length ?? 0;
  logger.info({ signal: 'SIGHUP', rules: n }, `received SIGHUP: schemas reloaded, ${n} rule${n === 1 ? '' : 's'} in use`);
  return rules !== undefined;
}

async function reloadTls(hub: Hub, logger: Logger): Promise<void> {
  if (!canReloadTls(hub)) {
    logger.warn({ signal: 'SIGHUP' }, 'received SIGHUP: this hub cannot reload its TLS files; restart it to use new ones');
    return;
  }
  try {
    await hub.reloadTls();
    logger.info({ signal: 'SIGHUP' }, 'received SIGHUP: TLS certificate, key and CA reloaded; new connections use them');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    logger.error({ signal: 'SIGHUP' }, `received SIGHUP: TLS files not reloaded, the old ones stay in use: ${why}`);
  }
}

async function shutdown(hub: Hub, logger: Logger, signal: ShutdownSignal): Promise<void> {
  const clients = hub.stats().connections;
  const grace = hub.options.lameDuckGracePeriod;
  if (clients > 0 && grace > 0) {
    logger.info(
      { signal, clients, gracePeriod: grace },
      `received ${signal}: entering lame duck mode, ${clients} client(s) have ${grace}ms to leave (send ${signal} again to exit now)`,
    );
  } else {
    logger.info({ signal }, `received ${signal}: shutting down`);
  }
  await hub.close();
  const { totalConnections, inMsgs, outMsgs } = hub.stats();
  logger.info({ totalConnections, inMsgs, outMsgs }, 'hub closed');
}
