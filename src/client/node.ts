/**
 * The client on Node: connect() with Node's dialers. TCP, Unix sockets and
 * Windows pipes through node:net, the NATS-level TLS upgrade through
 * node:tls, and ws:// / wss:// through the ws package (websocket.ts).
 */
import type { Duplex } from 'node:stream';
import type { DialTarget } from '../transport.js';
import { connectWith, type Bus } from './bus.js';
import type { EventMap } from './bus-types.js';
import { dialPath, dialTcp } from './dialer.js';
import type { ConnectOptions } from './options.js';
import type { ClientPlatform, ResolvedTls } from './platform.js';
import { resolveTls, upgradeTls } from './tls.js';

export const nodePlatform: ClientPlatform = {
  name: 'node',
  dialerFor(target: DialTarget, _tls: ResolvedTls | null) {
    if (target.websocket !== undefined) return 'ws:// and wss:// are not supported yet';
    return target.path !== undefined ? dialPath : dialTcp;
  },
  resolveTls,
  // Every stream Node's dialers make is a Duplex; a dialer option's must be one too for TLS.
  upgradeTls: (stream, tls, target, signal) => upgradeTls(stream as Duplex, tls, target, signal),
};

/**
 * Connects to a hub or NATS server and returns the bus once connected.
 * `connect<Events>()` types on/emit/request/handle by the event map.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function connect<E extends EventMap = Record<string, any>>(opts?: string | string[] | ConnectOptions): Promise<Bus<E>> {
  return connectWith<E>(nodePlatform, opts);
}
