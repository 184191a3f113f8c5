/**
 * Dashboard login sessions, in memory: a random id handed to the browser in
 * an HttpOnly cookie, mapped to what the login authenticated as.
 *
 *   sessions: Map<HMAC(id), { value, expires }>   insertion order = login order
 *
 * Every session lives the same time from its login, so the front of the map
 * is both the oldest and the first to expire: expired sessions are dropped
 * from the front as new ones come, without a timer, and past `max` the
 * oldest is ended. Keys are keyed digests of the ids (secrets.ts), so a heap
 * dump does not hold a cookie that could be replayed.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { digest } from '../server/security/secrets.js';

/** 32 random bytes, base64url: 43 characters. */
const ID_BYTES = 32;
const ID_FORMAT = /^[A-Za-z0-9_-]{43}$/;

interface Entry<T> {
  readonly value: T;
  readonly expires: number;
}

export class SessionStore<T> {
  private readonly sessions = new Map<string, Entry<T>>();

  constructor(
    private readonly max: number,
    /** Milliseconds a session lasts from its creation. */
    private readonly ttl: number,
  ) {
    if (!Number.isSafeInteger(max) || max < 1) throw new ConfigError(`maxMonitorSessions: expected a positive integer, got ${max}`);
    if (!Number.isSafeInteger(ttl) || ttl < 1) throw new ConfigError(`monitorSessionTtl: expected a positive integer of milliseconds, got ${ttl}`);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Seconds a new session lasts, for the cookie's Max-Age. */
  get maxAgeSeconds(): number {
    return Math.max(1, Math.floor(this.ttl / 1000));
  }

  /** A new session holding `value`; returns its id (the cookie's value). */
  create(value: T, now = Date.now()): string {
    this.sweep(now);
    while (this.sessions.size >= this.max) {
      const oldest = this.sessions.keys().next();
      if (oldest.done === true) break;
      this.sessions.delete(oldest.value);
    }
    const id = randomBytes(ID_BYTES).toString('base64url');
    this.sessions.set(key(id), { value, expires: now + this.ttl });
    return id;
  }

  /** The session's value, or undefined when the id is unknown, malformed or expired. */
  get(id: string, now = Date.now()): T | undefined {
    if (!ID_FORMAT.test(id)) return undefined;
    const k = key(id);
    const e = this.sessions.get(k);
    if (e === undefined) return undefined;
    if (e.expires <= now) {
      this.sessions.delete(k);
      return undefined;
    }
    return e.value;
  }

  /** Ends a session; false when there was none. */
  delete(id: string): boolean {
    return ID_FORMAT.test(id) && this.sessions.delete(key(id));
  }

  private sweep(now: number): void {
    for (const [k, e] of this.sessions) {
      if (e.expires > now) break;
      this.sessions.delete(k);
    }
  }
}

function key(id: string): string {
  return digest('monitor-session', id).toString('base64');
}
