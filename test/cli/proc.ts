/**
 * Child processes for the client-command and echo tests: any program (the
 * built CLI, the seed fixtures, nats-server), stdin as a pipe, stdout and
 * stderr watched separately. Every wait is bounded and fails with what the
 * process printed so far; `killProcs()` in `after()` reaps what is left.
 */
import { fileURLToPath } from 'node:url';
import { CLI_PATH, Child, killAll, type Exit } from '../helpers/cli.js';

/**
 * The bound on each wait. Each step here starts a node process or two, which
 * takes well under a second on an idle machine; the margin is for a loaded
 * one (the suite runs two files at a time, benchmarks may run beside it).
 */
export const WAIT_MS = 10_000;

/** dist/test/cli/proc.js → test/fixtures/seed/ (plain JS, not compiled). */
export const SEED_DIR = fileURLToPath(new URL('../../../test/fixtures/seed/', import.meta.url));

/** Any program (the built CLI, the seed fixtures, nats-server) with stdin as a pipe. */
export class Proc extends Child {
  constructor(cmd: string, args: string[], env: Record<string, string> = {}, name = args.join(' ')) {
    super(cmd, args, { env, name, stdin: 'pipe', waitMs: WAIT_MS });
  }

  /** Waits for stdout to hold `n` lines matching `re`. */
  waitForLines(re: RegExp, n: number, ms = WAIT_MS): Promise<string[]> {
    return this.until(`${n} stdout lines matching ${re}`, () => {
      const found = lines(this.stdout).filter((l) => re.test(l));
      return found.length >= n ? found : undefined;
    }, ms);
  }

  /** Writes to stdin and closes it. */
  input(text: string): void {
    this.child.stdin!.end(text);
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
export const killProcs = killAll;
