/**
 * JetStream's JSON, defined once for the hub (which answers it) and the
 * client (which asks): stream and consumer configs as nats-server echoes them
 * in full, their info, the PubAck and the API error body. Keys are
 * JetStream's own (snake_case), durations integer nanoseconds, times RFC 3339
 * strings, so configs move between netemitter and NATS tools unchanged.
 */

export const Retention = { LIMITS: 'limits', INTEREST: 'interest', WORKQUEUE: 'workqueue' } as const;
export type RetentionPolicy = (typeof Retention)[keyof typeof Retention];

export const AckPolicy = { NONE: 'none', ALL: 'all', EXPLICIT: 'explicit' } as const;
export type AckPolicy = (typeof AckPolicy)[keyof typeof AckPolicy];

export const DeliverPolicy = {
  ALL: 'all',
  LAST: 'last',
  NEW: 'new',
  BY_START_SEQUENCE: 'by_start_sequence',
  BY_START_TIME: 'by_start_time',
  LAST_PER_SUBJECT: 'last_per_subject',
} as const;
export type DeliverPolicy = (typeof DeliverPolicy)[keyof typeof DeliverPolicy];

export type StorageType = 'file' | 'memory';
export type DiscardPolicy = 'old' | 'new';
export type ReplayPolicy = 'instant' | 'original';

/** A stream's config as the server echoes it: every default filled in. */
export interface StreamConfig {
  name: string;
  description?: string;
  subjects: string[];
  retention: RetentionPolicy;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  /** Nanoseconds; 0 keeps messages forever. */
  max_age: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: DiscardPolicy;
  storage: StorageType;
  num_replicas: number;
  /** Nanoseconds during which a repeated Nats-Msg-Id is a duplicate. */
  duplicate_window: number;
  allow_direct: boolean;
  mirror_direct: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  metadata?: Record<string, string>;
}

/** A consumer's config as the server echoes it (optional keys are left out when unset, as nats-server does). */
export interface ConsumerConfig {
  /** Makes the consumer durable; also its name. */
  durable_name?: string;
  name: string;
  description?: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq?: number;
  opt_start_time?: string;
  ack_policy: AckPolicy;
  /** Nanoseconds before an unacknowledged message is redelivered; absent with ack none. */
  ack_wait?: number;
  /** Deliveries before the server gives up on a message; -1 for no limit. */
  max_deliver: number;
  /** Nanoseconds: redelivery delays per attempt, overriding ack_wait. */
  backoff?: number[];
  filter_subject?: string;
  filter_subjects?: string[];
  replay_policy: ReplayPolicy;
  rate_limit_bps?: number;
  sample_freq?: string;
  /** Pull consumers only. */
  max_waiting?: number;
  /** Absent with ack none. */
  max_ack_pending?: number;
  flow_control?: boolean;
  headers_only?: boolean;
  max_batch?: number;
  max_expires?: number;
  max_bytes?: number;
  /** Push consumers: where messages go, and the queue group that shares them. */
  deliver_subject?: string;
  deliver_group?: string;
  idle_heartbeat?: number;
  inactive_threshold?: number;
  num_replicas: number;
  mem_storage?: boolean;
  /**
   * Free-form strings. The netemitter hub reads `dead_letter_subject`: where
   * a message goes once it exhausts max_deliver or is terminated.
   */
  metadata?: Record<string, string>;
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
  /** With STREAM.INFO's subjects_filter: messages per subject. */
  subjects?: Record<string, number>;
}

export interface StreamInfo {
  config: StreamConfig;
  created: string;
  state: StreamState;
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
  /** Push consumers: whether a subscriber listens on the deliver subject. */
  push_bound?: boolean;
}

/** What a durable publish is answered with, once the message is stored. */
export interface PubAck {
  stream: string;
  seq: number;
  /** A message with the same Nats-Msg-Id was stored within the duplicate window (seq is the original's). */
  duplicate?: boolean;
  domain?: string;
}

/** `error` in an API response or a PubAck. */
export interface ApiErrorBody {
  /** HTTP-like status: 400, 404, 500, 503. */
  code: number;
  /** nats-server's own code (10059 stream not found, …). */
  err_code: number;
  description: string;
}
