/**
 * The reconnect policy: when a dial loop stops trying, how long it waits
 * between passes over the server list, and how the failure is told.
 *
 *   pass 0: every server once ─► wait ~initialDelay ─► pass 1 ─► wait ×2 … ≤ maxDelay
 *
 * Each wait loses a random share (jitter) so that clients cut off together
 * do not come back in lockstep.
 */
import { AuthorizationError, ConnectionError, PermissionError } from '../errors.js';
import type { ResolvedConnectOptions, ServerAddress } from './options.js';

/** The waits between passes of a first connect (waitOnFirstConnect) when reconnecting is off. */
const FIRST_CONNECT_BACKOFF = { initialDelay: 250, maxDelay: 5000, jitter: 0.3 } as const;

/** Whether the loop stops after `attempts` failed dials in a row. */
export function shouldGiveUp(opts: ResolvedConnectOptions, everConnected: boolean, attempts: number, serverCount: number): boolean {
  const r = opts.reconnect;
  return everConnected ? r === false || (r.maxAttempts >= 0 && attempts >= r.maxAttempts) : !opts.waitOnFirstConnect && attempts >= serverCount;
}

/**
 * nats.js's rule: refused twice in a row, the credentials will not do;
 * retrying forever would only hammer the server.
 */
export function refusedTooOften(refusals: number, opts: ResolvedConnectOptions): boolean {
  return refusals >= 2 && !opts.ignoreAuthErrorAbort;
}

/** The wait after failed pass number `pass` (0 first) over the server list, ms. */
export function backoffDelay(reconnect: ResolvedConnectOptions['reconnect'], pass: number): number {
  const r = reconnect === false ? FIRST_CONNECT_BACKOFF : reconnect;
  const base = Math.min(r.maxDelay, r.initialDelay * 2 ** Math.min(pass, 20));
  return base * (1 - r.jitter * Math.random());
}

/**
 * The server's refusal behind a failed dial, if that is why it failed: bad
 * credentials, or a last will the user may not publish (the handshake fails
 * with a PermissionError only for that: client/will.ts).
 */
export function refusalOf(failure: ConnectionError): AuthorizationError | PermissionError | null {
  const cause = failure.cause;
  return cause instanceof AuthorizationError || cause instanceof PermissionError ? cause : null;
}

/** Why the loop gave up, from the last failure of each server tried (in the order first tried). */
export function gaveUpError(everConnected: boolean, failed: ConnectionError[], attempts: number): ConnectionError | AuthorizationError | PermissionError {
  // A first connect that some server refused says so: the credentials (or the will) are what to fix.
  const refused = failed.map(refusalOf).find((r) => r !== null);
  if (!everConnected && refused != null) return refused;
  return everConnected ? noServer('could not reconnect', failed, ` (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`) : noServer('could not connect', failed);
}

/**
 * Why one server could not be reached: `<url>: <detail>`, with the socket's or
 * the server's error as cause (a string is our own detail: a timeout…).
 */
export function serverFailure(server: ServerAddress, why: string | Error): ConnectionError {
  if (typeof why === 'string') return new ConnectionError(`${server.url}: ${why}`, { server: server.url });
  return new ConnectionError(`${server.url}: ${why.message}`, { cause: why, server: server.url });
}

/** The short reason of a server's failure: a socket error's code (ECONNREFUSED), else its detail. */
function reasonOf(failure: ConnectionError): string {
  const cause = failure.cause as NodeJS.ErrnoException | undefined;
  if (typeof cause?.code === 'string' && typeof cause.syscall === 'string') return cause.code;
  return failure.message.slice(failure.server!.length + 2);
}

/**
 * No server could be reached. One server: `could not connect to <url>: <detail>`;
 * several: `could not connect to any server: <url> (<reason>), …` (`could
 * not reconnect …` when reconnecting gave up). The
 * failures are on `errors`; `cause` is the last one's cause, as before there
 * was a list.
 */
function noServer(what: string, failures: ConnectionError[], suffix = ''): ConnectionError {
  const last = failures.at(-1)!;
  const list = failures.length === 1 ? last.message : `any server: ${failures.map((f) => `${f.server} (${reasonOf(f)})`).join(', ')}`;
  const message = `${what} to ${list}${suffix}`;
  return new ConnectionError(message, { cause: last.cause ?? last, errors: failures });
}
