/**
 * Child processes for the client-command and echo tests: any program (the
 * built CLI, the seed fixtures, nats-server), stdin as a pipe, stdout and
 * stderr watched separately. Every wait is bounded and fails with what the
 * process printed so far; `killProcs()` in `after()` reaps what is left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI_PATH, cleanEnv, type Exit } from '../helpers/cli.js';

/**
 * The bound on each wait. Each step here starts a node process or two, which
 * takes well under a second on an idle machine; the margin is for a loaded
 * one (the suite runs two files at a time, benchmarks may run beside it).
 */
export const WAIT_MS = 10_000;

/** dist/test/cli/proc.js → test/fixtures/seed/ (plain JS, not compiled). */
export const SEED_DIR = fileURLToPath(new URL('../../../test/fixtures/seed/', import.meta.url));

const running = new Set<Proc>();

export class Proc {
  readonly child: ChildProcess;
  readonly name: string;
  stdout = '';
  stderr = '';
  exit: Exit | null = null;
  private readonly wakers = new Set<() => void>();

  constructor(cmd: string, args: string[], env: Record<string, string> = {}, name = args.join(' ')) {
    this.name = name;
    this.child = spawn(cmd, args, { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
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
    this.child.stdin!.on('error', () => {});
    this.child.on('close', (code, signal) => {
      this.exit = { code, signal };
      running.delete(this);
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.wakers) w();
  }

  output(): string {
    return `--- ${this.name}: stdout ---\n${this.stdout}--- stderr ---\n${this.stderr}--- exit ${JSON.stringify(this.exit)}`;
  }

  until<T>(what: string, check: () => T | undefined, ms = WAIT_MS): Promise<T> {
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
        } else if (this.exit !== null) {
          done();
          reject(new Error(`exited before ${what}\n${this.output()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms}ms waiting for ${what}\n${this.output()}`));
      }, ms);
      this.wakers.add(poll);
      poll();
    });
  }

  waitForStdout(re: RegExp, ms = WAIT_MS): Promise<RegExpMatchArray> {
    return this.until(`stdout to match ${re}`, () => this.stdout.match(re) ?? undefined, ms);
  }

  waitForStderr(re: RegExp, ms = WAIT_MS): Promise<RegExpMatchArray> {
    return this.until(`stderr to match ${re}`, () => this.stderr.match(re) ?? undefined, ms);
  }

  /** Waits for stdout to hold `n` lines matching `re`. */
  waitForLines(re: RegExp, n: number, ms = WAIT_MS): Promise<string[]> {
    return this.until(`${n} stdout lines matching ${re}`, () => {
      const found = lines(this.stdout).filter((l) => re.test(l));
      return found.length >= n ? found : undefined;
    }, ms);
  }

  waitForExit(ms = WAIT_MS): Promise<Exit> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(poll);
      };
      const poll = (): void => {
        if (this.exit !== null) {
          done();
          resolve(this.exit);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms}ms waiting for exit\n${this.output()}`));
      }, ms);
      this.wakers.add(poll);
      poll();
    });
  }

  /** Writes to stdin and closes it. */
  input(text: string): void {
    this.child.stdin!.end(text);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exit === null) this.child.kill(signal);
  }
}

/** The built `netemitter` command. */
export function cli(args: string[], env: Record<string, string> = {}): Proc {
  return new Proc(process.execPath, [CLI_PATH, ...args], env, `netemitter ${args.join(' ')}`);
}

/** A command that should end by itself (stdin closed, with `input` if given). */
export async function runCli(args: string[], opts: { env?: Record<string, string>; input?: string; ms?: number } = {}): Promise<Proc & { exit: Exit }> {
  const p = cli(args, opts.env);
  p.input(opts.input ?? '');
  await p.waitForExit(opts.ms);
  return p as Proc & { exit: Exit };
}

/** Runs commands that end by themselves, a few at a time (each is a node process to start). */
export async function runClis(list: string[][], parallel = 3): Promise<(Proc & { exit: Exit })[]> {
  const out: (Proc & { exit: Exit })[] = new Array(list.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      out[i] = await runCli(list[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, list.length) }, lane));
  return out;
}

/** A seed fixture (test/fixtures/seed/NAME.js) run with plain node. */
export function seed(name: 'echo-server' | 'echo-client', args: string[]): Proc {
  return new Proc(process.execPath, [`${SEED_DIR}${name}.js`, ...args], {}, `seed ${name} ${args.join(' ')}`);
}

export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

/** Kills every process a test file left running. For `after()`. */
export async function killProcs(): Promise<void> {
  const left = [...running];
  for (const p of left) p.kill('SIGKILL');
  await Promise.all(left.map((p) => p.waitForExit().catch(() => undefined)));
}
