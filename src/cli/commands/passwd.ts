/**
 * `netemitter passwd`: prints a bcrypt hash of a password, for the
 * `password` of a user in the config file (docs/security.md). The hub, like
 * nats-server, tells a hash from a plain password by its `$2a$`/`$2b$` prefix,
 * so the hash can go to either server.
 *
 * The password comes from stdin, never from an argument (arguments show in
 * `ps` and in shell history): on a terminal it is asked twice without echo,
 * from a pipe it is the first line. Prompts go to stderr, so stdout holds the
 * hash alone (`netemitter passwd > alice.hash`).
 */
import type { Command } from 'commander';
import { ExitCode, exitWith } from '../errors.js';
import { InvalidValue, parseAt, parseCount, type RawValue } from '../values.js';

/** The nats CLI's default cost (`nats server passwd`): about 0.1 s per check on a current CPU. */
export const DEFAULT_COST = 11;
/** bcrypt's own bounds on the cost (log2 of the rounds). */
export const MIN_COST = 4;
export const MAX_COST = 31;
/** bcrypt reads at most 72 bytes: the rest of a longer password would be ignored, so it is refused. */
export const MAX_PASSWORD_BYTES = 72;

function parseCost(raw: RawValue): number {
  const n = parseCount(raw, 0);
  if (n < MIN_COST || n > MAX_COST) throw new InvalidValue(`an integer ${MIN_COST}-${MAX_COST}`);
  return n;
}

export function registerPasswd(program: Command): void {
  program
    .command('passwd')
    .description('print a bcrypt hash of a password read from stdin (asked twice on a terminal), for a user in the config file')
    .option('--cost <n>', `bcrypt cost, ${MIN_COST}-${MAX_COST}; each step doubles the time a check takes (default: ${DEFAULT_COST})`)
    .action(async function passwdAction(this: Command): Promise<void> {
      const opts = this.opts<{ cost?: string }>();
      const cost = opts.cost === undefined ? DEFAULT_COST : parseAt('--cost', opts.cost, parseCost);
      const password = process.stdin.isTTY === true ? await askTwice(this) : await firstLine(process.stdin);
      if (password === '') this.error('empty password', { exitCode: ExitCode.USAGE, code: 'netemitter.passwd' });
      if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
        this.error(`password longer than ${MAX_PASSWORD_BYTES} bytes: bcrypt would ignore the rest`, { exitCode: ExitCode.USAGE, code: 'netemitter.passwd' });
      }
      // Loaded here, not at every CLI start.
      const bcrypt = (await import('bcryptjs')).default;
      process.stdout.write(`${await bcrypt.hash(password, cost)}\n`);
    });
}

/** The first line of a pipe or file (without its line ending); the rest is not read. */
async function firstLine(input: NodeJS.ReadStream): Promise<string> {
  let text = '';
  input.setEncoding('utf8');
  for await (const chunk of input) {
    text += chunk as string;
    if (text.includes('\n')) break;
  }
  // Stop reading: the writer may keep the pipe open.
  input.destroy();
  return text.split('\n', 1)[0]!.replace(/\r$/, '');
}

/** Asks on the terminal, twice, without echo. */
async function askTwice(cmd: Command): Promise<string> {
  const tty = new SilentTty(process.stdin, process.stderr);
  try {
    const first = await tty.ask('Password: ');
    if (first === '') return first;
    const second = await tty.ask('Repeat the password: ');
    if (second !== first) cmd.error('the passwords do not match', { exitCode: ExitCode.USAGE, code: 'netemitter.passwd' });
    return first;
  } finally {
    tty.close();
  }
}

const ENTER = new Set(['\r', '\n']);
const ERASE = new Set(['\u007f', '\b']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const CTRL_U = '\u0015';

/**
 * Lines typed on a terminal in raw mode, so nothing is echoed. Keys that
 * arrive together (a paste, or both answers typed ahead) are split into
 * lines and kept for the next question.
 */
class SilentTty {
  private readonly lines: string[] = [];
  private current = '';
  private waiter: (() => void) | undefined;
  private ended = false;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly prompts: NodeJS.WriteStream,
  ) {
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', this.onData);
    input.resume();
  }

  private readonly onData = (chunk: string): void => {
    for (const ch of chunk) {
      if (ENTER.has(ch)) this.endLine();
      else if (ERASE.has(ch)) this.current = [...this.current].slice(0, -1).join('');
      else if (ch === CTRL_U) this.current = '';
      else if (ch === CTRL_C) {
        this.close();
        this.prompts.write('\n');
        exitWith(ExitCode.SIGINT);
        return;
      } else if (ch === CTRL_D) {
        this.ended = true;
        this.endLine();
      } else this.current += ch;
    }
  };

  private endLine(): void {
    this.lines.push(this.current);
    this.current = '';
    this.waiter?.();
  }

  async ask(prompt: string): Promise<string> {
    this.prompts.write(prompt);
    while (this.lines.length === 0) {
      if (this.ended) return '';
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    this.waiter = undefined;
    this.prompts.write('\n');
    return this.lines.shift()!;
  }

  close(): void {
    this.input.off('data', this.onData);
    this.input.setRawMode(false);
    this.input.pause();
  }
}
