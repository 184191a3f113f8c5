/**
 * netemitter in a browser: `import { connect } from 'netemitter/browser'`.
 * The same bus as in Node (on/emit, request/handle, durable listeners, KV),
 * reaching the hub or a NATS server over the page's WebSocket (ws:// and
 * wss:// URLs only; see docs/browser.md). scripts/build.mjs bundles this
 * entry into dist/browser/netemitter.js.
 */
import { connectWith, type Bus } from './client/bus.js';
import type { EventMap } from './client/bus-types.js';
import { browserPlatform } from './client/browser-platform.js';
import type { ConnectOptions } from './client/options.js';

/**
 * Connects to a server's WebSocket listener (`ws://host:port[/path]`,
 * `wss://…`) and returns the bus once connected. `connect<Events>()` types
 * on/emit/request/handle by the event map.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function connect<E extends EventMap = Record<string, any>>(opts?: string | string[] | BrowserConnectOptions): Promise<Bus<E>> {
  return connectWith<E>(browserPlatform, opts);
}

/** connect()'s options in a browser: those of Node's, without `tls` (the browser does TLS for wss://). */
export type BrowserConnectOptions = Omit<ConnectOptions, 'tls'>;

export * from './client/public.js';
// Types only: in a page these classes load with their first use (lazily loaded chunks).
export type { Streams, Consumers } from './client/jetstream/manage.js';
export type { KvBucket } from './client/kv/bucket.js';
export type { KvWatch } from './client/kv/watch.js';
