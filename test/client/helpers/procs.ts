/**
 * Child processes of the client suite (nats-server nodes, hubs in a child
 * process): spawned, watched, and always reaped. A child still alive when
 * the test process exits is killed by an exit hook, so a crashed test file
 * leaves nothing behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
}

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited (whatever the cause). */
  readonly exited: Promise<void>;
  /** The tail of its stderr, to explain a failure. */
  log(): string;
  /** SIGTERM, then SIGKILL if it lingers; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, as a crash; resolves once it has exited. */
  kill(): Promise<void>;
}

export function spawnChild(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  if (!hooked) {
    process.on('exit', killAll);
    hooked = true;
  }
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  live.add(child);
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    tail = (tail + s).slice(-4096);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  }).then(() => {
    live.delete(child);
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  return {
    process: child,
    pid: child.pid ?? -1,
    exited,
    log: () => tail,
    async stop(graceMs = 5_000) {
      if (alive()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      await exited;
    },
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Where Debian installs the reference server; NATS_SERVER_BIN overrides. */
export function natsServerBin(): string | null {
  const bin = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
  try {
    accessSync(bin, fsConstants.X_OK);
    return bin;
  } catch {
    return null;
  }
}

export interface NatsPorts {
  nats: string[];
  monitoring?: string[];
  cluster?: string[];
  websocket?: string[];
}

/**
 * Waits for the ports file nats-server writes once it listens
 * (`ports_file_dir`), and returns its content.
 */
export async function waitForPorts(child: Child, file: string, ms = 5_000): Promise<NatsPorts> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`nats-server exited during startup:\n${child.log()}`);
    }
    try {
      const ports = JSON.parse(await readFile(file, 'utf8')) as NatsPorts;
      if (Array.isArray(ports.nats) && ports.nats.length > 0) return ports;
    } catch {
      // Not written yet, or half-written.
    }
    await sleep(10);
  }
  throw new Error(`nats-server did not write ${file} within ${ms} ms:\n${child.log()}`);
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}
