/**
 * Write coalescing for one connection. Everything queued in one turn of the
 * event loop leaves in one socket write (or one corked batch).
 *
 *   slab: [ written (owned by the socket) | pending: start..end | free ]
 *
 * Control lines and small payloads are copied into a slab; a slab region is
 * handed to the socket as a view and not written again, so the next bytes
 * go after it, and a full slab is replaced. Large payloads are queued by
 * reference (they are views of received chunks, which nobody mutates), so a
 * big message is never copied.
 *
 * A slab is written again only after release(): the caller says its stream
 * is done with every chunk taken (a socket whose writableLength is 0 right
 * after the write has handed the bytes to the kernel). Then the current slab
 * starts over and up to `spareSlabs` full ones are kept for the next burst,
 * so a steady publisher fills the same memory instead of allocating a fresh
 * 64 KiB slab (page faults, and external memory the GC must chase) every few
 * hundred messages. Without release() nothing is rewritten, which a reader
 * that keeps views of the chunks (an in-process pair) relies on.
 */
import { latin1Write } from './bytes.js';

/** Slabs start small (idle connections cost little) and double up to this size under load. */
const SLAB_MIN = 1024;
const SLAB_MAX = 64 * 1024;
/** Payloads at least this large are queued by reference instead of copied (so smaller chunks are always slab views). */
export const COPY_LIMIT = 8 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Copies bytes into buf at offset; returns the offset after them. Short runs
 * (line parts) by a loop, which beats TypedArray.set's call overhead there.
 */
function copy(buf: Buffer, src: Uint8Array, offset: number): number {
  const n = src.length;
  if (n > 32) {
    buf.set(src, offset);
    return offset + n;
  }
  for (let i = 0; i < n; i++) buf[offset + i] = src[i]!;
  return offset + n;
}

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
  private readonly spareSlabs: number;
  /** Full slabs replaced since the last release(): their bytes are out in chunks. */
  private readonly handed: Buffer[] = [];
  /** Full slabs the stream is done with, to fill again. */
  private readonly spare: Buffer[] = [];

  /** `spareSlabs`: full slabs kept for reuse after release() (0: only the current slab starts over). */
  constructor(spareSlabs = 0) {
    this.spareSlabs = spareSlabs;
  }

  private room(n: number): void {
    if (this.slab.length - this.end >= n) return;
    this.seal();
    const full = this.slab;
    if (full.length === SLAB_MAX && this.handed.length < this.spareSlabs) this.handed.push(full);
    const grown = Math.min(Math.max(full.length * 2, SLAB_MIN), SLAB_MAX);
    this.slab = grown === SLAB_MAX && n <= SLAB_MAX && this.spare.length > 0 ? this.spare.pop()! : Buffer.allocUnsafe(n > grown ? n : grown);
    this.start = 0;
    this.end = 0;
  }

  /**
   * The stream is done with every chunk taken so far: their slabs may be
   * written again. Called right after take()'s chunks were written; does
   * nothing when bytes were queued since.
   */
  release(): void {
    if (this.chunks.length !== 0 || this.end !== this.start) return;
    this.start = 0;
    this.end = 0;
    const handed = this.handed;
    for (let i = 0; i < handed.length; i++) if (this.spare.length < this.spareSlabs) this.spare.push(handed[i]!);
    handed.length = 0;
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
   * Queues a message whose line comes in three encoded parts (`MSG subject `,
   * the sid, ` [reply] size\r\n`), then the payload and CRLF. The hub keeps
   * the parts encoded (per subject, per subscription), so a delivery is a few
   * memory copies and no string work.
   */
  msg(head: Uint8Array, sid: Uint8Array, tail: Uint8Array, payload: Uint8Array): void {
    const line = head.length + sid.length + tail.length;
    this.room(payload.length >= COPY_LIMIT ? line : line + payload.length + 2);
    this.put3(head, sid, tail);
    this.size += line;
    this.body(payload);
  }

  /**
   * Queues a message whose whole line is one encoded buffer (kept while a
   * stream repeats it: by the hub per subscription, by the client for its
   * last subject and size), then the payload and CRLF.
   */
  line(line: Uint8Array, payload: Uint8Array): void {
    const n = line.length;
    this.room(payload.length >= COPY_LIMIT ? n : n + payload.length + 2);
    this.slab.set(line, this.end);
    this.end += n;
    this.size += n;
    this.body(payload);
  }

  /**
   * The same with the line given as two byte-per-char strings (the client's
   * `PUB subject ` and `size\r\n`), copied by a plain loop: for lines this
   * short that beats a native write, and no joined string is built.
   */
  msgText(head: string, tail: string, payload: Uint8Array): void {
    const line = head.length + tail.length;
    this.room(payload.length >= COPY_LIMIT ? line : line + payload.length + 2);
    this.end = put(this.slab, tail, put(this.slab, head, this.end));
    this.size += line;
    this.body(payload);
  }

  /**
   * A message's payload and CRLF, after its line. Small payloads are copied
   * into the room the caller reserved; large ones are queued by reference.
   */
  private body(payload: Uint8Array): void {
    const n = payload.length;
    if (n >= COPY_LIMIT) {
      this.bytes(payload);
      this.latin1('\r\n');
      return;
    }
    const slab = this.slab;
    let end = this.end;
    slab.set(payload, end);
    end += n;
    slab[end++] = 13;
    slab[end++] = 10;
    this.end = end;
    this.size += n + 2;
  }

  private put3(a: Uint8Array, b: Uint8Array, c: Uint8Array): void {
    const slab = this.slab;
    this.end = copy(slab, c, copy(slab, b, copy(slab, a, this.end)));
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
