/**
 * The JetStream layer: durable streams and pull consumers behind the
 * JetStream API subset (docs/durability.md, docs/protocol.md). The hub hands
 * it every publish (`onPublish`); it answers `$JS.API.*` requests, takes acks
 * on `$JS.ACK.*`, and stores messages whose subject a stream captures.
 *
 * One transaction per turn of the event loop: appends, acks and deliveries
 * queued during a turn are applied together, committed once, and only then
 * answered (PubAck, ackAck) or sent. That is the durability promise (nothing
 * is confirmed before it is committed) and the group commit that makes it
 * cheap (one fsync for many messages). A turn with more than MIN_SLICE ops is
 * committed in slices, two halves or more (at most maxCommitBatch ops each),
 * and each slice's answers leave before the next slice is applied: otherwise
 * a client with many publishes in flight waits for the whole turn, and the
 * hub then waits for the client, in lockstep.
 */
import { randomBytes } from 'node:crypto';
import { decodeHeaders, encodeHeaders } from '../../protocol/headers.js';
import { bufferView, fromWire, toWire } from '../../protocol/bytes.js';
import { isValidLiteralSubject } from '../../protocol/subject.js';
import { JsHeader, JS_ACK_PREFIX, JS_API_PREFIX } from '../../protocol/jetstream.js';
import { ConfigError } from '../../errors.js';
import { MemoryStore, openStore, type PendingAck, type Store, type StoreSpec, type StoredMessage } from '../../store/index.js';
import { checkInt, type HubJetStreamOptions } from '../options.js';
import { ConsumerRuntime, type AfterCommit, type ConsumerHost, type DeadLetterReason } from './consumer.js';
import { JsApiError, JsErr } from './errors.js';
import type { JsHost } from './host.js';
import { StreamRuntime } from './stream.js';
import { JetStreamApi } from './api.js';
import { nowNs, nsToMs } from './time.js';
import { answerFlowControl, InterestWaiters, JS_FC_PREFIX } from './push.js';
import type { ConsumerConfig } from './config.js';

/** One unit of queued work: runs inside the turn's transaction, answers after it. */
interface Op {
  readonly store: Store;
  run(after: AfterCommit[]): void;
  /** The op threw (a store failure): its changes are rolled back; tell whoever waits. */
  fail(err: unknown): void;
}

/** Entries kept in the subject → stream capture cache before it is cleared. */
const CAPTURE_CACHE_MAX = 4096;
const API_PREFIX = `${JS_API_PREFIX}.`;
const ACK_PREFIX = `${JS_ACK_PREFIX}.`;
const FC_PREFIX = `${JS_FC_PREFIX}.`;
export const DEFAULT_DEAD_LETTER_PREFIX = 'dlq';
/** Consumer metadata key naming its dead-letter subject ('' turns dead-lettering off). */
export const DEAD_LETTER_METADATA = 'dead_letter_subject';

export const DEFAULT_MAX_COMMIT_BATCH = 512;
/** A turn with more ops than this is committed in slices (see runNow). */
const MIN_SLICE = 64;

export interface ResolvedJetStreamOptions {
  store: StoreSpec | Store;
  deadLetterPrefix: string;
  maxCommitBatch: number;
}

export function resolveJetStreamOptions(v: boolean | HubJetStreamOptions | undefined): ResolvedJetStreamOptions | null {
  if (v === undefined || v === false) return null;
  if (v !== true && (v === null || typeof v !== 'object')) {
    throw new ConfigError(`option jetstream must be a boolean or { store, deadLetterPrefix, maxCommitBatch }, got ${JSON.stringify(v)}`);
  }
  const o: HubJetStreamOptions = v === true ? {} : v;
  const prefix = o.deadLetterPrefix ?? DEFAULT_DEAD_LETTER_PREFIX;
  if (typeof prefix !== 'string' || !isValidLiteralSubject(prefix)) {
    throw new ConfigError(`option deadLetterPrefix must be a subject without wildcards, got ${JSON.stringify(prefix)}`);
  }
  const maxCommitBatch = checkInt('maxCommitBatch', o.maxCommitBatch ?? DEFAULT_MAX_COMMIT_BATCH, 1);
  return { store: o.store ?? 'memory', deadLetterPrefix: prefix, maxCommitBatch };
}

export class JetStream implements ConsumerHost {
  readonly host: JsHost;
  /** The configured store: 'file' streams live here. */
  readonly store: Store;
  private readonly ownsStore: boolean;
  /** 'memory' streams, when the configured store is not already a memory store. */
  private memStore: Store | null = null;
  readonly streams = new Map<string, StreamRuntime>();
  private readonly captureCache = new Map<string, StreamRuntime | null>();
  private ops: Op[] = [];
  private readonly dirty = new Set<ConsumerRuntime>();
  private scheduled = false;
  private closed = false;
  private inactivityTimer: NodeJS.Timeout | null = null;
  /** Push consumers waiting for a subscriber on their deliver subject. */
  private readonly interestWaiters = new InterestWaiters<ConsumerRuntime>();
  readonly deadLetterPrefix: string;
  private readonly maxCommitBatch: number;
  readonly api: JetStreamApi;
  readonly counters = { total: 0, errors: 0 };

  constructor(host: JsHost, options: ResolvedJetStreamOptions) {
    this.host = host;
    this.deadLetterPrefix = options.deadLetterPrefix;
    this.maxCommitBatch = options.maxCommitBatch;
    const spec = options.store;
    this.ownsStore = typeof spec === 'string' || !('transaction' in spec);
    this.store = this.ownsStore ? openStore(spec as StoreSpec) : (spec as Store);
    this.api = new JetStreamApi(this);
    this.load();
  }

  // ── start-up and shutdown ──────────────────────────────────────────────

  /** Loads the streams and durable consumers kept in the store; ephemeral consumers do not outlive a restart. */
  private load(): void {
    for (const rec of this.store.listStreams()) {
      const s = new StreamRuntime(rec, this.store);
      this.streams.set(s.name, s);
      for (const c of this.store.listConsumers(s.name)) {
        const cfg = c.config as unknown as ConsumerConfig;
        if (cfg.durable_name === undefined) {
          this.store.deleteConsumer(s.name, c.name);
          continue;
        }
        const rt = new ConsumerRuntime(s, c.name, cfg, c.createdNs, this);
        s.consumers.set(c.name, rt);
        rt.armAckTimer();
      }
      this.armAgeTimer(s);
    }
    this.inactivityTimer = setInterval(() => this.reapInactive(), 1000);
    this.inactivityTimer.unref();
  }

  close(): void {
    if (this.closed) return;
    this.runNow();
    this.closed = true;
    if (this.inactivityTimer !== null) clearInterval(this.inactivityTimer);
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

  // ── the hub's entry point ───────────────────────────────────────────────

  /**
   * Every publish passes here first. Returns true when the hub itself will
   * answer the reply subject (an API call, an ack, a captured publish), so
   * the hub does not send "no responders".
   */
  onPublish(subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    if (subject.charCodeAt(0) === 36 /* $ */) {
      if (subject.startsWith(API_PREFIX)) {
        if (reply === undefined) return false;
        this.runNow(); // an API call sees every publish that came before it
        return this.api.handle(fromWire(subject).slice(API_PREFIX.length), reply, Buffer.from(payload.subarray(headerLength)));
      }
      if (subject.startsWith(ACK_PREFIX)) {
        this.onAck(fromWire(subject), reply, asBuffer(payload.subarray(headerLength)));
        return reply !== undefined;
      }
      if (subject.startsWith(FC_PREFIX)) {
        answerFlowControl(fromWire(subject), (s, c) => this.streams.get(s)?.consumers.get(c)?.push);
        return false;
      }
    }
    if (this.streams.size === 0) return false;
    let stream = this.captureCache.get(subject);
    if (stream === undefined) {
      stream = this.findCapture(fromWire(subject));
      if (this.captureCache.size >= CAPTURE_CACHE_MAX) this.captureCache.clear();
      this.captureCache.set(subject, stream);
    }
    if (stream === null) return false;
    // No copy: a socket's chunks are never reused (Hub.publish copies a caller's buffer), and the store
    // copies what it keeps.
    this.capture(stream, fromWire(subject), reply, headerLength, payload);
    return reply !== undefined;
  }

  private findCapture(subject: string): StreamRuntime | null {
    for (const s of this.streams.values()) if (s.captures(subject)) return s;
    return null;
  }

  /** Call after streams or their subjects change. */
  invalidateCaptures(): void {
    this.captureCache.clear();
  }

  private capture(stream: StreamRuntime, subject: string, reply: string | undefined, headerLength: number, body: Uint8Array): void {
    const headers = headerLength > 0 ? body.subarray(0, headerLength) : null;
    const payload = body.subarray(headerLength);
    // JetStream clients send an empty header block ("NATS/1.0\r\n\r\n") with every publish: nothing to decode.
    const parsed = headers !== null && headers.length > EMPTY_HEADERS_LENGTH ? decodeHeaders(asBuffer(headers)) : undefined;
    const timeNs = nowNs();
    this.enqueue({
      store: stream.store,
      run: (after) => {
        if (!this.streams.has(stream.name)) {
          if (reply !== undefined) after.push(() => this.reply(reply, { error: JsErr.streamNotFound() }));
          return;
        }
        const r = stream.append({ subject, headers, payload, parsed, timeNs });
        if (r instanceof JsApiError) {
          if (reply !== undefined) after.push(() => this.reply(reply, { error: r, stream: stream.name, seq: 0 }));
          return;
        }
        if (!r.duplicate) for (const c of stream.consumers.values()) if (c.awaitsMessages()) this.dirty.add(c);
        if (reply !== undefined) after.push(() => this.pubAck(reply, stream, r.seq, r.duplicate));
      },
      fail: (err) => {
        if (reply !== undefined) this.reply(reply, { error: JsErr.streamStoreFailed(errText(err)), stream: stream.name, seq: 0 });
      },
    });
  }

  // ── acks ────────────────────────────────────────────────────────────────

  private onAck(subject: string, reply: string | undefined, body: Buffer): void {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
    const t = subject.split('.');
    if (t.length !== 9) return;
    const stream = this.streams.get(t[2]!);
    const c = stream?.consumers.get(t[3]!);
    const sseq = Number(t[5]);
    if (c === undefined || !Number.isSafeInteger(sseq) || sseq <= 0) return;
    c.lastActive = Date.now();
    const text = body.toString('utf8');
    const kind = ackKind(text);
    const r = reply;
    this.enqueue({
      store: c.stream.store,
      run: (after) => {
        if (c.deleted) return;
        const s = c.stream;
        const store = s.store;
        const now = Date.now();
        switch (kind) {
          case 'ack':
          case 'next': {
            const settled = c.config.ack_policy === 'all' ? store.ackUpTo(s.name, c.name, sseq) > 0 : store.ack(s.name, c.name, sseq);
            if (settled) {
              c.lastAckedMs = now;
              s.settled(sseq);
              this.dirty.add(c);
            }
            break;
          }
          case 'nak': {
            const delay = nakDelayMs(text);
            if (store.nak(s.name, c.name, sseq, now + delay)) this.dirty.add(c);
            break;
          }
          case 'progress':
            store.progress(s.name, c.name, sseq, now + c.ackWaitMs(Number(t[4]) || 1));
            break;
          case 'term': {
            const p = store.pendingAcks(s.name, c.name).find((x) => x.streamSeq === sseq);
            if (p !== undefined && store.term(s.name, c.name, sseq)) {
              c.lastAckedMs = now;
              this.deadLetter(c, p, 'terminated', after, text.slice(5).trim());
              s.settled(sseq);
              this.dirty.add(c);
            }
            break;
          }
        }
        if (kind === 'next' && r !== undefined) {
          after.push(() => this.api.pull(c, r, Buffer.from(text.slice(4).trim())));
        } else if (r !== undefined) {
          after.push(() => this.host.reply(r, EMPTY));
        }
      },
      fail: (err) => this.host.logger.error({ err, stream: c.stream.name, consumer: c.name }, 'ack not stored'),
    });
  }

  // ── the turn ────────────────────────────────────────────────────────────

  private enqueue(op: Op): void {
    this.ops.push(op);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    // After every read of this turn of the event loop: one commit for all of them.
    // (Running a lone publish's turn at nextTick instead measured no faster.)
    setImmediate(runTurn, this);
  }

  markDirty(c: ConsumerRuntime): void {
    this.dirty.add(c);
    this.schedule();
  }

  /**
   * Applies everything queued: up to MIN_SLICE ops in one transaction, more in
   * two halves or more (at most maxCommitBatch each), answering and writing
   * the answers out after each. Ops queued meanwhile wait for the next turn.
   */
  runNow(): void {
    this.scheduled = false;
    const all = this.ops;
    this.ops = [];
    // Two halves at least, so the client works on the first half's answers while the hub stores the second.
    const max = Math.min(this.maxCommitBatch, Math.max(MIN_SLICE, Math.ceil(all.length / 2)));
    for (let i = 0; ; ) {
      if (this.closed || (i >= all.length && this.dirty.size === 0)) break;
      this.commit(all.length <= max ? all : all.slice(i, i + max));
      i += max;
      // The answers go now, not after the next poll for input: the client works on them while the hub
      // stores the next slice, or waits for more.
      this.host.flush();
      if (i >= all.length) break;
    }
    if (this.dirty.size > 0) this.schedule();
  }

  /** One transaction: the ops, then deliveries; then the answers. */
  private commit(ops: Op[]): void {
    let after: AfterCommit[] = [];
    try {
      this.store.transaction(() => {
        // Refusals (a failed expectation, a full stream) are answers, not throws. A throw is a store
        // failure: it rolls the whole turn back and every op of the turn is told (below). A memory
        // stream's op gets its own transaction, since this one does not cover its store.
        for (const op of ops) {
          if (op.store === this.store) op.run(after);
          else op.store.transaction(() => op.run(after));
        }
        // Deliveries, until no consumer has more to do this turn.
        for (let rounds = 0; this.dirty.size > 0 && rounds < 4; rounds++) {
          const list = [...this.dirty];
          this.dirty.clear();
          for (const c of list) c.fill(after);
        }
      });
    } catch (err) {
      // Nothing of this turn is durable, so nothing is confirmed.
      this.host.logger.error({ err }, 'JetStream turn failed and was rolled back');
      after = ops.map((op) => () => op.fail(err));
    }
    for (const a of after) {
      try {
        a();
      } catch (err) {
        this.host.logger.error({ err }, 'JetStream send failed');
      }
    }
  }

  // ── ConsumerHost ────────────────────────────────────────────────────────

  sendMessage(target: string, msg: StoredMessage, ackSubject: string, headersOnly: boolean): void {
    let headers: Buffer | null = msg.headers.length > 0 ? Buffer.from(msg.headers) : null;
    let payload = Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.length);
    if (headersOnly) {
      headers = withHeaders(headers, { [JsHeader.MSG_SIZE]: String(payload.length) });
      payload = EMPTY;
    }
    this.host.deliverTo(target, toWire(msg.subject), ackSubject, headers, payload);
  }

  sendStatus(target: string, code: number, description: string, headers?: Record<string, string | number>, replyTo?: string): void {
    this.host.deliverTo(target, target, replyTo, encodeHeaders(headers ?? {}, { code, description }), EMPTY);
  }

  hasInterest(subject: string): boolean {
    return this.host.hasInterest(subject);
  }

  awaitInterest(c: ConsumerRuntime, subject: string): void {
    this.interestWaiters.add(subject, c);
  }

  forgetInterest(c: ConsumerRuntime, subject: string): void {
    this.interestWaiters.remove(subject, c);
  }

  /** The hub added a subscription (wire subject): push consumers waiting for it get a turn. */
  subscribed(subject: string): void {
    if (this.closed || this.interestWaiters.size === 0) return;
    for (const c of this.interestWaiters.take(subject)) if (!c.deleted) this.markDirty(c);
  }

  deadLetter(c: ConsumerRuntime, p: PendingAck, reason: DeadLetterReason, after: AfterCommit[], termReason?: string): void {
    const s = c.stream;
    const msg = s.store.getMessage(s.name, p.streamSeq);
    const at = new Date().toISOString();
    const id = randomBytes(11).toString('base64url');
    if (reason === 'max_deliveries') {
      const advisory = {
        type: 'io.nats.jetstream.advisory.v1.max_deliver',
        id,
        timestamp: at,
        stream: s.name,
        consumer: c.name,
        stream_seq: p.streamSeq,
        deliveries: p.deliveries,
      };
      after.push(() => this.advise(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${s.name}.${c.name}`, advisory));
    } else {
      const advisory = {
        type: 'io.nats.jetstream.advisory.v1.terminated',
        id,
        timestamp: at,
        stream: s.name,
        consumer: c.name,
        consumer_seq: p.consumerSeq,
        stream_seq: p.streamSeq,
        deliveries: p.deliveries,
        ...(termReason ? { reason: termReason } : {}),
      };
      after.push(() => this.advise(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${s.name}.${c.name}`, advisory));
    }
    const target = c.config.metadata?.[DEAD_LETTER_METADATA] ?? `${this.deadLetterPrefix}.${s.name}.${c.name}`;
    if (msg === undefined || target === '') return;
    const headers = withHeaders(msg.headers.length > 0 ? Buffer.from(msg.headers) : null, {
      'Dead-Letter-Reason': reason,
      'Dead-Letter-Stream': s.name,
      'Dead-Letter-Consumer': c.name,
      'Dead-Letter-Deliveries': String(p.deliveries),
      'Dead-Letter-Sequence': String(p.streamSeq),
      'Dead-Letter-Subject': msg.subject,
    });
    const payload = Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.length);
    // Stored in the same transaction as the term, so a crash cannot lose it in between.
    const dlq = this.findCapture(target);
    if (dlq !== null) {
      const r = dlq.store.transaction(() => dlq.append({ subject: target, headers, payload, parsed: decodeHeaders(headers), timeNs: nowNs() }));
      if (r instanceof JsApiError) this.host.logger.warn({ stream: dlq.name, err: r.message }, 'dead letter refused by its stream');
      else for (const dc of dlq.consumers.values()) if (dc.awaitsMessages()) this.dirty.add(dc);
    }
    after.push(() => this.host.publish(toWire(target), undefined, headers, payload, false));
  }

  private advise(subject: string, body: object): void {
    this.host.publish(toWire(subject), undefined, null, Buffer.from(JSON.stringify(body)));
  }

  /** `{"stream":…,"seq":…}` (and `"duplicate":true`), the hot reply, without a JSON.stringify per publish. */
  private pubAck(reply: string, stream: StreamRuntime, seq: number, duplicate: boolean): void {
    const body = stream.pubAckPrefix + seq + (duplicate ? ',"duplicate":true}' : '}');
    this.host.reply(reply, Buffer.from(body, 'latin1'));
  }

  /** Sends a JSON reply (an API response or a PubAck with an error). */
  reply(subject: string, body: object): void {
    const json = JSON.stringify(body, (_k, v: unknown) => (v instanceof JsApiError ? v.toJSON() : v));
    this.host.reply(subject, Buffer.from(json));
  }

  // ── timers ──────────────────────────────────────────────────────────────

  armAgeTimer(s: StreamRuntime): void {
    if (s.ageTimer !== null) clearInterval(s.ageTimer);
    s.ageTimer = null;
    if (s.config.max_age <= 0) return;
    s.ageTimer = setInterval(() => {
      this.enqueue({
        store: s.store,
        run: () => {
          if (this.streams.get(s.name) === s) s.expire(nowNs());
        },
        fail: (err) => this.host.logger.error({ err, stream: s.name }, 'max_age sweep failed'),
      });
    }, s.ageSweepMs());
    s.ageTimer.unref();
  }

  /** Ephemeral consumers without pulls or acks for inactive_threshold are removed. */
  private reapInactive(): void {
    const now = Date.now();
    for (const s of this.streams.values()) {
      for (const c of [...s.consumers.values()]) {
        const limit = c.config.inactive_threshold;
        if (limit === undefined || c.busy(now)) continue;
        if (now - c.lastActive >= nsToMs(limit)) this.api.removeConsumer(s, c);
      }
    }
  }
}

const EMPTY = Buffer.alloc(0);
/** The longest -NAK delay kept: now + this stays a safe integer (and fits SQLite's INTEGER). */
const MAX_DELAY_MS = 2 ** 52;
/** "NATS/1.0\r\n\r\n": a header block with no headers. */
const EMPTY_HEADERS_LENGTH = 12;

function runTurn(js: JetStream): void {
  js.runNow();
}

type AckKind = 'ack' | 'nak' | 'progress' | 'term' | 'next';

function ackKind(text: string): AckKind {
  if (text.startsWith('-NAK')) return 'nak';
  if (text.startsWith('+WPI')) return 'progress';
  if (text.startsWith('+TERM')) return 'term';
  if (text.startsWith('+NXT')) return 'next';
  return 'ack'; // +ACK, +OK, empty
}

/** `-NAK {"delay": ns}` → ms; a bare -NAK redelivers at once. */
function nakDelayMs(text: string): number {
  const rest = text.slice(4).trim();
  if (rest === '') return 0;
  try {
    const v = JSON.parse(rest) as { delay?: unknown };
    // Any delay is honoured, up to 2^52 ms (a deadline must stay a safe integer).
    return typeof v.delay === 'number' && v.delay > 0 ? Math.min(nsToMs(v.delay), MAX_DELAY_MS) : 0;
  } catch {
    return 0;
  }
}

/** Appends headers to a raw header block (or makes one). */
function withHeaders(block: Buffer | null, add: Record<string, string>): Buffer {
  let text = block === null ? 'NATS/1.0\r\n' : block.toString('utf8').replace(/\r\n\r\n$/, '\r\n');
  for (const [k, v] of Object.entries(add)) text += `${k}: ${v.replace(/[\r\n]/g, ' ')}\r\n`;
  return Buffer.from(text + '\r\n');
}

/** A Buffer over the same bytes (the hub passes payloads as plain Uint8Array views). */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : bufferView(u.buffer, u.byteOffset, u.length);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

