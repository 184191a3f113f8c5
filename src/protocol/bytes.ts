/**
 * Byte/string helpers for the hot path. Control lines are decoded as latin1:
 * one byte is one char, so a subject decoded from the wire and written back
 * is the same bytes, whatever its encoding. Buffer's latin1Slice and
 * latin1Write skip the encoding dispatch of toString()/write(); they have
 * been on Buffer.prototype since Node's first releases but are not in the
 * type definitions.
 */
interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length?: number): number;
}

export function latin1Slice(buf: Buffer, start: number, end: number): string {
  return (buf as Latin1Buffer).latin1Slice(start, end);
}

export function latin1Write(buf: Buffer, s: string, offset: number): number {
  return (buf as Latin1Buffer).latin1Write(s, offset, buf.length - offset);
}

type BufferViewCtor = new (ab: ArrayBufferLike, byteOffset: number, length: number) => Buffer;
/** Buffer's species constructor: what subarray() uses to make a Buffer view. */
const Species = (Buffer as unknown as { [Symbol.species]: BufferViewCtor })[Symbol.species];
const speciesMakesBuffers = typeof Species === 'function' && Buffer.isBuffer(new Species(new ArrayBuffer(1), 0, 1));

/**
 * A Buffer view of `length` bytes of `ab` from `byteOffset`, for a caller
 * that has checked the bounds. Built by Buffer's species constructor, which
 * skips Buffer.from's argument checks (~35 ns against ~95 ns per view on the
 * reference machine); Buffer.from where that constructor is not a Buffer's.
 */
export const bufferView: (ab: ArrayBufferLike, byteOffset: number, length: number) => Buffer = speciesMakesBuffers
  ? (ab, byteOffset, length) => new Species(ab, byteOffset, length)
  : (ab, byteOffset, length) => Buffer.from(ab, byteOffset, length);

/** The body of a message routed as headers + body (`headerLength` bytes of headers): a view, no copy. */
export function messageBody(payload: Uint8Array, headerLength: number): Buffer {
  return bufferView(payload.buffer, payload.byteOffset + headerLength, payload.length - headerLength);
}

/** A user string (UTF-8) in the hub's byte-per-char form. */
export function toWire(s: string): string {
  // Fast path: pure ASCII strings are already byte-per-char.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 127) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** A byte-per-char wire string back to a user string (UTF-8). */
export function fromWire(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 127) return Buffer.from(s, 'latin1').toString('utf8');
  }
  return s;
}
