/**
 * The in-memory store: same contract as SqliteStore, nothing survives the
 * process. Used for `storage: "memory"` streams and for tests.
 *
 * Messages live in a Map per stream whose insertion order is seq order
 * (appends only ever add lastSeq + 1). Transactions keep an undo log: every
 * mutation pushes its inverse, a rollback runs them backwards. Undoing a
 * delete re-inserts at the end of the Map, so a rollback re-sorts the
 * streams it touched.
 */
import { ConsumerExistsError, ConsumerNotFoundError, StoreClosedError, StreamExistsError, StreamNotFoundError } from './errors.js';
import { compileFilter } from './filter.js';
import {
  storedMessageSize,
  type AppendResult, type ConsumerRecord, type Delivery, type JsonObject, type LoadOptions, type NewMessage,
  type PendingAck, type PurgeOptions, type Store, type StoredMessage, type StreamRecord, type StreamState, type StreamTotals, type SubjectFilter,
} from './types.js';

interface MemPending { cseq: number; deliveries: number; deadline: number }

interface MemConsumer {
  config: JsonObject;
  readonly createdNs: bigint;
  dCseq: number;
  dSseq: number;
  fCseq: number;
  fSseq: number;
  readonly pending: Map<number, MemPending>;
}

interface MemStream {
  config: JsonObject;
  readonly createdNs: bigint;
  lastSeq: number;
  lastTime: bigint;
  bytes: number;
  msgs: Map<number, StoredMessage>;
  /** Messages kept per subject (num_subjects without a scan). */
  readonly subjects: Map<string, number>;
  readonly dedup: Map<string, { seq: number; time: bigint }>;
  readonly consumers: Map<string, MemConsumer>;
}

const EMPTY = new Uint8Array(0);

export class MemoryStore implements Store {
  readonly #streams = new Map<string, MemStream>();
  #undo: (() => void)[] | null = null;
  readonly #resort = new Set<MemStream>();
  #closed = false;

  transaction<T>(fn: () => T): T {
    if (this.#closed) throw new StoreClosedError();
    const outer = this.#undo === null;
    if (outer) this.#undo = [];
    const mark = this.#undo!.length;
    try {
      const out = fn();
      if (outer) this.#undo = null;
      return out;
    } catch (err) {
      this.#rollbackTo(mark);
      if (outer) this.#undo = null;
      throw err;
    }
  }

  close(): void {
    this.#closed = true;
    this.#streams.clear();
  }

  #rollbackTo(mark: number): void {
    const log = this.#undo!;
    while (log.length > mark) log.pop()!();
    for (const s of this.#resort) s.msgs = new Map([...s.msgs].sort((a, b) => a[0] - b[0]));
    this.#resort.clear();
  }

  #log(undo: () => void): void {
    this.#undo?.push(undo);
  }

  #set<O extends object, K extends keyof O>(obj: O, key: K, value: O[K]): void {
    const old = obj[key];
    this.#log(() => {
      obj[key] = old;
    });
    obj[key] = value;
  }

  #mapSet<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key);
    const old = map.get(key);
    this.#log(() => (had ? map.set(key, old as V) : map.delete(key)));
    map.set(key, value);
  }

  #mapDelete<K, V>(map: Map<K, V>, key: K): V | undefined {
    if (!map.has(key)) return undefined;
    const old = map.get(key) as V;
    this.#log(() => map.set(key, old));
    map.delete(key);
    return old;
  }

  #stream(name: string): MemStream {
    const s = this.#streams.get(name);
    if (s === undefined) throw new StreamNotFoundError(name);
    return s;
  }

  #consumer(stream: string, name: string): MemConsumer | undefined {
    return this.#streams.get(stream)?.consumers.get(name);
  }

  // ── streams ──────────────────────────────────────────────────────────────

  createStream(name: string, config: JsonObject, createdNs: bigint): StreamRecord {
    return this.transaction(() => {
      if (this.#streams.has(name)) throw new StreamExistsError(name);
      const s: MemStream = {
        config: structuredClone(config), createdNs, lastSeq: 0, lastTime: 0n, bytes: 0,
        msgs: new Map(), subjects: new Map(), dedup: new Map(), consumers: new Map(),
      };
      this.#mapSet(this.#streams, name, s);
      return streamRecord(name, s);
    });
  }

  updateStream(name: string, config: JsonObject): StreamRecord {
    return this.transaction(() => {
      const s = this.#stream(name);
      this.#set(s, 'config', structuredClone(config));
      return streamRecord(name, s);
    });
  }

  getStream(name: string): StreamRecord | undefined {
    const s = this.#streams.get(name);
    return s === undefined ? undefined : streamRecord(name, s);
  }

  listStreams(): StreamRecord[] {
    return [...this.#streams.keys()].sort().map((n) => streamRecord(n, this.#streams.get(n)!));
  }

  deleteStream(name: string): boolean {
    return this.transaction(() => this.#mapDelete(this.#streams, name) !== undefined);
  }

  streamState(name: string): StreamState {
    const s = this.#stream(name);
    const first = s.msgs.values().next().value as StoredMessage | undefined;
    return {
      messages: s.msgs.size,
      bytes: s.bytes,
      firstSeq: first?.seq ?? s.lastSeq + 1,
      firstTimeNs: first?.timeNs ?? 0n,
      lastSeq: s.lastSeq,
      lastTimeNs: s.lastTime,
      numSubjects: s.subjects.size,
      consumerCount: s.consumers.size,
    };
  }

  streamTotals(name: string): StreamTotals {
    const s = this.#stream(name);
    return { messages: s.msgs.size, bytes: s.bytes, lastSeq: s.lastSeq, lastTimeNs: s.lastTime };
  }

  // ── messages ─────────────────────────────────────────────────────────────

  append(stream: string, msg: NewMessage, dedupWindowNs = 0n): AppendResult {
    return this.transaction(() => {
      const s = this.#stream(stream);
      const dedup = msg.msgId !== undefined && msg.msgId !== '' && dedupWindowNs > 0n;
      if (dedup) {
        const cutoff = msg.timeNs - dedupWindowNs;
        // Ids are kept in the order they came, so expired ones are at the front.
        for (const [id, e] of s.dedup) {
          if (e.time >= cutoff) break;
          this.#mapDelete(s.dedup, id);
        }
        const seen = s.dedup.get(msg.msgId!);
        if (seen !== undefined && seen.time >= cutoff) return { seq: seen.seq, duplicate: true };
      }
      const seq = s.lastSeq + 1;
      const stored: StoredMessage = {
        seq,
        subject: msg.subject,
        headers: msg.headers !== undefined && msg.headers.length > 0 ? Buffer.from(msg.headers) : EMPTY,
        payload: Buffer.from(msg.payload),
        timeNs: msg.timeNs,
        msgId: msg.msgId,
        size: storedMessageSize(msg.subject, msg.headers, msg.payload),
      };
      this.#mapSet(s.msgs, seq, stored);
      this.#mapSet(s.subjects, stored.subject, (s.subjects.get(stored.subject) ?? 0) + 1);
      this.#set(s, 'lastSeq', seq);
      this.#set(s, 'lastTime', msg.timeNs);
      this.#set(s, 'bytes', s.bytes + stored.size);
      if (dedup) this.#mapSet(s.dedup, msg.msgId!, { seq, time: msg.timeNs });
      return { seq, duplicate: false };
    });
  }

  findMsgId(stream: string, msgId: string, sinceNs: bigint): number | undefined {
    const seen = this.#streams.get(stream)?.dedup.get(msgId);
    return seen !== undefined && seen.time >= sinceNs ? seen.seq : undefined;
  }

  getMessage(stream: string, seq: number): StoredMessage | undefined {
    return this.#streams.get(stream)?.msgs.get(seq);
  }

  getLastMessage(stream: string, filter: string): StoredMessage | undefined {
    const s = this.#streams.get(stream);
    if (s === undefined) return undefined;
    const test = compileFilter(filter);
    const all = [...s.msgs.values()];
    for (let i = all.length - 1; i >= 0; i--) if (test(all[i]!.subject)) return all[i];
    return undefined;
  }

  nextMessage(stream: string, fromSeq: number, filter?: SubjectFilter): StoredMessage | undefined {
    return this.loadMessages(stream, fromSeq, { filter, limit: 1 })[0];
  }

  countMessages(stream: string, fromSeq: number, filter?: SubjectFilter): number {
    const s = this.#streams.get(stream);
    if (s === undefined) return 0;
    const test = compileFilter(filter);
    let n = 0;
    for (const m of this.#from(s, fromSeq)) if (test(m.subject)) n++;
    return n;
  }

  /**
   * Messages with seq >= fromSeq, in order. Near the end of a long stream
   * (where consumers read) it steps through the seqs instead of walking the
   * whole map from its start.
   */
  *#from(s: MemStream, fromSeq: number): Generator<StoredMessage> {
    const from = Math.max(1, fromSeq);
    if (s.lastSeq - from < s.msgs.size) {
      for (let q = from; q <= s.lastSeq; q++) {
        const m = s.msgs.get(q);
        if (m !== undefined) yield m;
      }
      return;
    }
    for (const m of s.msgs.values()) if (m.seq >= from) yield m;
  }

  loadMessages(stream: string, fromSeq: number, options: LoadOptions = {}): StoredMessage[] {
    const s = this.#streams.get(stream);
    const limit = options.limit ?? Infinity;
    const out: StoredMessage[] = [];
    if (s === undefined || limit <= 0) return out;
    const test = compileFilter(options.filter);
    for (const m of this.#from(s, fromSeq)) {
      if (!test(m.subject)) continue;
      out.push(m);
      if (out.length >= limit) break;
    }
    return out;
  }

  deleteMessage(stream: string, seq: number): boolean {
    return this.transaction(() => {
      const s = this.#streams.get(stream);
      if (s === undefined) return false;
      const m = this.#mapDelete(s.msgs, seq);
      if (m === undefined) return false;
      const n = (s.subjects.get(m.subject) ?? 1) - 1;
      if (n === 0) this.#mapDelete(s.subjects, m.subject);
      else this.#mapSet(s.subjects, m.subject, n);
      this.#resort.add(s);
      this.#set(s, 'bytes', s.bytes - m.size);
      return true;
    });
  }

  purge(stream: string, options: PurgeOptions = {}): number {
    return this.transaction(() => {
      const s = this.#stream(stream);
      const upTo = options.upTo ?? Number.MAX_SAFE_INTEGER;
      const test = compileFilter(options.filter);
      const seqs: number[] = [];
      for (const m of s.msgs.values()) if (m.seq < upTo && test(m.subject)) seqs.push(m.seq);
      const keep = options.keep ?? 0;
      let victims = seqs;
      if (keep > 0) {
        // keep counts the newest matching messages of the whole stream, as upTo does not apply to it.
        const matching = [...s.msgs.values()].filter((m) => test(m.subject));
        const boundary = matching.length >= keep ? matching[matching.length - keep]!.seq : 0;
        victims = seqs.filter((q) => q < boundary);
      }
      for (const q of victims) this.deleteMessage(stream, q);
      return victims.length;
    });
  }

  // ── limits ───────────────────────────────────────────────────────────────

  removeOldest(stream: string, subject?: string): number {
    return this.transaction(() => {
      const s = this.#streams.get(stream);
      if (s === undefined) return 0;
      for (const m of s.msgs.values()) {
        if (subject !== undefined && m.subject !== subject) continue;
        this.deleteMessage(stream, m.seq);
        return m.seq;
      }
      return 0;
    });
  }

  removeOlderThan(stream: string, cutoffNs: bigint): number {
    return this.transaction(() => {
      const s = this.#streams.get(stream);
      if (s === undefined) return 0;
      const old: number[] = [];
      for (const m of this.#from(s, 1)) {
        if (m.timeNs >= cutoffNs) break;
        old.push(m.seq);
      }
      for (const seq of old) this.deleteMessage(stream, seq);
      return old.length;
    });
  }

  subjectCount(stream: string, subject: string): number {
    let n = 0;
    for (const m of this.#streams.get(stream)?.msgs.values() ?? []) if (m.subject === subject) n++;
    return n;
  }

  // ── consumers ────────────────────────────────────────────────────────────

  createConsumer(stream: string, name: string, config: JsonObject, createdNs: bigint, startSeq = 0): ConsumerRecord {
    return this.transaction(() => {
      const s = this.#stream(stream);
      if (s.consumers.has(name)) throw new ConsumerExistsError(stream, name);
      const c: MemConsumer = { config: structuredClone(config), createdNs, dCseq: 0, dSseq: startSeq, fCseq: 0, fSseq: startSeq, pending: new Map() };
      this.#mapSet(s.consumers, name, c);
      return consumerRecord(stream, name, c);
    });
  }

  updateConsumer(stream: string, name: string, config: JsonObject): ConsumerRecord {
    return this.transaction(() => {
      const c = this.#consumer(stream, name);
      if (c === undefined) throw new ConsumerNotFoundError(stream, name);
      this.#set(c, 'config', structuredClone(config));
      return consumerRecord(stream, name, c);
    });
  }

  getConsumer(stream: string, name: string): ConsumerRecord | undefined {
    const c = this.#consumer(stream, name);
    return c === undefined ? undefined : consumerRecord(stream, name, c);
  }

  listConsumers(stream: string): ConsumerRecord[] {
    const s = this.#streams.get(stream);
    if (s === undefined) return [];
    return [...s.consumers.keys()].sort().map((n) => consumerRecord(stream, n, s.consumers.get(n)!));
  }

  deleteConsumer(stream: string, name: string): boolean {
    return this.transaction(() => {
      const s = this.#streams.get(stream);
      return s !== undefined && this.#mapDelete(s.consumers, name) !== undefined;
    });
  }

  recordDelivery(stream: string, consumer: string, streamSeq: number, deadlineMs: number): Delivery {
    return this.transaction(() => {
      const c = this.#consumer(stream, consumer);
      if (c === undefined) throw new ConsumerNotFoundError(stream, consumer);
      const consumerSeq = c.dCseq + 1;
      this.#set(c, 'dCseq', consumerSeq);
      this.#set(c, 'dSseq', Math.max(c.dSseq, streamSeq));
      const deliveries = (c.pending.get(streamSeq)?.deliveries ?? 0) + 1;
      this.#mapSet(c.pending, streamSeq, { cseq: consumerSeq, deliveries, deadline: deadlineMs });
      return { consumerSeq, deliveries };
    });
  }

  recordSettledDeliveries(stream: string, consumer: string, count: number, lastStreamSeq: number): number {
    return this.transaction(() => {
      const c = this.#consumer(stream, consumer);
      if (c === undefined) throw new ConsumerNotFoundError(stream, consumer);
      this.#set(c, 'dCseq', c.dCseq + count);
      this.#set(c, 'dSseq', Math.max(c.dSseq, lastStreamSeq));
      this.#raiseFloor(c);
      return c.dCseq;
    });
  }

  ack(stream: string, consumer: string, streamSeq: number): boolean {
    return this.#settle(stream, consumer, streamSeq);
  }

  term(stream: string, consumer: string, streamSeq: number): boolean {
    return this.#settle(stream, consumer, streamSeq);
  }

  ackUpTo(stream: string, consumer: string, streamSeq: number): number {
    return this.transaction(() => {
      const c = this.#consumer(stream, consumer);
      if (c === undefined) return 0;
      const seqs = [...c.pending.keys()].filter((q) => q <= streamSeq);
      for (const q of seqs) this.#mapDelete(c.pending, q);
      if (seqs.length > 0) this.#raiseFloor(c);
      return seqs.length;
    });
  }

  nak(stream: string, consumer: string, streamSeq: number, redeliverAtMs: number): boolean {
    return this.#setDeadline(stream, consumer, streamSeq, redeliverAtMs);
  }

  progress(stream: string, consumer: string, streamSeq: number, deadlineMs: number): boolean {
    return this.#setDeadline(stream, consumer, streamSeq, deadlineMs);
  }

  pendingAcks(stream: string, consumer: string): PendingAck[] {
    const c = this.#consumer(stream, consumer);
    if (c === undefined) return [];
    return [...c.pending].map(([q, p]) => pendingAck(q, p)).sort((a, b) => a.streamSeq - b.streamSeq);
  }

  dueAcks(stream: string, consumer: string, nowMs: number, limit = -1): PendingAck[] {
    const due = this.pendingAcks(stream, consumer)
      .filter((p) => p.deadlineMs <= nowMs)
      .sort((a, b) => a.deadlineMs - b.deadlineMs || a.streamSeq - b.streamSeq);
    return limit < 0 ? due : due.slice(0, limit);
  }

  nextDeadline(stream: string, consumer: string, afterMs: number): number | undefined {
    let next: number | undefined;
    for (const p of this.#consumer(stream, consumer)?.pending.values() ?? []) {
      if (p.deadline > afterMs && (next === undefined || p.deadline < next)) next = p.deadline;
    }
    return next;
  }

  #setDeadline(stream: string, consumer: string, streamSeq: number, deadline: number): boolean {
    return this.transaction(() => {
      const c = this.#consumer(stream, consumer);
      const p = c?.pending.get(streamSeq);
      if (p === undefined) return false;
      this.#mapSet(c!.pending, streamSeq, { ...p, deadline });
      return true;
    });
  }

  #settle(stream: string, consumer: string, streamSeq: number): boolean {
    return this.transaction(() => {
      const c = this.#consumer(stream, consumer);
      if (c === undefined || this.#mapDelete(c.pending, streamSeq) === undefined) return false;
      this.#raiseFloor(c);
      return true;
    });
  }

  /** Same rule as SqliteStore: nothing pending → the last delivery; else just below the oldest pending. */
  #raiseFloor(c: MemConsumer): void {
    if (c.pending.size === 0) {
      this.#set(c, 'fCseq', c.dCseq);
      this.#set(c, 'fSseq', c.dSseq);
      return;
    }
    let s = Infinity;
    let q = Infinity;
    for (const [seq, p] of c.pending) {
      s = Math.min(s, seq);
      q = Math.min(q, p.cseq);
    }
    this.#set(c, 'fCseq', Math.max(c.fCseq, q - 1));
    this.#set(c, 'fSseq', Math.max(c.fSseq, s - 1));
  }
}

function streamRecord(name: string, s: MemStream): StreamRecord {
  return { name, config: structuredClone(s.config), createdNs: s.createdNs };
}

function consumerRecord(stream: string, name: string, c: MemConsumer): ConsumerRecord {
  let redelivered = 0;
  for (const p of c.pending.values()) if (p.deliveries > 1) redelivered++;
  return {
    stream,
    name,
    config: structuredClone(c.config),
    createdNs: c.createdNs,
    delivered: { consumerSeq: c.dCseq, streamSeq: c.dSseq },
    ackFloor: { consumerSeq: c.fCseq, streamSeq: c.fSseq },
    numAckPending: c.pending.size,
    numRedelivered: redelivered,
  };
}

function pendingAck(streamSeq: number, p: MemPending): PendingAck {
  return { streamSeq, consumerSeq: p.cseq, deliveries: p.deliveries, deadlineMs: p.deadline };
}
