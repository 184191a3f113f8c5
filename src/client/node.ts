/**
 * The client on Node: connect() with Node's dialers. TCP, Unix sockets and
 * Windows pipes through node:net, the NATS-level TLS upgrade through
 * node:tls, ws:// / wss:// through the ws package (websocket.ts), and
 * inprocess:// to a hub of this process (in-process.ts, no socket).
 */
import type { Duplex } from 'node:stream';
import type { DialTarget } from '../transport.js';
import { connectWith, type Bus } from './bus.js';
import type { EventMap } from './bus-types.js';
import { dialPath, dialTcp } from './dialer.js';
import type { ConnectOptions } from './options.js';
import { ObjectStore } from './objects/store.js';
import type { ClientPlatform, ResolvedTls } from './platform.js';
import { resolveTls, upgradeTls } from './tls.js';
import { webSocketDialer } from './websocket.js';
import { dialInProcess } from '../in-process.js';

export const nodePlatform: ClientPlatform = {
  name: 'node',
  dialerFor(target: DialTarget, tls: ResolvedTls | null) {
    if (target.inprocess !== undefined) return tls === null ? dialInProcess : 'the tls option does not apply to an in-process connection (no network between the two)';
    if (target.websocket !== undefined) {
      // The tls option means "encrypted": over WebSocket that is wss://, never an upgrade inside ws://.
      if (tls !== null && !target.websocket.secure) return 'the tls option needs a wss:// URL (ws:// is plaintext)';
      if (tls?.handshakeFirst === true) return 'tls.handshakeFirst does not apply to WebSocket URLs (wss:// does TLS before the upgrade)';
      return webSocketDialer(tls);
    }
    return target.path !== undefined ? dialPath : dialTcp;
  },
  resolveTls,
  // Every stream Node's dialers make is a Duplex; a dialer option's must be one too for TLS.
  upgradeTls: (stream, tls, target, signal) => upgradeTls(stream as Duplex, tls, target, signal),
  openObjectStore: (deps, bucket, opts) => ObjectStore.open(deps, bucket, opts),
};

/**
 * Connects to a hub or NATS server and returns the bus once connected.
 * `connect<Events>()` types on/emit/request/handle by the event map.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function connect<E extends EventMap = Record<string, any>>(opts?: string | string[] | ConnectOptions): Promise<Bus<E>> {
  return connectWith<E>(nodePlatform, opts);
}
