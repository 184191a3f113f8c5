/**
 * CommonJS packages loaded at their first use instead of at start-up. A hub
 * without a WebSocket listener, monitoring or NKey users never loads ws,
 * prom-client or nkeys: together with ajv they were most of `netemitter
 * serve`'s time to its first PONG (module loading, not work). Node-only: the
 * browser bundle never imports this.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** A function that loads the package `id` on its first call and returns it ever after. */
export function lazy<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(id) as T);
}
