/**
 * A bus's JetStream API (the client that calls it, stream and consumer
 * management over it), loaded on first use: a dynamic import, so the browser
 * bundle keeps it out of what connect() loads. `bus.streams` and
 * `bus.consumers` stay synchronous getters through deferred().
 */
import type { JetStreamClient, JsHost } from './jetstream/api.js';
import type { Consumers, Streams } from './jetstream/manage.js';

export interface JsApis {
  client: JetStreamClient;
  streams: Streams;
  consumers: Consumers;
}

export async function loadJsApis(host: JsHost, opts: { prefix: string; timeout: number }): Promise<JsApis> {
  const [api, manage] = await Promise.all([import('./jetstream/api.js'), import('./jetstream/manage.js')]);
  const client = new api.JetStreamClient(host, opts);
  return { client, streams: new manage.Streams(client), consumers: new manage.Consumers(client) };
}

/**
 * An API object whose code loads on its first call. Only for APIs whose
 * every method returns a promise: a call waits for `load`, then calls the
 * loaded object's method.
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
