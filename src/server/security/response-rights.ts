/**
 * Reply rights for allowResponses: which reply subjects a connection may
 * publish to because it received requests carrying them.
 */

/** Reply rights one connection may hold at once; past it the oldest go. */
export const DEFAULT_RESPONSE_LIMIT = 10_000;

interface Right {
  /** When the request was delivered. */
  readonly at: number;
  /** Replies sent on it so far. */
  used: number;
}

/**
 * The reply subjects one connection may publish to because it received a
 * request carrying them (allowResponses). Grant when a request is delivered
 * to the connection and canPublish(reply) is false (as nats-server, which
 * keeps no right for a reply it allows anyway); take on each PUB that
 * canPublish refused.
 *
 *   rights: Map<reply, { at, used }>   in grant order: oldest first
 *
 * A hostile or slow responder can receive requests it never answers, so the
 * map is bounded (the oldest rights go first) and expired rights are dropped
 * from the front as new ones come, without a timer.
 */
export class ResponseRights {
  private readonly rights = new Map<string, Right>();
  private readonly max: number;
  private readonly expires: number;
  private readonly limit: number;

  /** `max` replies per request (0 = no limit), each right lasting `expires` ms (0 = for ever), at most `limit` rights. */
  constructor(max: number, expires: number, limit: number = DEFAULT_RESPONSE_LIMIT) {
    this.max = max;
    this.expires = expires;
    this.limit = Math.max(1, limit);
  }

  get size(): number {
    return this.rights.size;
  }

  /** A request with this reply subject was delivered to the connection at `now` (ms). */
  grant(reply: string, now: number): void {
    // Delete first so that a repeated reply subject moves to the back.
    this.rights.delete(reply);
    this.rights.set(reply, { at: now, used: 0 });
    this.sweep(now);
    if (this.rights.size > this.limit) {
      const oldest = this.rights.keys().next();
      if (oldest.done !== true) this.rights.delete(oldest.value);
    }
  }

  /** May the connection publish to `reply` at `now`? Consumes one use. */
  take(reply: string, now: number): boolean {
    const right = this.rights.get(reply);
    if (right === undefined) return false;
    if (this.expires > 0 && now - right.at > this.expires) {
      this.rights.delete(reply);
      this.sweep(now);
      return false;
    }
    right.used++;
    if (this.max > 0 && right.used >= this.max) this.rights.delete(reply);
    return true;
  }

  /** Drops expired rights from the front; grant order is expiry order. */
  private sweep(now: number): void {
    if (this.expires <= 0) return;
    for (const [reply, right] of this.rights) {
      if (now - right.at <= this.expires) return;
      this.rights.delete(reply);
    }
  }
}
