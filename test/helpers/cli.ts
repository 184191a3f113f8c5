/**
 * Runs the built CLI (dist/src/cli/main.js) as a child process, as a user
 * would, and watches its output. Every wait is bounded and reports what the
 * process printed so far; every process started here is tracked so a test
 * file can kill what is left with `after(killAll)`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** dist/test/helpers/cli.js → dist/src/cli/main.js */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export const WAIT_MS = 5_000;

const running = new Set<Child>();

/** The environment without the NETEMITTER_* variables and NATS_URL of whoever runs the tests, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NETEMITTER_') && k !== 'NATS_URL') env[k] = v;
  // `serve` keeps streams in ./data by default; a test hub must not write into the working tree.
  return { ...env, NETEMITTER_STORE: 'memory', ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Something that grows over time (a process's output, a socket's bytes) and
 * ends (exit, close). `until` waits for a condition, bounded, and fails with
 * what was seen so far, or as soon as the thing ends without meeting it.
 */
abstract class Watched {
  private readonly wakers = new Set<() => void>();

  protected abstract ended(): boolean;
  protected abstract seen(): string;

  protected wake(): void {
    for (const w of this.wakers) w();
  }

  protected until<T>(what: string, check: () => T | undefined, ms: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(poll);
      };
      const poll = (): void => {
        const v = check();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.ended()) {
          done();
          reject(new Error(`ended before ${what}\n${this.seen()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms}ms waiting for ${what}\n${this.seen()}`));
      }, ms);
      this.wakers.add(poll);
      poll();
    });
  }
}

export interface ChildOptions {
  /** NETEMITTER_* and other variables on top of cleanEnv(). */
  env?: Record<string, string>;
  /** How output() names it. Default: the arguments. */
  name?: string;
  /** 'pipe' to write to it (see Proc.input); default 'ignore', so it reads EOF at once. */
  stdin?: 'ignore' | 'pipe';
  /** The bound on each wait unless one is given. Default WAIT_MS. */
  waitMs?: number;
  /** Working directory. Default: the test's. */
  cwd?: string;
}

/**
 * A child process whose stdout and stderr are watched. Every one started is
 * tracked, so a test file can kill what is left with `after(killAll)`.
 */
export class Child extends Watched {
  readonly child: ChildProcess;
  readonly name: string;
  readonly waitMs: number;
  stdout = '';
  stderr = '';
  exit: Exit | null = null;

  constructor(cmd: string, args: string[], o: ChildOptions = {}) {
    super();
    this.name = o.name ?? args.join(' ');
    this.waitMs = o.waitMs ?? WAIT_MS;
    this.child = spawn(cmd, args, { env: cleanEnv(o.env), stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'], ...(o.cwd !== undefined ? { cwd: o.cwd } : {}) });
    running.add(this);
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
      this.wake();
    });
    // A process that exits without reading its stdin makes writes to it fail with EPIPE.
    this.child.stdin?.on('error', () => {});
    this.child.on('close', (code, signal) => {
      this.exit = { code, signal };
      running.delete(this);
      this.wake();
    });
  }

  protected ended(): boolean {
    return this.exit !== null;
  }

  protected seen(): string {
    return this.output();
  }

  output(): string {
    return `--- ${this.name}: stdout ---\n${this.stdout}--- stderr ---\n${this.stderr}--- exit ${JSON.stringify(this.exit)}`;
  }

  waitForStdout(re: RegExp, ms = this.waitMs): Promise<RegExpMatchArray> {
    return this.until(`stdout to match ${re}`, () => this.stdout.match(re) ?? undefined, ms);
  }

  waitForStderr(re: RegExp, ms = this.waitMs): Promise<RegExpMatchArray> {
    return this.until(`stderr to match ${re}`, () => this.stderr.match(re) ?? undefined, ms);
  }

  waitForExit(ms = this.waitMs): Promise<Exit> {
    return this.until('exit', () => this.exit ?? undefined, ms);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exit === null) this.child.kill(signal);
  }
}

/** The built `netemitter` command, stdin closed. */
export class CliProcess extends Child {
  constructor(args: string[], env: Record<string, string> = {}) {
    super(process.execPath, [CLI_PATH, ...args], { env, name: `netemitter ${args.join(' ')}` });
  }

  /** Waits for a line of stdout matching `re`. */
  waitForOutput(re: RegExp, ms = WAIT_MS): Promise<RegExpMatchArray> {
    return this.waitForStdout(re, ms);
  }

  /** Waits for `listening on nats://…` and returns the port. */
  async tcpPort(ms = WAIT_MS): Promise<number> {
    const m = await this.waitForOutput(/listening on nats:\/\/127\.0\.0\.1:(\d+)/, ms);
    return Number(m[1]);
  }
}

/** Kills every child process a test file left running. For `after()`. */
export async function killAll(): Promise<void> {
  const left = [...running];
  for (const p of left) p.kill('SIGKILL');
  await Promise.all(left.map((p) => p.waitForExit().catch(() => undefined)));
}

/** Asserts that stderr is exactly one line, and returns it without the newline. */
export function oneLine(stderr: string): string {
  assert.match(stderr, /^[^\n]+\n$/, `expected exactly one line on stderr, got ${JSON.stringify(stderr)}`);
  return stderr.slice(0, -1);
}

/** Runs a command that should exit by itself. */
export async function runCli(args: string[], env: Record<string, string> = {}, ms = WAIT_MS): Promise<CliProcess & { exit: Exit }> {
  const p = new CliProcess(args, env);
  await p.waitForExit(ms);
  return p as CliProcess & { exit: Exit };
}

export type Endpoint = { port: number } | { path: string };

/** A raw protocol connection: reads the INFO line, can send bytes and wait for more. */
export class RawConnection extends Watched {
  readonly socket: Socket;
  received = '';
  closed = false;

  private constructor(socket: Socket) {
    super();
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (s: string) => {
      this.received += s;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async open(to: Endpoint, ms = WAIT_MS): Promise<RawConnection> {
    const socket = 'path' in to ? connect(to.path) : connect(to.port, '127.0.0.1');
    const conn = new RawConnection(socket);
    await conn.waitFor(/^INFO \{.*\} ?\r\n/, ms);
    return conn;
  }

  protected ended(): boolean {
    return this.closed;
  }

  protected seen(): string {
    return `received ${JSON.stringify(this.received)}`;
  }

  /** The INFO JSON the server sent first. */
  get info(): Record<string, unknown> {
    const m = /^INFO (\{.*\}) ?\r\n/.exec(this.received);
    if (m === null) throw new Error(`no INFO in ${JSON.stringify(this.received)}`);
    return JSON.parse(m[1]!) as Record<string, unknown>;
  }

  send(text: string): void {
    this.socket.write(text, 'latin1');
  }

  waitFor(re: RegExp, ms = WAIT_MS): Promise<RegExpMatchArray> {
    return this.until(`${re}`, () => this.received.match(re) ?? undefined, ms);
  }

  waitForClose(ms = WAIT_MS): Promise<true> {
    return this.until('close', () => (this.closed ? true : undefined), ms);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Connects, reads INFO, disconnects. */
export async function readInfo(to: Endpoint): Promise<Record<string, unknown>> {
  const c = await RawConnection.open(to);
  try {
    return c.info;
  } finally {
    c.close();
  }
}
