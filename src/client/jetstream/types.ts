/**
 * Stream and consumer shapes, in JetStream's own JSON names: snake_case keys,
 * durations in integer nanoseconds, times as RFC 3339 strings. They are what
 * nats-server and the `nats` CLI print, so configs move between netemitter
 * and NATS unchanged. `nanos()`/`millis()` convert durations.
 *
 * Configs are partial on the way in (the server fills in defaults and echoes
 * the full config back); unknown keys pass through untouched.
 */
import type { MsgHeaders } from '../../protocol/headers.js';
import { JS_API_PREFIX } from '../../protocol/jetstream.js';
import type * as Wire from '../../protocol/jetstream-api.js';

/** Milliseconds → JetStream nanoseconds. */
export function nanos(ms: number): number {
  return Math.round(ms * 1_000_000);
}

/** JetStream nanoseconds → milliseconds. */
export function millis(ns: number): number {
  return Math.round(ns / 1_000_000);
}

export type { AckPolicy, DeliverPolicy, DiscardPolicy, ReplayPolicy, RetentionPolicy, SequenceInfo, StorageType, StreamState } from '../../protocol/jetstream-api.js';

/**
 * A stream config on the way in: the name, and any of the rest (the server
 * fills in the defaults); unknown keys pass through untouched.
 */
export type StreamConfig = Partial<Wire.StreamConfig> & { name: string; [key: string]: unknown };

/** What the server says of a stream: the config in full. */
export interface StreamInfo extends Wire.StreamInfo {
  [key: string]: unknown;
}

/** A consumer config on the way in (the server fills in the defaults); unknown keys pass through untouched. */
export type ConsumerConfig = Partial<Wire.ConsumerConfig> & { [key: string]: unknown };

export interface ConsumerInfo extends Wire.ConsumerInfo {
  [key: string]: unknown;
}

/** What the server answers a durable publish with, once the event is stored (`duplicate` always present here). */
export interface PubAck extends Wire.PubAck {
  /** True when a message with the same msgId was already stored in the duplicate window (seq is the original's). */
  duplicate: boolean;
}

export interface PurgeOptions {
  /** Only messages on this subject (wildcards allowed). */
  filter?: string;
  /** Purge up to, not including, this sequence. */
  seq?: number;
  /** Keep this many of the newest messages. */
  keep?: number;
}

export interface PurgeResponse {
  success: boolean;
  purged: number;
}

/** Which stored message getMessage() reads. */
export type MessageQuery = { seq: number } | { lastBySubject: string };

/** A message read back from a stream. */
export interface StoredMessage {
  subject: string;
  seq: number;
  time: Date;
  headers: MsgHeaders | undefined;
  /** The payload bytes as stored. */
  data: Buffer;
  /** The payload decoded like a listener's (JSON, text, or the bytes). */
  payload: unknown;
}

/** Names the JetStream API subjects (prefix `$JS.API`). */
export const JsApi = {
  INFO: 'INFO',
  STREAM_CREATE: 'STREAM.CREATE',
  STREAM_UPDATE: 'STREAM.UPDATE',
  STREAM_INFO: 'STREAM.INFO',
  STREAM_DELETE: 'STREAM.DELETE',
  STREAM_PURGE: 'STREAM.PURGE',
  STREAM_NAMES: 'STREAM.NAMES',
  STREAM_LIST: 'STREAM.LIST',
  STREAM_MSG_GET: 'STREAM.MSG.GET',
  STREAM_MSG_DELETE: 'STREAM.MSG.DELETE',
  CONSUMER_CREATE: 'CONSUMER.CREATE',
  CONSUMER_INFO: 'CONSUMER.INFO',
  CONSUMER_DELETE: 'CONSUMER.DELETE',
  CONSUMER_NAMES: 'CONSUMER.NAMES',
  CONSUMER_LIST: 'CONSUMER.LIST',
  CONSUMER_MSG_NEXT: 'CONSUMER.MSG.NEXT',
} as const;
export type JsApi = (typeof JsApi)[keyof typeof JsApi];

export { JsHeader } from '../../protocol/jetstream.js';

/** Defaults of the JetStream layer (those of nats.js where it has one). */
export const JetStreamDefaults = {
  apiPrefix: JS_API_PREFIX,
  /** ms for an API call or a durable publish. */
  timeout: 5_000,
  /** Page size the server uses for NAMES/LIST. */
  pageLimit: 256,
} as const;
