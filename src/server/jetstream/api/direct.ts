/**
 * `$JS.API.DIRECT.GET.<stream>` (a JSON body: seq, last_by_subj or
 * next_by_subj) and `$JS.API.DIRECT.GET.<stream>.<subject>` (the last message
 * on a subject): the message itself comes back, its payload as stored and its
 * headers with Nats-Stream, Nats-Subject, Nats-Sequence and Nats-Time-Stamp
 * added, instead of a JSON envelope with base64. Problems are status
 * messages (404 Message Not Found, 408 …), as nats-server sends them. Only
 * streams with allow_direct answer.
 */
import { toWire } from '../../../protocol/bytes.js';
import { JsHeader } from '../../../protocol/jetstream.js';
import type { StoredMessage } from '../../../store/index.js';
import type { Json } from '../config.js';
import { EMPTY } from '../outbox.js';
import { rfc3339 } from '../time.js';
import type { ApiContext } from './common.js';

export interface DirectSender {
  sendStatus(reply: string, code: number, description: string): void;
}

/** Handles a direct get; false when nothing answers it here (no such stream, or allow_direct is off). */
export function directGet(ctx: ApiContext, out: DirectSender, tokens: string[], reply: string, body: Buffer): boolean {
  const s = ctx.registry.streams.get(tokens[2]!);
  if (s === undefined || !s.config.allow_direct) return false;
  let msg: StoredMessage | undefined;
  if (tokens.length > 3) {
    msg = s.store.getLastMessage(s.name, tokens.slice(3).join('.'));
  } else {
    const q = parseQuery(body);
    if (typeof q === 'string') {
      out.sendStatus(reply, 408, q);
      return true;
    }
    if (q.last !== undefined) msg = s.store.getLastMessage(s.name, q.last);
    else if (q.next !== undefined) msg = s.store.nextMessage(s.name, q.seq ?? 1, q.next);
    else msg = s.store.getMessage(s.name, q.seq!);
  }
  if (msg === undefined) {
    out.sendStatus(reply, 404, 'Message Not Found');
    return true;
  }
  // The stored block without its closing blank line, then ours (names, subjects and numbers hold no CR or LF),
  // all as wire strings (one char per byte).
  const own = msg.headers.length > 0 ? Buffer.from(msg.headers.buffer, msg.headers.byteOffset, msg.headers.length - 2).toString('latin1') : NO_HEADERS;
  const headers = Buffer.from(
    own +
      `${JsHeader.STREAM}: ${toWire(s.name)}\r\n${JsHeader.SUBJECT}: ${toWire(msg.subject)}\r\n` +
      `${JsHeader.SEQUENCE}: ${msg.seq}\r\n${JsHeader.TIME_STAMP}: ${rfc3339(msg.timeNs)}\r\n\r\n`,
    'latin1',
  );
  const payload = msg.payload.length > 0 ? Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.length) : EMPTY;
  // An answer goes to a reply subject used once: matched without the subject cache.
  ctx.host.reply(reply, payload, headers);
  return true;
}

/** A header block's first line. */
const NO_HEADERS = 'NATS/1.0\r\n';

interface Query {
  seq?: number;
  last?: string;
  next?: string;
}

/** The JSON body, or the 408 status text for a bad one (nats-server's words). */
function parseQuery(body: Buffer): Query | string {
  const text = body.toString('utf8').trim();
  if (text === '') return 'Empty Request';
  let r: Json;
  try {
    r = JSON.parse(text) as Json;
  } catch {
    return 'Malformed Request';
  }
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'Malformed Request';
  const seq = typeof r.seq === 'number' && Number.isSafeInteger(r.seq) && r.seq > 0 ? r.seq : undefined;
  const last = typeof r.last_by_subj === 'string' && r.last_by_subj !== '' ? r.last_by_subj : undefined;
  const next = typeof r.next_by_subj === 'string' && r.next_by_subj !== '' ? r.next_by_subj : undefined;
  if (seq === undefined && last === undefined && next === undefined) return 'Empty Request';
  if (last !== undefined && (seq !== undefined || next !== undefined)) return 'Bad Request';
  return { seq, last, next };
}
