/**
 * Small helpers around the official client (@nats-io/transport-node) for
 * conformance tests: connecting to the test server, a delivery barrier, and
 * bounded collection of messages.
 */
import { connect, type Msg, type NatsConnection, type NodeConnectionOptions, type Subscription } from '@nats-io/transport-node';
import type { TestServer } from './target.js';

export const DEFAULT_TIMEOUT_MS = 5_000;

/** Connects the official client to a test server; no reconnects, so a dropped connection fails the test. */
export function connectTo(server: TestServer, opts: Partial<NodeConnectionOptions> = {}): Promise<NatsConnection> {
  return connect({ servers: server.url, reconnect: false, timeout: DEFAULT_TIMEOUT_MS, ...opts });
}

/**
 * A delivery barrier across connections. A server handles one connection's
 * input in order, so once a publisher's flush() (PING/PONG) returns, every
 * message it published is queued to its subscribers ahead of anything they
 * send later; the subscribers' own flush() then returns after those messages
 * have been dispatched. After this, "not received" means "not delivered".
 */
export async function barrier(publisher: NatsConnection, ...subscribers: NatsConnection[]): Promise<void> {
  await publisher.flush();
  for (const nc of subscribers) await nc.flush();
}

/**
 * Reads exactly `n` messages from a subscription's iterator, or rejects
 * after timeoutMs with how many arrived.
 */
export async function collect(sub: Subscription, n: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Msg[]> {
  const got: Msg[] = [];
  if (n === 0) return got;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`collect(${sub.getSubject()}): ${got.length} of ${n} messages after ${timeoutMs} ms`));
      sub.unsubscribe();
    }, timeoutMs);
  });
  const reading = (async () => {
    for await (const m of sub) {
      got.push(m);
      if (got.length >= n) break;
    }
    return got;
  })();
  try {
    return await Promise.race([reading, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes connections that are still open; for `after` hooks. */
export async function closeAll(...conns: (NatsConnection | undefined)[]): Promise<void> {
  await Promise.all(conns.map((nc) => (nc === undefined || nc.isClosed() ? undefined : nc.close())));
}

/** Resolves with what the promise rejects with; fails if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Resolves like `p`, or rejects after timeoutMs naming what was awaited. */
export async function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
