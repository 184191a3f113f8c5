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
