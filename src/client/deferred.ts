/**
 * An API object whose code loads on its first call: the getter that returns
 * it stays synchronous (`bus.streams.add(…)`), while what is behind it is a
 * dynamic import (the browser bundle keeps the JetStream API out of what
 * connect() loads). Only for APIs whose every method returns a promise: a
 * call waits for `load`, then calls the loaded object's method.
 */
export function deferred<T extends object>(load: () => Promise<T>): T {
  return new Proxy(Object.create(null) as T, {
    get(_target, key) {
      // Not a thenable (`await bus.streams` must not call it), and no symbol protocol (inspect, iteration).
      if (key === 'then' || typeof key === 'symbol') return undefined;
      return (...args: unknown[]) => load().then((api) => (api as Record<string, (...a: unknown[]) => unknown>)[key]!(...args));
    },
  });
}
