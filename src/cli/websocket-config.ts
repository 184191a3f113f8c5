/**
 * The `websocket` section of `netemitter serve`'s config file, and the value
 * kinds its flags take: a port that may be the word `http` (share the
 * monitoring port), and a list of origins (a JSON array, or in a flag or
 * variable, comma-separated). Only the shape is checked here; the hub checks
 * the rest at createHub() (an origin's syntax, 'http' without httpPort, a
 * message size too small for one message), so the library and the CLI
 * refuse the same configs.
 */
import { ConfigError } from '../errors.js';
import type { WebSocketOptions } from '../server/options.js';
import { InvalidValue, parseAt, parseBoolean, parseDuration, parsePort, parseSize, parseString, type RawValue } from './values.js';

/** The word that puts the WebSocket listener on the monitoring port. */
export const SHARED_PORT = 'http';

/** A port number, or `http`. */
export function parseWebSocketPort(raw: RawValue): number | 'http' {
  if (typeof raw === 'string' && raw.trim().toLowerCase() === SHARED_PORT) return SHARED_PORT;
  try {
    return parsePort(raw);
  } catch {
    throw new InvalidValue(`an integer 0-65535, or "${SHARED_PORT}" for the monitoring port`);
  }
}

/** Origins: a JSON array of strings, or `a,b` in a flag or variable. */
export function parseOriginList(raw: RawValue): string[] {
  const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new InvalidValue('origins like https://app.example.com, comma-separated (a JSON array in a config file)');
  }
  return list as string[];
}

const KEYS = ['port', 'host', 'path', 'noTls', 'allowedOrigins', 'sameOrigin', 'compression', 'handshakeTimeout', 'maxMessageSize'] as const;

const PARSE: Record<(typeof KEYS)[number], (raw: RawValue) => unknown> = {
  port: parseWebSocketPort,
  host: parseString,
  path: parseString,
  noTls: parseBoolean,
  allowedOrigins: parseOriginList,
  sameOrigin: parseBoolean,
  compression: parseBoolean,
  handshakeTimeout: (r) => parseDuration(r, 1),
  maxMessageSize: (r) => parseSize(r, 1),
};

/** `websocket`: a partial WebSocketOptions (a flag may give the port; resolveServeConfig checks it is there). */
export function parseWebSocketSection(raw: unknown, src: { readonly file: string }): Partial<WebSocketOptions> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`invalid value for "websocket" in ${src.file}: expected an object, e.g. { "port": 8080 }`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const parse = (PARSE as Record<string, (raw: RawValue) => unknown>)[key];
    if (parse === undefined) {
      const near = KEYS.find((k) => k.toLowerCase() === key.replace(/[-_]/g, '').toLowerCase());
      throw new ConfigError(`unknown config key "websocket.${key}" in ${src.file}${near === undefined ? '' : ` (did you mean "websocket.${near}"?)`}`);
    }
    out[key] = parseAt(`"websocket.${key}" in ${src.file}`, value, parse);
  }
  return out as Partial<WebSocketOptions>;
}
