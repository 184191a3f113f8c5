/**
 * How event payloads travel.
 *
 * Sending: a Buffer, a typed array, a DataView or an ArrayBuffer goes as its
 * raw bytes; `undefined` as an empty payload; every other value (objects,
 * arrays, numbers, booleans, null and strings) as JSON text. A string is sent
 * as JSON too (`"hi"`), so it comes back as the same string and never turns
 * into a number or an object.
 *
 * A value JSON cannot carry (a BigInt, a circular structure, a function) or
 * would silently turn into `{}` (a Map, a Set, an Error, any other object
 * with no enumerable properties but a plain one) is refused with an
 * InvalidPayloadError naming the subject and the place in the payload. The
 * plain case pays only a scan of its JSON text for `{}` (about 2% of the
 * encoding): the payload is walked only when JSON.stringify throws or its
 * text holds a `{}`.
 *
 * Receiving: an empty payload is `undefined`; JSON text is parsed; anything
 * else is a UTF-8 string when it decodes cleanly (what other NATS clients
 * usually publish) and the raw Buffer otherwise. The raw bytes are always in
 * the listener's metadata as `data`, and a listener given `{ raw: true }`
 * receives them as its payload.
 */
import { InvalidPayloadError } from '../errors.js';

const EMPTY = Buffer.alloc(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A payload as bytes. `subject` is named by the error when it cannot be sent
 * (`reply`: it is the reply to a request on that subject).
 */
export function encodePayload(value: unknown, subject: string, reply = false): Buffer {
  if (value === undefined) return EMPTY;
  if (Buffer.isBuffer(value)) return value;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    const problem = findProblem(value);
    throw new InvalidPayloadError(subject, problem ?? `JSON.stringify failed: ${(err as Error).message}`, { cause: err, reply });
  }
  if (json === undefined) {
    throw new InvalidPayloadError(subject, typeof value === 'function' || typeof value === 'symbol' ? `the payload is a ${typeof value}, which JSON cannot carry` : 'the payload has no JSON form', { reply });
  }
  // Only a `{}` in the text can be a Map, a Set… sent as nothing: look closer then.
  if (typeof value === 'object' && json.includes('{}')) {
    // A page that is not cross-origin isolated has no SharedArrayBuffer at all.
    if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) return Buffer.from(value);
    const problem = findProblem(value);
    if (problem !== null) throw new InvalidPayloadError(subject, problem, { reply });
  }
  return Buffer.from(json, 'utf8');
}

/** `payload.items[2]["a b"]` */
function at(path: string): string {
  return path === '' ? 'the payload' : `payload${path}`;
}

function step(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function article(name: string): string {
  return /^[aeiou]/i.test(name) ? `an ${name}` : `a ${name}`;
}

const bigint = (where: string): string => `${where} is a BigInt, which JSON cannot carry: convert it, e.g. String(n), or Number(n) if it is a safe integer`;

/**
 * Walks a value as JSON.stringify would (toJSON first, own enumerable keys)
 * and says what in it cannot travel, or null when nothing does. Only called
 * on the failure path and when the JSON text holds `{}`; paths are built only
 * for the answer, and primitives are not visited.
 */
function findProblem(root: unknown): string | null {
  /** The objects on the way down; objects[i] is reached by the first i keys of `trail`. */
  const objects: object[] = [];
  const trail: (string | number)[] = [];
  const where = (depth = trail.length): string => at(trail.slice(0, depth).map(step).join(''));
  const visit = (key: string | number, input: unknown): string | null => {
    let v = input;
    if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') v = (toJSON as (k: string) => unknown).call(v, String(key));
    }
    if (typeof v !== 'object' || v === null) return typeof v === 'bigint' ? bigint(where()) : null;
    const seen = objects.indexOf(v);
    if (seen !== -1) return `${where()} refers back to ${where(seen)}: a circular structure, which JSON cannot carry`;
    const proto = Object.getPrototypeOf(v) as object | null;
    const plain = proto === Object.prototype || proto === null;
    if (!plain && !Array.isArray(v)) {
      if (v instanceof BigInt) return bigint(where());
      if (v instanceof Number || v instanceof String || v instanceof Boolean) return null;
      if (v instanceof Map) return `${where()} is a Map, which JSON sends as {}: convert it, e.g. Object.fromEntries(map) (or [...map] when its keys are not strings)`;
      if (v instanceof Set) return `${where()} is a Set, which JSON sends as {}: convert it, e.g. [...set]`;
      // Object.prototype of another realm (vm) is plain too; typed arrays nested in JSON are objects of their indices.
      if (Object.keys(v).length === 0 && Object.getPrototypeOf(proto) !== null && !ArrayBuffer.isView(v)) {
        if (v instanceof Error) return `${where()} is ${article(v.name || 'Error')}, which JSON sends as {}: send what you need of it, e.g. { message: err.message }`;
        const name = (v.constructor as { name?: unknown } | undefined)?.name;
        const what = typeof name === 'string' && name !== '' ? article(name) : 'an object';
        return `${where()} is ${what} with no enumerable properties, which JSON sends as {}: send a plain object, or give it a toJSON() method`;
      }
    }
    objects.push(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x === null || (typeof x !== 'object' && typeof x !== 'bigint')) continue;
        trail.push(i);
        const p = visit(i, x);
        if (p !== null) return p;
        trail.pop();
      }
    } else {
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x === null || (typeof x !== 'object' && typeof x !== 'bigint')) continue;
        trail.push(k);
        const p = visit(k, x);
        if (p !== null) return p;
        trail.pop();
      }
    }
    objects.pop();
    return null;
  };
  try {
    return visit('', root);
  } catch {
    // A toJSON or a getter that throws, or a structure too deep to walk: say what JSON.stringify said.
    return null;
  }
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
