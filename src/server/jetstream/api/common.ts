/**
 * What every API handler shares: the context it works in, the request body
 * as JSON, and paging.
 */
import type { Json } from '../config.js';
import { JsErr } from '../errors.js';
import type { Registry } from '../registry.js';
import { rfc3339 } from '../time.js';
import type { JsContext } from '../types.js';

export interface ApiContext extends JsContext {
  readonly registry: Registry;
}

/** Page sizes of the NAMES and LIST calls, as nats-server. */
export const NAMES_PAGE = 1024;
export const LIST_PAGE = 256;

/** A request body as a JSON object; empty is {} unless `required` (a config must be given). */
export function parseJson(body: Buffer, required = false): Json {
  const text = body.toString('utf8').trim();
  if (text === '') {
    if (required) throw JsErr.invalidJson();
    return {};
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw JsErr.invalidJson();
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw JsErr.invalidJson();
  return v as Json;
}

export function pageOffset(req: Json): number {
  return typeof req.offset === 'number' && Number.isSafeInteger(req.offset) && req.offset > 0 ? req.offset : 0;
}

/** `last_active` of consumer info's delivered and ack_floor: absent until the first delivery (ack), as nats-server omits it. */
export function lastActive(ms: number): Json {
  return ms > 0 ? { last_active: rfc3339(BigInt(ms) * 1_000_000n) } : {};
}
