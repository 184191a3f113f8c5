/**
 * The JetStream layer: durable streams and consumers behind the JetStream API
 * subset (docs/durability.md, docs/protocol.md). The hub hands it every
 * publish (`onPublish`); it answers `$JS.API.*` requests, takes acks on
 * `$JS.ACK.*`, and stores messages whose subject a stream captures.
 *
 * The parts: registry.ts (which streams and consumers exist), turn.ts (the
 * group commit every change goes through), api/ (the requests), acks.ts,
 * pull.ts, consumer.ts (deliveries), outbox.ts (what leaves). This file wires
 * them and routes a publish to the right one.
 */
import { decodeHeaders } from '../../protocol/headers.js';
import { bufferView, fromWire } from '../../protocol/bytes.js';
import { isValidLiteralSubject } from '../../protocol/subject.js';
import { JS_ACK_PREFIX, JS_API_PREFIX } from '../../protocol/jetstream.js';
import { ConfigError } from '../../errors.js';
import { openStore, type PendingAck, type Store, type StoreSpec, type StoredMessage } from '../../store/index.js';
import { checkInt, type HubJetStreamOptions, type Logger } from '../options.js';
import { ackOp } from './acks.js';
import { directGet } from './api/direct.js';
import { handleApi } from './api/index.js';
import type { ConsumerHost, ConsumerRuntime, DeadLetterReason } from './consumer.js';
import { JsApiError, JsErr } from './errors.js';
import type { JsHost } from './host.js';
import { DEFAULT_DEAD_LETTER_PREFIX, Outbox } from './outbox.js';
import { pull } from './pull.js';
import { answerFlowControl, InterestWaiters, JS_FC_PREFIX } from './push.js';
import { Registry, type Stream } from './registry.js';
import { nowNs } from './time.js';
import { DEFAULT_MAX_COMMIT_BATCH, Turn, type CommitObserver } from './turn.js';
import type { AfterCommit, Fillable, JsContext, Op } from './types.js';

export { DEFAULT_MAX_COMMIT_BATCH, type CommitObserver } from './turn.js';
export { DEAD_LETTER_METADATA, DEFAULT_DEAD_LETTER_PREFIX } from './outbox.js';

const API_PREFIX = `${JS_API_PREFIX}.`;
const ACK_PREFIX = `${JS_ACK_PREFIX}.`;
const FC_PREFIX = `${JS_FC_PREFIX}.`;

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

export class JetStream implements ConsumerHost, JsContext {
  readonly host: JsHost;
  readonly registry: Registry;
  readonly deadLetterPrefix: string;
  readonly counters = { total: 0, errors: 0 };
  private readonly turn: Turn;
  private readonly out: Outbox;
  /** Push consumers waiting for a subscriber on their deliver subject. */
  private readonly interestWaiters = new InterestWaiters<ConsumerRuntime>();
  private closed = false;
  /** Direct gets answered since the last early flush. */
  private directSinceFlush = 0;

  constructor(host: JsHost, options: ResolvedJetStreamOptions) {
    this.host = host;
    this.deadLetterPrefix = options.deadLetterPrefix;
    const spec = options.store;
    const owns = typeof spec === 'string' || !('transaction' in spec);
    const store = owns ? openStore(spec as StoreSpec) : (spec as Store);
    this.registry = new Registry(store, owns, this);
    this.turn = new Turn(store, host, options.maxCommitBatch, () => {
      for (const s of this.registry.streams.values()) s.clearReads();
    });
    this.out = new Outbox(this);
    this.registry.load();
  }

  get logger(): Logger {
    return this.host.logger;
  }

  /** The configured store ('file' streams live here). */
  get store(): Store {
    return this.registry.store;
  }

  get streams(): ReadonlyMap<string, Stream> {
    return this.registry.streams;
  }

  /** Watches each group commit's duration (the monitor's commit latency histogram); null: no one does. */
  set commitObserver(fn: CommitObserver | null) {
    this.turn.observer = fn;
  }

  get commitObserver(): CommitObserver | null {
    return this.turn.observer;
  }

  close(): void {
    if (this.closed) return;
    this.turn.close();
    this.closed = true;
    this.registry.close();
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
        this.turn.runNow(); // an API call sees every publish that came before it
        return this.onApi(fromWire(subject).slice(API_PREFIX.length).split('.'), reply, Buffer.from(payload.subarray(headerLength)));
      }
      if (subject.startsWith(ACK_PREFIX)) {
        const op = ackOp(this, fromWire(subject), reply, asBuffer(payload.subarray(headerLength)));
        if (op !== undefined) this.turn.enqueue(op);
        return reply !== undefined;
      }
      if (subject.startsWith(FC_PREFIX)) {
        answerFlowControl(fromWire(subject), (s, c) => this.registry.streams.get(s)?.consumers.get(c)?.push);
        return false;
      }
    }
    if (this.registry.streams.size === 0) return false;
    const stream = this.registry.captureFor(subject);
    if (stream === null) return false;
    // No copy: a socket's chunks are never reused (Hub.publish copies a caller's buffer), and the store
    // copies what it keeps.
    this.capture(stream, fromWire(subject), reply, headerLength, payload);
    return reply !== undefined;
  }

  /** Whether a stream captures `subject` (a wire string): a message published there would be stored. */
  captures(subject: string): boolean {
    return !this.closed && this.registry.streams.size > 0 && this.registry.captureFor(subject) !== null;
  }

  private onApi(tokens: string[], reply: string, body: Buffer): boolean {
    if (tokens[0] === 'CONSUMER' && tokens[1] === 'MSG' && tokens[2] === 'NEXT' && tokens.length === 5) {
      const c = this.registry.streams.get(tokens[3]!)?.consumers.get(tokens[4]!);
      if (c === undefined) return false;
      pull(this.out, c, reply, body);
      return true;
    }
    if (tokens[0] === 'DIRECT' && tokens[1] === 'GET' && tokens.length >= 3) {
      if (!directGet(this, this.out, tokens, reply, body)) return false;
      // A client with many gets in flight sends them in one read: answering all of them in one write at the end
      // of it would make client and hub take turns, each idle while the other works. Part of the answers leave
      // now, so the client starts on them while the hub serves the rest.
      if (++this.directSinceFlush >= DIRECT_FLUSH_EVERY) {
        this.directSinceFlush = 0;
        this.host.flush();
      }
      return true;
    }
    return handleApi(this, tokens, reply, body);
  }

  private capture(stream: Stream, subject: string, reply: string | undefined, headerLength: number, body: Uint8Array): void {
    const headers = headerLength > 0 ? body.subarray(0, headerLength) : null;
    const payload = body.subarray(headerLength);
    // JetStream clients send an empty header block ("NATS/1.0\r\n\r\n") with every publish: nothing to decode.
    const parsed = headers !== null && headers.length > EMPTY_HEADERS_LENGTH ? decodeHeaders(asBuffer(headers)) : undefined;
    const timeNs = nowNs();
    this.turn.enqueue({
      store: stream.store,
      run: (after) => {
        if (!this.registry.streams.has(stream.name)) {
          if (reply !== undefined) after.push(() => this.reply(reply, { error: JsErr.streamNotFound() }));
          return;
        }
        const r = stream.append({ subject, headers, payload, parsed, timeNs });
        if (r instanceof JsApiError) {
          if (reply !== undefined) after.push(() => this.reply(reply, { error: r, stream: stream.name, seq: 0 }));
          return;
        }
        if (!r.duplicate) for (const c of stream.consumers.values()) if (c.awaitsMessages()) this.turn.markDirty(c);
        if (reply !== undefined) after.push(() => this.out.pubAck(reply, stream, r.seq, r.duplicate));
      },
      fail: (err) => {
        if (reply !== undefined) this.reply(reply, { error: JsErr.streamStoreFailed(errText(err)), stream: stream.name, seq: 0 });
      },
    });
  }

  // ── JsContext, and what the parts ask of the layer ─────────────────────

  enqueue(op: Op): void {
    this.turn.enqueue(op);
  }

  markDirty(c: Fillable): void {
    this.turn.markDirty(c);
  }

  reply(subject: string, body: object): void {
    this.out.reply(subject, body);
  }

  findCapture(subject: string): Stream | null {
    return this.registry.findCapture(subject);
  }

  pull(c: ConsumerRuntime, reply: string, body: Buffer): void {
    pull(this.out, c, reply, body);
  }

  ackAck(reply: string): void {
    this.host.reply(reply, EMPTY);
  }

  logError(err: unknown, c: ConsumerRuntime): void {
    this.host.logger.error({ err, stream: c.stream.name, consumer: c.name }, 'ack not stored');
  }

  // ── ConsumerHost ────────────────────────────────────────────────────────

  sendMessage(target: string, msg: StoredMessage, ackSubject: string, headersOnly: boolean): void {
    this.out.sendMessage(target, msg, ackSubject, headersOnly);
  }

  sendStatus(target: string, code: number, description: string, headers?: Record<string, string | number>, replyTo?: string): void {
    this.out.sendStatus(target, code, description, headers, replyTo);
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
    for (const c of this.interestWaiters.take(subject)) if (!c.deleted) this.turn.markDirty(c);
  }

  deadLetter(c: ConsumerRuntime, p: PendingAck, reason: DeadLetterReason, after: AfterCommit[], termReason?: string): void {
    this.out.deadLetter(c, p, reason, after, termReason);
  }
}

const EMPTY = Buffer.alloc(0);
/** Direct gets answered before the answers are written out (see onApi). */
const DIRECT_FLUSH_EVERY = 16;
/** "NATS/1.0\r\n\r\n": a header block with no headers. */
const EMPTY_HEADERS_LENGTH = 12;

/** A Buffer over the same bytes (the hub passes payloads as plain Uint8Array views). */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : bufferView(u.buffer, u.byteOffset, u.length);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
