/**
 * What a push consumer adds to a consumer: the deliver subject's interest,
 * the flow-control window, the rate limit and the idle heartbeat. The
 * consumer decides what to deliver; this decides whether it may go now.
 *
 * Flow control follows nats-server (consumer.go): bytes sent since the last
 * answered request are "pending"; past half the window a
 * `100 FlowControl Request` goes out with a reply subject
 * `$JS.FC.<stream>.<consumer>.<id>`; past the whole window delivery stalls
 * until the client publishes to that subject. The window starts at 1/16 of
 * the limit and doubles with each answer, up to the limit.
 *
 *   0 ───── window/2 ───── window ───── limit
 *   │ send   │ send + FC    │ stalled
 */
import { randomBytes } from 'node:crypto';
import { JsHeader } from '../../protocol/jetstream.js';
import { hasWildcard, subjectMatches } from '../../protocol/subject.js';
import { nsToMs, timerDelay } from './time.js';

/** Where clients answer flow-control requests: `$JS.FC.<stream>.<consumer>.<id>`. */
export const JS_FC_PREFIX = '$JS.FC';
/** In a heartbeat: the flow-control request still unanswered. */
export const CONSUMER_STALLED_HEADER = 'Nats-Consumer-Stalled';

/** nats-server's JsFlowControlMaxPending: the widest flow-control window. */
export const FLOW_CONTROL_MAX_PENDING = 32 * 1024 * 1024;
/** The rate limiter's burst when the stream sets no max_msg_size (nats-server: the account's max payload). */
export const DEFAULT_RATE_BURST = 1024 * 1024;

/** What the push state asks of its consumer. */
export interface PushOwner {
  readonly streamName: string;
  readonly consumerName: string;
  /** The consumer has room again (an answered flow control, tokens refilled, a heartbeat due). */
  wake(): void;
  /** Sends `100 Idle Heartbeat` with these headers to the deliver subject. */
  heartbeat(headers: Record<string, string | number>): void;
  /** The last delivered consumer and stream seqs, for the heartbeat. */
  lastDelivered(): { consumerSeq: number; streamSeq: number };
  hasInterest(subject: string): boolean;
}

export interface PushConfig {
  readonly deliver_subject: string;
  readonly flow_control?: boolean | undefined;
  readonly idle_heartbeat?: number | undefined;
  readonly rate_limit_bps?: number | undefined;
}

export class PushState {
  readonly subject: string;
  private readonly owner: PushOwner;
  // Flow control (0 window: off).
  private limit = 0;
  private window = 0;
  private pendingBytes = 0;
  /** The outstanding request's reply subject, '' when none. */
  private fcid = '';
  /** The bytes an answer to fcid releases. */
  private fcSize = 0;
  // Rate limit (0 rate: off): a token bucket in bytes that may go below zero by one message.
  private rate = 0;
  private burst = 0;
  private tokens = 0;
  private tokensAt = 0;
  private rateTimer: NodeJS.Timeout | null = null;
  // Idle heartbeat.
  private heartbeatMs = 0;
  private hbTimer: NodeJS.Timeout | null = null;
  /** Date.now() of the last message, request or heartbeat sent. */
  private lastSent = Date.now();
  private stopped = false;

  constructor(owner: PushOwner, cfg: PushConfig, maxMsgSize: number) {
    this.owner = owner;
    this.subject = cfg.deliver_subject;
    if (cfg.flow_control === true) {
      this.limit = FLOW_CONTROL_MAX_PENDING;
      this.window = Math.max(1, Math.floor(this.limit / 16));
    }
    const bps = cfg.rate_limit_bps ?? 0;
    if (bps > 0) {
      this.rate = Math.max(1, Math.floor(bps / 8)) / 1000; // bytes per ms
      this.burst = maxMsgSize > 0 ? maxMsgSize : DEFAULT_RATE_BURST;
      this.tokens = this.burst;
      this.tokensAt = Date.now();
    }
    const hb = cfg.idle_heartbeat ?? 0;
    if (hb > 0) {
      this.heartbeatMs = Math.max(1, nsToMs(hb));
      this.armHeartbeat(this.heartbeatMs);
    }
  }

  /** Whether the deliver subject has a subscriber now. */
  active(): boolean {
    return this.owner.hasInterest(this.subject);
  }

  /** Whether another message may go now: not stalled on flow control, tokens left. */
  open(now: number): boolean {
    if (this.window > 0 && this.pendingBytes > this.window) return false;
    if (this.rate > 0) {
      this.refill(now);
      if (this.tokens < 0) {
        this.armRate(Math.ceil(-this.tokens / this.rate));
        return false;
      }
    }
    return true;
  }

  /**
   * Counts a message of `size` bytes about to be sent. Returns the flow-control
   * reply subject when a request must follow it, else undefined.
   */
  sent(size: number, now: number): string | undefined {
    this.lastSent = now;
    if (this.rate > 0) this.tokens -= size;
    if (this.window === 0) return undefined;
    this.pendingBytes += size;
    if (this.fcid === '' && this.pendingBytes > this.window / 2) {
      this.fcid = `${JS_FC_PREFIX}.${this.owner.streamName}.${this.owner.consumerName}.${fcToken()}`;
      this.fcSize = this.pendingBytes;
      return this.fcid;
    }
    // A request still unanswered covers what was sent since, up to a window more.
    if (this.fcid !== '' && this.pendingBytes - this.fcSize >= this.window) this.fcSize += size;
    return undefined;
  }

  /** The client answered a flow-control request (published to `subject`). */
  answered(subject: string): void {
    if (subject !== this.fcid) return; // an old request: the newer one counts
    if (this.window < this.limit) this.window = Math.min(this.limit, this.window * 2);
    this.pendingBytes = Math.max(0, this.pendingBytes - this.fcSize);
    this.fcid = '';
    this.fcSize = 0;
    this.owner.wake();
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.tokensAt) * this.rate);
    this.tokensAt = now;
  }

  private armRate(ms: number): void {
    if (this.rateTimer !== null || this.stopped) return;
    this.rateTimer = setTimeout(() => {
      this.rateTimer = null;
      this.owner.wake();
    }, timerDelay(ms));
    this.rateTimer.unref();
  }

  private armHeartbeat(ms: number): void {
    if (this.stopped) return;
    this.hbTimer = setTimeout(() => this.onHeartbeatTimer(), timerDelay(ms));
    this.hbTimer.unref();
  }

  /** Sends a heartbeat when nothing went out for the interval (and someone listens). */
  private onHeartbeatTimer(): void {
    this.hbTimer = null;
    const now = Date.now();
    const idle = now - this.lastSent;
    if (idle < this.heartbeatMs) {
      this.armHeartbeat(this.heartbeatMs - idle);
      return;
    }
    if (this.active()) {
      const last = this.owner.lastDelivered();
      const headers: Record<string, string | number> = { [JsHeader.LAST_CONSUMER]: last.consumerSeq, [JsHeader.LAST_STREAM]: last.streamSeq };
      // While a request is unanswered, say so: a client that lost it answers this one.
      if (this.fcid !== '') headers[CONSUMER_STALLED_HEADER] = this.fcid;
      this.owner.heartbeat(headers);
    }
    this.lastSent = now;
    this.armHeartbeat(this.heartbeatMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.hbTimer !== null) clearTimeout(this.hbTimer);
    if (this.rateTimer !== null) clearTimeout(this.rateTimer);
    this.hbTimer = null;
    this.rateTimer = null;
  }
}

/** Four random characters, as nats-server's flow-control reply ids. */
function fcToken(): string {
  return randomBytes(3).toString('base64url').slice(0, 4);
}

/**
 * A publish on `$JS.FC.<stream>.<consumer>.<id>` (a user string): hands it to
 * that consumer's push state, if it has one. Anything else there is ignored.
 */
export function answerFlowControl(subject: string, find: (stream: string, consumer: string) => PushState | null | undefined): void {
  const t = subject.split('.');
  if (t.length !== 5) return;
  find(t[2]!, t[3]!)?.answered(subject);
}

/**
 * Push consumers waiting for a subscriber on their deliver subject, by that
 * subject (wire string), so that a new subscription wakes only those it
 * matches: a lookup for a literal subscription, a scan for a wildcard one.
 */
export class InterestWaiters<T> {
  private readonly bySubject = new Map<string, Set<T>>();

  get size(): number {
    return this.bySubject.size;
  }

  add(subject: string, c: T): void {
    let set = this.bySubject.get(subject);
    if (set === undefined) this.bySubject.set(subject, (set = new Set()));
    set.add(c);
  }

  remove(subject: string, c: T): void {
    const set = this.bySubject.get(subject);
    if (set !== undefined && set.delete(c) && set.size === 0) this.bySubject.delete(subject);
  }

  /** Removes and returns the waiters a subscription on `subject` (maybe a wildcard) serves. */
  take(subject: string): T[] {
    const out: T[] = [];
    if (!hasWildcard(subject)) {
      const set = this.bySubject.get(subject);
      if (set !== undefined) {
        this.bySubject.delete(subject);
        out.push(...set);
      }
      return out;
    }
    for (const [s, set] of this.bySubject) {
      if (!subjectMatches(subject, s)) continue;
      this.bySubject.delete(s);
      out.push(...set);
    }
    return out;
  }
}
