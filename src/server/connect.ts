/**
 * CONNECT's JSON, read into every field nats-server knows (ConnectRequest).
 * The hub applies the protocol options to the connection and hands the rest
 * (credentials, identity) to authentication.
 */
import type { ConnectRequest } from './security/types.js';
import type { ClientOptions } from './types.js';
import { ProtocolErrorText, PROTOCOL_VERSION } from '../protocol/constants.js';

const BOOL_FIELDS = ['verbose', 'pedantic', 'tls_required', 'echo', 'no_responders', 'headers'] as const;
const EXTENSION_FIELDS = ['will', 'presence'] as const;
const STRING_FIELDS = ['auth_token', 'user', 'pass', 'name', 'lang', 'version', 'sig', 'jwt', 'nkey'] as const;

/**
 * Reads CONNECT's JSON. null when it is not an object or a known field has
 * the wrong type (nats-server refuses both); unknown fields are dropped
 * (netemitter's own, `will` and `presence`, are kept as they came), and
 * a string field sent as null counts as absent, as Go's decoder leaves it.
 */
export function parseConnect(json: string): ConnectRequest | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of BOOL_FIELDS) {
    const x = o[k];
    if (x === undefined) continue;
    if (typeof x !== 'boolean') return null;
    out[k] = x;
  }
  for (const k of STRING_FIELDS) {
    const x = o[k];
    if (x === undefined || x === null) continue;
    if (typeof x !== 'string') return null;
    out[k] = x;
  }
  // netemitter's extensions, kept raw: the hub services that own them check them (server/lifecycle.ts).
  for (const k of EXTENSION_FIELDS) if (o[k] !== undefined && o[k] !== null) out[k] = o[k];
  if (o.protocol !== undefined) {
    if (typeof o.protocol !== 'number' || !Number.isInteger(o.protocol)) return null;
    out.protocol = o.protocol;
  }
  return out as ConnectRequest;
}

/**
 * Applies a CONNECT's protocol options to a connection's (a field left out
 * keeps its value: a second CONNECT changes only what it names). Returns
 * nats-server's -ERR text for a combination it refuses, or null.
 */
export function applyConnect(o: ClientOptions, c: ConnectRequest): string | null {
  o.verbose = c.verbose ?? o.verbose;
  o.pedantic = c.pedantic ?? o.pedantic;
  o.echo = c.echo ?? o.echo;
  o.headers = c.headers ?? o.headers;
  o.noResponders = c.no_responders ?? o.noResponders;
  o.name = c.name ?? o.name;
  o.lang = c.lang ?? o.lang;
  o.version = c.version ?? o.version;
  o.protocol = c.protocol ?? o.protocol;
  if (o.protocol < 0 || o.protocol > PROTOCOL_VERSION) return ProtocolErrorText.BAD_PROTOCOL;
  if (o.noResponders && !o.headers) return ProtocolErrorText.NO_RESPONDERS_HEADERS;
  return null;
}
