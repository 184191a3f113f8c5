/**
 * Clocks and time formats for the JetStream layer. Message times are Unix
 * nanoseconds (`bigint`), as the ack subject and RFC3339Nano timestamps need;
 * the sub-millisecond part comes from the monotonic clock, so times taken in
 * one process never go backwards.
 */
const NS_PER_MS = 1_000_000n;

/**
 * Unix ns minus the monotonic clock. The two clocks cannot be read at once: a
 * process descheduled between the reads (a busy machine) would skew every
 * time it stamps by that pause, so the anchor is the read of the wall clock
 * that the two monotonic reads around it bracket most tightly. What is left
 * is Date.now()'s whole millisecond: times read up to 1 ms behind it, never
 * ahead by more than the bracket.
 */
function anchor(): bigint {
  let best = 0n;
  let bracket = -1n;
  for (let i = 0; i < 8; i++) {
    const before = process.hrtime.bigint();
    const wall = Date.now();
    const after = process.hrtime.bigint();
    if (bracket < 0n || after - before < bracket) {
      bracket = after - before;
      best = BigInt(wall) * NS_PER_MS - before;
    }
  }
  return best;
}

const origin = anchor();
let last = 0n;

/** Unix time in nanoseconds, strictly increasing within the process. */
export function nowNs(): bigint {
  let t = origin + process.hrtime.bigint();
  if (t <= last) t = last + 1n;
  last = t;
  return t;
}

/** Go's zero time, which nats-server prints for "never". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** RFC3339 with nanoseconds, UTC (Go's time.RFC3339Nano as nats-server prints it). */
export function rfc3339(ns: bigint): string {
  if (ns <= 0n) return ZERO_TIME;
  const ms = ns / NS_PER_MS;
  const iso = new Date(Number(ms)).toISOString(); // 2026-11-26T08:41:24.291Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return iso.slice(0, 19) + (frac.length > 0 ? '.' + frac : '') + 'Z';
}

/** Parses an RFC3339 time (any offset, up to nanoseconds) to Unix ns; undefined if invalid. */
export function parseRfc3339(s: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (m === null) return undefined;
  const secs = Date.parse(m[1]! + m[3]!);
  if (!Number.isFinite(secs)) return undefined;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(secs) * NS_PER_MS + frac;
}

/** Nanoseconds (a JSON number) to whole milliseconds, at least 1 when positive. */
export function nsToMs(ns: number): number {
  if (ns <= 0) return 0;
  return Math.max(1, Math.round(ns / 1e6));
}

/** The longest delay setTimeout/setInterval honour; Node runs a longer one after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay a timer can wait (ms): clamped to [0, MAX_TIMER_MS], so a huge client-given duration waits long, not 1 ms. */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_MS);
}
