/**
 * netemitter's extensions to CONNECT, read the same way by the hub and by
 * our client (nats-server ignores both fields):
 *
 *   CONNECT {…, "will": { "subject": "workers.left", "payload": "text", "headers": { "k": "v" } },
 *              "presence": { "role": "worker" } }
 *
 * `will` is what the hub publishes for this client when its connection ends
 * any way but a clean close (server/will.ts); `presence` is the metadata
 * others see in the presence list (server/presence.ts). INFO's `netemitter`
 * list says which of them a hub offers.
 */
import { isValidLiteralSubject } from './subject.js';

/** INFO's `netemitter` names for the extensions. */
export const Feature = {
  WILL: 'will',
  PRESENCE: 'presence',
} as const;
export type Feature = (typeof Feature)[keyof typeof Feature];

/**
 * The control subject (after `$NE.CTL.`, protocol/constants.ts) that forgets
 * the sender's will: `PUB $NE.CTL.WILL.CANCEL [reply] 0`, sent by our
 * client's close() and drain() to a hub whose INFO lists `will`.
 */
export const WILL_CANCEL = 'WILL.CANCEL';

/** A last will as CONNECT carries it. */
export interface Will {
  /** A literal subject (no wildcards). */
  subject: string;
  /** UTF-8 text; default empty. */
  payload?: string;
  /** Header values: one string, or several. */
  headers?: Record<string, string | string[]>;
}

/** The largest presence metadata, as JSON, in bytes. */
export const MAX_PRESENCE_META = 4096;

/** Presence metadata: a JSON object. */
export type PresenceMeta = Record<string, unknown>;

/** A header name as the header block allows it: printable ASCII but ':' and space. */
const HEADER_NAME = /^[!-9;-~]+$/;

/** Checks a will; returns it, or what is wrong with it (one line). */
export function checkWill(v: unknown): Will | string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'will must be an object';
  const w = v as Record<string, unknown>;
  if (typeof w.subject !== 'string' || !isValidLiteralSubject(w.subject)) return 'will.subject must be a literal subject';
  if (w.payload !== undefined && typeof w.payload !== 'string') return 'will.payload must be a string';
  if (w.headers !== undefined) {
    if (w.headers === null || typeof w.headers !== 'object' || Array.isArray(w.headers)) return 'will.headers must be an object';
    for (const [k, hv] of Object.entries(w.headers)) {
      if (!HEADER_NAME.test(k)) return `will.headers has an invalid name ${JSON.stringify(k)}`;
      const values = Array.isArray(hv) ? hv : [hv];
      if (values.some((x) => typeof x !== 'string' || /[\r\n]/.test(x))) return `will.headers.${k} must be a string or strings, without line breaks`;
    }
  }
  const out: Will = { subject: w.subject };
  if (w.payload !== undefined) out.payload = w.payload;
  if (w.headers !== undefined) out.headers = w.headers as Record<string, string | string[]>;
  return out;
}

/** Checks presence metadata; returns it, or what is wrong with it (one line). */
export function checkPresenceMeta(v: unknown): PresenceMeta | string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'presence metadata must be a JSON object';
  let json: string;
  try {
    json = JSON.stringify(v);
  } catch {
    return 'presence metadata must be JSON';
  }
  if (new TextEncoder().encode(json).length > MAX_PRESENCE_META) return `presence metadata must be at most ${MAX_PRESENCE_META} bytes as JSON`;
  return v as PresenceMeta;
}
