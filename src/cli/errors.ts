/**
 * Exit codes and error reporting shared by every command. A command throws;
 * main.ts turns the error into one line on stderr and an exit code, so all
 * commands fail the same way:
 *
 *   0    success, including a graceful shutdown on SIGINT/SIGTERM
 *   1    a runtime or start-up failure (cannot listen, cannot connect …)
 *   2    a usage error: unknown flag, invalid value, invalid config file
 *   130  forced exit by a second SIGINT  (128 + 2, the shell's convention)
 *   143  forced exit by a second SIGTERM (128 + 15)
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../errors.js';

export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  SIGINT: 130,
  SIGTERM: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const PROGRAM = 'netemitter';

/** Commander's own exits (help, version) are successes; its parse errors are usage errors. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  if (err instanceof ConfigError) return ExitCode.USAGE;
  return ExitCode.FAILURE;
}

/**
 * One line for humans: `netemitter: <message>`. With `debug`, the stack and
 * the chain of causes follow, for bug reports.
 */
export function formatError(err: unknown, debug = false): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = `${PROGRAM}: ${oneLine(message)}`;
  if (!debug || !(err instanceof Error)) return line;
  const parts = [line, err.stack ?? ''];
  let cause = err.cause;
  while (cause !== undefined && cause !== null) {
    parts.push(`caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join('\n');
}

/** Commander prints `error: …` and sometimes a second line with a suggestion; we print one line. */
export function formatCommanderMessage(text: string): string {
  return `${PROGRAM}: ${oneLine(text.replace(/^error:\s*/, ''))}`;
}

function oneLine(text: string): string {
  return text.trim().split(/\s*\n\s*/).join(' ');
}

/**
 * Exits with `code` once stdout and stderr are flushed (after writing `text`
 * to stderr, if given). Writes to a pipe are asynchronous on POSIX, and a
 * bare process.exit() could cut the last line of help or of an error.
 */
export function exitWith(code: number, text?: string): void {
  if (text !== undefined) process.stderr.write(`${text}\n`);
  let pending = 2;
  const flushed = (): void => {
    if (--pending === 0) process.exit(code);
  };
  // A write's callback runs after the writes queued before it.
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}
