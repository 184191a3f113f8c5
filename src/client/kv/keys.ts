/**
 * Bucket names and keys as NATS KV accepts them, and entries from stored
 * messages. The rules are nats.js's and nats.go's, so a key written here is
 * one they can read and write:
 *
 *   bucket   [-_A-Za-z0-9]+
 *   key      [-/_=.A-Za-z0-9]+, not starting or ending with '.'   (its tokens become subject tokens)
 *   filter   the same, plus the wildcards '*' and '>' as whole tokens
 */
import type { MsgHeaders } from '../../protocol/headers.js';
import { decodePayload } from '../codec.js';
import { InvalidKeyError } from '../../errors.js';
import { KV_OPERATION_HEADER, KV_SUBJECT_PREFIX, KvOperation, type KvEntry } from './types.js';

const BUCKET = /^[-\w]+$/;
const KEY = /^[-/=.\w]+$/;
const FILTER = /^[-/=.>*\w]+$/;

export function checkBucket(name: unknown, what = 'bucket'): string {
  if (typeof name !== 'string' || !BUCKET.test(name)) {
    throw new InvalidKeyError(String(name), `a ${what} name is letters, digits, '-' and '_' only`);
  }
  return name;
}

function checkTokens(key: string): void {
  if (key.startsWith('.') || key.endsWith('.')) throw new InvalidKeyError(key, "a key cannot start or end with '.'");
  if (key.includes('..')) throw new InvalidKeyError(key, 'a key cannot have an empty token (..)');
}

export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'a key is a non-empty string');
  if (!KEY.test(key)) throw new InvalidKeyError(key, "a key is letters, digits and '-', '/', '_', '=', '.' only");
  checkTokens(key);
  return key;
}

/** A key or a pattern of keys ('*' one token, '>' the rest). */
export function checkFilter(filter: unknown): string {
  if (typeof filter !== 'string' || filter.length === 0) throw new InvalidKeyError(String(filter), 'a key filter is a non-empty string');
  if (!FILTER.test(filter)) throw new InvalidKeyError(filter, "a key filter is letters, digits, '-', '/', '_', '=', '.' and the wildcards '*' and '>'");
  checkTokens(filter);
  const tokens = filter.split('.');
  tokens.forEach((t, i) => {
    if ((t.includes('*') || t.includes('>')) && t.length > 1) throw new InvalidKeyError(filter, 'a wildcard must be a whole token');
    if (t === '>' && i !== tokens.length - 1) throw new InvalidKeyError(filter, "'>' must be the last token");
  });
  return filter;
}

export function keySubject(bucket: string, key: string): string {
  return `${KV_SUBJECT_PREFIX}.${bucket}.${key}`;
}

/** The operation a stored message carries (no header: a PUT). */
export function operationOf(headers: MsgHeaders | undefined): KvOperation {
  const op = headers?.get(KV_OPERATION_HEADER);
  return op === KvOperation.DEL || op === KvOperation.PURGE ? op : KvOperation.PUT;
}

/** An entry from a stored message on `$KV.<bucket>.<key>`. */
export function toEntry(bucket: string, subject: string, seq: number, time: Date, headers: MsgHeaders | undefined, data: Buffer, delta?: number): KvEntry {
  const operation = operationOf(headers);
  const key = subject.slice(KV_SUBJECT_PREFIX.length + bucket.length + 2);
  const e: { -readonly [K in keyof KvEntry]: KvEntry[K] } = {
    bucket,
    key,
    value: operation === KvOperation.PUT ? decodePayload(data) : undefined,
    data,
    revision: seq,
    created: time,
    operation,
  };
  if (delta !== undefined) e.delta = delta;
  return e;
}
