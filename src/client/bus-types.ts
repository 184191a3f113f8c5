/**
 * The bus's types: the options of its calls, the typed event map, and the
 * subscription records its registry keeps.
 */
import type { HeadersInit } from '../protocol/headers.js';
import type { RawDeliver } from './jetstream/api.js';
import type { DurableMeta } from './jetstream/durable.js';
import type { EventMeta } from './event-meta.js';

export interface ListenOptions {
  /** Join a queue group: each event goes to one listener of the group across all processes. */
  queue?: string;
  /** Receive the payload as the raw Buffer, undecoded. */
  raw?: boolean;
}

export interface EmitOptions {
  headers?: HeadersInit;
  /** Reply subject for whoever handles the event. */
  reply?: string;
}

export interface RequestOptions {
  /** Milliseconds to wait for the reply. Default: the connection's requestTimeout. */
  timeout?: number;
  headers?: HeadersInit;
}

export interface HandleOptions {
  /** Queue group for load balancing among responders; false for none. Default: option handlerQueue. */
  queue?: string | false;
}

/**
 * A map from event name to payload type; a function type marks a request/reply subject.
 * `any` values (not `unknown`) so that an `interface` satisfies it, not only a type alias.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = Record<string, any>;
type AnyFn = (...args: never[]) => unknown;
/** True for `any` only: an untyped bus (the default map) accepts any request and reply. */
type IsAny<T> = 0 extends 1 & T ? true : false;
/** Names that carry events (non-function entries). */
export type EventName<E> = { [K in keyof E]-?: E[K] extends AnyFn ? never : K }[keyof E] & string;
/** Names that carry requests (function entries: (request) => reply). */
export type RequestName<E> = { [K in keyof E]-?: E[K] extends AnyFn ? K : never }[keyof E] & string;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RequestOf<F> = IsAny<F> extends true ? any : F extends (req: infer A) => unknown ? A : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ReplyOf<F> = IsAny<F> extends true ? any : F extends (...args: never[]) => infer R ? Awaited<R> : never;
export type Listener<P> = (payload: P, meta: EventMeta) => unknown;
/** A durable listener: its meta tells the stream position and settles the event by hand if needed. */
export type DurableHandler<P> = (payload: P, meta: DurableMeta) => unknown;
export type Handler<F> = (request: RequestOf<F>, meta: EventMeta) => ReplyOf<F> | Promise<ReplyOf<F>>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyListener = (payload: any, meta: EventMeta) => unknown;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDurableHandler = (payload: any, meta: DurableMeta) => unknown;

export interface Entry {
  readonly fn: AnyListener;
  readonly once: boolean;
  readonly raw: boolean;
}

/** `js`: a subscription of the durable-streams layer (a pull inbox), delivered to its callback. */
export type SubKind = 'events' | 'handler' | 'inbox' | 'js';

export interface Sub {
  readonly sid: string;
  readonly subject: string;
  readonly queue: string | undefined;
  readonly kind: SubKind;
  listeners: Entry[];
  handler: AnyListener | null;
  deliver: RawDeliver | null;
}
