/**
 * The write side of a client connection: the outbound queue, one coalesced
 * write per turn, the write deadline and slow-consumer cut-off, and the flow
 * control that pauses fast producers while a consumer drains. Connection
 * (connection.ts) adds the protocol side on top.
 */
import type { Duplex } from 'node:stream';
import { Outbound } from '../protocol/outbound.js';
import { CloseReason, type HubCore, type Subscriber, type Subscription } from './types.js';

/**
 * Zero as V8 stores a fraction: -0 is never a small integer, so a field that
 * starts with it is a double field from the start, and -0 === 0 and -0 + n === n.
 * A field that starts as a small integer (0) and later holds a fraction
 * (performance.now()) or a number past 2^30 (a byte count) changes its
 * object's hidden class, and V8 then throws away every optimised function
 * that had seen the old one: for a connection, the whole publish and delivery
 * path, which re-optimises from scratch (issue #20, docs/performance.md, Warm-up).
 */
export const DOUBLE_ZERO = -0;

export abstract class Writer {
  readonly id: number;
  readonly stream: Duplex;
  readonly out = new Outbound();
  closed = false;
  /**
   * Traffic of this connection, for /connz: plain number fields bumped on
   * the paths that already touch the connection, so counting allocates
   * nothing. Doubles from the start: a byte count passes 2^30 after a GiB.
   */
  inMsgs = DOUBLE_ZERO;
  inBytes = DOUBLE_ZERO;
  outMsgs = DOUBLE_ZERO;
  outBytes = DOUBLE_ZERO;
  /** Queued for the hub's next flush. */
  dirty = false;
  /**
   * Bytes the stream still held after our last write (its writableLength
   * then). Between writes it can only shrink, so this errs high by at most
   * what drained, and reading it costs nothing on the delivery path.
   */
  private backlog = 0;
  private readonly maxPending: number;
  protected readonly hub: HubCore;
  private deadlineTimer: NodeJS.Timeout | null = null;

  constructor(hub: HubCore, stream: Duplex, id: number) {
    this.hub = hub;
    this.stream = stream;
    this.id = id;
    this.maxPending = hub.options.maxPending;
  }

  abstract close(reason: CloseReason, err?: Error): void;

  // ── queueing output ──────────────────────────────────────────────────────

  send(line: string): void {
    if (this.closed) return;
    this.out.latin1(line);
    this.hub.markDirty(this);
  }

  sendErr(text: string): void {
    this.send(`-ERR '${text}'\r\n`);
  }

  /**
   * Queues a message for one subscription. Returns false when the
   * connection was cut off instead (slow consumer).
   */
  deliver(sub: Subscription, msgHead: Buffer, tail: Buffer, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const size = msgHead.length + sub.sidBytes.length + tail.length + payload.length + 2;
    if (this.out.size + this.backlog + size > this.maxPending) {
      this.hub.options.logger.warn({ client: this.id, maxPending: this.maxPending }, `Slow Consumer Detected: MaxPending of ${this.maxPending} Exceeded`);
      this.close(CloseReason.SLOW_CONSUMER);
      return false;
    }
    if (sub.lineTail === tail && sub.lineHead === msgHead) {
      this.out.line(sub.line!, payload);
    } else {
      if (sub.lastTail === tail && sub.lastHead === msgHead) {
        // The second delivery with these parts: a stream; keep its line whole.
        const line = Buffer.allocUnsafe(msgHead.length + sub.sidBytes.length + tail.length);
        msgHead.copy(line, 0);
        sub.sidBytes.copy(line, msgHead.length);
        tail.copy(line, msgHead.length + sub.sidBytes.length);
        sub.line = line;
        sub.lineHead = msgHead;
        sub.lineTail = tail;
      }
      sub.lastHead = msgHead;
      sub.lastTail = tail;
      this.out.msg(msgHead, sub.sidBytes, tail, payload);
    }
    this.outMsgs++;
    this.outBytes += payload.length;
    if (!this.dirty) this.hub.markDirty(this);
    return true;
  }


  /** Writes what is queued. Called by the hub once per turn. */
  flush(): void {
    this.dirty = false;
    if (this.closed) return;
    const chunks = this.out.take();
    if (chunks === null) return;
    const stream = this.stream;
    let ok: boolean;
    if (chunks.length === 1) {
      ok = stream.write(chunks[0]!);
    } else {
      stream.cork();
      for (let i = 0; i < chunks.length - 1; i++) stream.write(chunks[i]!);
      ok = stream.write(chunks[chunks.length - 1]!);
      stream.uncork();
    }
    this.backlog = stream.writableLength;
    if (!ok) {
      if (this.deadlineTimer === null) {
        // The kernel buffer is full: the client must catch up within the write deadline.
        this.deadlineTimer = setTimeout(onWriteDeadline, this.hub.options.writeDeadline, this);
        stream.once('drain', () => this.drained());
      }
    } else if (this.producers !== null) {
      this.releaseProducers();
    }
  }

  /** The stream wrote everything it held. */
  private drained(): void {
    this.backlog = 0;
    this.clearDeadline();
    if (this.producers !== null) this.releaseProducers();
  }

  /** Bytes queued for this client and not yet taken by the kernel. */
  get pending(): number {
    return this.out.size + this.backlog;
  }

  // ── flow control ─────────────────────────────────────────────────────────
  //
  // A consumer with more than the router's stall threshold queued pauses
  // reading from the connections that publish to it, so a fast publisher
  // cannot grow the hub's memory; they resume when it drains. If it stays
  // blocked past the write deadline, or passes maxPending, it is cut off
  // instead and they resume then.

  /** Connections whose reading is paused until this one drains. */
  protected producers: Set<Writer> | null = null;
  /** How many consumers (and a pending authentication) this connection's reading is paused for. */
  private stalls = 0;

  /** Pauses `producer` until this connection has drained. */
  stall(producer: Subscriber): void {
    const p = producer as unknown as Writer;
    if (p === this || p.closed) return;
    this.producers ??= new Set();
    if (this.producers.has(p)) return;
    this.producers.add(p);
    p.pauseReading();
  }

  protected pauseReading(): void {
    if (this.stalls++ === 0) this.stream.pause();
  }

  protected resumeReading(): void {
    if (--this.stalls === 0 && !this.closed) this.stream.resume();
  }

  protected releaseProducers(): void {
    const list = this.producers!;
    this.producers = null;
    for (const p of list) p.resumeReading();
  }

  protected clearDeadline(): void {
    if (this.deadlineTimer !== null) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = null;
    }
  }

  writeDeadlinePassed(): void {
    this.deadlineTimer = null;
    this.hub.options.logger.warn(
      { client: this.id, writeDeadline: this.hub.options.writeDeadline },
      `Slow Consumer Detected: WriteDeadline of ${this.hub.options.writeDeadline}ms Exceeded`,
    );
    this.close(CloseReason.SLOW_CONSUMER);
  }
}

function onWriteDeadline(w: Writer): void {
  w.writeDeadlinePassed();
}
