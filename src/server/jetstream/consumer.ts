/**
 * A durable (or ephemeral) consumer at run time, pull or push: the queue of
 * waiting pull requests or the push state (push.ts), deliveries, acks,
 * redelivery timers, max_deliver and the dead-letter queue. Ack state lives
 * in the Store; this keeps what only matters while the hub runs (waiting
 * requests, timers, flow control, where a last_per_subject start is).
 */
import { compileFilter, type SubjectTest } from '../../store/filter.js';
import { subjectIsSubset } from '../../protocol/subject.js';
import type { PendingAck, StoredMessage, SubjectFilter } from '../../store/index.js';
import { toWire } from '../../protocol/bytes.js';
import { JsHeader } from '../../protocol/jetstream.js';
import { AckPolicy, consumerFilters, DeliverPolicy, JsDefaults, type ConsumerConfig } from './config.js';
import { PushState, type PushOwner } from './push.js';
import { LastPerSubjectStart } from './last-per-subject.js';
import type { StreamRuntime } from './stream.js';
import type { AfterCommit } from './types.js';
import { ackSubject, READ_AHEAD, type Cursor, type Next, type PullRequest } from './cursor.js';
import { nsToMs, timerDelay } from './time.js';

export type { AfterCommit };
export { ackSubject, type PullRequest } from './cursor.js';

/** What the consumer asks of the JetStream layer. Subjects are wire strings. */
export interface ConsumerHost {
  /** Sends a stored message to a pull inbox or a deliver subject. */
  sendMessage(target: string, msg: StoredMessage, ackSubject: string, headersOnly: boolean): void;
  /** Sends a status (100, 404, 408, 409…) to a pull inbox or a deliver subject; `replyTo` for a flow-control request. */
  sendStatus(target: string, code: number, description: string, headers?: Record<string, string | number>, replyTo?: string): void;
  hasInterest(subject: string): boolean;
  /** A push consumer found no interest on its deliver subject: mark it dirty when a subscription there appears. */
  awaitInterest(c: ConsumerRuntime, subject: string): void;
  /** Stops waiting for interest (deleted, or a new deliver subject). */
  forgetInterest(c: ConsumerRuntime, subject: string): void;
  /** Max deliveries reached or terminated: dead-letter it (inside the transaction) and announce it (after). */
  deadLetter(c: ConsumerRuntime, p: PendingAck, reason: DeadLetterReason, after: AfterCommit[], termReason?: string): void;
  /** Asks for a turn (the consumer has work: a request, a due redelivery). */
  markDirty(c: ConsumerRuntime): void;
}

export const DeadLetterReason = { MAX_DELIVERIES: 'max_deliveries', TERMINATED: 'terminated' } as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** The most messages, and bytes, a push consumer sends in one round of a turn (then it asks for another). */
export const MAX_PUSH_PER_ROUND = 256;
export const MAX_PUSH_BYTES_PER_ROUND = 1024 * 1024;

const BLOCKED = 'blocked' as const;

export class ConsumerRuntime implements PushOwner {
  readonly stream: StreamRuntime<ConsumerRuntime>;
  readonly name: string;
  config: ConsumerConfig;
  readonly createdNs: bigint;
  readonly waiting: PullRequest[] = [];
  private filter: SubjectFilter | undefined = undefined;
  private test: SubjectTest = compileFilter(undefined);
  private readonly host: ConsumerHost;
  private ackTimer: NodeJS.Timeout | null = null;
  private ackTimerAt = Infinity;
  /** Set for a push consumer (deliver_subject). */
  push: PushState | null = null;
  private lastPerSubject: LastPerSubjectStart | null = null;
  /** Date.now() of the last pull or ack (ephemeral consumers expire on inactivity). */
  lastActive = Date.now();
  /** Date.now() of the last delivery and the last ack, 0 for none since the hub started: info's last_active. */
  lastDeliveredMs = 0;
  lastAckedMs = 0;
  deleted = false;

  constructor(stream: StreamRuntime<ConsumerRuntime>, name: string, config: ConsumerConfig, createdNs: bigint, host: ConsumerHost) {
    this.stream = stream;
    this.name = name;
    this.config = config;
    this.createdNs = createdNs;
    this.host = host;
    this.reconfigure(config);
    if (config.deliver_policy === DeliverPolicy.LAST_PER_SUBJECT) {
      // Only before the first delivery: after a restart, a durable goes on from where it was.
      const rec = stream.store.getConsumer(stream.name, name);
      if (rec !== undefined && rec.delivered.consumerSeq === 0) this.lastPerSubject = LastPerSubjectStart.compute(stream.store, stream.name, consumerFilters(config));
    }
    // A push consumer starts (or, loaded after a restart, resumes) as soon as its deliver subject has interest.
    if (this.push !== null) host.markDirty(this);
  }

  /**
   * The filter store reads use: none when the filters cover every subject the
   * stream stores (a KV watch of `$KV.b.>`), so reads take the index instead of
   * testing each subject. Called again when the stream's subjects change.
   */
  refilter(): void {
    const f = consumerFilters(this.config);
    const covers = f.length > 0 && this.stream.config.subjects.every((s) => f.some((x) => subjectIsSubset(s, x)));
    this.filter = f.length === 0 || covers ? undefined : f;
    this.test = compileFilter(this.filter);
  }

  /** Takes a new config (an update keeps the ack state and the waiting pulls). */
  reconfigure(config: ConsumerConfig): void {
    const old = this.config;
    this.config = config;
    this.refilter();
    const ds = config.deliver_subject;
    const same =
      this.push !== null &&
      ds !== undefined &&
      old.deliver_subject === ds &&
      old.rate_limit_bps === config.rate_limit_bps &&
      old.flow_control === config.flow_control &&
      old.idle_heartbeat === config.idle_heartbeat;
    if (same) return;
    if (this.push !== null) {
      this.push.stop();
      this.host.forgetInterest(this, this.push.subject);
    }
    this.push = ds === undefined ? null : new PushState(this, { ...config, deliver_subject: toWire(ds) }, this.stream.config.max_msg_size);
  }

  // ── PushOwner ──────────────────────────────────────────────────────────

  get streamName(): string {
    return this.stream.name;
  }

  get consumerName(): string {
    return this.name;
  }

  wake(): void {
    if (!this.deleted) this.host.markDirty(this);
  }

  heartbeat(headers: Record<string, string | number>): void {
    if (this.push !== null && !this.deleted) this.host.sendStatus(this.push.subject, 100, 'Idle Heartbeat', headers);
  }

  lastDelivered(): { consumerSeq: number; streamSeq: number } {
    const rec = this.stream.store.getConsumer(this.stream.name, this.name);
    return { consumerSeq: rec?.delivered.consumerSeq ?? 0, streamSeq: rec?.delivered.streamSeq ?? 0 };
  }

  hasInterest(subject: string): boolean {
    return this.host.hasInterest(subject);
  }

  /** Whether a new message in the stream may be for it now: a pull is waiting, or it is a push consumer. */
  awaitsMessages(): boolean {
    return this.waiting.length > 0 || this.push !== null;
  }

  /**
   * Whether something keeps an ephemeral consumer alive now: a waiting pull,
   * or interest on a push consumer's deliver subject (which counts as
   * activity, so inactive_threshold runs from when the interest went away).
   */
  busy(now: number): boolean {
    if (this.waiting.length > 0) return true;
    if (this.push !== null && this.push.active()) {
      this.lastActive = now;
      return true;
    }
    return false;
  }

  get durable(): boolean {
    return this.config.durable_name !== undefined;
  }

  wants(subject: string): boolean {
    return this.test(subject);
  }

  /** Highest stream seq settled (acked or terminated) with everything below. */
  ackFloor(): number {
    return this.stream.store.getConsumer(this.stream.name, this.name)?.ackFloor.streamSeq ?? 0;
  }

  /**
   * Messages still to deliver after stream seq `after` (num_pending): while a
   * last_per_subject start lasts, the listed ones left plus everything newer
   * than the start.
   */
  numPending(after: number): number {
    const store = this.stream.store;
    const l = this.lastPerSubject;
    if (l !== null && after < l.resume) return l.leftAfter(after) + store.countMessages(this.stream.name, l.resume + 1, this.filter);
    return store.countMessages(this.stream.name, after + 1, this.filter);
  }

  /** ack_wait, or the backoff step for the delivery about to happen (deliveries counts it). */
  ackWaitMs(deliveries: number): number {
    const b = this.config.backoff;
    if (b !== undefined && b.length > 0) return nsToMs(b[Math.min(deliveries - 1, b.length - 1)]!);
    return nsToMs(this.config.ack_wait ?? JsDefaults.ackWaitNs);
  }

  // ── pull requests ──────────────────────────────────────────────────────

  addRequest(req: PullRequest): void {
    this.waiting.push(req);
    this.lastActive = Date.now();
    this.host.markDirty(this);
  }

  /** Removes a request (done, expired, or its inbox went away). */
  finish(req: PullRequest): void {
    const i = this.waiting.indexOf(req);
    if (i !== -1) this.waiting.splice(i, 1);
    if (req.expiresTimer !== null) clearTimeout(req.expiresTimer);
    if (req.heartbeatTimer !== null) clearInterval(req.heartbeatTimer);
    req.expiresTimer = null;
    req.heartbeatTimer = null;
  }

  /** Pending headers for 408/409 statuses: what the request still expected. */
  pendingHeaders(req: PullRequest): Record<string, number> {
    return { [JsHeader.PENDING_MESSAGES]: req.remaining, [JsHeader.PENDING_BYTES]: req.maxBytes > 0 ? req.bytesLeft : 0 };
  }

  // ── a turn: deliveries, inside the transaction ─────────────────────────

  /**
   * Runs inside the turn's transaction: dead-letters exhausted messages,
   * then delivers (due redeliveries first, then new messages) to the waiting
   * pull requests or, for a push consumer, to its deliver subject, recording
   * every delivery before it is sent. What to send is pushed onto `after`,
   * which runs once the transaction has committed.
   */
  fill(after: AfterCommit[]): void {
    if (this.deleted) return;
    // Without a subscriber a push consumer does nothing (not even redeliveries) until one comes.
    if (this.push !== null && !this.push.active()) {
      this.host.awaitInterest(this, this.push.subject);
      return;
    }
    const store = this.stream.store;
    const sname = this.stream.name;
    const rec = store.getConsumer(sname, this.name);
    if (rec === undefined) return;
    const now = Date.now();
    const cfg = this.config;
    const explicit = cfg.ack_policy !== AckPolicy.NONE;
    const cur: Cursor = {
      now,
      explicit,
      due: [],
      di: 0,
      ackPending: rec.numAckPending,
      nextSeq: rec.delivered.streamSeq + 1,
      cseq: rec.delivered.consumerSeq,
      pending: -1,
      unrecorded: 0,
      ahead: [],
      at: 0,
    };

    // Due redeliveries; the exhausted ones go to the dead-letter queue.
    if (explicit && cur.ackPending > 0) {
      for (const p of store.dueAcks(sname, this.name, now)) {
        if (cfg.max_deliver > 0 && p.deliveries >= cfg.max_deliver) {
          store.term(sname, this.name, p.streamSeq);
          cur.ackPending--;
          this.host.deadLetter(this, p, DeadLetterReason.MAX_DELIVERIES, after);
          this.stream.settled(p.streamSeq);
        } else {
          cur.due.push(p);
        }
      }
    }
    if (this.push !== null) this.fillPush(this.push, cur, after);
    else this.fillPull(cur, after);
    if (cur.unrecorded > 0) store.recordSettledDeliveries(sname, this.name, cur.unrecorded, cur.nextSeq - 1);
    if (explicit) this.armAckTimer(now);
  }

  private fillPull(cur: Cursor, after: AfterCommit[]): void {
    let r = 0;
    while (r < this.waiting.length) {
      const req = this.waiting[r]!;
      if (!this.host.hasInterest(req.reply)) {
        this.finish(req); // the client went away: nobody to send a status to
        continue;
      }
      let blocked = false;
      let done = false;
      while (req.remaining > 0) {
        const next = this.peek(cur);
        if (next === BLOCKED) {
          blocked = true;
          break;
        }
        if (next === undefined) break;
        if (req.maxBytes > 0 && next.cost > req.bytesLeft) {
          if (next.redelivery) cur.di--; // not delivered: still due
          const headers = this.pendingHeaders(req);
          after.push(() => this.host.sendStatus(req.reply, 409, 'Message Size Exceeds MaxBytes', headers));
          this.finish(req);
          done = true;
          break;
        }
        this.take(cur, next);
        const { msg, ack } = next;
        const headersOnly = this.config.headers_only === true;
        after.push(() => this.host.sendMessage(req.reply, msg, ack, headersOnly));
        req.remaining--;
        req.delivered++;
        if (req.maxBytes > 0) req.bytesLeft -= next.cost;
        req.lastSent = cur.now;
      }
      if (done) continue;
      if (req.remaining === 0) {
        this.finish(req);
        continue;
      }
      if (req.noWait) {
        // Nothing (more) to give now: a no-wait request ends here.
        const none = req.delivered === 0 && !blocked;
        const headers = none ? undefined : this.pendingHeaders(req);
        after.push(() => this.host.sendStatus(req.reply, none ? 404 : 408, none ? 'No Messages' : 'Request Timeout', headers));
        this.finish(req);
        continue;
      }
      r++;
    }
  }

  /**
   * A push consumer delivers while its deliver subject has interest, flow
   * control and the rate limit allow, and max_ack_pending is not reached; at
   * most MAX_PUSH_PER_ROUND messages (MAX_PUSH_BYTES_PER_ROUND bytes) per
   * round, so that a long backlog goes out over several turns and the
   * connections' writes get their turn.
   */
  private fillPush(push: PushState, cur: Cursor, after: AfterCommit[]): void {
    this.lastActive = cur.now;
    const target = push.subject;
    const headersOnly = this.config.headers_only === true;
    let bytes = 0;
    for (let n = 0; push.open(cur.now); n++) {
      if (n === MAX_PUSH_PER_ROUND || bytes >= MAX_PUSH_BYTES_PER_ROUND) {
        this.host.markDirty(this);
        return;
      }
      const next = this.peek(cur);
      if (next === undefined || next === BLOCKED) return;
      this.take(cur, next);
      const { msg, ack } = next;
      after.push(() => this.host.sendMessage(target, msg, ack, headersOnly));
      bytes += next.cost;
      const fc = push.sent(next.cost, cur.now);
      if (fc !== undefined) after.push(() => this.host.sendStatus(target, 100, 'FlowControl Request', undefined, fc));
    }
  }

  /**
   * The next delivery: a due redelivery first, else the next new message
   * (BLOCKED when max_ack_pending is reached). Nothing is recorded until
   * take(); a redelivery not taken must be given back (cur.di--).
   */
  private peek(cur: Cursor): Next | typeof BLOCKED | undefined {
    const store = this.stream.store;
    const sname = this.stream.name;
    // Redeliveries first; a message gone from the stream (limits, purge) is settled instead.
    while (cur.di < cur.due.length) {
      const p = cur.due[cur.di++]!;
      const msg = store.getMessage(sname, p.streamSeq);
      if (msg === undefined) {
        store.ack(sname, this.name, p.streamSeq);
        cur.ackPending--;
        continue;
      }
      const pendingAfter = cur.pending < 0 ? this.numPending(cur.nextSeq - 1) : cur.pending;
      return this.next(cur, msg, p.deliveries + 1, true, pendingAfter);
    }
    const maxAckPending = this.config.max_ack_pending ?? 0;
    if (cur.explicit && maxAckPending > 0 && cur.ackPending >= maxAckPending) return BLOCKED;
    const msg = this.nextNew(cur);
    if (msg === undefined) return undefined;
    const pendingAfter = cur.pending < 0 ? this.numPending(msg.seq) : cur.pending - 1;
    return this.next(cur, msg, 1, false, pendingAfter);
  }

  private next(cur: Cursor, msg: StoredMessage, deliveries: number, redelivery: boolean, pendingAfter: number): Next {
    const pending = Math.max(0, pendingAfter);
    // What the delivery will be: its ack subject is part of what max_bytes and flow control count.
    const ack = ackSubject(this.stream.name, this.name, deliveries, msg.seq, cur.cseq + 1, msg.timeNs, pending);
    const cost = Buffer.byteLength(msg.subject) + ack.length + msg.headers.length + msg.payload.length;
    return { msg, deliveries, redelivery, ack, cost, pending };
  }

  /** The next new message from cur.nextSeq: while a last_per_subject start lasts, only the listed ones. */
  private nextNew(cur: Cursor): StoredMessage | undefined {
    const store = this.stream.store;
    let from = cur.nextSeq;
    const l = this.lastPerSubject;
    if (l !== null) {
      const { msg, gone } = l.next(store, this.stream.name, from);
      if (gone > 0) cur.pending = -1; // fewer to come than counted: count again
      if (msg !== undefined) return msg;
      from = Math.max(from, l.resume + 1);
    }
    if (this.push === null) return store.nextMessage(this.stream.name, from, this.filter);
    // Messages are not removed in the middle of a fill, so what was read ahead stays valid until the fill ends.
    while (cur.at < cur.ahead.length && cur.ahead[cur.at]!.seq < from) cur.at++;
    if (cur.at === cur.ahead.length) {
      cur.ahead = this.stream.readAhead(from, this.filter, READ_AHEAD);
      cur.at = 0;
    }
    return cur.ahead[cur.at];
  }

  /**
   * Records a delivery picked by peek() and moves the cursor past it. With
   * ack none nothing waits for an ack: fill() records them all at its end.
   */
  private take(cur: Cursor, next: Next): void {
    const seq = next.msg.seq;
    cur.pending = next.pending;
    this.lastDeliveredMs = cur.now;
    if (!cur.explicit) {
      cur.cseq++;
      cur.unrecorded++;
      cur.nextSeq = seq + 1;
      return;
    }
    const d = this.stream.store.recordDelivery(this.stream.name, this.name, seq, cur.now + this.ackWaitMs(next.deliveries));
    cur.cseq = d.consumerSeq;
    if (!next.redelivery) {
      cur.nextSeq = seq + 1;
      cur.ackPending++;
    }
  }

  /**
   * Sets the timer for the next ack deadline after `now`, so redeliveries to
   * waiting pulls and max_deliver happen without a new pull. A turn passes the
   * `now` its due query used: a deadline that fell due while the turn ran is
   * after that `now` (not served) and gets the timer, which then fires at once.
   * Deadlines due by `now` wait for a pull (which marks the consumer dirty),
   * so a message due with nobody pulling does not keep the timer firing.
   */
  armAckTimer(now = Date.now()): void {
    const at = this.stream.store.nextDeadline(this.stream.name, this.name, now) ?? Infinity;
    if (at === this.ackTimerAt) return;
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.ackTimerAt = at;
    if (at === Infinity) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.ackTimerAt = Infinity;
      this.host.markDirty(this);
    }, timerDelay(at - Date.now())); // a deadline past the longest delay re-arms when this one fires
    this.ackTimer.unref();
  }

  /** Stops everything; `reason` is sent to waiting requests (409 Consumer Deleted), if given. */
  stop(reason?: string): void {
    this.deleted = reason !== undefined || this.deleted;
    if (this.push !== null) {
      this.push.stop();
      this.host.forgetInterest(this, this.push.subject);
    }
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.ackTimerAt = Infinity;
    for (const req of [...this.waiting]) {
      if (reason !== undefined) this.host.sendStatus(req.reply, 409, reason);
      this.finish(req);
    }
  }
}
