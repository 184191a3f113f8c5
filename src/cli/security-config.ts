/**
 * The `tls` and `authorization` sections of `netemitter serve`'s config file
 * (issue #14, "Configuration"), checked for shape and turned into the hub's
 * TlsOptions and AuthorizationOptions (server/security/types.ts):
 *
 *   durations   "2s", "500ms", 2000      → milliseconds
 *   publish     ["a.>"] | { allow, deny } → SubjectPermission, as written
 *   paths       relative to the config file's directory
 *
 * Only the shape is checked here (types, unknown keys). What needs the files
 * or the whole picture (a missing certificate, a key that does not match it,
 * a token beside users, a user listed twice, subject syntax) the hub checks
 * at createHub(), so the library and the CLI refuse the same configs.
 *
 * Secrets (token, passwords) are never echoed in an error message.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, resolve, dirname } from 'node:path';
import { ConfigError } from '../errors.js';
import type { AuthorizationOptions, Permissions, SubjectPermission, TlsOptions, UserEntry } from '../server/security/types.js';
import { parseAt, parseBoolean, parseCount, parseDuration, parseString, type RawValue } from './values.js';

/** Where a section came from: the file (named in messages; relative paths resolve against its directory). */
export interface SectionSource {
  readonly file: string;
}

type Parse<T> = (raw: RawValue) => T;

/** nats-server's spellings, so a key copied from a nats-server config gets a useful hint. */
const NATS_NAMES: Record<string, string> = {
  cert_file: 'cert',
  key_file: 'key',
  ca_file: 'ca',
  handshake_first: 'handshakeFirst',
  default_permissions: 'defaultPermissions',
  allow_responses: 'allowResponses',
  pass: 'password',
};

function loose(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

function isObject(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw);
}

/** A JSON object whose keys are all in `known`; otherwise a ConfigError naming the first stranger. */
function objectAt(raw: unknown, path: string, known: readonly string[], src: SectionSource): Record<string, unknown> {
  if (!isObject(raw)) throw new ConfigError(`invalid value for "${path}" in ${src.file}: expected an object`);
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue;
    const near = NATS_NAMES[key] ?? known.find((k) => loose(k) === loose(key));
    const hint = near === undefined || !known.includes(near) ? '' : ` (did you mean "${path}.${near}"?)`;
    throw new ConfigError(`unknown config key "${path}.${key}" in ${src.file}${hint}`);
  }
  return raw;
}

function field<T>(obj: Record<string, unknown>, key: string, path: string, src: SectionSource, parse: Parse<T>, secret = false): T | undefined {
  const raw = obj[key];
  return raw === undefined ? undefined : parseAt(`"${path}.${key}" in ${src.file}`, raw, parse, secret);
}

/** Sets `out[key]` only when the value is there, so absent keys stay absent (exactOptionalPropertyTypes-friendly). */
function put<T extends object, K extends keyof T>(out: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}

/** A path from the config file: relative ones are relative to the file's directory, not to where serve runs. */
function pathFrom(src: SectionSource): Parse<string> {
  return (raw) => {
    const p = parseString(raw);
    return isAbsolute(p) ? p : resolve(dirname(src.file), p);
  };
}

const TLS_KEYS = ['cert', 'key', 'ca', 'verify', 'handshakeFirst', 'timeout'] as const;

/** `tls`: a partial TlsOptions (flags may supply the rest; resolveServeConfig checks cert and key are both there). */
export function parseTlsSection(raw: unknown, src: SectionSource): Partial<TlsOptions> {
  const obj = objectAt(raw, 'tls', TLS_KEYS, src);
  const path = pathFrom(src);
  const out: Partial<TlsOptions> = {};
  put(out, 'cert', field(obj, 'cert', 'tls', src, path));
  put(out, 'key', field(obj, 'key', 'tls', src, path));
  put(out, 'ca', field(obj, 'ca', 'tls', src, path));
  put(out, 'verify', field(obj, 'verify', 'tls', src, parseBoolean));
  put(out, 'handshakeFirst', field(obj, 'handshakeFirst', 'tls', src, parseBoolean));
  put(out, 'timeout', field(obj, 'timeout', 'tls', src, (r) => parseDuration(r, 1)));
  return out;
}

/** A list of subjects: non-empty strings. Their syntax is the hub's to check. */
function isSubjectList(raw: unknown): raw is string[] {
  return Array.isArray(raw) && raw.every((s) => typeof s === 'string' && s.length > 0);
}

function subjectPermission(raw: unknown, path: string, src: SectionSource): SubjectPermission {
  if (Array.isArray(raw)) {
    if (!isSubjectList(raw)) throw new ConfigError(`invalid value for "${path}" in ${src.file}: expected a list of subjects (non-empty strings)`);
    return raw;
  }
  if (!isObject(raw)) {
    throw new ConfigError(`invalid value for "${path}" in ${src.file}: expected a list of subjects or { "allow": [...], "deny": [...] }`);
  }
  const obj = objectAt(raw, path, ['allow', 'deny'], src);
  const out: { allow?: string[]; deny?: string[] } = {};
  for (const key of ['allow', 'deny'] as const) {
    const list = obj[key];
    if (list === undefined) continue;
    if (!isSubjectList(list)) throw new ConfigError(`invalid value for "${path}.${key}" in ${src.file}: expected a list of subjects (non-empty strings)`);
    out[key] = list;
  }
  return out;
}

function allowResponses(raw: unknown, path: string, src: SectionSource): Permissions['allowResponses'] {
  if (typeof raw === 'boolean') return raw;
  if (!isObject(raw)) throw new ConfigError(`invalid value for "${path}" in ${src.file}: expected true, false or { "max": n, "expires": "1m" }`);
  const obj = objectAt(raw, path, ['max', 'expires'], src);
  const out: { max?: number; expires?: number } = {};
  put(out, 'max', field(obj, 'max', path, src, (r) => parseCount(r, 0)));
  put(out, 'expires', field(obj, 'expires', path, src, (r) => parseDuration(r, 0)));
  return out;
}

function permissions(raw: unknown, path: string, src: SectionSource): Permissions {
  const obj = objectAt(raw, path, ['publish', 'subscribe', 'allowResponses'], src);
  const out: Permissions = {};
  if (obj.publish !== undefined) out.publish = subjectPermission(obj.publish, `${path}.publish`, src);
  if (obj.subscribe !== undefined) out.subscribe = subjectPermission(obj.subscribe, `${path}.subscribe`, src);
  if (obj.allowResponses !== undefined) out.allowResponses = allowResponses(obj.allowResponses, `${path}.allowResponses`, src);
  return out;
}

function userEntry(raw: unknown, path: string, src: SectionSource): UserEntry {
  const obj = objectAt(raw, path, ['user', 'password', 'nkey', 'permissions'], src);
  const out: UserEntry = {};
  put(out, 'user', field(obj, 'user', path, src, parseString));
  put(out, 'password', field(obj, 'password', path, src, parseString, true));
  put(out, 'nkey', field(obj, 'nkey', path, src, parseString));
  if (obj.permissions !== undefined) out.permissions = permissions(obj.permissions, `${path}.permissions`, src);
  return out;
}

const AUTHORIZATION_KEYS = ['timeout', 'token', 'user', 'password', 'users', 'defaultPermissions', 'maxFailureDelay'] as const;

/** `authorization`: AuthorizationOptions, each field as written (flags may override token, user and password). */
export function parseAuthorizationSection(raw: unknown, src: SectionSource): AuthorizationOptions {
  const obj = objectAt(raw, 'authorization', AUTHORIZATION_KEYS, src);
  const out: AuthorizationOptions = {};
  put(out, 'timeout', field(obj, 'timeout', 'authorization', src, (r) => parseDuration(r, 1)));
  put(out, 'token', field(obj, 'token', 'authorization', src, parseString, true));
  put(out, 'user', field(obj, 'user', 'authorization', src, parseString));
  put(out, 'password', field(obj, 'password', 'authorization', src, parseString, true));
  put(out, 'maxFailureDelay', field(obj, 'maxFailureDelay', 'authorization', src, (r) => parseDuration(r, 0)));
  if (obj.users !== undefined) {
    if (!Array.isArray(obj.users)) throw new ConfigError(`invalid value for "authorization.users" in ${src.file}: expected a list of users`);
    out.users = obj.users.map((u, i) => userEntry(u, `authorization.users[${i}]`, src));
  }
  if (obj.defaultPermissions !== undefined) {
    out.defaultPermissions = permissions(obj.defaultPermissions, 'authorization.defaultPermissions', src);
  }
  return out;
}

/** Whether clients must authenticate: a token, a user or a users list is configured. */
export function requiresAuth(auth: AuthorizationOptions | undefined): boolean {
  return auth !== undefined && (auth.token !== undefined || auth.user !== undefined || (auth.users?.length ?? 0) > 0);
}

const REDACTED = '[redacted]';

/** A copy safe to log: tokens and passwords replaced (bcrypt hashes too: they can be attacked offline). */
export function redactAuthorization(auth: AuthorizationOptions): AuthorizationOptions {
  const out: AuthorizationOptions = { ...auth };
  if (out.token !== undefined) out.token = REDACTED;
  if (out.password !== undefined) out.password = REDACTED;
  if (out.users !== undefined) out.users = out.users.map((u) => (u.password === undefined ? u : { ...u, password: REDACTED }));
  return out;
}

/**
 * Whether a listen host can be reached only from this machine: 127.0.0.0/8,
 * ::1 or localhost. Anything else (0.0.0.0, ::, a hostname, an interface's
 * address) may be reachable from the network.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  if (isIPv4(v4)) return v4.startsWith('127.');
  // ::1 in any spelling (0:0:0:0:0:0:0:1): only zeros, then a final 1.
  return isIPv6(h) && h.endsWith('1') && h.replace(/[:0]/g, '') === '1';
}
