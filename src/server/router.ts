/**
 * Routing: the subject index and the delivery of each message to its
 * subscribers, plus the hub's traffic counters and the write scheduling that
 * coalesces each connection's output into one write per turn.
 *
 *   publish(from, msg) ──► streams see it first (JetStream capture, API)
 *        │
 *        ▼
 *   sublist.match(subject) ──► plain subs: each one; queue groups: one member
 *        │                                     │
 *        ▼                                     ▼
 *   no one took a request? 503 to the       Subscriber.deliver(sub, head, tail, payload)
 *   requester (no responders)               (MSG line built once per message)
 */
import { Sublist, type MatchResult } from './sublist.js';
import { subjectMatches } from '../protocol/subject.js';
import type { Message, Subscriber, Subscription } from './types.js';
import { DOUBLE_ZERO } from './writer.js';

/** Past this many queued bytes (or 3/4 of maxPending when smaller) a consumer pauses its producers. */
const STALL_THRESHOLD_MAX = 8 * 1024 * 1024;
/** A read at least this large means the peer is streaming: flushes may wait for the turn's other reads. */
const BUSY_READ = 16 * 1024;

/** Encoded parts of the MSG lines for one subject, kept with its match result. */
export interface RouteMemo {
  msg: Buffer;
  hmsg: Buffer | null;
  /** Payload size `tail` was made for (messages without reply or headers). */
  size: number;
  tail: Buffer;
  /**
   * Messages and bytes published on the subject since this entry was made,
   * for the dashboard's per-subject rates (monitor/subjects.ts): two
   * increments on a record the publish already holds, nothing allocated.
   */
  msgs: number;
  bytes: number;
  /** The observers of the subject as of observer generation `obsGen` (saves their index a look-up per message). */
  obs: readonly Observer[] | null;
  obsGen: number;
}

/**
 * A subscription that watches messages without being a subscriber: the
 * dashboard's tail. It is kept out of the subject index, so it is no
 * interest (a push consumer does not start, a request still gets "no
 * responders"), takes no queue-group turn and moves no counter. It sees each
 * message as published; `msg` is valid only during the call.
 */
export interface Observer {
  readonly subject: string;
  readonly queue: undefined;
  observe(msg: Message): void;
}

const EMPTY = Buffer.alloc(0);
const NO_RESPONDERS_HEADER = 'NATS/1.0 503\r\n\r\n';

export interface RouterCounters {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
}

/** Something with output to write once per turn (a connection). */
export interface Flushable {
  dirty: boolean;
  flush(): void;
}

/**
 * What sees a publish before the subscribers: the JetStream layer (API calls,
 * acks, stream capture). Returns whether it answered the request itself.
 */
export type PublishTap = (msg: Message, from: Subscriber | null) => boolean;

export class Router {
  readonly sublist = new Sublist<Subscription>();
  /** Doubles from the start: byte counts pass 2^30 after a GiB, and a field going from small integer to double deoptimises publish mid-run. */
  readonly counters: RouterCounters = { inMsgs: DOUBLE_ZERO, inBytes: DOUBLE_ZERO, outMsgs: DOUBLE_ZERO, outBytes: DOUBLE_ZERO };
  tap: PublishTap | null = null;
  /** Observers (see Observer), or null while there are none: the publish path then pays one test. */
  private observers: Sublist<Observer> | null = null;
  /** Bumped when an observer comes or goes: a RouteMemo's `obs` of another generation is stale. */
  private obsGen = 1;
  private readonly stallThreshold: number;
  private dirty: Flushable[] = [];
  private flushScheduled = false;
  /** Whether the read being handled is large (see markDirty). */
  private busy = false;

  constructor(maxPending: number) {
    this.stallThreshold = Math.min(Math.floor(maxPending * 0.75), STALL_THRESHOLD_MAX);
  }

  /**
   * Delivers one message to every plain subscriber of its subject and to one
   * member of each queue group. The MSG line is built once per message; only
   * the sid differs per subscriber. The payload is forwarded as received.
   * `capture` false keeps streams from seeing it (the JetStream layer's own
   * messages); `from` is null for messages from inside the hub.
   */
  publish(from: Subscriber | null, msg: Message, capture = true): void {
    const c = this.counters;
    c.inMsgs++;
    c.inBytes += msg.payload.length;
    const answered = capture && this.tap !== null && this.tap(msg, from);
    const subject = msg.subject;
    const r = this.sublist.match(subject);
    let delivered = 0;
    let memo: RouteMemo | undefined;
    if (r.plain.length !== 0 || r.queues.length !== 0) {
      // The line's parts, encoded: `MSG subject ` once per subject (kept with
      // the match result), the tail once per message (kept too while messages
      // on the subject have the same size and no reply, the usual stream).
      memo = r.memo as RouteMemo | undefined;
      if (memo === undefined) {
        memo = { msg: Buffer.from('MSG ' + subject + ' ', 'latin1'), hmsg: null, size: -1, tail: EMPTY, msgs: 0, bytes: 0, obs: null, obsGen: 0 };
        r.memo = memo;
      }
      const size = msg.payload.length;
      memo.msgs++;
      memo.bytes += size;
      const reply = msg.reply;
      let head: Buffer;
      let tail: Buffer;
      if (msg.headerLength > 0) {
        head = memo.hmsg ??= Buffer.from('HMSG ' + subject + ' ', 'latin1');
        tail = Buffer.from((reply === undefined ? ' ' : ' ' + reply + ' ') + msg.headerLength + ' ' + size + '\r\n', 'latin1');
      } else {
        head = memo.msg;
        if (reply === undefined) {
          if (memo.size !== size) {
            memo.size = size;
            memo.tail = Buffer.from(' ' + size + '\r\n', 'latin1');
          }
          tail = memo.tail;
        } else {
          tail = Buffer.from(' ' + reply + ' ' + size + '\r\n', 'latin1');
        }
      }
      delivered = this.fanOut(from, r, head, tail, msg);
    }
    if (delivered === 0 && msg.reply !== undefined && from !== null && !answered) this.noResponders(from, msg.reply);
    if (this.observers !== null) this.notify(this.observers, msg, memo);
  }

  /** Adds an observer (see Observer). Its subject must be a valid subject. */
  observe(o: Observer): void {
    (this.observers ??= new Sublist<Observer>({ cacheSize: 1024 })).insert(o);
    this.obsGen++;
  }

  unobserve(o: Observer): void {
    const list = this.observers;
    if (list === null || !list.remove(o)) return;
    this.obsGen++;
    if (list.size === 0) this.observers = null;
  }

  private notify(list: Sublist<Observer>, msg: Message, memo: RouteMemo | undefined): void {
    let plain: readonly Observer[];
    if (memo !== undefined && memo.obsGen === this.obsGen) {
      plain = memo.obs!;
    } else {
      plain = list.match(msg.subject).plain;
      if (memo !== undefined) {
        memo.obs = plain;
        memo.obsGen = this.obsGen;
      }
    }
    for (let i = 0; i < plain.length; i++) plain[i]!.observe(msg);
  }

  /**
   * The subjects published recently that reached a subscriber, with their
   * match results: what the subject cache holds (at most its size). Read by
   * the dashboard's subjects view, never on the publish path.
   */
  subjects(): IterableIterator<[string, MatchResult<Subscription>]> {
    return this.sublist.cached();
  }

  /**
   * Delivers to the subscribers of `target` a message shown as `msg.subject`:
   * how a pull consumer hands a stored message to a pull inbox, and (target =
   * the subject, `once`: no subject cache, for a reply subject used once) how
   * the JetStream layer answers. Never seen by streams. Returns how many
   * subscriptions got it.
   */
  deliverTo(target: string, msg: Message, once: boolean): number {
    const r = once ? this.sublist.matchOnce(target) : this.sublist.match(target);
    if (r.plain.length === 0 && r.queues.length === 0) return 0;
    const hdrLen = msg.headerLength;
    const head = Buffer.from((hdrLen > 0 ? 'HMSG ' : 'MSG ') + msg.subject + ' ', 'latin1');
    const reply = msg.reply;
    const tail = Buffer.from((reply === undefined ? ' ' : ' ' + reply + ' ') + (hdrLen > 0 ? hdrLen + ' ' : '') + msg.payload.length + '\r\n', 'latin1');
    return this.fanOut(null, r, head, tail, msg);
  }

  /** Whether any subscription matches the subject. */
  hasInterest(subject: string): boolean {
    const r = this.sublist.match(subject);
    return r.plain.length > 0 || r.queues.length > 0;
  }

  /**
   * Hands one message to every plain subscription of a match and to one
   * member of each queue group. Returns how many took it.
   */
  private fanOut(from: Subscriber | null, r: MatchResult<Subscription>, head: Buffer, tail: Buffer, msg: Message): number {
    const plain = r.plain;
    const queues = r.queues;
    const noEcho = from !== null && !from.opts.echo;
    let delivered = 0;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i]!;
      if (noEcho && sub.conn === from) continue;
      if (this.deliver(from, sub, head, tail, msg)) delivered++;
    }
    for (let g = 0; g < queues.length; g++) {
      const members = queues[g]!;
      const n = members.length;
      // A random start spreads load across members, as nats-server does.
      const start = n === 1 ? 0 : Math.floor(Math.random() * n);
      for (let k = 0; k < n; k++) {
        const sub = members[(start + k) % n]!;
        if (sub.conn.closed || (noEcho && sub.conn === from)) continue;
        if (this.deliver(from, sub, head, tail, msg)) {
          delivered++;
          break;
        }
      }
    }
    return delivered;
  }

  private deliver(from: Subscriber | null, sub: Subscription, head: Buffer, tail: Buffer, msg: Message): boolean {
    // A subscription that overlaps its owner's subscribe deny list never sees a denied subject.
    if (sub.filter !== null && !sub.filter.canDeliver(msg.subject, sub.queue)) return false;
    const conn = sub.conn;
    const payload = msg.payload;
    let ok: boolean;
    if (msg.headerLength > 0 && !conn.opts.headers) {
      // A client that did not negotiate headers gets the payload alone, as a MSG.
      const body = payload.subarray(msg.headerLength);
      const rep = msg.reply === undefined ? ' ' : ' ' + msg.reply + ' ';
      ok = conn.deliver(sub, Buffer.from('MSG ' + msg.subject + ' ', 'latin1'), Buffer.from(rep + body.length + '\r\n', 'latin1'), body);
    } else {
      ok = conn.deliver(sub, head, tail, payload);
    }
    if (!ok) return false;
    if (from !== null && conn.pending > this.stallThreshold) conn.stall(from);
    if (msg.reply !== undefined) conn.grantResponse(msg.reply);
    const c = this.counters;
    c.outMsgs++;
    c.outBytes += payload.length;
    sub.delivered++;
    if (sub.max > 0 && sub.delivered >= sub.max) conn.removeSub(sub);
    return true;
  }

  /**
   * A request reached nobody: answer with a 503 status on the requester's own
   * reply subscription, so its request() fails at once instead of timing out.
   */
  private noResponders(from: Subscriber, reply: string): void {
    const o = from.opts;
    if (!o.headers || !o.noResponders || from.closed) return;
    statusToRequester(from, reply, NO_RESPONDERS_HEADER);
  }

  // ── output ──────────────────────────────────────────────────────────────

  /** A read of `size` bytes is being handled. */
  reading(size: number): void {
    this.busy = size >= BUSY_READ;
  }

  /**
   * Queues a connection for the next flush. Under load (the read that caused
   * this was large) the flush runs on setImmediate, after every socket read of
   * this turn of the event loop, so a consumer fed by several reads gets one
   * write, not one per read. A small read is light traffic, where latency
   * matters more: its flush runs as soon as the read is handled.
   */
  markDirty(conn: Flushable): void {
    if (conn.dirty) return;
    conn.dirty = true;
    this.dirty.push(conn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      if (this.busy) setImmediate(flushRouter, this);
      else process.nextTick(flushRouter, this);
    }
  }

  /** Writes every connection's queued output: one write per connection per turn. */
  flushAll(): void {
    this.flushScheduled = false;
    const list = this.dirty;
    this.dirty = [];
    for (let i = 0; i < list.length; i++) list[i]!.flush();
  }
}

function flushRouter(router: Router): void {
  router.flushAll();
}

/**
 * A status (a whole header block) that answers one publish, sent to its
 * publisher alone: on the requester's first plain subscription that matches
 * the reply subject, as nats-server sends its 503. Nothing when none does.
 */
export function statusToRequester(from: Subscriber, reply: string, block: string): void {
  for (const sub of from.subs.values()) {
    if (sub.queue === undefined && subjectMatches(sub.subject, reply)) {
      from.send(`HMSG ${reply} ${sub.sid} ${block.length} ${block.length}\r\n${block}\r\n`);
      return;
    }
  }
}
