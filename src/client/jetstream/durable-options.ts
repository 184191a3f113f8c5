/**
 * A durable listener's options, their defaults and their check: what
 * `bus.on(subject, fn, { durable })` needs at the call site, kept apart from
 * the listener itself (durable.ts), which loads when the first one starts.
 */
import { checkName } from './names.js';
import type { DeliverPolicy } from './types.js';

export interface DurableOptions {
  /** The durable consumer's name: listeners with the same name, in any process, share its events. */
  durable: string;
  /** The stream to bind to. Default: the stream that stores the subject (looked up). */
  stream?: string;
  /** Receive the payload as the raw Buffer, undecoded. */
  raw?: boolean;
  /** Where a new consumer starts: 'all' (default) the whole stream, 'new' only events stored from now, 'last'… */
  deliverPolicy?: DeliverPolicy;
  /** ms before an unacknowledged event is redelivered. Server default 30000. */
  ackWait?: number;
  /** Deliveries before the server gives up on an event (-1 no limit). Server default -1. */
  maxDeliver?: number;
  /** ms: redelivery delays for unacknowledged events, per attempt (consumer `backoff`; needs maxDeliver > its length). */
  backoff?: number[];
  /** Events delivered and not yet acknowledged, across all listeners of the consumer. Server default 1000. */
  maxAckPending?: number;
  /**
   * Subject the netemitter hub republishes an event to once it exhausts
   * maxDeliver or is terminated (consumer metadata `dead_letter_subject`;
   * the hub's default is `dlq.<stream>.<durable>`). nats-server ignores it.
   */
  deadLetter?: string;
  /** Delay before an event whose handler threw is redelivered: exponential by default, or a function of the delivery count. */
  nakDelay?: NakDelay;
  /** Handlers running at once. Default 1: events are handled one at a time, in order. */
  concurrency?: number;
  /** Events asked for per pull request. Default 10. */
  batch?: number;
  /** ms a pull request waits for events before it is renewed. Default 30000. */
  expires?: number;
  /** Wait for the server to confirm each acknowledgement (a report on bus.status 'error' when it does not). Default true. */
  ackAck?: boolean;
}

export type NakDelay = { initialDelay?: number; maxDelay?: number } | ((deliveryCount: number) => number);

export const DurableDefaults = {
  concurrency: 1,
  batch: 10,
  expires: 30_000,
  /** Heartbeats of a pull: at most this, at most half of expires. */
  maxIdleHeartbeat: 5_000,
  nakInitialDelay: 1_000,
  nakMaxDelay: 60_000,
  /** Re-binding after a failure: first wait and cap, ms. */
  rebindInitialDelay: 500,
  rebindMaxDelay: 30_000,
  /** A pull that ends this fast without events (a status at once) waits this long before the next. */
  minPullInterval: 250,
} as const;

/** What stop() is for: off() hands queued events back, drain() handles them, close() drops them. */
export type StopMode = 'off' | 'drain' | 'close';

/** Validates listener options up front, so on() throws at the call site. */
export function checkDurableOptions(o: DurableOptions): void {
  checkName(o.durable, 'durable consumer');
  if (o.stream !== undefined) checkName(o.stream, 'stream');
  for (const k of ['concurrency', 'batch', 'expires'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new TypeError(`durable option ${k} must be a positive integer, got ${String(v)}`);
  }
  if (o.expires !== undefined && o.expires < 1000) throw new TypeError('durable option expires must be at least 1000 ms');
  if (o.deadLetter !== undefined && (typeof o.deadLetter !== 'string' || o.deadLetter.length === 0)) throw new TypeError('durable option deadLetter must be a subject');
}
