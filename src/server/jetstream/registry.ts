/**
 * The streams and consumers that exist, and their lifecycle: loading them from
 * the store at start-up, creating, updating and deleting them, which stream
 * captures a subject, and the timers that belong to them (max_age sweeps,
 * ephemeral consumers' inactivity). The API handlers decide what a request
 * means; this does it.
 */
import { MemoryStore, TooManyStreamsError, type Store } from '../../store/index.js';
import { fromWire } from '../../protocol/bytes.js';
import { subjectsCollide } from '../../protocol/subject.js';
import { consumerFilters, DeliverPolicy, Retention, type ConsumerConfig, type Json, type StreamConfig } from './config.js';
import { ConsumerRuntime, type ConsumerHost } from './consumer.js';
import { JsErr } from './errors.js';
import { lastPerSubjectSeqs } from './last-per-subject.js';
import { StreamRuntime } from './stream.js';
import { nowNs, nsToMs, parseRfc3339 } from './time.js';
import type { Logger } from '../options.js';
import type { Op } from './types.js';

/** A stream with the consumers this layer runs. */
export type Stream = StreamRuntime<ConsumerRuntime>;

/** Entries kept in the subject → stream capture cache before it is cleared. */
const CAPTURE_CACHE_MAX = 4096;
/** How often ephemeral consumers are checked for inactivity. */
const REAP_INTERVAL_MS = 1000;

export interface RegistryHost extends ConsumerHost {
  readonly logger: Logger;
  /** Queues work for the turn's transaction (a max_age sweep). */
  enqueue(op: Op): void;
}

export class Registry {
  /** The configured store: 'file' streams live here. */
  readonly store: Store;
  private readonly ownsStore: boolean;
  /** 'memory' streams, when the configured store is not already a memory store. */
  private memStore: Store | null = null;
  readonly streams = new Map<string, Stream>();
  /** Wire subject → the stream that captures it (null: none). */
  private readonly captureCache = new Map<string, Stream | null>();
  private readonly host: RegistryHost;
  private reapTimer: NodeJS.Timeout | null = null;

  constructor(store: Store, ownsStore: boolean, host: RegistryHost) {
    this.store = store;
    this.ownsStore = ownsStore;
    this.host = host;
  }

  /** Loads the streams and durable consumers kept in the store; ephemeral consumers do not outlive a restart. */
  load(): void {
    for (const rec of this.store.listStreams()) {
      const s: Stream = new StreamRuntime(rec, this.store);
      this.streams.set(s.name, s);
      for (const c of this.store.listConsumers(s.name)) {
        const cfg = c.config as unknown as ConsumerConfig;
        if (cfg.durable_name === undefined) {
          this.store.deleteConsumer(s.name, c.name);
          continue;
        }
        const rt = new ConsumerRuntime(s, c.name, cfg, c.createdNs, this.host);
        s.consumers.set(c.name, rt);
        rt.armAckTimer();
      }
      this.armAgeTimer(s);
    }
    this.reapTimer = setInterval(() => this.reapInactive(), REAP_INTERVAL_MS);
    this.reapTimer.unref();
  }

  close(): void {
    if (this.reapTimer !== null) clearInterval(this.reapTimer);
    this.reapTimer = null;
    for (const s of this.streams.values()) {
      if (s.ageTimer !== null) clearInterval(s.ageTimer);
      for (const c of s.consumers.values()) c.stop();
    }
    this.memStore?.close();
    if (this.ownsStore) this.store.close();
  }

  /** The store for a stream's `storage`. */
  storeFor(storage: 'file' | 'memory'): Store {
    if (storage === 'file' || this.store instanceof MemoryStore) return this.store;
    return (this.memStore ??= new MemoryStore());
  }

  // ── captures ────────────────────────────────────────────────────────────

  /** The stream that stores a publish on this wire subject, or null. */
  captureFor(wireSubject: string): Stream | null {
    let stream = this.captureCache.get(wireSubject);
    if (stream === undefined) {
      stream = this.findCapture(fromWire(wireSubject));
      if (this.captureCache.size >= CAPTURE_CACHE_MAX) this.captureCache.clear();
      this.captureCache.set(wireSubject, stream);
    }
    return stream;
  }

  /** The stream that stores a publish on this (user string) subject, or null. */
  findCapture(subject: string): Stream | null {
    for (const s of this.streams.values()) if (s.captures(subject)) return s;
    return null;
  }

  // ── streams ─────────────────────────────────────────────────────────────

  stream(name: string): Stream {
    const s = this.streams.get(name);
    if (s === undefined) throw JsErr.streamNotFound();
    return s;
  }

  createStream(cfg: StreamConfig): Stream {
    this.checkOverlap(cfg);
    const store = this.storeFor(cfg.storage);
    let rec;
    try {
      rec = store.createStream(cfg.name, cfg as unknown as Json, nowNs());
    } catch (err) {
      if (err instanceof TooManyStreamsError) throw JsErr.maximumStreams();
      throw err;
    }
    const s: Stream = new StreamRuntime(rec, store);
    this.streams.set(s.name, s);
    this.captureCache.clear();
    this.armAgeTimer(s);
    return s;
  }

  /** Takes a checked config: stores it and applies the new limits. */
  updateStream(s: Stream, cfg: StreamConfig): void {
    this.checkOverlap(cfg);
    s.store.transaction(() => {
      s.store.updateStream(s.name, cfg as unknown as Json);
      s.config = cfg;
      s.applyLimits(nowNs());
    });
    for (const c of s.consumers.values()) c.refilter();
    this.captureCache.clear();
    this.armAgeTimer(s);
  }

  deleteStream(s: Stream): void {
    for (const c of s.consumers.values()) c.stop('Consumer Deleted');
    s.consumers.clear();
    if (s.ageTimer !== null) clearInterval(s.ageTimer);
    s.ageTimer = null;
    s.store.deleteStream(s.name);
    this.streams.delete(s.name);
    this.captureCache.clear();
  }

  private checkOverlap(cfg: StreamConfig): void {
    for (const other of this.streams.values()) {
      if (other.name === cfg.name) continue;
      for (const a of cfg.subjects) for (const b of other.config.subjects) if (subjectsCollide(a, b)) throw JsErr.streamSubjectOverlap();
    }
  }

  // ── consumers ───────────────────────────────────────────────────────────

  consumer(stream: string, name: string): ConsumerRuntime {
    const c = this.stream(stream).consumers.get(name);
    if (c === undefined) throw JsErr.consumerNotFound();
    return c;
  }

  /** A new consumer (the name is free): limits, work-queue rules, the start sequence. */
  createConsumer(s: Stream, cfg: ConsumerConfig): ConsumerRuntime {
    if (s.config.max_consumers > 0 && s.consumers.size >= s.config.max_consumers) throw JsErr.maximumConsumers();
    if (s.config.retention === Retention.WORKQUEUE) this.checkWorkQueue(s, cfg);
    const startSeq = this.startSeq(s, cfg);
    const rec = s.store.createConsumer(s.name, cfg.name, cfg as unknown as Json, nowNs(), startSeq);
    const c = new ConsumerRuntime(s, cfg.name, cfg, rec.createdNs, this.host);
    s.consumers.set(cfg.name, c);
    return c;
  }

  /** A changed config for an existing consumer: its ack state and waiting pulls stay. */
  updateConsumer(c: ConsumerRuntime, cfg: ConsumerConfig): void {
    c.stream.store.updateConsumer(c.stream.name, c.name, cfg as unknown as Json);
    c.reconfigure(cfg);
    this.host.markDirty(c);
  }

  /** Deletes a consumer: its waiting pulls get 409 Consumer Deleted. */
  removeConsumer(c: ConsumerRuntime): void {
    const s = c.stream;
    c.stop('Consumer Deleted');
    s.consumers.delete(c.name);
    s.store.transaction(() => {
      s.store.deleteConsumer(s.name, c.name);
      if (s.config.retention === Retention.INTEREST) s.settled(0);
    });
  }

  private checkWorkQueue(s: Stream, cfg: ConsumerConfig): void {
    const mine = consumerFilters(cfg);
    for (const other of s.consumers.values()) {
      const theirs = consumerFilters(other.config);
      if (mine.length === 0 && theirs.length === 0) throw JsErr.consumerWqMultipleUnfiltered();
      if (mine.length === 0 || theirs.length === 0) throw JsErr.consumerWqNotUnique();
      for (const a of mine) for (const b of theirs) if (subjectsCollide(a, b)) throw JsErr.consumerWqNotUnique();
    }
  }

  /** The stream seq delivery starts after, from the deliver policy. */
  private startSeq(s: Stream, cfg: ConsumerConfig): number {
    const store = s.store;
    const filters = consumerFilters(cfg);
    const last = store.streamTotals(s.name).lastSeq;
    switch (cfg.deliver_policy) {
      case DeliverPolicy.ALL:
        return 0;
      case DeliverPolicy.NEW:
        return last;
      case DeliverPolicy.LAST: {
        const seqs = (filters.length === 0 ? ['>'] : filters).map((f) => store.getLastMessage(s.name, f)?.seq ?? 0);
        const seq = Math.max(...seqs);
        return seq > 0 ? seq - 1 : last;
      }
      case DeliverPolicy.LAST_PER_SUBJECT: {
        const first = lastPerSubjectSeqs(store, s.name, filters, last)[0];
        return first === undefined ? last : first - 1;
      }
      case DeliverPolicy.BY_START_SEQUENCE:
        return Math.max(0, (cfg.opt_start_seq ?? 1) - 1);
      case DeliverPolicy.BY_START_TIME: {
        const t = parseRfc3339(cfg.opt_start_time ?? '');
        if (t === undefined) throw JsErr.consumerInvalidPolicy('invalid opt_start_time');
        let from = 1;
        for (;;) {
          const batch = store.loadMessages(s.name, from, { filter: filters.length === 0 ? undefined : filters, limit: 256 });
          if (batch.length === 0) return last;
          for (const m of batch) if (m.timeNs >= t) return m.seq - 1;
          from = batch[batch.length - 1]!.seq + 1;
        }
      }
      default:
        throw JsErr.consumerInvalidPolicy(`deliver policy ${cfg.deliver_policy} is not supported by this server`);
    }
  }

  // ── timers ──────────────────────────────────────────────────────────────

  armAgeTimer(s: Stream): void {
    if (s.ageTimer !== null) clearInterval(s.ageTimer);
    s.ageTimer = null;
    if (s.config.max_age <= 0) return;
    s.ageTimer = setInterval(() => {
      this.host.enqueue({
        store: s.store,
        run: () => {
          if (this.streams.get(s.name) === s) s.expire(nowNs());
        },
        fail: (err) => this.host.logger.error({ err, stream: s.name }, 'max_age sweep failed'),
      });
    }, s.ageSweepMs());
    s.ageTimer.unref();
  }

  /** Ephemeral consumers without pulls, acks or (push) a subscriber for inactive_threshold are removed. */
  private reapInactive(): void {
    const now = Date.now();
    for (const s of this.streams.values()) {
      for (const c of [...s.consumers.values()]) {
        const limit = c.config.inactive_threshold;
        if (limit === undefined || c.busy(now)) continue;
        if (now - c.lastActive >= nsToMs(limit)) this.removeConsumer(c);
      }
    }
  }
}
