/**
 * A durable (or ephemeral) pull consumer at run time: the queue of waiting
 * pull requests, deliveries, acks, redelivery timers, max_deliver and the
 * dead-letter queue. Ack state lives in the Store; this keeps what only
 * matters while the hub runs (waiting requests, timers).
 */
import { compileFilter, type SubjectTest } from '../../store/filter.js';
import type { PendingAck, StoredMessage, SubjectFilter } from '../../store/index.js';
import { toWire } from '../../protocol/bytes.js';
import { JsHeader } from '../../protocol/jetstream.js';
import { AckPolicy, consumerFilters, type ConsumerConfig } from './config.js';
import type { StreamRuntime } from './stream.js';
import type { AfterCommit } from './types.js';
import { nsToMs, timerDelay } from './time.js';

/** One MSG.NEXT request waiting for messages. */
export interface PullRequest {
  /** The pull inbox (wire string). */
  readonly reply: string;
  /** Messages still wanted. */
  remaining: number;
  /** Bytes still allowed, when max_bytes was asked (else 0 = no limit). */
  bytesLeft: number;
  readonly maxBytes: number;
  readonly noWait: boolean;
  /** Messages delivered to it so far. */
  delivered: number;
  /** Date.now() of the last message or heartbeat sent to it. */
  lastSent: number;
  expiresTimer: NodeJS.Timeout | null;
  heartbeatTimer: NodeJS.Timeout | null;
}

export type { AfterCommit };

/** What the consumer asks of the JetStream layer. */
export interface ConsumerHost {
  /** Sends a stored message to a pull inbox; returns false if nobody listens there. */
  sendMessage(req: PullRequest, msg: StoredMessage, ackSubject: string, headersOnly: boolean): void;
  /** Sends a status (100, 404, 408, 409…) to a pull inbox. */
  sendStatus(reply: string, code: number, description: string, headers?: Record<string, string | number>): void;
  hasInterest(reply: string): boolean;
  /** Max deliveries reached or terminated: dead-letter it (inside the transaction) and announce it (after). */
  deadLetter(c: ConsumerRuntime, p: PendingAck, reason: DeadLetterReason, after: AfterCommit[], termReason?: string): void;
  /** Asks for a turn (the consumer has work: a request, a due redelivery). */
  markDirty(c: ConsumerRuntime): void;
}

export const DeadLetterReason = { MAX_DELIVERIES: 'max_deliveries', TERMINATED: 'terminated' } as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

export class ConsumerRuntime {
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
  }

  /** Takes a new config (an update keeps the ack state and the waiting pulls). */
  reconfigure(config: ConsumerConfig): void {
    this.config = config;
    const f = consumerFilters(config);
    this.filter = f.length === 0 ? undefined : f;
    this.test = compileFilter(this.filter);
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

  /** Messages not yet delivered (num_pending). */
  numPending(deliveredStreamSeq: number): number {
    return this.stream.store.countMessages(this.stream.name, deliveredStreamSeq + 1, this.filter);
  }

  /** ack_wait, or the backoff step for the delivery about to happen (deliveries counts it). */
  ackWaitMs(deliveries: number): number {
    const b = this.config.backoff;
    if (b !== undefined && b.length > 0) return nsToMs(b[Math.min(deliveries - 1, b.length - 1)]!);
    return nsToMs(this.config.ack_wait);
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
   * then serves waiting requests (due redeliveries first, then new
   * messages), recording every delivery before it is sent. What to send is
   * pushed onto `after`, which runs once the transaction has committed.
   */
  fill(after: AfterCommit[]): void {
    if (this.deleted) return;
    const store = this.stream.store;
    const sname = this.stream.name;
    const rec = store.getConsumer(sname, this.name);
    if (rec === undefined) return;
    const now = Date.now();
    const cfg = this.config;
    const explicit = cfg.ack_policy !== AckPolicy.NONE;
    let ackPending = rec.numAckPending;
    let nextSeq = rec.delivered.streamSeq + 1;
    let cseq = rec.delivered.consumerSeq;

    // Due redeliveries; the exhausted ones go to the dead-letter queue.
    const due: PendingAck[] = [];
    if (explicit && ackPending > 0) {
      for (const p of store.dueAcks(sname, this.name, now)) {
        if (cfg.max_deliver > 0 && p.deliveries >= cfg.max_deliver) {
          store.term(sname, this.name, p.streamSeq);
          ackPending--;
          this.host.deadLetter(this, p, DeadLetterReason.MAX_DELIVERIES, after);
          this.stream.settled(p.streamSeq);
        } else {
          due.push(p);
        }
      }
    }

    let pending = -1; // num_pending after the newest delivery, counted once when first needed
    let di = 0;
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
        // Redeliveries first; a message gone from the stream (limits, purge) is settled instead.
        let msg: StoredMessage | undefined;
        let upcoming = 1;
        while (di < due.length && msg === undefined) {
          const p = due[di++]!;
          msg = store.getMessage(sname, p.streamSeq);
          if (msg === undefined) {
            store.ack(sname, this.name, p.streamSeq);
            ackPending--;
          } else {
            upcoming = p.deliveries + 1;
          }
        }
        const redelivery = msg !== undefined;
        if (!redelivery) {
          if (explicit && cfg.max_ack_pending > 0 && ackPending >= cfg.max_ack_pending) {
            blocked = true;
            break;
          }
          msg = store.nextMessage(sname, nextSeq, this.filter);
          if (msg === undefined) break;
        }
        const m = msg!;
        // What the delivery will be: its ack subject is part of what max_bytes counts.
        const pendingAfter = redelivery ? (pending < 0 ? this.numPending(nextSeq - 1) : pending) : pending < 0 ? this.numPending(m.seq) : pending - 1;
        const ack = ackSubject(sname, this.name, upcoming, m.seq, cseq + 1, m.timeNs, Math.max(0, pendingAfter));
        const cost = Buffer.byteLength(m.subject) + ack.length + m.headers.length + m.payload.length;
        if (req.maxBytes > 0 && cost > req.bytesLeft) {
          if (redelivery) di--; // not delivered: still due
          const headers = this.pendingHeaders(req);
          after.push(() => this.host.sendStatus(req.reply, 409, 'Message Size Exceeds MaxBytes', headers));
          this.finish(req);
          done = true;
          break;
        }
        const d = store.recordDelivery(sname, this.name, m.seq, now + this.ackWaitMs(upcoming));
        cseq = d.consumerSeq;
        pending = pendingAfter;
        if (!redelivery) {
          nextSeq = m.seq + 1;
          if (explicit) ackPending++;
        }
        if (!explicit) store.ack(sname, this.name, m.seq);
        after.push(() => this.host.sendMessage(req, m, ack, cfg.headers_only === true));
        req.remaining--;
        req.delivered++;
        if (req.maxBytes > 0) req.bytesLeft -= cost;
        req.lastSent = now;
        this.lastDeliveredMs = now;
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
    if (explicit) this.armAckTimer(now);
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
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.ackTimerAt = Infinity;
    for (const req of [...this.waiting]) {
      if (reason !== undefined) this.host.sendStatus(req.reply, 409, reason);
      this.finish(req);
    }
  }
}

/** Ack subject format v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (wire string). */
export function ackSubject(stream: string, consumer: string, deliveries: number, sseq: number, cseq: number, timeNs: bigint, pending: number): string {
  return toWire(`$JS.ACK.${stream}.${consumer}.${deliveries}.${sseq}.${cseq}.${timeNs}.${pending}`);
}
