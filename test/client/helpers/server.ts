/**
 * Servers for the client suite. One suite, two targets, chosen like the
 * conformance suite's (NETEMITTER_TARGET, see test/helpers/target.ts):
 *
 *   hub          our hub, in this process (or in a child process: { child: true })
 *   nats-server  the reference server, one child process
 *   inprocess    our hub with no listener, reached at its inprocess:// URL (no socket); a restart
 *                gives a new URL (a new hub), and there is no child process (skipInProcess)
 *
 * A client test needs more than test/helpers/target.ts offers: stop a server
 * and start another on the same port, kill one like a crash, put one in
 * lame-duck mode, and read which subscriptions a server holds for a named
 * connection (hub: its subscribe/unsubscribe events; nats-server: /connz).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createHub, type Hub, type SubscriptionEvent } from '../../../src/index.js';
import { skipInProcess, targetKind, TargetKind } from '../../helpers/target.js';
import { natsServerBin, portOf, spawnChild, waitForPorts, type Child } from './procs.js';
import { within } from './wait.js';

export { skipInProcess, targetKind, TargetKind };

const HOST = '127.0.0.1';
const START_MS = 5_000;

export interface StartOptions {
  /** Hub target only: run the hub in a child process (so it can be SIGKILLed). */
  child?: boolean;
  /** Milliseconds a lame-duck server waits before closing its clients. Default 5000. */
  lameDuckMs?: number;
  /** A WebSocket listener too (plain ws://), on a port of its own that restart() keeps. See ServerHandle.wsUrl. */
  websocket?: boolean;
}

export interface ServerHandle {
  readonly kind: TargetKind;
  /** nats://127.0.0.1:PORT, the same across restarts. */
  readonly url: string;
  /** ws://127.0.0.1:PORT with `websocket: true`, the same across restarts; else undefined. */
  readonly wsUrl: string | undefined;
  readonly port: number;
  /** The in-process hub (hub target, not a child), replaced by restart(). */
  readonly hub: Hub | undefined;
  /**
   * Subscriptions the server holds for connections named `name`, as
   * "subject" or "subject queue", sorted. Flush the client first: the server
   * has then processed its SUBs and UNSUBs.
   */
  subscriptions(name: string): Promise<string[]>;
  /** Tells clients it is going away (INFO ldm:true), then closes after lameDuckMs. */
  lameDuck(): void;
  /** Stops the server. Safe to call twice and after kill(). */
  stop(): Promise<void>;
  /** Kills it like a crash (SIGKILL for processes; an in-process hub just closes). */
  kill(): Promise<void>;
  /** Starts a new server on the same port (after stop or kill). */
  restart(): Promise<void>;
}

/** Starts a server of the current target. */
export function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  if (targetKind() === TargetKind.NATS_SERVER) return NatsServer.start(opts);
  if (targetKind() === TargetKind.INPROCESS && (opts.child === true || opts.websocket === true)) {
    return Promise.reject(new Error('startServer: a child process or WebSocket needs a socket; mark the test skipInProcess'));
  }
  return opts.child === true ? ChildHub.start(opts) : LocalHub.start(opts);
}

/** Subscriptions keyed by client and sid, from subscribe/unsubscribe events. */
class SubTable {
  private readonly subs = new Map<string, { name: string | undefined; line: string }>();

  add(e: Pick<SubscriptionEvent, 'subject' | 'queue' | 'sid'> & { client: { id: number; name: string | undefined } }): void {
    this.subs.set(`${e.client.id}/${e.sid}`, { name: e.client.name, line: e.queue === undefined ? e.subject : `${e.subject} ${e.queue}` });
  }

  remove(e: Pick<SubscriptionEvent, 'sid'> & { client: { id: number } }): void {
    this.subs.delete(`${e.client.id}/${e.sid}`);
  }

  clear(): void {
    this.subs.clear();
  }

  of(name: string): string[] {
    return [...this.subs.values()].filter((s) => s.name === name).map((s) => s.line).sort();
  }
}

// ── our hub, in this process ─────────────────────────────────────────────────

class LocalHub implements ServerHandle {
  readonly kind = targetKind() === TargetKind.INPROCESS ? TargetKind.INPROCESS : TargetKind.HUB;
  hub: Hub | undefined;
  port = 0;
  private readonly table = new SubTable();
  private closing: Promise<void> | null = null;
  private readonly lameDuckMs: number;

  private constructor(opts: StartOptions) {
    this.lameDuckMs = opts.lameDuckMs ?? 5_000;
  }

  /** The WebSocket listener's port: -1 until the first start picks one, then kept by restart(). */
  private wsPort: number | undefined;

  static async start(opts: StartOptions): Promise<LocalHub> {
    const s = new LocalHub(opts);
    if (opts.websocket === true) s.wsPort = -1;
    await s.open(0);
    return s;
  }

  get url(): string {
    return this.kind === TargetKind.INPROCESS ? this.hub!.url : `nats://${HOST}:${this.port}`;
  }

  get wsUrl(): string | undefined {
    return this.wsPort === undefined ? undefined : `ws://${HOST}:${this.wsPort}`;
  }

  private async open(port: number): Promise<void> {
    const ws = this.wsPort === undefined ? {} : { websocket: { host: HOST, port: Math.max(0, this.wsPort) } };
    const hub = createHub(this.kind === TargetKind.INPROCESS ? { listen: [] } : { host: HOST, port, ...ws });
    this.table.clear();
    hub.on('subscribe', (e) => this.table.add(e));
    hub.on('unsubscribe', (e) => this.table.remove(e));
    const [addr] = await hub.listen();
    this.port = addr?.port ?? 0;
    if (this.wsPort !== undefined) this.wsPort = hub.websocketAddress!.port;
    this.hub = hub;
    this.closing = null;
  }

  subscriptions(name: string): Promise<string[]> {
    return Promise.resolve(this.table.of(name));
  }

  lameDuck(): void {
    this.closing ??= this.hub!.close({ grace: this.lameDuckMs });
  }

  stop(): Promise<void> {
    this.closing ??= this.hub === undefined ? Promise.resolve() : this.hub.close({ grace: 0 });
    return this.closing;
  }

  kill(): Promise<void> {
    return this.stop();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.open(this.port);
  }
}

// ── our hub, in a child process ──────────────────────────────────────────────

const FIXTURE = fileURLToPath(new URL('../fixtures/hub-child.js', import.meta.url));

interface ChildLine {
  ready?: string;
  synced?: number;
  subscribe?: { client: number; name: string | undefined; subject: string; queue: string | undefined; sid: string };
  unsubscribe?: { client: number; sid: string };
}

class ChildHub implements ServerHandle {
  readonly kind = TargetKind.HUB;
  readonly hub = undefined;
  readonly wsUrl = undefined;
  port = 0;
  private child: Child | null = null;
  private readonly table = new SubTable();
  private readonly lameDuckMs: number;
  private nextSync = 1;
  private readonly syncs = new Map<number, () => void>();

  private constructor(opts: StartOptions) {
    this.lameDuckMs = opts.lameDuckMs ?? 5_000;
  }

  static async start(opts: StartOptions): Promise<ChildHub> {
    if (opts.websocket === true) throw new Error('startServer: websocket with child: true is not supported (no test needs it)');
    const s = new ChildHub(opts);
    await s.open(0);
    return s;
  }

  get url(): string {
    return `nats://${HOST}:${this.port}`;
  }

  private async open(port: number): Promise<void> {
    this.table.clear();
    const child = spawnChild(process.execPath, [FIXTURE, String(port), String(this.lameDuckMs)]);
    this.child = child;
    const lines = createInterface({ input: child.process.stdout! });
    const ready = new Promise<string>((resolve, reject) => {
      lines.on('line', (text) => {
        const msg = JSON.parse(text) as ChildLine;
        if (msg.ready !== undefined) resolve(msg.ready);
        if (msg.synced !== undefined) this.syncs.get(msg.synced)?.();
        if (msg.subscribe !== undefined) this.table.add({ ...msg.subscribe, client: { id: msg.subscribe.client, name: msg.subscribe.name } });
        if (msg.unsubscribe !== undefined) this.table.remove({ sid: msg.unsubscribe.sid, client: { id: msg.unsubscribe.client } });
      });
      void child.exited.then(() => reject(new Error(`the hub child exited before it was ready:\n${child.log()}`)));
    });
    try {
      this.port = portOf(await within(ready, START_MS, 'hub child ready'));
    } catch (err) {
      await child.kill();
      throw err;
    }
  }

  /** The event lines travel through a pipe: a sync round trip makes sure all of them were read. */
  async subscriptions(name: string): Promise<string[]> {
    const id = this.nextSync++;
    const synced = new Promise<void>((resolve) => this.syncs.set(id, resolve));
    this.child!.process.stdin!.write(`sync ${id}\n`);
    await within(synced, START_MS, 'hub child sync').finally(() => this.syncs.delete(id));
    return this.table.of(name);
  }

  lameDuck(): void {
    this.child?.process.kill('SIGUSR2');
  }

  async stop(): Promise<void> {
    await this.child?.stop();
  }

  async kill(): Promise<void> {
    await this.child?.kill();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.open(this.port);
  }
}

// ── nats-server ──────────────────────────────────────────────────────────────

class NatsServer implements ServerHandle {
  readonly kind = TargetKind.NATS_SERVER;
  readonly hub = undefined;
  port = 0;
  private monitor = '';
  /** -1 until the first start picks one; then kept, so a restart listens where clients reconnect. */
  private wsPort: number | undefined;
  private child: Child | null = null;
  private dir = '';
  private inLameDuck = false;
  private readonly lameDuckMs: number;

  private constructor(opts: StartOptions) {
    this.lameDuckMs = opts.lameDuckMs ?? 5_000;
    if (opts.websocket === true) this.wsPort = -1;
  }

  get wsUrl(): string | undefined {
    return this.wsPort === undefined ? undefined : `ws://${HOST}:${this.wsPort}`;
  }

  static async start(opts: StartOptions): Promise<NatsServer> {
    const s = new NatsServer(opts);
    s.dir = await mkdtemp(join(tmpdir(), 'netemitter-client-'));
    try {
      await s.open(-1);
    } catch (err) {
      await rm(s.dir, { recursive: true, force: true });
      throw err;
    }
    return s;
  }

  get url(): string {
    return `nats://${HOST}:${this.port}`;
  }

  private async open(port: number): Promise<void> {
    const bin = natsServerBin();
    if (bin === null) throw new Error('NETEMITTER_TARGET=nats-server but nats-server is not installed (apt-get install nats-server, or set NATS_SERVER_BIN)');
    const conf = join(this.dir, 'nats.conf');
    await writeFile(
      conf,
      [
        `port: ${port}`,
        `host: ${HOST}`,
        `http: "${HOST}:-1"`,
        `ports_file_dir: ${JSON.stringify(this.dir)}`,
        // Lame duck (SIGUSR2): the ldm INFO goes out at once, clients are closed after the
        // grace period. 2.9.10 refuses a lame_duck_duration under 30 s.
        `lame_duck_grace_period: "${this.lameDuckMs}ms"`,
        'lame_duck_duration: "30s"',
        ...(this.wsPort === undefined ? [] : [`websocket { host: ${HOST}, port: ${this.wsPort}, no_tls: true }`]),
        '',
      ].join('\n'),
    );
    const child = spawnChild(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    try {
      const ports = await waitForPorts(child, join(this.dir, `nats-server_${child.pid}.ports`), START_MS);
      this.port = portOf(ports.nats[0]!);
      this.monitor = ports.monitoring![0]!;
      if (this.wsPort !== undefined) this.wsPort = portOf(ports.websocket![0]!);
    } catch (err) {
      await child.kill();
      throw err;
    }
  }

  async subscriptions(name: string): Promise<string[]> {
    const res = await fetch(`${this.monitor}/connz?subs=detail&limit=1024`);
    const body = (await res.json()) as {
      connections: { name?: string; subscriptions_list_detail?: { subject: string; qgroup?: string }[] }[];
    };
    return body.connections
      .filter((c) => c.name === name)
      .flatMap((c) => c.subscriptions_list_detail ?? [])
      .map((s) => (s.qgroup === undefined ? s.subject : `${s.subject} ${s.qgroup}`))
      .sort();
  }

  lameDuck(): void {
    // nats-server enters lame-duck mode on SIGUSR2.
    this.inLameDuck = true;
    this.child?.process.kill('SIGUSR2');
  }

  async stop(): Promise<void> {
    // In lame-duck mode 2.9.10 ignores SIGTERM until its grace period ends; it is going anyway.
    if (this.inLameDuck) await this.child?.kill();
    else await this.child?.stop();
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true });
  }

  async kill(): Promise<void> {
    await this.child?.kill();
  }

  async restart(): Promise<void> {
    await this.stop();
    this.inLameDuck = false;
    await mkdir(this.dir, { recursive: true });
    await this.open(this.port);
  }
}
