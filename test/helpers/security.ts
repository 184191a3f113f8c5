/**
 * Shared steps of the security conformance tests (auth, tls, permissions,
 * hostile): sending something that must be refused, and waiting for the
 * refusal.
 *
 * The hub can slow brute force down (issue #14, authorization.maxFailureDelay):
 * a refusal's -ERR and close then come after a delay that grows, up to a few
 * seconds, with the failures from one address, and every test client comes
 * from 127.0.0.1. nats-server refuses at once, and the conformance target
 * turns the hub's delay off; the waits here still allow for it
 * (REFUSAL_TIMEOUT_MS), and a test with several refusals sends them all at
 * once so that delays would overlap instead of adding up. Nothing here
 * asserts how long a refusal took.
 */
import assert from 'node:assert/strict';
import { withRaw } from './raw.js';
import { startServer, type ServerOptions, type TestServer } from './target.js';

/** Longer than the hub's longest brute-force delay plus a busy machine's slack. */
export const REFUSAL_TIMEOUT_MS = 15_000;

/** A nats.js connect timeout that outlasts the hub's brute-force delay, so a refusal is reported as AuthorizationError, not a timeout. */
export const CLIENT_TIMEOUT_MS = REFUSAL_TIMEOUT_MS;

export type RawData = string | ((info: Record<string, unknown>) => string);

/**
 * Sends `data` on a fresh raw connection (a function gets the INFO first,
 * for a nonce) and returns everything received after INFO once the server
 * has closed the connection. Fails if it stays open.
 */
export function untilClosed(server: { host: string; port: number }, data: RawData, timeoutMs = REFUSAL_TIMEOUT_MS): Promise<string> {
  return withRaw(server, async (c) => {
    c.send(typeof data === 'string' ? data : data(c.info));
    assert.equal(await c.waitClosed(timeoutMs), true, `the server kept the connection open; received ${JSON.stringify(c.text())}`);
    return c.text();
  });
}

/**
 * Runs every case on its own connection, all at once, and asserts that each
 * received exactly `expected` before the server closed it. The result is
 * compared as one record, so a failure shows every case.
 */
export async function assertAllClosedWith(server: { host: string; port: number }, cases: Record<string, RawData>, expected: string): Promise<void> {
  const names = Object.keys(cases);
  const got = await Promise.all(names.map((name) => untilClosed(server, cases[name]!)));
  assert.deepEqual(
    Object.fromEntries(names.map((name, i) => [name, got[i]])),
    Object.fromEntries(names.map((name) => [name, expected])),
  );
}

/** startServer must reject (nats-server exits, the hub throws); a server that does start is stopped before the test fails. */
export async function refusesToStart(opts: ServerOptions): Promise<void> {
  let started: TestServer;
  try {
    started = await startServer(opts);
  } catch {
    return;
  }
  await started.stop();
  assert.fail('the server started with a configuration that cannot work');
}
