/**
 * NATS message headers (ADR-4): a version line with an optional status,
 * then `Key: value` lines, then a blank line.
 *
 *   NATS/1.0[ <code>[ <description>]]\r\n
 *   Key: value\r\n          (keys keep their case; values may repeat)
 *   \r\n
 */
import { HEADER_VERSION } from './constants.js';

/** Header values by key. A key may carry several values. */
export type HeadersInit = Record<string, string | number | readonly (string | number)[]>;

/** Decoded headers: case-preserving keys, case-insensitive lookup. */
export class MsgHeaders {
  /** Status code from the version line (e.g. 503), or 0 when none. */
  readonly code: number;
  /** Status description, or '' when none. */
  readonly description: string;
  private readonly map = new Map<string, { key: string; values: string[] }>();

  constructor(code = 0, description = '') {
    this.code = code;
    this.description = description;
  }

  /** The first value of a key, case-insensitively, or undefined. */
  get(key: string): string | undefined {
    return this.map.get(key.toLowerCase())?.values[0];
  }

  /** Every value of a key. */
  values(key: string): string[] {
    return [...(this.map.get(key.toLowerCase())?.values ?? [])];
  }

  has(key: string): boolean {
    return this.map.has(key.toLowerCase());
  }

  append(key: string, value: string): void {
    const k = key.toLowerCase();
    const e = this.map.get(k);
    if (e === undefined) this.map.set(k, { key, values: [value] });
    else e.values.push(value);
  }

  /** Keys as they were first written. */
  keys(): string[] {
    return [...this.map.values()].map((e) => e.key);
  }

  get size(): number {
    return this.map.size;
  }

  /** A plain object: key → value, or key → values when a key repeats. */
  toJSON(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const e of this.map.values()) out[e.key] = e.values.length === 1 ? e.values[0]! : [...e.values];
    return out;
  }
}

function checkToken(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13 || c === 10 || (what === 'key' && (c === 58 || c <= 32 || c === 127))) {
      throw new TypeError(`invalid header ${what}: ${JSON.stringify(s)}`);
    }
  }
  if (what === 'key' && s.length === 0) throw new TypeError('invalid header key: empty');
}

/** Encodes headers (UTF-8). Returns an empty buffer when there is nothing to send. */
export function encodeHeaders(init: HeadersInit | MsgHeaders | undefined, status?: { code: number; description?: string }): Buffer {
  let text = HEADER_VERSION;
  if (status !== undefined) {
    text += ` ${status.code}`;
    if (status.description) text += ` ${status.description}`;
  }
  text += '\r\n';
  let any = status !== undefined;
  if (init instanceof MsgHeaders) {
    for (const k of init.keys()) {
      for (const v of init.values(k)) text += `${k}: ${v}\r\n`;
      any = true;
    }
  } else if (init !== undefined) {
    for (const [k, v] of Object.entries(init)) {
      checkToken(k, 'key');
      const list = Array.isArray(v) ? v : [v];
      for (const item of list as (string | number)[]) {
        const s = String(item);
        checkToken(s, 'value');
        text += `${k}: ${s}\r\n`;
        any = true;
      }
    }
  }
  if (!any) return Buffer.alloc(0);
  return Buffer.from(text + '\r\n', 'utf8');
}

/** Decodes a header block; tolerant of what other clients send, never throws. */
export function decodeHeaders(block: Buffer): MsgHeaders {
  const text = block.toString('utf8');
  const lines = text.split('\r\n');
  const first = lines[0] ?? '';
  let code = 0;
  let description = '';
  if (first.startsWith(HEADER_VERSION)) {
    const rest = first.slice(HEADER_VERSION.length).trim();
    if (rest.length > 0) {
      const sp = rest.indexOf(' ');
      const c = Number.parseInt(sp === -1 ? rest : rest.slice(0, sp), 10);
      if (Number.isFinite(c)) code = c;
      description = sp === -1 ? '' : rest.slice(sp + 1).trim();
    }
  }
  const h = new MsgHeaders(code, description);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    h.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return h;
}
