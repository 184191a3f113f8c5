/**
 * A stream at run time: its config, its store, its consumers, and the rules
 * applied on every append (expectations, dedup, limits, retention). The store
 * keeps the data; this keeps the rules (docs/durability.md).
 */
import type { MsgHeaders } from '../../protocol/headers.js';
import { JsHeader, Rollup } from '../../protocol/jetstream.js';
import { subjectMatches } from '../../protocol/subject.js';
import type { Store, StoredMessage, StreamRecord, SubjectFilter } from '../../store/index.js';
import { storedMessageSize } from '../../store/index.js';
import { Retention, type StreamConfig } from './config.js';
import { JsApiError, JsErr } from './errors.js';
import type { StreamConsumer } from './types.js';


export interface AppendInput {
  /** The subject as a user string. */
  readonly subject: string;
  /** The raw header block, or null. */
  readonly headers: Uint8Array | null;
  readonly payload: Uint8Array;
  /** Decoded headers, when there are any. */
  readonly parsed: MsgHeaders | undefined;
  readonly timeNs: bigint;
}

export interface Appended {
  readonly seq: number;
  readonly duplicate: boolean;
}

const NS_PER_MS = 1_000_000n;
/** Distinct reads ahead kept per commit before starting over. */
const READS_KEPT = 64;

/** `C`: the consumers the layer runs (consumer.ts), seen here only as StreamConsumer, so the two files need not import each other. */
export class StreamRuntime<C extends StreamConsumer = StreamConsumer> {
  readonly name: string;
  config: StreamConfig;
  readonly store: Store;
  readonly createdNs: bigint;
  readonly consumers = new Map<string, C>();
  /** `{"stream":"<name>","seq":` as sent in every PubAck, as wire bytes (latin1). */
  readonly pubAckPrefix: string;
  /** Removes messages past max_age between appends. */
  ageTimer: NodeJS.Timeout | null = null;
  /**
   * Reads ahead shared by the consumers filling in one commit (ten KV watchers read the same new messages):
   * `from|filter` → messages. Valid while nothing is appended or removed: cleared at the start of every
   * commit, on every append and every settle.
   */
  private readonly reads = new Map<string, { msgs: StoredMessage[]; limit: number }>();

  constructor(record: StreamRecord, store: Store) {
    this.name = record.name;
    this.config = record.config as unknown as StreamConfig;
    this.store = store;
    this.createdNs = record.createdNs;
    this.pubAckPrefix = Buffer.from(`{"stream":${JSON.stringify(this.name)},"seq":`).toString('latin1');
  }

  captures(subject: string): boolean {
    for (const s of this.config.subjects) if (subjectMatches(s, subject)) return true;
    return false;
  }

  /**
   * Stores one published message: checks, dedup, append, limits. Runs inside
   * the caller's transaction; a JsApiError is a refusal (nothing stored).
   */
  append(m: AppendInput): Appended | JsApiError {
    this.clearReads();
    const cfg = this.config;
    const store = this.store;
    if (cfg.sealed) return JsErr.streamSealed();
    const size = (m.headers?.length ?? 0) + m.payload.length;
    if (cfg.max_msg_size >= 0 && size > cfg.max_msg_size) return JsErr.streamMsgTooBig();
    const h = m.parsed;
    const msgId = h?.get(JsHeader.MSG_ID) || undefined;
    let rollup: string | undefined;
    if (h !== undefined) {
      // Any case, as nats-server reads it (SUB, All).
      rollup = h.get(JsHeader.ROLLUP)?.toLowerCase() || undefined;
      if (rollup !== undefined) {
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) return JsErr.streamRollupFailed('rollup not permitted');
        // nats-server drops such a publish without an answer; a clear refusal serves the publisher better.
        if (rollup !== Rollup.SUBJECT && rollup !== Rollup.ALL) return JsErr.streamRollupFailed(`rollup value invalid: ${JSON.stringify(rollup)}`);
      }
      const refused = this.checkExpectations(h, m.subject);
      if (refused !== undefined) return refused;
    }
    const windowNs = BigInt(cfg.duplicate_window);
    if (cfg.discard === 'new' && (cfg.max_msgs > 0 || cfg.max_bytes > 0)) {
      // A duplicate is answered with the original, never refused for space.
      const st = store.streamTotals(this.name);
      const bytes = storedMessageSize(m.subject, m.headers ?? undefined, m.payload);
      if (cfg.max_msgs > 0 && st.messages >= cfg.max_msgs && !this.isDuplicate(msgId, m.timeNs)) {
        return JsErr.streamStoreFailed('maximum messages exceeded');
      }
      if (cfg.max_bytes > 0 && st.bytes + bytes > cfg.max_bytes && !this.isDuplicate(msgId, m.timeNs)) {
        return JsErr.streamStoreFailed('maximum bytes exceeded');
      }
    }
    const r = store.append(
      this.name,
      { subject: m.subject, headers: m.headers ?? undefined, payload: m.payload, timeNs: m.timeNs, msgId },
      windowNs,
    );
    if (r.duplicate) return r;
    if (cfg.retention === Retention.INTEREST && !this.hasInterestIn(m.subject)) {
      // Nobody will ever read it: the seq is taken, the message not kept (as nats-server).
      store.deleteMessage(this.name, r.seq);
      return r;
    }
    // A roll-up keeps only the new message, on its subject or in the whole stream (a KV purge, an object's metadata).
    if (rollup !== undefined) store.purge(this.name, { filter: rollup === Rollup.SUBJECT ? m.subject : undefined, keep: 1 });
    this.enforceLimits(m.subject, m.timeNs);
    return r;
  }

  private isDuplicate(msgId: string | undefined, timeNs: bigint): boolean {
    return msgId !== undefined && this.store.findMsgId(this.name, msgId, timeNs - BigInt(this.config.duplicate_window)) !== undefined;
  }

  private checkExpectations(h: MsgHeaders, subject: string): JsApiError | undefined {
    const stream = h.get(JsHeader.EXPECTED_STREAM);
    if (stream !== undefined && stream !== this.name) return JsErr.streamNotMatch();
    const lastSeq = h.get(JsHeader.EXPECTED_LAST_SEQUENCE);
    if (lastSeq !== undefined) {
      const want = Number(lastSeq);
      const have = this.store.streamTotals(this.name).lastSeq;
      if (!Number.isSafeInteger(want) || want !== have) return JsErr.wrongLastSequence(have);
    }
    const lastId = h.get(JsHeader.EXPECTED_LAST_MSG_ID);
    if (lastId !== undefined) {
      const st = this.store.streamTotals(this.name);
      const have = st.lastSeq > 0 ? (this.store.getMessage(this.name, st.lastSeq)?.msgId ?? '') : '';
      if (have !== lastId) return JsErr.wrongLastMsgId(have);
    }
    const lastSubjSeq = h.get(JsHeader.EXPECTED_LAST_SUBJECT_SEQUENCE);
    if (lastSubjSeq !== undefined) {
      const on = h.get(JsHeader.EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT) || subject;
      const want = Number(lastSubjSeq);
      const have = this.store.getLastMessage(this.name, on)?.seq ?? 0;
      if (!Number.isSafeInteger(want) || want !== have) return JsErr.wrongLastSequence(have);
    }
    return undefined;
  }

  /** max_msgs_per_subject, max_msgs, max_bytes and max_age with discard old. */
  private enforceLimits(subject: string, nowNs: bigint): void {
    const cfg = this.config;
    const store = this.store;
    if (cfg.max_msgs_per_subject > 0) {
      let n = store.subjectCount(this.name, subject);
      while (n-- > cfg.max_msgs_per_subject) store.removeOldest(this.name, subject);
    }
    this.applyLimits(nowNs);
  }

  /** max_msgs, max_bytes and max_age over the whole stream (after an append or a config update). */
  applyLimits(nowNs: bigint): void {
    const cfg = this.config;
    const store = this.store;
    if (cfg.max_msgs > 0 || cfg.max_bytes > 0) {
      let st = store.streamTotals(this.name);
      while (st.messages > 0 && ((cfg.max_msgs > 0 && st.messages > cfg.max_msgs) || (cfg.max_bytes > 0 && st.bytes > cfg.max_bytes))) {
        if (store.removeOldest(this.name) === 0) break;
        st = store.streamTotals(this.name);
      }
    }
    this.expire(nowNs);
  }

  /** Removes messages older than max_age. Returns how many. */
  expire(nowNs: bigint): number {
    if (this.config.max_age <= 0) return 0;
    return this.store.removeOlderThan(this.name, nowNs - BigInt(this.config.max_age));
  }

  /** Interest retention: whether some consumer would deliver this subject. */
  private hasInterestIn(subject: string): boolean {
    for (const c of this.consumers.values()) if (c.wants(subject)) return true;
    return false;
  }

  /**
   * After an ack or a term: work-queue streams drop the message; interest
   * streams drop everything every consumer has settled.
   */
  settled(seq: number): void {
    this.clearReads();
    if (this.config.retention === Retention.WORKQUEUE) {
      this.store.deleteMessage(this.name, seq);
    } else if (this.config.retention === Retention.INTEREST) {
      let floor = Infinity;
      for (const c of this.consumers.values()) floor = Math.min(floor, c.ackFloor());
      if (Number.isFinite(floor) && floor > 0) this.store.purge(this.name, { upTo: floor + 1 });
    }
  }

  /** Up to `limit` messages from `from` on (see `reads`). */
  readAhead(from: number, filter: SubjectFilter | undefined, limit: number): StoredMessage[] {
    const key = filter === undefined ? `${from}` : `${from}|${typeof filter === 'string' ? filter : filter.join(' ')}`;
    let e = this.reads.get(key);
    // A read that came back short reached the end of the stream: it serves any limit.
    if (e === undefined || (e.limit < limit && e.msgs.length === e.limit)) {
      e = { msgs: this.store.loadMessages(this.name, from, { filter, limit }), limit };
      if (this.reads.size >= READS_KEPT) this.reads.clear();
      this.reads.set(key, e);
    }
    return e.msgs.length > limit ? e.msgs.slice(0, limit) : e.msgs;
  }

  clearReads(): void {
    if (this.reads.size > 0) this.reads.clear();
  }

  /** Milliseconds between max_age sweeps: a quarter of max_age, within [100 ms, 1 s]. */
  ageSweepMs(): number {
    const ms = Number(BigInt(this.config.max_age) / NS_PER_MS);
    return Math.min(1000, Math.max(100, Math.floor(ms / 4)));
  }
}

