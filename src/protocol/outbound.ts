/**
 * Write coalescing for one connection. Everything queued in one turn of the
 * event loop leaves in one socket write (or one corked batch).
 *
 *   slab: [ written (owned by the socket) | pending: start..end | free ]
 *
 * Control lines and small payloads are copied into a slab; a slab region is
 * handed to the socket as a view and never written again, so the next bytes
 * go after it, and a full slab is replaced, not reused. Large payloads are
 * queued by reference (they are views of received chunks, which nobody
 * mutates), so a big message is never copied.
 */
import { latin1Write } from './bytes.js';

/** Slabs start small (idle connections cost little) and double up to this size under load. */
const SLAB_MIN = 1024;
const SLAB_MAX = 64 * 1024;
/** Payloads at least this large are queued by reference instead of copied. */
const COPY_LIMIT = 8 * 1024;

const EMPTY = Buffer.alloc(0);

/** Copies a byte-per-char string into buf at offset; returns the offset after it. */
function put(buf: Buffer, s: string, offset: number): number {
  for (let i = 0; i < s.length; i++) buf[offset + i] = s.charCodeAt(i);
  return offset + s.length;
}

export class Outbound {
  private slab: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  private readonly chunks: Buffer[] = [];
  /** Bytes queued and not yet taken. */
  size = 0;

  private room(n: number): void {
    if (this.slab.length - this.end >= n) return;
    this.seal();
    const grown = Math.min(Math.max(this.slab.length * 2, SLAB_MIN), SLAB_MAX);
    this.slab = Buffer.allocUnsafe(n > grown ? n : grown);
    this.start = 0;
    this.end = 0;
  }

  private seal(): void {
    if (this.end > this.start) {
      this.chunks.push(this.slab.subarray(this.start, this.end));
      this.start = this.end;
    }
  }

  /** Queues a byte-per-char (latin1) string: control lines and wire subjects. */
  latin1(s: string): void {
    this.room(s.length);
    this.end += latin1Write(this.slab, s, this.end);
    this.size += s.length;
  }

  /** Queues bytes. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    if (n >= COPY_LIMIT) {
      this.seal();
      this.chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, n));
    } else {
      this.room(n);
      this.slab.set(b, this.end);
      this.end += n;
    }
    this.size += n;
  }

  /**
   * Queues one framed message: a control line (latin1), the payload and
   * CRLF, with one bounds check and one native call for the line.
   */
  frame(line: string, payload: Uint8Array): void {
    const n = payload.length;
    if (n >= COPY_LIMIT) {
      this.latin1(line);
      this.bytes(payload);
      this.latin1('\r\n');
      return;
    }
    const total = line.length + n + 2;
    this.room(total);
    const slab = this.slab;
    let end = this.end + latin1Write(slab, line, this.end);
    slab.set(payload, end);
    end += n;
    slab[end++] = 13;
    slab[end++] = 10;
    this.end = end;
    this.size += total;
  }

  /**
   * Queues a message line given in three parts (`MSG subject `, the sid,
   * ` [reply] size\r\n`), the payload and CRLF. The parts are copied by a
   * plain loop: for lines this short that beats a native write, and no
   * joined string is built per delivery.
   */
  msg(head: string, sid: string, tail: string, payload: Uint8Array): void {
    const n = payload.length;
    const total = head.length + sid.length + tail.length + n + 2;
    if (n >= COPY_LIMIT) {
      this.latin1(head + sid + tail);
      this.bytes(payload);
      this.latin1('\r\n');
      return;
    }
    this.room(total);
    const slab = this.slab;
    let end = put(slab, tail, put(slab, sid, put(slab, head, this.end)));
    slab.set(payload, end);
    end += n;
    slab[end++] = 13;
    slab[end++] = 10;
    this.end = end;
    this.size += total;
  }

  /** Takes everything queued, in order; null when nothing is. */
  take(): Buffer[] | null {
    this.seal();
    if (this.chunks.length === 0) return null;
    const out = this.chunks.splice(0, this.chunks.length);
    this.size = 0;
    return out;
  }

  /** Drops everything queued (the connection is gone). */
  clear(): void {
    this.chunks.length = 0;
    this.start = this.end;
    this.size = 0;
  }
}
