/**
 * The peers: a server (its own process, on loopback) and the standard Node
 * client for its protocol. A peer whose server or client is not installed is
 * skipped with one line saying what to install.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, freePort, waitForPort, waitForLine, firstLine, type Proc } from './proc.js';
import { importOptional, type ClientKind } from './clients.js';
import { natsServerSecurity, type ServerSecurity } from './security.js';
import type { IdleProtocol } from './jobs.js';
import type { Variant } from './options.js';
import { treeStats } from './tree.js';

/** Debian's Chromium, for the dashboard in a browser (browser-page.ts says the same). */
import { CHROMIUM } from '../../test/browser/browser.js';

/** The repository root (this file is dist/bench/lib/peers.js). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DIST_BENCH = join(ROOT, 'dist', 'bench');

/**
 * hub-tail: the hub with monitoring on and a dashboard page's live feed open, tailing `>` (tail-page.ts);
 * hub-browser: the same with the dashboard itself open in headless Chromium (browser-page.ts);
 * hub-ws, nats-server-ws: the server with a plain ws:// WebSocket listener, whose URL the clients get.
 */
export type ServerKind = 'hub' | 'hub-tail' | 'hub-browser' | 'hub-ws' | 'hub-schema' | 'hub-schema-other' | 'nats-server' | 'nats-server-ws' | 'aedes' | 'mosquitto' | 'redis' | 'relay';

export interface RunningServer {
  readonly url: string;
  readonly pid: number;
  readonly proc: Proc;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Start the hub under `node --cpu-prof`, writing the profile here. */
  cpuProfDir?: string;
  /** Start the client workers under `node --cpu-prof` too, each role in its own folder here. */
  clientProfDir?: string;
  /** TLS and users (the hub and nats-server only; see security.ts). */
  security?: ServerSecurity;
}

interface ServerDef {
  readonly kind: ServerKind;
  readonly protocol: IdleProtocol;
  /** null when usable, else why not (one line, with what to install). */
  missing(): Promise<string | null>;
  version(): string;
  start(opts: StartOptions): Promise<RunningServer>;
}

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

async function hasPackage(name: string): Promise<boolean> {
  try {
    await importOptional(name);
    return true;
  } catch {
    return false;
  }
}

/** A temporary directory for one server's files, removed after `stop`. */
function withTempDir(fn: (dir: string) => Promise<RunningServer>): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  return fn(dir).then(
    (s) => ({
      ...s,
      stop: async () => {
        await s.stop();
        remove();
      },
    }),
    (err: unknown) => {
      remove();
      throw err;
    },
  );
}

function noSecurity(kind: ServerKind, opts: StartOptions): void {
  if (opts.security !== undefined) throw new Error(`the bench has no TLS or users set-up for ${kind}`);
}

/** Node flags of a Node server: the profiler when asked for, and NETEMITTER_BENCH_SERVER_FLAGS. */
function serverFlags(opts: StartOptions): string[] {
  const flags = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`];
  // For experiments on the Node servers alone (e.g. GC flags), not on the clients: NETEMITTER_BENCH_SERVER_FLAGS='--trace-gc'.
  const extra = process.env.NETEMITTER_BENCH_SERVER_FLAGS;
  if (extra !== undefined && extra.trim() !== '') flags.push(...extra.trim().split(/\s+/));
  return flags;
}

async function nodeServer(script: string, scheme: string, opts: StartOptions = {}, args: readonly string[] = []): Promise<RunningServer> {
  const proc = start(process.execPath, [...serverFlags(opts), join(DIST_BENCH, 'servers', script), ...args]);
  const m = await waitForLine(proc, /LISTENING (\d+)/);
  return { url: `${scheme}://127.0.0.1:${m[1]}`, pid: proc.pid, proc, stop: () => proc.stop() };
}

/** The hub with a WebSocket listener on a port of its own (bench/servers/hub.ts --websocket); its url is the ws:// one. */
async function startHubWs(opts: StartOptions): Promise<RunningServer> {
  noSecurity('hub-ws', opts);
  const proc = start(process.execPath, [...serverFlags(opts), join(DIST_BENCH, 'servers', 'hub.js'), '--websocket']);
  const m = await waitForLine(proc, /LISTENING \d+ WEBSOCKET (ws:\/\/\S+)/);
  return { url: m[1]!, pid: proc.pid, proc, stop: () => proc.stop() };
}

/** nats-server with `websocket { no_tls: true }` on a port of its own besides its NATS port; its url is the ws:// one. */
function startNatsServerWs(opts: StartOptions): Promise<RunningServer> {
  noSecurity('nats-server-ws', opts);
  return withTempDir(async (dir) => {
    const port = await freePort();
    let wsPort = await freePort();
    while (wsPort === port) wsPort = await freePort();
    const conf = join(dir, 'nats-server.conf');
    writeFileSync(conf, `websocket {\n  host: 127.0.0.1\n  port: ${wsPort}\n  no_tls: true\n}\n`);
    const proc = start('nats-server', ['-c', conf, '-a', '127.0.0.1', '-p', String(port)]);
    await waitForPort(port, proc);
    await waitForPort(wsPort, proc);
    return { url: `ws://127.0.0.1:${wsPort}`, pid: proc.pid, proc, stop: () => proc.stop() };
  });
}

/** The hub; with a security set-up, its options go in a file (passwords stay out of the process list). */
function startHub(opts: StartOptions): Promise<RunningServer> {
  const security = opts.security;
  if (security === undefined) return nodeServer('hub.js', 'nats', opts);
  return withTempDir(async (dir) => {
    const file = join(dir, 'security.json');
    writeFileSync(file, JSON.stringify(security), { mode: 0o600 });
    return nodeServer('hub.js', 'nats', opts, ['--security', file]);
  });
}

/**
 * The hub with monitoring on (an HTTP port) and a dashboard tailing `>` in a
 * process of its own: a reader of GET /api/live doing what the page's
 * EventSource does (`sse`), or the page itself in headless Chromium
 * (`browser`). Stopped with the hub; what the page got, and the CPU and
 * memory of its process tree (browser included), are printed then.
 */
async function startHubTailed(opts: StartOptions, kind: 'sse' | 'browser'): Promise<RunningServer> {
  noSecurity(kind === 'sse' ? 'hub-tail' : 'hub-browser', opts);
  const flags = opts.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`];
  const proc = start(process.execPath, [...flags, join(DIST_BENCH, 'servers', 'hub.js'), '--monitor']);
  const m = await waitForLine(proc, /LISTENING (\d+) MONITOR (\d+)/);
  const web = `http://127.0.0.1:${m[2]}`;
  const page =
    kind === 'sse'
      ? start(process.execPath, [join(DIST_BENCH, 'lib', 'tail-page.js'), `${web}/api/live?tail=%3E`])
      : start(process.execPath, [join(DIST_BENCH, 'lib', 'browser-page.js'), `${web}/#tail`]);
  try {
    await waitForLine(page, /TAILING/, 60_000);
  } catch (err) {
    await page.stop();
    await proc.stop();
    throw err;
  }
  return {
    url: `nats://127.0.0.1:${m[1]}`,
    pid: proc.pid,
    proc,
    stop: async () => {
      const tree = treeStats(page.pid);
      await page.stop(15_000);
      const line = /TAIL .*/.exec(page.output())?.[0] ?? '(no report)';
      console.log(`    page: ${line}; its processes (${tree.procs}): ${tree.cpu.toFixed(1)} s CPU since start, ${(tree.rss / 1048576).toFixed(0)} MiB RSS`);
      await proc.stop();
    },
  };
}

/** nats-server; with a security set-up, its tls and authorization blocks go in a config file. */
async function startNatsServer(opts: StartOptions): Promise<RunningServer> {
  const port = await freePort();
  const listen = ['-a', '127.0.0.1', '-p', String(port)];
  const run = async (args: readonly string[]): Promise<RunningServer> => {
    const proc = start('nats-server', [...args, ...listen]);
    await waitForPort(port, proc);
    return { url: `nats://127.0.0.1:${port}`, pid: proc.pid, proc, stop: () => proc.stop() };
  };
  const security = opts.security;
  if (security === undefined) return run([]);
  return withTempDir(async (dir) => {
    const conf = join(dir, 'nats-server.conf');
    writeFileSync(conf, natsServerSecurity(security), { mode: 0o600 });
    return run(['-c', conf]);
  });
}

const SERVERS: Record<ServerKind, ServerDef> = {
  hub: {
    kind: 'hub',
    protocol: 'nats',
    missing: async () => null,
    version: () => {
      const v = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
      const other = process.env.NETEMITTER_BENCH_HUB_MODULE;
      // bench/servers/hub.ts runs that build's hub instead: report its tree (dist/src/index.js → the tree).
      const tree = other === undefined || other === '' ? ROOT : join(dirname(other), '..', '..');
      const rev = firstLine('git', ['-C', tree, 'rev-parse', '--short', 'HEAD']);
      return `netemitter ${v} (${rev ?? 'no git'}, ${tree === ROOT ? 'working tree' : tree})`;
    },
    start: startHub,
  },
  'hub-tail': {
    kind: 'hub-tail',
    protocol: 'nats',
    missing: async () => null,
    version: () => 'the hub, with the dashboard live feed tailing >',
    start: (opts) => startHubTailed(opts, 'sse'),
  },
  'hub-browser': {
    kind: 'hub-browser',
    protocol: 'nats',
    missing: async () =>
      !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (apt-get install chromium)` : (await hasPackage('playwright-core')) ? null : 'the playwright-core package is not installed (npm install)',
    version: () => `the hub, with the dashboard tailing > in ${firstLine(CHROMIUM, ['--version']) ?? 'chromium (not installed)'}`,
    start: (opts) => startHubTailed(opts, 'browser'),
  },
  'hub-ws': {
    kind: 'hub-ws',
    protocol: 'nats',
    missing: async () => null,
    version: () => 'the hub, with a ws:// WebSocket listener (websocket: { port: 0 })',
    start: startHubWs,
  },
  'hub-schema': {
    kind: 'hub-schema',
    protocol: 'nats',
    missing: async () => null,
    version: () => 'the hub, checking a JSON Schema on the W1 subject (bench/lib/schema-fixture.ts)',
    start: (opts) => {
      noSecurity('hub-schema', opts);
      return nodeServer('hub.js', 'nats', opts, ['--schemas', 'match']);
    },
  },
  'hub-schema-other': {
    kind: 'hub-schema-other',
    protocol: 'nats',
    missing: async () => null,
    version: () => 'the hub, with JSON Schemas on subjects other than the W1 subject',
    start: (opts) => {
      noSecurity('hub-schema-other', opts);
      return nodeServer('hub.js', 'nats', opts, ['--schemas', 'other']);
    },
  },
  'nats-server-ws': {
    kind: 'nats-server-ws',
    protocol: 'nats',
    missing: async () => (firstLine('nats-server', ['--version']) === null ? 'nats-server is not installed (apt-get install nats-server)' : null),
    version: () => `${firstLine('nats-server', ['--version']) ?? 'nats-server (not installed)'}, with websocket { no_tls: true }`,
    start: startNatsServerWs,
  },
  'nats-server': {
    kind: 'nats-server',
    protocol: 'nats',
    missing: async () => (firstLine('nats-server', ['--version']) === null ? 'nats-server is not installed (apt-get install nats-server)' : null),
    version: () => firstLine('nats-server', ['--version']) ?? 'not installed',
    start: startNatsServer,
  },
  aedes: {
    kind: 'aedes',
    protocol: 'mqtt',
    missing: async () => ((await hasPackage('aedes')) ? null : 'the aedes package is not installed (npm install)'),
    version: () => `aedes ${pkgVersion('aedes')}`,
    start: (opts) => {
      noSecurity('aedes', opts);
      return nodeServer('aedes.js', 'mqtt');
    },
  },
  mosquitto: {
    kind: 'mosquitto',
    protocol: 'mqtt',
    missing: async () => (/mosquitto version/.test(firstLine('mosquitto', ['-h']) ?? '') ? null : 'mosquitto is not installed (apt-get install mosquitto)'),
    version: () => firstLine('mosquitto', ['-h']) ?? 'not installed',
    async start(opts) {
      noSecurity('mosquitto', opts);
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-'));
      const conf = join(dir, 'mosquitto.conf');
      writeFileSync(
        conf,
        [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest none', 'set_tcp_nodelay true', 'max_connections -1', ''].join('\n'),
      );
      const proc = start('mosquitto', ['-c', conf]);
      await waitForPort(port, proc);
      return {
        url: `mqtt://127.0.0.1:${port}`,
        pid: proc.pid,
        proc,
        stop: async () => {
          await proc.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  redis: {
    kind: 'redis',
    protocol: 'redis',
    missing: async () => (firstLine('redis-server', ['--version']) === null ? 'redis-server is not installed (apt-get install redis-server)' : null),
    version: () => (firstLine('redis-server', ['--version']) ?? 'not installed').replace(/ sha=.*$/, ''),
    async start(opts) {
      noSecurity('redis', opts);
      const port = await freePort();
      const proc = start('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '15000', '--loglevel', 'warning',
      ]);
      await waitForPort(port, proc);
      return { url: `redis://127.0.0.1:${port}`, pid: proc.pid, proc, stop: () => proc.stop() };
    },
  },
  relay: {
    kind: 'relay',
    protocol: 'raw',
    missing: async () => null,
    version: () => `raw relay (Node ${process.version})`,
    start: (opts) => {
      noSecurity('relay', opts);
      return nodeServer('relay.js', 'tcp');
    },
  },
};

export interface PeerDef {
  /** server/client, e.g. hub/nats.js; with a security set-up server+variant/client, e.g. hub+tls/nats.js */
  readonly id: string;
  readonly server: ServerKind;
  readonly client: ClientKind;
  /** TLS and users on the server, credentials on the client (security.ts). */
  readonly variant?: Variant;
}

export const PEERS: readonly PeerDef[] = [
  { id: 'hub/nats.js', server: 'hub', client: 'nats' },
  { id: 'hub/ours', server: 'hub', client: 'ours' },
  { id: 'nats-server/nats.js', server: 'nats-server', client: 'nats' },
  { id: 'nats-server/ours', server: 'nats-server', client: 'ours' },
  { id: 'aedes/mqtt.js', server: 'aedes', client: 'mqtt' },
  { id: 'mosquitto/mqtt.js', server: 'mosquitto', client: 'mqtt' },
  { id: 'redis/ioredis', server: 'redis', client: 'redis' },
  { id: 'raw', server: 'relay', client: 'raw' },
];

const CLIENT_PACKAGE: Record<ClientKind, string | null> = { nats: '@nats-io/transport-node', 'nats-ws': 'nats.ws', ours: null, mqtt: 'mqtt', redis: 'ioredis', raw: null };

/** The servers and clients that speak TLS and log in: the ones a security set-up applies to. */
export function securable(p: PeerDef): boolean {
  return (p.server === 'hub' || p.server === 'nats-server') && (p.client === 'nats' || p.client === 'ours');
}

/** The same peer with a security set-up. */
export function withVariant(p: PeerDef, variant: Variant): PeerDef {
  const [server, client] = p.id.split('/');
  return { ...p, id: `${server}+${variant}/${client}`, variant };
}

export function serverDef(kind: ServerKind): ServerDef {
  return SERVERS[kind];
}

export function startServer(kind: ServerKind, opts: StartOptions = {}): Promise<RunningServer> {
  return SERVERS[kind].start(opts);
}

/** Why a peer cannot run here, or null. */
export async function peerMissing(p: PeerDef): Promise<string | null> {
  const s = await SERVERS[p.server].missing();
  if (s !== null) return s;
  const pkg = CLIENT_PACKAGE[p.client];
  if (pkg !== null && !(await hasPackage(pkg))) return `the ${pkg} package is not installed (npm install)`;
  return null;
}

/** Versions of everything that runs, for the report. */
export function versions(): Record<string, string> {
  const v: Record<string, string> = { node: process.version };
  for (const k of Object.keys(SERVERS) as ServerKind[]) v[k] = SERVERS[k].version();
  v['nats.js'] = `@nats-io/transport-node ${pkgVersion('@nats-io/transport-node')}`;
  v['nats.ws'] = `nats.ws ${pkgVersion('nats.ws')} on ws ${pkgVersion('ws')}`;
  v['mqtt.js'] = `mqtt ${pkgVersion('mqtt')}`;
  v.ioredis = `ioredis ${pkgVersion('ioredis')}`;
  return v;
}
