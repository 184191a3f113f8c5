/**
 * How event payloads travel.
 *
 * Sending: a Buffer or Uint8Array goes as raw bytes; `undefined` as an empty
 * payload; every other value (objects, arrays, numbers, booleans, null and
 * strings) as JSON text. A string is sent as JSON too (`"hi"`), so it comes
 * back as the same string and never turns into a number or an object.
 *
 * Receiving: an empty payload is `undefined`; JSON text is parsed; anything
 * else is a UTF-8 string when it decodes cleanly (what other NATS clients
 * usually publish) and the raw Buffer otherwise. The raw bytes are always in
 * the listener's metadata as `data`, and a listener given `{ raw: true }`
 * receives them as its payload.
 */
import { TextDecoder } from 'node:util';

const EMPTY = Buffer.alloc(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function encodePayload(value: unknown): Buffer {
  if (value === undefined) return EMPTY;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`cannot send a ${typeof value} as an event payload: it has no JSON form`);
  return Buffer.from(json, 'utf8');
}

/** First byte of a JSON text, after optional whitespace. */
function looksLikeJson(b: Buffer): boolean {
  let i = 0;
  while (i < b.length && (b[i] === 32 || b[i] === 9 || b[i] === 10 || b[i] === 13)) i++;
  if (i === b.length) return false;
  const c = b[i]!;
  // { [ " digit - t(rue) f(alse) n(ull)
  return c === 123 || c === 91 || c === 34 || (c >= 48 && c <= 57) || c === 45 || c === 116 || c === 102 || c === 110;
}

export function decodePayload(data: Buffer): unknown {
  if (data.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return data;
  }
  if (looksLikeJson(data)) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON after all: plain text.
    }
  }
  return text;
}
