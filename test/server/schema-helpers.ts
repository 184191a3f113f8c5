/**
 * What the schema tests share: the tickets example's schema, the reason the
 * validator gives (what the hub must send, to the byte), the -ERR line, and
 * raw-client exchanges that return only what is new.
 */
import assert from 'node:assert/strict';
import { compileRules } from '../../src/schema/validator.js';
import type { JsonSchema } from '../../src/protocol/schemas.js';
import type { RawClient } from '../helpers/raw.js';

/** The tickets example's event: what every listener of ticket.created expects. */
export const TICKET = {
  type: 'object',
  required: ['id', 'priority'],
  properties: { id: { type: 'string' }, priority: { enum: ['low', 'high'] } },
  additionalProperties: false,
} satisfies JsonSchema;

/** The reason the validator gives for `payload` against `schema`: what the hub must send, to the byte. */
export function reasonFor(schema: JsonSchema, payload: string | Uint8Array): string {
  const [rule] = compileRules([{ name: 'probe', subjects: ['probe'], action: 'reject', schema, refs: [] }]);
  const reason = rule!.check(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload);
  assert.notEqual(reason, null, 'the probe payload breaks the schema');
  return reason!;
}

/** The -ERR line for a violation (reasons here are ASCII). */
export function errLine(subject: string, reason: string): string {
  return `-ERR 'Schema Violation for Publish to "${subject}": ${reason}'\r\n`;
}

const seen = new WeakMap<RawClient, number>();

/**
 * Sends `data` (then PING) and returns what arrived since the last
 * exchange on this client (after CONNECT's answer), up to and with the PONG.
 */
export async function exchange(r: RawClient, data: string | Uint8Array = ''): Promise<string> {
  const from = seen.get(r) ?? 0;
  if (typeof data !== 'string') {
    r.send(data);
    data = '';
  }
  const text = await r.roundTrip(data);
  seen.set(r, text.length);
  return text.slice(from);
}

/** Marks everything received so far as seen (CONNECT's answers). */
export function skipSeen(r: RawClient): void {
  seen.set(r, r.text().length);
}

export function pub(subject: string, body: string, reply?: string): string {
  return `PUB ${subject}${reply === undefined ? '' : ' ' + reply} ${Buffer.byteLength(body)}\r\n${body}\r\n`;
}

