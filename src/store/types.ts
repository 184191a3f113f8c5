/**
 * The storage interface behind durable streams and pull consumers
 * (JetStream subset, docs/durability.md). Two implementations, one contract:
 * MemoryStore and SqliteStore, both run through test/store/conformance.ts.
 *
 * Conventions
 * - Every call is synchronous (better-sqlite3 is), and every single call is
 *   atomic. `transaction(fn)` groups calls: nothing in it is visible or
 *   durable until it returns, and a throw rolls all of it back. The caller
 *   sends a PubAck or an ack reply only after `transaction` has returned.
 *   Inside `fn`, a call that fails while writing (I/O, a full disk) may leave
 *   part of its writes: let the error leave `fn`, so the transaction rolls
 *   back. (Refusals such as StreamNotFoundError come before any write.)
 * - Wall-clock times are Unix nanoseconds as `bigint` (the ack subject's
 *   timestamp and RFC3339Nano need them). Ack deadlines are milliseconds on
 *   the caller's clock (`Date.now()`), so they survive a restart.
 * - The store never reads a clock: the caller passes every time in.
 * - Sequences are positive integers; 0 means "none".
 * - Subject filters may hold wildcards (`*`, `>`); a list of filters matches
 *   a subject that any of them matches. Subjects stored are literal.
 * - Configs are JSON objects the store keeps but never interprets.
 */

export type JsonObject = { [key: string]: unknown };

/** One filter subject or several (a consumer's `filter_subjects`). */
export type SubjectFilter = string | readonly string[];

export interface StreamRecord {
  readonly name: string;
  readonly config: JsonObject;
  readonly createdNs: bigint;
}

export interface StreamState {
  readonly messages: number;
  /** Sum of storedMessageSize() over the messages kept. */
  readonly bytes: number;
  /** last_seq + 1 when the stream is empty, as nats-server reports it. */
  readonly firstSeq: number;
  /** 0n when empty. */
  readonly firstTimeNs: bigint;
  /** Survives deletes and purges: the next append gets lastSeq + 1. */
  readonly lastSeq: number;
  readonly lastTimeNs: bigint;
  readonly numSubjects: number;
  readonly consumerCount: number;
}

/** The O(1) part of StreamState: what every append checks (limits, expectations). */
export interface StreamTotals {
  readonly messages: number;
  readonly bytes: number;
  readonly lastSeq: number;
  readonly lastTimeNs: bigint;
}

export interface NewMessage {
  readonly subject: string;
  /** The raw `NATS/1.0…\r\n\r\n` block, kept byte for byte; absent or empty for MSG. */
  readonly headers?: Uint8Array | undefined;
  readonly payload: Uint8Array;
  readonly timeNs: bigint;
  /** Nats-Msg-Id, kept for deduplication. */
  readonly msgId?: string | undefined;
}

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  /** Empty when the message had no headers. */
  readonly headers: Uint8Array;
  readonly payload: Uint8Array;
  readonly timeNs: bigint;
  readonly msgId: string | undefined;
  readonly size: number;
}

export interface AppendResult {
  readonly seq: number;
  /** True when msgId was seen within the window: nothing was stored and seq is the original's. */
  readonly duplicate: boolean;
}

export interface PurgeOptions {
  /** Only messages matching this filter. */
  readonly filter?: string | undefined;
  /** Only messages with seq < upTo (nats `seq`: up to but not including). */
  readonly upTo?: number | undefined;
  /** Keep this many of the newest matching messages (nats `keep`). */
  readonly keep?: number | undefined;
}

export interface LoadOptions {
  readonly filter?: SubjectFilter | undefined;
  /** At most this many messages (default: all). */
  readonly limit?: number | undefined;
}

export interface SequencePair {
  readonly consumerSeq: number;
  readonly streamSeq: number;
}

export interface ConsumerRecord {
  readonly stream: string;
  readonly name: string;
  readonly config: JsonObject;
  readonly createdNs: bigint;
  /** The last delivery: its consumer seq, and the highest stream seq delivered. */
  readonly delivered: SequencePair;
  /** Everything at or below is acked (or terminated). */
  readonly ackFloor: SequencePair;
  readonly numAckPending: number;
  /** Pending messages delivered more than once. */
  readonly numRedelivered: number;
}

export interface PendingAck {
  readonly streamSeq: number;
  /** The consumer seq of its latest delivery (the one its ack subject names). */
  readonly consumerSeq: number;
  /** How many times it was delivered (the ack subject's delivered_count). */
  readonly deliveries: number;
  /** When it is due for redelivery, ms on the caller's clock. */
  readonly deadlineMs: number;
}

export interface Delivery {
  readonly consumerSeq: number;
  readonly deliveries: number;
}

export interface Store {
  /** Run fn as one unit: all or nothing, durable (per the sync policy) when it returns. Nests. */
  transaction<T>(fn: () => T): T;
  close(): void;

  // ── streams ──────────────────────────────────────────────────────────────
  /** Throws StreamExistsError. */
  createStream(name: string, config: JsonObject, createdNs: bigint): StreamRecord;
  /** Replaces the config; throws StreamNotFoundError. */
  updateStream(name: string, config: JsonObject): StreamRecord;
  getStream(name: string): StreamRecord | undefined;
  /** Sorted by name. */
  listStreams(): StreamRecord[];
  /** Removes its messages, dedup entries and consumers too. False when absent. */
  deleteStream(name: string): boolean;
  /** Throws StreamNotFoundError. Counts subjects and consumers: for INFO, not for every append. */
  streamState(name: string): StreamState;
  /** Counters only, O(1). Throws StreamNotFoundError. */
  streamTotals(name: string): StreamTotals;

  // ── messages ─────────────────────────────────────────────────────────────
  /**
   * Stores msg under lastSeq + 1. With msgId and dedupWindowNs > 0, a msgId
   * stored at a time within the window before msg.timeNs is a duplicate.
   * Throws StreamNotFoundError.
   */
  append(stream: string, msg: NewMessage, dedupWindowNs?: bigint): AppendResult;
  /** The seq a msgId was stored under, if it was stored at or after sinceNs (a dedup check that stores nothing). */
  findMsgId(stream: string, msgId: string, sinceNs: bigint): number | undefined;
  getMessage(stream: string, seq: number): StoredMessage | undefined;
  /** The newest message matching the filter (nats `last_by_subj`). */
  getLastMessage(stream: string, filter: string): StoredMessage | undefined;
  /** The first message with seq >= fromSeq matching the filter: what a consumer delivers next. */
  nextMessage(stream: string, fromSeq: number, filter?: SubjectFilter): StoredMessage | undefined;
  /** Messages with seq >= fromSeq in order. */
  loadMessages(stream: string, fromSeq: number, options?: LoadOptions): StoredMessage[];
  /** How many messages with seq >= fromSeq match the filter (a consumer's num_pending). */
  countMessages(stream: string, fromSeq: number, filter?: SubjectFilter): number;
  deleteMessage(stream: string, seq: number): boolean;
  /** Returns how many were removed. Dedup entries are kept (as nats-server does). */
  purge(stream: string, options?: PurgeOptions): number;

  // ── limits (the caller decides when; see docs/durability.md) ─────────────
  /** Removes the oldest message, or the oldest on that literal subject. Returns its seq, 0 if none. */
  removeOldest(stream: string, subject?: string): number;
  /**
   * max_age: removes the oldest messages, in seq order, up to the first one
   * stored at or after cutoffNs. Times are expected to grow with seqs (the
   * caller stamps them); one that went back is removed with its neighbours.
   * Returns how many.
   */
  removeOlderThan(stream: string, cutoffNs: bigint): number;
  /** Messages stored on a literal subject (max_msgs_per_subject). */
  subjectCount(stream: string, subject: string): number;

  // ── consumers ────────────────────────────────────────────────────────────
  /**
   * Throws StreamNotFoundError or ConsumerExistsError. startSeq (default 0)
   * is where delivery starts: delivered and the ack floor begin at stream seq
   * startSeq (deliver_policy new, last, by_start_sequence…), consumer seq 0.
   */
  createConsumer(stream: string, name: string, config: JsonObject, createdNs: bigint, startSeq?: number): ConsumerRecord;
  /** Replaces the config, keeps the ack state; throws ConsumerNotFoundError. */
  updateConsumer(stream: string, name: string, config: JsonObject): ConsumerRecord;
  getConsumer(stream: string, name: string): ConsumerRecord | undefined;
  /** Sorted by name. */
  listConsumers(stream: string): ConsumerRecord[];
  deleteConsumer(stream: string, name: string): boolean;

  /**
   * A (re)delivery of streamSeq: takes the next consumer seq, counts the
   * delivery, sets its deadline. Throws ConsumerNotFoundError.
   */
  recordDelivery(stream: string, consumer: string, streamSeq: number, deadlineMs: number): Delivery;
  /**
   * Ack none: `count` deliveries, the last of stream seq `lastStreamSeq`, that
   * wait for no ack. The consumer seq moves on by `count`, the delivered
   * stream seq to `lastStreamSeq`, and the ack floor with them (as
   * recordDelivery then ack for each, in one step). Returns the new consumer
   * seq. Throws ConsumerNotFoundError.
   */
  recordSettledDeliveries(stream: string, consumer: string, count: number, lastStreamSeq: number): number;
  /** +ACK: false when streamSeq was not pending. Advances the ack floor. */
  ack(stream: string, consumer: string, streamSeq: number): boolean;
  /** AckAll: acks every pending message with seq <= streamSeq. Returns how many. */
  ackUpTo(stream: string, consumer: string, streamSeq: number): number;
  /** -NAK: due again at redeliverAtMs (now for at once, now + delay otherwise). */
  nak(stream: string, consumer: string, streamSeq: number, redeliverAtMs: number): boolean;
  /** +WPI: pushes the deadline to deadlineMs. */
  progress(stream: string, consumer: string, streamSeq: number, deadlineMs: number): boolean;
  /** +TERM: never redelivered; counts as done for the ack floor. */
  term(stream: string, consumer: string, streamSeq: number): boolean;
  /** Pending acks ordered by stream seq. */
  pendingAcks(stream: string, consumer: string): PendingAck[];
  /** Pending acks with deadlineMs <= nowMs, earliest deadline first (ties by stream seq). */
  dueAcks(stream: string, consumer: string, nowMs: number, limit?: number): PendingAck[];
  /** The earliest pending deadline later than afterMs (when the next redelivery falls due), or undefined. */
  nextDeadline(stream: string, consumer: string, afterMs: number): number | undefined;
}

/**
 * The bytes a message counts for in max_bytes and stream state, as
 * nats-server's file store counts them (filestore.go fileStoreMsgSize:
 * 22 bytes of record overhead + subject + headers (+4 when present) + payload
 * + 8 of checksum). So `state.bytes` matches nats-server's STREAM.INFO.
 */
export function storedMessageSize(subject: string, headers: Uint8Array | undefined, payload: Uint8Array): number {
  const hdr = headers !== undefined && headers.length > 0 ? headers.length + 4 : 0;
  return 22 + Buffer.byteLength(subject) + hdr + payload.length + 8;
}
