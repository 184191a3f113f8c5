/**
 * The key-value bucket's shapes. The bucket is a stream laid out as NATS KV
 * (ADR-8), so nats.js, nats.go and the nats CLI read what it writes:
 *
 *   stream   KV_<bucket>   subjects ["$KV.<bucket>.>"], max_msgs_per_subject = history,
 *                          allow_rollup_hdrs, deny_delete, allow_direct, discard new
 *   value    $KV.<bucket>.<key>                    payload = the value
 *   delete   $KV.<bucket>.<key>  KV-Operation: DEL             empty payload
 *   purge    $KV.<bucket>.<key>  KV-Operation: PURGE, Nats-Rollup: sub   (older revisions go)
 *
 * A revision is the stream sequence of the message that wrote it.
 */
import type { StorageType } from '../jetstream/types.js';

export const KvOperation = {
  PUT: 'PUT',
  DEL: 'DEL',
  PURGE: 'PURGE',
} as const;
export type KvOperation = (typeof KvOperation)[keyof typeof KvOperation];

export const KvDefaults = {
  /** Revisions kept per key. */
  history: 1,
  /** The most revisions per key NATS KV allows. */
  maxHistory: 64,
  /** Entries a watch's async iterator buffers before it pauses the server (flow control). */
  watchHighWaterMark: 1_024,
} as const;

/** The stream's name for a bucket, and its subject prefix. */
export const KV_STREAM_PREFIX = 'KV_';
export const KV_SUBJECT_PREFIX = '$KV';
export const KV_OPERATION_HEADER = 'KV-Operation';

export interface KvOptions {
  /** Revisions kept per key (1…64). Default 1. */
  history?: number;
  /** ms a value lives (the stream's max_age); 0 or unset: forever. */
  ttl?: number;
  /** 'file' (default) or 'memory'. */
  storage?: StorageType;
  /** Largest value accepted, in bytes; unset: the server's limit. */
  maxValueSize?: number;
  /** Most bytes the bucket holds; unset: no limit. */
  maxBytes?: number;
  description?: string;
  /** Copies in a cluster (the server refuses what it cannot do). Default 1. */
  replicas?: number;
  /** false: bind to an existing bucket only (BucketNotFoundError if there is none). Default true. */
  create?: boolean;
}

/** One revision of a key. */
export interface KvEntry {
  readonly bucket: string;
  readonly key: string;
  /** The value decoded like an event's payload (JSON, text, or the bytes); undefined for DEL and PURGE. */
  readonly value: unknown;
  /** The value's bytes as stored. */
  readonly data: Buffer;
  readonly revision: number;
  readonly created: Date;
  readonly operation: KvOperation;
  /** From a watch, keys or history: entries still to come in the initial values after this one. */
  readonly delta?: number;
}

export interface WatchOptions {
  /** Deliver the current value of each matching key first (default true); false: updates only. */
  initial?: boolean;
  /** Deliver every stored revision first instead of the last one per key. Default false. */
  history?: boolean;
  /** Leave out DEL and PURGE entries. Default false. */
  ignoreDeletes?: boolean;
  /** Entries the async iterator buffers before the server is paused. Default 1024. */
  highWaterMark?: number;
  /** ms between the server's idle heartbeats; after two missed the watch recreates its consumer. Default 5000. */
  heartbeat?: number;
}

/** What bucket.status() tells. */
export interface KvStatus {
  bucket: string;
  /** Messages stored (every kept revision and marker). */
  values: number;
  bytes: number;
  history: number;
  /** ms; 0 for none. */
  ttl: number;
  storage: StorageType;
  description: string | undefined;
  /** The stream behind it. */
  stream: string;
}
