/**
 * Comparing secrets: plain ones in constant time over keyed digests, bcrypt
 * hashes through a gate that bounds the CPU a hostile peer can make the hub
 * spend on them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { compare as bcryptCompare } from 'bcryptjs';

/**
 * Keys the digests of secrets and of verified passwords: per process, so a
 * digest seen in a heap dump cannot be tested offline against a word list
 * without the key too.
 */
const PROCESS_KEY = randomBytes(32);

export function digest(...parts: string[]): Buffer {
  const h = createHmac('sha256', PROCESS_KEY);
  for (const p of parts) h.update(p).update('\0');
  return h.digest();
}

/** nats-server's isBcrypt: `$2a$`, `$2b$`, `$2x$` or `$2y$`, a two-digit cost. */
export const BCRYPT_PREFIX = /^\$2[abxy]\$\d{2}\$/;
/** A whole bcrypt hash that bcryptjs can check (not `$2x$`): prefix, 22 characters of salt and 31 of hash. */
export const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export type Secret = { readonly kind: 'plain'; readonly digest: Buffer } | { readonly kind: 'bcrypt'; readonly hash: string };

export function secret(value: string): Secret {
  return BCRYPT_PREFIX.test(value) ? { kind: 'bcrypt', hash: value } : { kind: 'plain', digest: digest(value) };
}

/**
 * Constant time over equal-length digests: comparing the secrets themselves
 * would leak their length, and `===` where they first differ.
 */
export function plainEquals(s: { digest: Buffer }, offered: string): boolean {
  return timingSafeEqual(s.digest, digest(offered));
}

/**
 * bcrypt is meant to be slow: ~60-100 ms of CPU per compare at cost 10, run
 * by bcryptjs on the event loop in slices of up to 100 ms. Every CONNECT with
 * a password for a bcrypt user costs one, so a hostile peer reconnecting in a
 * loop could otherwise keep the hub's CPU busy with them without limit.
 * Two bounds make that finite:
 *  - successful verifications are remembered (keyed by an HMAC of user and
 *    password, never the password), so legitimate clients reconnecting pay
 *    once, and a flood of wrong passwords does not slow them;
 *  - at most `concurrency` compares run at once and `queue` wait; when the
 *    queue is full the attempt is refused at once rather than queued without
 *    end.
 */
export class BcryptGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly verified = new Map<string, true>();

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
    private readonly cacheSize: number,
  ) {}

  /** true or false when known now (cached, or the queue is full); else a Promise. */
  check(hash: string, who: string, offered: string): boolean | Promise<boolean> {
    const key = digest(who, hash, offered).toString('base64');
    if (this.verified.has(key)) {
      // Re-insert: the map's order is then least recently used first.
      this.verified.delete(key);
      this.verified.set(key, true);
      return true;
    }
    if (this.running >= this.concurrency && this.waiting.length >= this.queue) return false;
    return this.run(hash, offered).then((ok) => {
      if (ok) this.remember(key);
      return ok;
    });
  }

  private async run(hash: string, offered: string): Promise<boolean> {
    // A finishing compare hands its slot to the next waiter (running stays
    // counted), so a newcomer cannot slip in between and exceed the bound.
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await bcryptCompare(offered, hash);
    } catch {
      return false;
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }

  private remember(key: string): void {
    if (this.verified.size >= this.cacheSize) {
      const oldest = this.verified.keys().next();
      if (oldest.done !== true) this.verified.delete(oldest.value);
    }
    this.verified.set(key, true);
  }
}

