/**
 * The client's outbound side: the bytes queued for the socket, the bound on
 * them (maxBufferedBytes), and the PINGs among them whose PONGs someone awaits.
 *
 * PONGs are matched to PINGs in order, per socket:
 *
 *   pongs[0], pongs[1], …   waiters whose PING was written to this socket
 *   queuedPongs             waiters whose PING is still in the queue
 *
 * A lost socket fails `pongs` (their PINGs may never have arrived) but keeps
 * `queuedPongs`: their PINGs leave after the reconnect, behind the data they
 * confirm, so a flush() made while disconnected resolves once it is true.
 */
import type { ByteStream } from '../transport.js';
import { Outbound } from '../protocol/outbound.js';
import { toWire } from '../protocol/bytes.js';
import { BufferFullError, ClosedError, DisconnectedError, PayloadTooLargeError } from '../errors.js';

/**
 * Full 64 KiB slabs a connection keeps to fill again once the socket has
 * taken their bytes: bursts up to this size (W1's publisher writes 2,000
 * messages a turn, ~300 KB, sometimes two such batches) reuse their memory
 * instead of allocating it anew; a bigger one allocates the rest. At most
 * this many × 64 KiB (512 KiB) stays with a connection after a burst.
 */
const SPARE_SLABS = 8;

/** A flush() waiting for its PONG; null for a heartbeat's PING, which nobody awaits. */
export type Pong = { resolve: () => void; reject: (err: Error) => void } | null;

export class WriteQueue {
  private readonly out = new Outbound(SPARE_SLABS);
  private readonly bound: number;
  private pubSubject = '';
  private pubPrefix = '';
  /** The size of the last message on pubSubject, and once a second one repeats it, its whole PUB line encoded. */
  private pubSize = -1;
  private pubLine: Buffer | null = null;
  private pongs: Pong[] = [];
  private queuedPongs: Pong[] = [];
  /**
   * Event bytes (whole PUB/HPUB operations) queued, written to this socket,
   * and confirmed by a PONG; each PING carries the count its PONG confirms.
   * What is written and not confirmed may be lost with the socket: close()
   * reports it.
   */
  private queuedEvents = 0;
  private writtenEvents = 0;
  private confirmedEvents = 0;
  private marks: number[] = [];
  private queuedMarks: number[] = [];

  constructor(maxBufferedBytes: number) {
    this.bound = maxBufferedBytes;
  }

  /** Bytes queued and not yet taken by a socket. */
  get size(): number {
    return this.out.size;
  }

  /** Queues a control line (user strings are UTF-8). */
  line(line: string): void {
    this.out.latin1(toWire(line));
  }

  /** Queues a PING; `waiter` settles with its PONG. */
  ping(waiter: Pong): void {
    this.queuedPongs.push(waiter);
    this.queuedMarks.push(this.writtenEvents + this.queuedEvents);
    this.out.latin1('PING\r\n');
  }

  /**
   * Queues a message. Throws when it cannot be accepted: larger than the
   * server's max_payload, or past the bound counting what the socket still
   * holds (`backlog`). Returns whether the queue is below its high-water mark.
   */
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer, maxPayload: number | undefined, backlog: number): boolean {
    const hlen = headers === null ? 0 : headers.length;
    const total = hlen + payload.length;
    if (maxPayload !== undefined && total > maxPayload) throw new PayloadTooLargeError(total, maxPayload);
    const bound = this.bound;
    const queued = this.out.size + backlog;
    if (queued + total > bound) throw new BufferFullError(bound);
    const out = this.out;
    this.queuedEvents += total;
    if (hlen === 0 && reply === undefined) {
      // The common case: `PUB <subject> ` is kept in wire form for the last subject.
      if (subject !== this.pubSubject) {
        this.pubSubject = subject;
        this.pubPrefix = toWire(`PUB ${subject} `);
        this.pubSize = -1;
      }
      if (total === this.pubSize) {
        // A stream of same-sized events: one encoded line, copied whole.
        this.pubLine ??= Buffer.from(`${this.pubPrefix}${total}\r\n`, 'latin1');
        out.line(this.pubLine, payload);
      } else {
        this.pubSize = total;
        this.pubLine = null;
        out.msgText(this.pubPrefix, `${total}\r\n`, payload);
      }
    } else {
      const r = reply === undefined ? '' : ` ${reply}`;
      const line = hlen > 0 ? `HPUB ${subject}${r} ${hlen} ${total}\r\n` : `PUB ${subject}${r} ${total}\r\n`;
      out.latin1(toWire(line));
      if (hlen > 0) out.bytes(headers!);
      out.bytes(payload);
      out.latin1('\r\n');
    }
    return queued + total < bound / 2;
  }

  /**
   * Hands everything queued to the socket in one write, or one corked batch.
   * A stream that cannot cork (a WebSocket) gets the chunks one by one, each
   * a WebSocket message: they are the outbound slabs (up to 64 KiB of many
   * messages) or large payloads, so a flush is a few messages, and joining
   * them first would copy every byte once more before ws copies it to mask.
   */
  writeTo(socket: ByteStream): void {
    const chunks = this.out.take();
    if (chunks === null) return;
    // Every PING queued so far is in these chunks.
    if (this.queuedPongs.length > 0) {
      for (const p of this.queuedPongs) this.pongs.push(p);
      this.queuedPongs = [];
      for (const m of this.queuedMarks) this.marks.push(m);
      this.queuedMarks = [];
    }
    this.writtenEvents += this.queuedEvents;
    this.queuedEvents = 0;
    if (chunks.length === 1) {
      socket.write(chunks[0]!);
    } else {
      socket.cork?.();
      for (const c of chunks) socket.write(c);
      socket.uncork?.();
    }
    // Nothing left in the stream right after the write: the kernel (or the WebSocket) has the bytes, so their
    // slabs can take the next ones. A stream that still holds them (a full socket, an in-process pair, a
    // WebSocket awaiting its callbacks) says so by its writableLength, and the slabs stay untouched.
    if (socket.writableLength === 0) this.out.release();
  }

  /** The socket answered its oldest PING. */
  pong(): void {
    const p = this.pongs.shift();
    const mark = this.marks.shift();
    if (mark !== undefined && mark > this.confirmedEvents) this.confirmedEvents = mark;
    p?.resolve();
  }

  /** Event payload bytes written to this socket that no PONG has confirmed yet. */
  get unconfirmed(): number {
    return this.writtenEvents - this.confirmedEvents;
  }

  /** The socket is lost: the PINGs written to it may never have arrived. */
  socketLost(cause: Error | undefined): void {
    const pending = this.pongs;
    this.pongs = [];
    this.marks = [];
    // The next socket starts its own count; what sat unconfirmed on this one was the reconnect's risk (docs/api.md).
    this.queuedMarks = this.queuedMarks.map((m) => m - this.writtenEvents);
    this.writtenEvents = this.confirmedEvents = 0;
    for (const p of pending) p?.reject(new DisconnectedError(undefined, { cause }));
  }

  /** Drops everything (the connection closes); returns how many bytes were never sent. */
  clear(): number {
    const unsent = this.out.size;
    this.out.clear();
    this.queuedEvents = 0;
    this.queuedMarks = [];
    for (const p of this.pongs.splice(0)) p?.reject(new ClosedError());
    for (const p of this.queuedPongs.splice(0)) p?.reject(new ClosedError());
    return unsent;
  }
}
