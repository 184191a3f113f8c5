/**
 * SIGINT/SIGTERM handling shared by long-running commands (serve, sub,
 * reply, echo-server, bench …): the first signal asks for a graceful stop,
 * a second one forces the exit at once, as Ctrl-C twice does in most
 * servers. The forced exit code is 128 + the signal number, what a shell
 * reports for a process killed by that signal.
 *
 * One Ctrl-C can arrive twice: the terminal signals the whole foreground
 * process group, and `npm start` also forwards the signal to its child
 * (the child is node itself when the script shell execs, as bash does).
 * The two land a millisecond apart, so a repeat of the same signal within
 * DUPLICATE_WINDOW_MS counts as the same request; no one presses Ctrl-C
 * twice that fast on purpose.
 */
import { ExitCode } from './errors.js';

export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

export const DUPLICATE_WINDOW_MS = 250;

export function forcedExitCode(signal: ShutdownSignal): number {
  return signal === 'SIGINT' ? ExitCode.SIGINT : ExitCode.SIGTERM;
}

export interface ShutdownHandlers {
  /** The first signal: start a graceful stop. */
  graceful(signal: ShutdownSignal): void;
  /** A later signal: exit now. */
  force(signal: ShutdownSignal): void;
}

/** Installs the handlers; returns a function that removes them. */
export function onShutdownSignals(handlers: ShutdownHandlers): () => void {
  let first: { signal: ShutdownSignal; at: number } | undefined;
  const listener = (signal: NodeJS.Signals): void => {
    const s = signal as ShutdownSignal;
    const now = performance.now();
    if (first === undefined) {
      first = { signal: s, at: now };
      handlers.graceful(s);
    } else if (s !== first.signal || now - first.at > DUPLICATE_WINDOW_MS) {
      handlers.force(s);
    }
  };
  for (const s of SHUTDOWN_SIGNALS) process.on(s, listener);
  return () => {
    for (const s of SHUTDOWN_SIGNALS) process.off(s, listener);
  };
}
