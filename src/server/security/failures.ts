/**
 * Slowing brute force: a growing delay before a failed authentication's
 * connection is closed, per address. Pure bookkeeping; the hub sleeps.
 */
import { ConfigError } from '../../errors.js';

export function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${name}: expected a positive integer`);
  return n;
}

export function nonNegative(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${name}: expected a non-negative integer`);
  return n;
}

export const FailureDefaults = {
  /** Addresses remembered at most; past it the least recently failed go. */
  maxEntries: 10_000,
  /** The delay after the second failure in a row; it doubles with each one after. */
  baseDelay: 100,
  /** The longest delay. */
  maxDelay: 5000,
  /** Failures further apart than this (ms) start the count again. */
  window: 60_000,
} as const;

interface Failures {
  count: number;
  last: number;
}

/**
 * Brute force is not free: each failed authentication from an address waits
 * a little longer before its connection is closed (the first one does not:
 * a mistyped password costs nothing). The hub delays only the failed
 * connection, never the address's other clients.
 *
 *   failures: Map<address, { count, last }>   least recently failed first
 *
 * Bounded whatever the addresses: past maxEntries the least recently failed
 * address is forgotten, and addresses quiet for a window are dropped from the
 * front as new failures come, without a timer.
 */
export class FailureTracker {
  private readonly failures = new Map<string, Failures>();
  private readonly maxEntries: number;
  private readonly baseDelay: number;
  private readonly maxDelay: number;
  private readonly window: number;

  constructor(opts: { maxEntries?: number; baseDelay?: number; maxDelay?: number; window?: number } = {}) {
    this.maxEntries = positive(opts.maxEntries ?? FailureDefaults.maxEntries, 'maxEntries');
    this.baseDelay = nonNegative(opts.baseDelay ?? FailureDefaults.baseDelay, 'baseDelay');
    this.maxDelay = nonNegative(opts.maxDelay ?? FailureDefaults.maxDelay, 'maxDelay');
    this.window = positive(opts.window ?? FailureDefaults.window, 'window');
  }

  get size(): number {
    return this.failures.size;
  }

  /** A failed authentication from `address` at `now` (ms): how long to wait before closing it. */
  fail(address: string, now: number): number {
    const previous = this.failures.get(address);
    const count = previous !== undefined && now - previous.last <= this.window ? previous.count + 1 : 1;
    // Delete first so that the address moves to the back: the front is then the least recently failed.
    this.failures.delete(address);
    this.failures.set(address, { count, last: now });
    for (const [a, f] of this.failures) {
      if (now - f.last <= this.window && this.failures.size <= this.maxEntries) break;
      this.failures.delete(a);
    }
    if (count < 2) return 0;
    // 2 ** 30 already exceeds any sane maxDelay: cap the exponent so it stays a number.
    return Math.min(this.maxDelay, this.baseDelay * 2 ** Math.min(count - 2, 30));
  }

  /** `address` authenticated: its count starts again. */
  succeed(address: string): void {
    this.failures.delete(address);
  }
}
