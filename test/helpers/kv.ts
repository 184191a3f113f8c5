/**
 * Helpers for the ecosystem suite (test/ecosystem/): the official key-value
 * (@nats-io/kv) and object store (@nats-io/obj) clients on one
 * JetStream-enabled server of the current target, and bounded reading of
 * the iterators they return (keys, history, watch, object lists).
 */
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { startJetStream, type JsContext } from './jetstream.js';
import { within } from './client.js';

export const ITER_TIMEOUT_MS = 10_000;

export interface KvContext extends JsContext {
  readonly kvm: Kvm;
  readonly objm: Objm;
}

/** Starts a JetStream server of the current target with the KV and object store managers on one connection. */
export async function startKv(): Promise<KvContext> {
  const ctx = await startJetStream();
  return Object.assign(ctx, { kvm: new Kvm(ctx.js), objm: new Objm(ctx.js) });
}

/** Reads an iterator that ends by itself (keys, history, an object list) to its end, within a bound. */
export async function readAll<T>(iter: AsyncIterable<T>, what: string, timeoutMs = ITER_TIMEOUT_MS): Promise<T[]> {
  const got: T[] = [];
  await within(
    (async () => {
      for await (const v of iter) got.push(v);
    })(),
    timeoutMs,
    `${what} (${got.length} read so far)`,
  );
  return got;
}

/**
 * An open-ended iterator (a watch) read a few values at a time: `take(n)`
 * resolves with the next n values, or rejects after the bound saying how
 * many came. The iterator stays open between calls.
 */
export interface Taker<T> {
  take(n: number, timeoutMs?: number): Promise<T[]>;
}

export function taker<T>(iterable: AsyncIterable<T>, what: string): Taker<T> {
  const it = iterable[Symbol.asyncIterator]();
  // A next() that lost its race against the bound is still owed a value: keep it for the following take().
  let pending: Promise<IteratorResult<T>> | null = null;
  return {
    async take(n, timeoutMs = ITER_TIMEOUT_MS) {
      const got: T[] = [];
      const deadline = Date.now() + timeoutMs;
      while (got.length < n) {
        pending ??= it.next();
        const r = await within(pending, Math.max(1, deadline - Date.now()), `${what}: ${got.length} of ${n} values`);
        pending = null;
        if (r.done === true) throw new Error(`${what}: the iterator ended after ${got.length} of ${n} values`);
        got.push(r.value);
      }
      return got;
    },
  };
}
