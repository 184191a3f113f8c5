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

/** Milliseconds → JetStream nanoseconds. */
export function nanos(ms: number): number {
  return Math.round(ms * 1_000_000);
}

/** JetStream nanoseconds → milliseconds. */
export function millis(ns: number): number {
  return Math.round(ns / 1_000_000);
}

export type RetentionPolicy = 'limits' | 'interest' | 'workqueue';
export type StorageType = 'file' | 'memory';
export type DiscardPolicy = 'old' | 'new';
export type DeliverPolicy = 'all' | 'last' | 'new' | 'by_start_sequence' | 'by_start_time' | 'last_per_subject';
export type AckPolicy = 'explicit' | 'none' | 'all';
export type ReplayPolicy = 'instant' | 'original';

export interface StreamConfig {
  name: string;
  subjects?: string[];
  description?: string;
  retention?: RetentionPolicy;
  storage?: StorageType;
  discard?: DiscardPolicy;
  max_consumers?: number;
  max_msgs?: number;
  max_bytes?: number;
  /** Nanoseconds; 0 keeps messages forever. */
  max_age?: number;
  max_msgs_per_subject?: number;
  max_msg_size?: number;
  num_replicas?: number;
  /** Nanoseconds during which a repeated Nats-Msg-Id is a duplicate (default 2 min). */
  duplicate_window?: number;
  deny_delete?: boolean;
  deny_purge?: boolean;
  allow_rollup_hdrs?: boolean;
  allow_direct?: boolean;
  sealed?: boolean;
  metadata?: Record<string, string>;
  [key: string]: unknown;
}

export interface StreamState {
  messages: number;
  bytes: number;
  first_seq: number;
  first_ts: string;
  last_seq: number;
  last_ts: string;
  num_subjects?: number;
  num_deleted?: number;
  consumer_count: number;
  subjects?: Record<string, number>;
}

export interface StreamInfo {
  config: StreamConfig & Required<Pick<StreamConfig, 'subjects' | 'retention' | 'storage' | 'discard'>>;
  created: string;
  state: StreamState;
  [key: string]: unknown;
}

export interface ConsumerConfig {
  /** Makes the consumer durable (it survives disconnections); also its name. */
  durable_name?: string;
  name?: string;
  description?: string;
  deliver_policy?: DeliverPolicy;
  opt_start_seq?: number;
  opt_start_time?: string;
  ack_policy?: AckPolicy;
  /** Nanoseconds before an unacknowledged message is redelivered (default 30 s). */
  ack_wait?: number;
  /** Deliveries before the server gives up on a message; -1 for no limit. */
  max_deliver?: number;
  /** Nanoseconds: redelivery delays per attempt, overriding ack_wait. */
  backoff?: number[];
  filter_subject?: string;
  filter_subjects?: string[];
  replay_policy?: ReplayPolicy;
  max_ack_pending?: number;
  max_waiting?: number;
  max_batch?: number;
  max_expires?: number;
  inactive_threshold?: number;
  num_replicas?: number;
  mem_storage?: boolean;
  /**
   * Free-form strings. The netemitter hub reads `dead_letter_subject`: where
   * a message goes once it exhausts max_deliver or is terminated.
   */
  metadata?: Record<string, string>;
  [key: string]: unknown;
}

export interface SequenceInfo {
  consumer_seq: number;
  stream_seq: number;
  last_active?: string;
}

export interface ConsumerInfo {
  stream_name: string;
  name: string;
  created: string;
  config: ConsumerConfig;
  delivered: SequenceInfo;
  ack_floor: SequenceInfo;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
  num_pending: number;
  [key: string]: unknown;
}

/** What the server answers a durable publish with, once the event is stored. */
export interface PubAck {
  stream: string;
  seq: number;
  /** True when a message with the same msgId was already stored in the duplicate window (seq is the original's). */
  duplicate: boolean;
  domain?: string;
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
