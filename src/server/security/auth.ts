/**
 * Who may connect: the mechanisms of nats-server's authorization block (a
 * token, a single user and password, a users list with plain or bcrypt
 * passwords or NKeys) and the embedder's authenticate() hook. Pure: the hub
 * calls check() with a client's CONNECT and acts on the answer.
 *
 * Which mechanism decides follows nats-server (server/auth.go,
 * processClientOrLeafAuthentication), first match wins:
 *
 *   CONNECT has nkey and NKey users exist  → that NKey user, signature over the nonce
 *   a users list exists                    → the user CONNECT names, its password
 *   a token is configured                  → auth_token
 *   a single user is configured            → user and pass
 *
 * Where that refuses (or nothing is configured), the hook decides, if there
 * is one. A token or a single user cannot be combined with a users list,
 * as in nats-server, so at most one of the last three applies.
 */
import { randomBytes } from 'node:crypto';
import type { KeyPair } from '@nats-io/nkeys';
import { lazy } from '../../lazy.js';
import { ConfigError } from '../../errors.js';
import type { Peer } from '../../transport.js';
import { compilePermissions, validatePermissions, type CompiledPermissions } from './permissions.js';
import { BCRYPT_HASH, BCRYPT_PREFIX, BcryptGate, plainEquals, secret, type Secret } from './secrets.js';
import { nonNegative, positive } from './failures.js';
import type { AuthenticateHook, AuthorizationOptions, ConnectRequest, Identity, Permissions, UserEntry } from './types.js';

/** The brute-force tracker lives in failures.ts; the hub imports it from here, with the rest of authentication. */
export { FailureTracker, FailureDefaults } from './failures.js';
import { FailureTracker, FailureDefaults } from './failures.js';

/** nkeys, loaded when the first NKey user is read. */
const nkeys = lazy<typeof import('@nats-io/nkeys')>('@nats-io/nkeys');

export const AuthDefaults = {
  /** nats-server's AUTH_TIMEOUT. */
  timeout: 2000,
  /** Random bytes in a nonce (nats-server's nonceRawLen); base64url without padding makes 15 characters. */
  nonceBytes: 11,
  /** bcrypt compares running at once; the rest wait in a queue. */
  bcryptConcurrency: 2,
  /** bcrypt compares that may wait; past it a password needing one is refused at once. */
  bcryptQueue: 32,
  /** Successful bcrypt verifications remembered. */
  verifiedCacheSize: 1024,
} as const;

/** Bounds on the work a password check may cost (see BcryptGate). */
export interface AuthLimits {
  bcryptConcurrency?: number;
  bcryptQueue?: number;
  verifiedCacheSize?: number;
}

export interface AuthResult {
  identity: Identity;
  permissions: CompiledPermissions | null;
}

// ── configuration ─────────────────────────────────────────────────────────

const AUTH_KEYS = ['timeout', 'token', 'user', 'password', 'users', 'defaultPermissions', 'maxFailureDelay'];
const USER_KEYS = ['user', 'password', 'nkey', 'permissions'];

/** Not a type guard: the values checked are typed already, only their runtime shape is in doubt. */
function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(o: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k) && o[k] !== undefined) throw new ConfigError(`${where}: unknown key ${JSON.stringify(k)} (expected ${known.join(', ')})`);
  }
}

function nonEmptyString(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(`${where}: expected a non-empty string`);
  return v;
}

/** A secret from config: a plain text, or a bcrypt hash that must be whole. */
function secretOption(v: unknown, where: string): Secret {
  const s = nonEmptyString(v, where);
  if (BCRYPT_PREFIX.test(s) && !BCRYPT_HASH.test(s)) throw new ConfigError(`${where}: starts like a bcrypt hash but is not one this hub can check ($2a$, $2b$ or $2y$, 60 characters)`);
  return secret(s);
}

/** A user's public NKey: `U…`, with a valid checksum. */
function userKey(v: unknown, where: string): KeyPair {
  if (typeof v === 'string' && v.startsWith('U')) {
    try {
      return nkeys().fromPublic(v);
    } catch {
      // fall through to the one message
    }
  }
  throw new ConfigError(`${where}: not a user's public NKey (56 characters starting with U)`);
}

interface Account {
  readonly result: AuthResult;
}
interface PasswordAccount extends Account {
  readonly secret: Secret;
}
interface NkeyAccount extends Account {
  readonly key: KeyPair;
}

function result(identity: Identity, permissions: Permissions | undefined, fallback: CompiledPermissions | null): AuthResult {
  return Object.freeze({
    identity: Object.freeze(identity),
    permissions: permissions === undefined ? fallback : compilePermissions(permissions),
  });
}

/** CONNECT fields are whatever the client sent: anything but a string counts as absent. */
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function isThenable<T>(v: unknown): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** base64url without padding (nats.go sends it) or standard base64 with padding (nats.js 3 sends that): nats-server accepts both. */
function decodeSignature(sig: string): Buffer | null {
  if (sig.length === 0 || sig.length > 200) return null;
  if (/^[A-Za-z0-9_-]+$/.test(sig)) return Buffer.from(sig, 'base64url');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(sig) && sig.length % 4 === 0) return Buffer.from(sig, 'base64');
  return null;
}

export class Authenticator {
  /**
   * INFO must carry a nonce: NKey users are configured, or a hook is (it is
   * given the nonce, to check an NKey signature itself).
   */
  readonly nonce: boolean;
  /** Milliseconds a client has to be accepted. */
  readonly timeout: number;
  /** Failed authentications per address, for the delay before a refused client's close. */
  readonly failures: FailureTracker;
  private readonly token: PasswordAccount | null;
  private readonly single: (PasswordAccount & { readonly user: string }) | null;
  private readonly users = new Map<string, PasswordAccount>();
  private readonly nkeys = new Map<string, NkeyAccount>();
  private readonly hook: AuthenticateHook | undefined;
  private readonly defaults: CompiledPermissions | null;
  private readonly defaultPermissions: Permissions | undefined;
  private readonly gate: BcryptGate;
  /** Compiled once per permissions object a hook returns, so a hook that reuses its objects reuses their caches. */
  private readonly hookPermissions = new WeakMap<Permissions, CompiledPermissions | null>();

  /** null when nothing is configured (no auth); throws ConfigError for a config that cannot work. */
  static create(opts: AuthorizationOptions | undefined, hook: AuthenticateHook | undefined, limits: AuthLimits = {}): Authenticator | null {
    if (hook !== undefined && typeof hook !== 'function') throw new ConfigError('authenticate: expected a function');
    if (opts !== undefined && !isObject(opts)) throw new ConfigError('authorization: expected an object');
    // Built (so validated) even when it will not be used: a mistake in a
    // timeout or in defaultPermissions should not pass unnoticed.
    const auth = new Authenticator(opts ?? {}, hook, limits);
    // Only a timeout or default permissions: nothing to check a client against.
    return auth.token === null && auth.single === null && auth.users.size === 0 && auth.nkeys.size === 0 && hook === undefined ? null : auth;
  }

  private constructor(opts: AuthorizationOptions, hook: AuthenticateHook | undefined, limits: AuthLimits) {
    rejectUnknown(opts as Record<string, unknown>, AUTH_KEYS, 'authorization');
    const timeout = opts.timeout ?? AuthDefaults.timeout;
    if (!Number.isSafeInteger(timeout) || timeout <= 0) throw new ConfigError('authorization.timeout: expected a positive integer of milliseconds');
    this.timeout = timeout;
    this.failures = new FailureTracker({
      maxDelay: nonNegative(opts.maxFailureDelay ?? FailureDefaults.maxDelay, 'authorization.maxFailureDelay'),
    });
    this.hook = hook;
    this.defaultPermissions = opts.defaultPermissions === undefined ? undefined : validatePermissions(opts.defaultPermissions, 'authorization.defaultPermissions');
    this.defaults = compilePermissions(this.defaultPermissions);

    const hasUsers = Array.isArray(opts.users) ? opts.users.length > 0 : opts.users !== undefined;
    if (opts.token !== undefined && hasUsers) throw new ConfigError('authorization: a token cannot be combined with users (nats-server refuses it too)');
    if (opts.token !== undefined && (opts.user !== undefined || opts.password !== undefined)) {
      throw new ConfigError('authorization: a token cannot be combined with user and password');
    }
    if ((opts.user !== undefined || opts.password !== undefined) && hasUsers) {
      throw new ConfigError('authorization: a single user and password cannot be combined with users (list that user in users instead)');
    }
    if (opts.user !== undefined && opts.password === undefined) throw new ConfigError('authorization.user: has no password');
    if (opts.password !== undefined && opts.user === undefined) throw new ConfigError('authorization.password: has no user');

    this.token = opts.token === undefined ? null : { secret: secretOption(opts.token, 'authorization.token'), result: result({}, undefined, this.defaults) };
    this.single =
      opts.user === undefined
        ? null
        : {
            user: nonEmptyString(opts.user, 'authorization.user'),
            secret: secretOption(opts.password, 'authorization.password'),
            result: result({ user: opts.user }, undefined, this.defaults),
          };
    if (opts.users !== undefined) {
      if (!Array.isArray(opts.users)) throw new ConfigError('authorization.users: expected a list of users');
      opts.users.forEach((u, i) => this.addUser(u, `authorization.users[${i}]`));
    }
    this.nonce = this.nkeys.size > 0 || hook !== undefined;
    this.gate = new BcryptGate(
      positive(limits.bcryptConcurrency ?? AuthDefaults.bcryptConcurrency, 'bcryptConcurrency'),
      nonNegative(limits.bcryptQueue ?? AuthDefaults.bcryptQueue, 'bcryptQueue'),
      positive(limits.verifiedCacheSize ?? AuthDefaults.verifiedCacheSize, 'verifiedCacheSize'),
    );
  }

  private addUser(u: UserEntry, where: string): void {
    if (!isObject(u)) throw new ConfigError(`${where}: expected an object with user and password, or nkey`);
    rejectUnknown(u as unknown as Record<string, unknown>, USER_KEYS, where);
    const permissions = u.permissions === undefined ? undefined : validatePermissions(u.permissions, `${where}.permissions`);
    if (u.nkey !== undefined) {
      if (u.user !== undefined || u.password !== undefined) throw new ConfigError(`${where}: an NKey user takes no user or password`);
      const key = userKey(u.nkey, `${where}.nkey`);
      if (this.nkeys.has(u.nkey)) throw new ConfigError(`${where}: this NKey is listed twice`);
      this.nkeys.set(u.nkey, { key, result: result({ user: u.nkey, ...(permissions && { permissions }) }, permissions, this.defaults) });
      return;
    }
    if (u.user === undefined) throw new ConfigError(`${where}: needs a user and password, or an nkey`);
    const name = nonEmptyString(u.user, `${where}.user`);
    if (u.password === undefined) throw new ConfigError(`${where}: user ${JSON.stringify(name)} has no password`);
    if (this.users.has(name)) throw new ConfigError(`${where}: user ${JSON.stringify(name)} is listed twice`);
    this.users.set(name, {
      secret: secretOption(u.password, `${where}.password`),
      result: result({ user: name, ...(permissions && { permissions }) }, permissions, this.defaults),
    });
  }

  /** A fresh nonce for INFO: 11 random bytes, base64url without padding, as nats-server. */
  /** Stops the bcrypt worker threads. */
  close(): void {
    this.gate.close();
  }

  newNonce(): string {
    return randomBytes(AuthDefaults.nonceBytes).toString('base64url');
  }

  /**
   * Resolves the client's identity, or null (refused). Synchronous when it
   * can be (token, plain password, NKey, a bcrypt password verified before):
   * only a bcrypt compare and the hook return a Promise. `nonce` is the one
   * sent in this connection's INFO (needed for NKey users).
   *
   * Throws (or rejects with) a ConfigError when the hook returns permissions
   * that are not valid: the embedder's bug, refused and worth logging.
   */
  check(connect: ConnectRequest, peer: Peer, nonce: string | undefined): AuthResult | null | Promise<AuthResult | null> {
    const configured = this.checkConfigured(connect, nonce);
    if (this.hook === undefined) return configured;
    if (isThenable<AuthResult | null>(configured)) return configured.then((r) => r ?? this.callHook(connect, peer, nonce));
    return configured ?? this.callHook(connect, peer, nonce);
  }

  private checkConfigured(connect: ConnectRequest, nonce: string | undefined): AuthResult | null | Promise<AuthResult | null> {
    const nkey = str(connect.nkey);
    if (this.nkeys.size > 0 && nkey !== '') {
      const account = this.nkeys.get(nkey);
      if (account === undefined || nonce === undefined) return null;
      const sig = decodeSignature(str(connect.sig));
      if (sig === null) return null;
      try {
        return account.key.verify(Buffer.from(nonce), sig) ? account.result : null;
      } catch {
        return null; // a signature of the wrong size
      }
    }
    if (this.users.size > 0) {
      const user = str(connect.user);
      const account = user === '' ? undefined : this.users.get(user);
      return account === undefined ? null : this.password(account, user, str(connect.pass));
    }
    if (this.token !== null) return this.password(this.token, '', str(connect.auth_token));
    if (this.single !== null) return str(connect.user) === this.single.user ? this.password(this.single, this.single.user, str(connect.pass)) : null;
    return null;
  }

  private password(account: PasswordAccount, who: string, offered: string): AuthResult | null | Promise<AuthResult | null> {
    const s = account.secret;
    if (s.kind === 'plain') return plainEquals(s, offered) ? account.result : null;
    const ok = this.gate.check(s.hash, who, offered);
    if (typeof ok === 'boolean') return ok ? account.result : null;
    return ok.then((yes) => (yes ? account.result : null));
  }

  private callHook(connect: ConnectRequest, peer: Peer, nonce: string | undefined): AuthResult | null | Promise<AuthResult | null> {
    let answer: ReturnType<AuthenticateHook>;
    try {
      answer = this.hook!(connect, peer, nonce);
    } catch {
      return null;
    }
    if (isThenable<Identity | null | false>(answer)) {
      return Promise.resolve(answer).then(
        (identity) => this.fromHook(identity),
        () => null,
      );
    }
    return this.fromHook(answer);
  }

  private fromHook(answer: Identity | null | false | undefined): AuthResult | null {
    if (!isObject(answer)) return null;
    const identity = answer as Identity;
    if (identity.user !== undefined && typeof identity.user !== 'string') throw new ConfigError('authenticate(): identity.user must be a string');
    const raw = identity.permissions;
    if (raw === undefined) return { identity: { ...identity, ...(this.defaultPermissions && { permissions: this.defaultPermissions }) }, permissions: this.defaults };
    let permissions = this.hookPermissions.get(raw);
    if (permissions === undefined) {
      validatePermissions(raw, 'authenticate() permissions');
      permissions = compilePermissions(raw);
      this.hookPermissions.set(raw, permissions);
    }
    return { identity: { ...identity }, permissions };
  }
}

