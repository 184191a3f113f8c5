/**
 * The hub's event and option types (hub.ts): what an application listening
 * to a hub receives.
 */
import type { HubAddress } from './listeners.js';
import type { ClientInfo, CloseReason } from './types.js';

export interface SubscriptionEvent {
  readonly client: ClientInfo;
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
}

/** The hub's events. `error` is emitted only when someone listens for it; otherwise errors are logged. */
export interface HubEvents {
  listening: [addresses: HubAddress[]];
  /** A client connected (its INFO is sent; it has not sent CONNECT yet, so it has no name). */
  connection: [client: ClientInfo];
  /** A client's CONNECT was accepted (and authenticated): it has its name, user, lang and version. */
  ready: [client: ClientInfo];
  disconnect: [client: ClientInfo, reason: CloseReason];
  subscribe: [event: SubscriptionEvent];
  unsubscribe: [event: SubscriptionEvent];
  slow_consumer: [client: ClientInfo];
  lame_duck: [];
  error: [err: Error];
  close: [];
}

export interface CloseOptions {
  /** Milliseconds between the lame-duck INFO and closing clients. Default: the hub's lameDuckGracePeriod. */
  grace?: number;
}
