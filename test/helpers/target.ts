/**
 * The server a conformance test talks to. One suite, two targets:
 *
 *   NETEMITTER_TARGET=hub          (default) our hub, in this process, on 127.0.0.1:0
 *   NETEMITTER_TARGET=nats-server  the reference server, one child process per startServer()
 *   NETEMITTER_TARGET=inprocess    our hub with no listener: `url` is its inprocess:// URL, which our
 *                                  client reaches with no socket (the suites of our client only; see
 *                                  skipInProcess for what cannot run so)
 *
 * Running the same tests against a real nats-server is what proves that they
 * encode NATS behaviour and not our hub's opinions. Options use the hub's
 * names and units (camelCase, milliseconds) and are translated to nats-server
 * config keys here, so a test never mentions either spelling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHub, Defaults, type Hub, type HubOptions } from '../../src/index.js';
import type { AuthorizationOptions, Permissions, SubjectPermission, TlsOptions, UserEntry } from '../../src/server/security/types.js';

export const TargetKind = {
  HUB: 'hub',
  NATS_SERVER: 'nats-server',
  /** Our hub, reached in-process (hub.connect(), inprocess:// URLs): no socket at all. */
  INPROCESS: 'inprocess',
} as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

/** Limits a test may ask for, in the hub's names and units (milliseconds for times). */
export type ServerOptions = Pick<
  HubOptions,
  'maxPayload' | 'maxControlLine' | 'maxConnections' | 'maxSubscriptions' | 'maxPending' | 'writeDeadline' | 'pingInterval' | 'maxPingsOut'
> & {
  /**
   * Durable streams on: the hub with its SQLite store in a fresh temporary
   * directory, nats-server with `jetstream { store_dir }` (file storage).
   */
  jetstream?: boolean;
  /** TLS on the TCP listener (the hub's option shape; PEM Buffers are written to files for nats-server). */
  tls?: TlsOptions;
  /** Authentication and permissions (the hub's option shape). */
  authorization?: AuthorizationOptions;
  /** The monitoring HTTP endpoints on a free port: the hub's httpPort 0, nats-server's `http: 127.0.0.1:-1`. See TestServer.monitorUrl. */
  monitor?: boolean;
  /**
   * `$SYS.REQ.SERVER.*` answered to the user `sys` (password `sys`): nats-server answers them only in its
   * system account, so it gets one (SYS, with that user) and every client without credentials lands in an
   * account of its own (APP, through `no_auth_user`). The hub has one account and answers everyone.
   */
  systemAccount?: boolean;
  /**
   * A WebSocket listener on a free port (see TestServer.wsUrl): the hub's `websocket: { port: 0, host }`,
   * nats-server's `websocket { port: -1, no_tls: true }`. With `tls` as well it serves wss:// with the
   * same certificate (nats-server gets the same `tls { }` block inside `websocket { }`).
   */
  websocket?: boolean;
};

/** The user (and password) of the system account that `systemAccount: true` gives nats-server. */
export const SYSTEM_USER = 'sys';

export interface TestServer {
  readonly kind: TargetKind;
  /** nats://127.0.0.1:PORT (inprocess://ID for the inprocess target) */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** http://127.0.0.1:PORT of the monitoring endpoints when started with `monitor: true`, else undefined. */
  readonly monitorUrl: string | undefined;
  /** ws://127.0.0.1:PORT (wss:// with `tls`) of the WebSocket listener when started with `websocket: true`, else undefined. */
  readonly wsUrl?: string | undefined;
  /** The hub itself when kind is 'hub', for hub-only tests. */
  readonly hub: Hub | undefined;
  /** Stops the server and releases everything it holds. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Where Debian installs the reference server; NATS_SERVER_BIN overrides. */
const DEFAULT_NATS_SERVER = '/usr/sbin/nats-server';
const START_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 10;

/** The target chosen by NETEMITTER_TARGET. An unknown value is an error, not a silent default. */
export function targetKind(): TargetKind {
  const v = process.env.NETEMITTER_TARGET;
  if (v === undefined || v === '' || v === TargetKind.HUB) return TargetKind.HUB;
  if (v === TargetKind.NATS_SERVER) return TargetKind.NATS_SERVER;
  if (v === TargetKind.INPROCESS) return TargetKind.INPROCESS;
  throw new Error(`NETEMITTER_TARGET must be 'hub', 'nats-server' or 'inprocess', got ${JSON.stringify(v)}`);
}

/** Whether the target is our hub, over sockets or in-process. */
export function isHub(): boolean {
  return targetKind() !== TargetKind.NATS_SERVER;
}

/**
 * For `it(name, { skip: skipInProcess('why') }, fn)`: a test that needs a
 * socket (TLS, WebSocket, a proxy, a server in another process, a restart
 * at the same address) is reported as skipped, with the reason, when the
 * target is in-process.
 */
export function skipInProcess(why: string): string | false {
  return targetKind() === TargetKind.INPROCESS ? `not in-process: ${why}` : false;
}

/** For the conformance cases that use the official client (nats.js), which dials TCP only. */
export const SKIP_NATS_JS = skipInProcess('nats.js dials TCP only (it has no in-process transport)');

/**
 * For `it(name, { skip: skipUnlessHub('why') }, fn)`: a test that only makes
 * sense against our hub (hub events, hub API) is reported as skipped, with
 * the reason, when the target is nats-server.
 */
export function skipUnlessHub(why = 'tests the hub itself'): string | false {
  return isHub() ? false : `hub only: ${why}`;
}

/**
 * A deliberate, documented difference between our hub and nats-server: the
 * value the current target must produce. Tests state both expectations
 * exactly instead of accepting "either", so a change on either side fails,
 * and `why` keeps the reason next to the assertion.
 */
export function differs<T>(d: { natsServer: T; hub: T; why: string }): T {
  return isHub() ? d.hub : d.natsServer;
}

/** Starts a server of the current target with the given limits. */
export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  // nats-server refuses max_payload > max_pending at startup and the hub throws a
  // ConfigError; say so here, once, in the same words for both targets.
  const maxPayload = opts.maxPayload ?? Defaults.maxPayload;
  const maxPending = opts.maxPending ?? Defaults.maxPending;
  if (maxPayload > maxPending) {
    throw new Error(`startServer: maxPayload (${maxPayload}) cannot be higher than maxPending (${maxPending})`);
  }
  return isHub() ? startHub(opts) : startNatsServer(opts);
}

async function startHub(opts: ServerOptions): Promise<TestServer> {
  const { jetstream, monitor, systemAccount: _sys, websocket, ...limits } = opts;
  const inProcess = targetKind() === TargetKind.INPROCESS;
  if (inProcess && (websocket === true || limits.tls !== undefined)) {
    throw new Error('startServer: TLS and WebSocket need a socket; mark the test skipInProcess');
  }
  const storeDir = jetstream === true ? await mkdtemp(join(tmpdir(), 'netemitter-store-')) : undefined;
  const removeStore = (): Promise<void> => (storeDir === undefined ? Promise.resolve() : rm(storeDir, { recursive: true, force: true }));
  let hub: Hub;
  try {
    // tls and authorization are the hub's own option shapes: they go straight in. nats-server closes a refused
    // client at once, so the hub's brute-force delay is off unless a test asks for it (hub-only tests do).
    const authorization = limits.authorization === undefined ? undefined : { maxFailureDelay: 0, ...limits.authorization };
    hub = createHub({
      ...limits,
      authorization,
      ...(inProcess ? { listen: [] } : { host: HOST, port: 0 }),
      ...(monitor === true ? { httpPort: 0, httpHost: HOST } : {}),
      ...hubWebsocket(websocket),
      jetstream: storeDir === undefined ? false : { store: { dir: storeDir } },
    });
  } catch (err) {
    await removeStore();
    throw err;
  }
  const [addr] = await hub.listen().catch(async (err: unknown) => {
    await removeStore();
    throw err;
  });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => (stopping ??= hub.close({ grace: 0 }).then(removeStore));
  if (inProcess) return { kind: TargetKind.INPROCESS, url: hub.url, host: '', port: 0, monitorUrl: hub.monitorAddress?.url, hub, stop };
  if (addr === undefined || addr.port === undefined) {
    await hub.close({ grace: 0 });
    await removeStore();
    throw new Error('startServer: the hub reported no TCP address');
  }
  return {
    kind: TargetKind.HUB,
    url: addr.url,
    host: HOST,
    port: addr.port,
    monitorUrl: hub.monitorAddress?.url,
    wsUrl: websocket === true ? hubWsUrl(hub) : undefined,
    hub,
    stop,
  };
}

/** The hub's websocket option for `websocket: true`: its own port on the test host (TLS follows the hub's `tls`). */
function hubWebsocket(websocket: boolean | undefined): Pick<HubOptions, 'websocket'> {
  return websocket === true ? { websocket: { port: 0, host: HOST } } : {};
}

/** The WebSocket listener's URL, without a path (the hub's listener upgrades on any path of its own port). */
function hubWsUrl(hub: Hub): string {
  const addr = hub.websocketAddress;
  if (addr === null) throw new Error('startServer: the hub reported no WebSocket address');
  return `${addr.secure ? 'wss' : 'ws'}://${addr.host}:${addr.port}`;
}

// ── nats-server ─────────────────────────────────────────────────────────────

/** A duration in nats-server's config syntax (a Go duration string). */
function duration(ms: number): string {
  return `"${ms}ms"`;
}

/** A duration in seconds, as nats-server's `tls.timeout` and `authorization.timeout` take it (a float). */
function seconds(ms: number): string {
  return String(ms / 1000);
}

/** nats-server takes file paths: a PEM given as bytes is written next to the config, and the options point at it. */
async function withPemFiles(opts: ServerOptions, dir: string): Promise<ServerOptions> {
  const tls = opts.tls;
  if (tls === undefined) return opts;
  const file = async (v: string | Buffer, name: string): Promise<string> => {
    if (typeof v === 'string') return v;
    const path = join(dir, name);
    await writeFile(path, v);
    return path;
  };
  return {
    ...opts,
    tls: {
      ...tls,
      cert: await file(tls.cert, 'tls-cert.pem'),
      key: await file(tls.key, 'tls-key.pem'),
      ...(tls.ca === undefined ? {} : { ca: await file(tls.ca, 'tls-ca.pem') }),
    },
  };
}

function pemPath(v: string | Buffer): string {
  if (typeof v !== 'string') throw new Error('natsServerConfig: a PEM Buffer must be written to a file first (withPemFiles)');
  return JSON.stringify(v);
}

/** The `tls { }` block, or throws for what nats-server 2.9.10 cannot do. */
export function natsServerTls(tls: TlsOptions): string {
  if (tls.handshakeFirst === true) {
    // TLS-first (nats.js `tlsFirst`) arrived in nats-server 2.10 as `handshake_first`; 2.9.10 has no such key.
    throw new Error('startServer: tls.handshakeFirst is not supported by nats-server 2.9.10; mark the test skipUnlessHub');
  }
  const fields = [`cert_file: ${pemPath(tls.cert)}`, `key_file: ${pemPath(tls.key)}`];
  if (tls.ca !== undefined) fields.push(`ca_file: ${pemPath(tls.ca)}`);
  if (tls.verify !== undefined) fields.push(`verify: ${tls.verify}`);
  if (tls.timeout !== undefined) fields.push(`timeout: ${seconds(tls.timeout)}`);
  return `tls {\n  ${fields.join('\n  ')}\n}`;
}

function subjectPermission(p: SubjectPermission): string {
  if (Array.isArray(p)) return JSON.stringify(p);
  const parts: string[] = [];
  if (p.allow !== undefined) parts.push(`allow: ${JSON.stringify(p.allow)}`);
  if (p.deny !== undefined) parts.push(`deny: ${JSON.stringify(p.deny)}`);
  return `{ ${parts.join(', ')} }`;
}

function permissions(p: Permissions): string {
  const parts: string[] = [];
  if (p.publish !== undefined) parts.push(`publish: ${subjectPermission(p.publish)}`);
  if (p.subscribe !== undefined) parts.push(`subscribe: ${subjectPermission(p.subscribe)}`);
  const r = p.allowResponses;
  if (r === true || r === false) parts.push(`allow_responses: ${r}`);
  else if (r !== undefined) {
    const rr: string[] = [];
    if (r.max !== undefined) rr.push(`max: ${r.max}`);
    if (r.expires !== undefined) rr.push(`expires: ${duration(r.expires)}`);
    parts.push(`allow_responses: { ${rr.join(', ')} }`);
  }
  return `{ ${parts.join(', ')} }`;
}

function userEntry(u: UserEntry): string {
  const parts: string[] = [];
  // JSON strings are valid nats-server config strings, and quoting keeps a bcrypt hash's `$` from being read as a variable.
  if (u.user !== undefined) parts.push(`user: ${JSON.stringify(u.user)}`);
  if (u.password !== undefined) parts.push(`password: ${JSON.stringify(u.password)}`);
  if (u.nkey !== undefined) parts.push(`nkey: ${JSON.stringify(u.nkey)}`);
  if (u.permissions !== undefined) parts.push(`permissions: ${permissions(u.permissions)}`);
  return `{ ${parts.join(', ')} }`;
}

/** The `websocket { }` block: its own port; wss:// with the same certificate when the server has TLS, else plain ws://. */
export function natsServerWebsocket(tls: TlsOptions | undefined): string {
  const inner = tls === undefined ? 'no_tls: true' : natsServerTls(tls).replace(/\n/g, '\n  ');
  return `websocket {\n  host: ${HOST}\n  port: -1\n  ${inner}\n}`;
}

/** The `authorization { }` block. */
export function natsServerAuthorization(a: AuthorizationOptions): string {
  const fields: string[] = [];
  if (a.timeout !== undefined) fields.push(`timeout: ${seconds(a.timeout)}`);
  if (a.token !== undefined) fields.push(`token: ${JSON.stringify(a.token)}`);
  if (a.user !== undefined) fields.push(`user: ${JSON.stringify(a.user)}`);
  if (a.password !== undefined) fields.push(`password: ${JSON.stringify(a.password)}`);
  if (a.users !== undefined) fields.push(`users: [\n    ${a.users.map(userEntry).join(',\n    ')}\n  ]`);
  if (a.defaultPermissions !== undefined) fields.push(`default_permissions: ${permissions(a.defaultPermissions)}`);
  if (a.maxFailureDelay !== undefined && a.maxFailureDelay > 0) {
    throw new Error('startServer: nats-server has no brute-force delay (authorization.maxFailureDelay): mark the test hub-only');
  }
  return `authorization {\n  ${fields.join('\n  ')}\n}`;
}

/** nats-server config text for the requested limits. */
export function natsServerConfig(opts: ServerOptions, portsDir: string): string {
  const lines = ['port: -1', `host: ${HOST}`, `ports_file_dir: ${JSON.stringify(portsDir)}`];
  if (opts.maxPayload !== undefined) lines.push(`max_payload: ${opts.maxPayload}`);
  if (opts.maxControlLine !== undefined) lines.push(`max_control_line: ${opts.maxControlLine}`);
  if (opts.maxConnections !== undefined) lines.push(`max_connections: ${opts.maxConnections}`);
  if (opts.maxSubscriptions !== undefined) lines.push(`max_subscriptions: ${opts.maxSubscriptions}`);
  if (opts.maxPending !== undefined) lines.push(`max_pending: ${opts.maxPending}`);
  if (opts.writeDeadline !== undefined) lines.push(`write_deadline: ${duration(opts.writeDeadline)}`);
  if (opts.pingInterval !== undefined) lines.push(`ping_interval: ${duration(opts.pingInterval)}`);
  if (opts.maxPingsOut !== undefined) lines.push(`ping_max: ${opts.maxPingsOut}`);
  if (opts.jetstream === true) lines.push(`jetstream { store_dir: ${JSON.stringify(join(portsDir, 'js'))} }`);
  if (opts.systemAccount === true) {
    if (opts.authorization !== undefined) throw new Error('startServer: systemAccount and authorization cannot be combined');
    const js = opts.jetstream === true ? 'jetstream: enabled, ' : '';
    lines.push(
      `accounts { SYS { users: [{ user: ${SYSTEM_USER}, password: ${SYSTEM_USER} }] }, APP { ${js}users: [{ user: app, password: app }] } }`,
      'system_account: SYS',
      'no_auth_user: app',
    );
  }
  if (opts.tls !== undefined) lines.push(natsServerTls(opts.tls));
  if (opts.websocket === true) lines.push(natsServerWebsocket(opts.tls));
  if (opts.authorization !== undefined) lines.push(natsServerAuthorization(opts.authorization));
  if (opts.monitor === true) lines.push(`http: "${HOST}:-1"`);
  return lines.join('\n') + '\n';
}

function natsServerBin(): string {
  const bin = process.env.NATS_SERVER_BIN ?? DEFAULT_NATS_SERVER;
  try {
    accessSync(bin, fsConstants.X_OK);
  } catch {
    throw new Error(
      `NETEMITTER_TARGET=nats-server but no executable nats-server at ${bin}. ` +
        'Install it (apt-get install nats-server) or set NATS_SERVER_BIN.',
    );
  }
  return bin;
}

/** Children still running, killed if this process exits without stopping them (a crashed test file). */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLiveChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // 'error' without 'exit' happens when the process could not be spawned at all.
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

async function startNatsServer(opts: ServerOptions): Promise<TestServer> {
  const bin = natsServerBin();
  const dir = await mkdtemp(join(tmpdir(), 'netemitter-nats-'));
  const conf = join(dir, 'nats-server.conf');
  try {
    await writeFile(conf, natsServerConfig(await withPemFiles(opts, dir), dir));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  if (!exitHookInstalled) {
    process.on('exit', killLiveChildren);
    exitHookInstalled = true;
  }
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  const exit = exited(child).then(() => {
    live.delete(child);
  });
  // The log goes to stderr; keep its tail to explain a failed start.
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    log = (log + s).slice(-4096);
  });
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exit;
        clearTimeout(timer);
      }
      await exit;
      await rm(dir, { recursive: true, force: true });
    })());

  try {
    const wanted = { monitor: opts.monitor === true, websocket: opts.websocket === true };
    const { port, monitorUrl, wsUrl } = await waitForPort(child, join(dir, `nats-server_${child.pid}.ports`), wanted, () => spawnError, () => log);
    return { kind: TargetKind.NATS_SERVER, url: `nats://${HOST}:${port}`, host: HOST, port, monitorUrl, wsUrl, hub: undefined, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Reads the ports from nats-server's ports file, which it writes once it is listening. */
async function waitForPort(
  child: ChildProcess,
  portsFile: string,
  wanted: PortsWanted,
  spawnError: () => Error | null,
  log: () => string,
): Promise<Ports> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const err = spawnError();
    if (err !== null) throw new Error(`nats-server could not be started: ${err.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nats-server exited during startup (${child.exitCode ?? child.signalCode}):\n${log()}`);
    }
    let text: string | null = null;
    try {
      text = await readFile(portsFile, 'utf8');
    } catch {
      // Not written yet.
    }
    if (text !== null) {
      const ports = portsFrom(text, wanted);
      if (ports !== null) return ports;
      // Empty or half-written: read it again.
    }
    await sleep(POLL_MS);
  }
  throw new Error(`nats-server did not report its port within ${START_TIMEOUT_MS} ms:\n${log()}`);
}

interface PortsWanted {
  readonly monitor: boolean;
  readonly websocket: boolean;
}

interface Ports {
  readonly port: number;
  readonly monitorUrl: string | undefined;
  readonly wsUrl?: string | undefined;
}

/**
 * The client port (and the monitoring and WebSocket URLs, when asked for) in a ports file
 * (`{"nats":["nats://127.0.0.1:PORT"],"monitoring":["http://127.0.0.1:PORT"],"websocket":["ws://127.0.0.1:PORT"]}`),
 * or null if incomplete.
 */
function portsFrom(text: string, wanted: PortsWanted): Ports | null {
  let ports: { nats?: unknown; monitoring?: unknown; websocket?: unknown };
  try {
    ports = JSON.parse(text) as { nats?: unknown; monitoring?: unknown; websocket?: unknown };
  } catch {
    return null;
  }
  const first = (v: unknown): string | undefined => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
  const url = first(ports.nats);
  if (url === undefined) return null;
  const port = Number(new URL(url).port);
  if (!Number.isInteger(port) || port <= 0) return null;
  const monitorUrl = first(ports.monitoring);
  const wsUrl = first(ports.websocket);
  if (wanted.monitor && monitorUrl === undefined) return null;
  if (wanted.websocket && wsUrl === undefined) return null;
  return { port, monitorUrl: wanted.monitor ? monitorUrl : undefined, wsUrl: wanted.websocket ? wsUrl : undefined };
}
