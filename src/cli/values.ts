/**
 * Parsers for the values people type on a command line, in an environment
 * variable or in a JSON config file: ports, counts, sizes, durations, file
 * modes. Each returns the value or throws an InvalidValue naming what was
 * expected; the caller adds where the value came from (flag, variable, key).
 *
 * Sizes follow nats-server's configuration units, so a value copied from a
 * nats-server config means the same here: K, M, G are powers of 1000;
 * KB, MB, GB and KiB, MiB, GiB are powers of 1024.
 */

import { ConfigError } from '../errors.js';

/** A value that does not parse; `expected` completes "expected …". */
export class InvalidValue extends Error {
  readonly expected: string;
  constructor(expected: string) {
    super(`expected ${expected}`);
    this.expected = expected;
  }
}

/** Raw input: strings from flags and the environment, JSON values from a config file. */
export type RawValue = unknown;

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  m: 1000 ** 2,
  g: 1000 ** 3,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DECIMAL = /^\d+$/;

function atLeast(min: number): string {
  return min > 0 ? ` >= ${min}` : '';
}

/** An integer from a JSON number or a decimal string ("+1", "1e3", "0x10" are refused). */
function toInteger(raw: RawValue): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw === 'string' && DECIMAL.test(raw.trim())) {
    const n = Number(raw.trim());
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** `amount × factor` when that is a whole number, allowing for binary fractions (1.1 × 1000). */
function scaled(amount: number, factor: number): number | undefined {
  const v = amount * factor;
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-6 && Number.isSafeInteger(r) ? r : undefined;
}

/**
 * Parses one value; an invalid one becomes a ConfigError naming where it came
 * from (a flag, a variable, a key in a file). A secret (a token, a password)
 * is not quoted back: error lines end up in terminals and CI logs.
 */
export function parseAt<T>(where: string, raw: RawValue, parse: (raw: RawValue) => T, secret = false): T {
  try {
    return parse(raw);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    const shown = secret ? '' : `: ${JSON.stringify(raw)}`;
    throw new ConfigError(`invalid value for ${where}${shown} (${err.message})`);
  }
}

export function parseString(raw: RawValue): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new InvalidValue('a non-empty string');
  return raw;
}

export function parsePort(raw: RawValue): number {
  const n = toInteger(raw);
  if (n === undefined || n < 0 || n > 65535) throw new InvalidValue('an integer 0-65535');
  return n;
}

export function parseCount(raw: RawValue, min = 0): number {
  const n = toInteger(raw);
  if (n === undefined || n < min) throw new InvalidValue(`an integer${atLeast(min)}`);
  return n;
}

/** Bytes: 1048576, 1MB, 64MiB, 512KB, 1.5M. */
export function parseSize(raw: RawValue, min = 0): number {
  const expected = `a size in bytes${atLeast(min)}, like 1048576, 512KB or 64MiB`;
  let n: number | undefined;
  if (typeof raw === 'number') {
    n = Number.isSafeInteger(raw) ? raw : undefined;
  } else if (typeof raw === 'string') {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
    const factor = m === null ? undefined : SIZE_UNITS[m[2]!.toLowerCase()];
    if (m !== null && factor !== undefined) n = scaled(Number(m[1]), factor);
  }
  if (n === undefined || n < min) throw new InvalidValue(expected);
  return n;
}

/** Milliseconds: 2000, 500ms, 10s, 2m, 1h, 1m30s, 1.5s. A bare number is milliseconds. */
export function parseDuration(raw: RawValue, min = 0): number {
  const expected = `a duration in milliseconds${atLeast(min)}, like 2000, 500ms, 10s or 2m`;
  let n: number | undefined;
  if (typeof raw === 'number') {
    n = Number.isSafeInteger(raw) ? raw : undefined;
  } else if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase();
    if (DECIMAL.test(s)) {
      n = toInteger(s);
    } else if (/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(s)) {
      let total = 0;
      for (const part of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(part[1]) * DURATION_UNITS[part[2]!]!;
      n = scaled(total, 1);
    }
  }
  if (n === undefined || n < min) throw new InvalidValue(expected);
  return n;
}

/**
 * A Unix file mode in octal: "660", "0660", "0o660". Only strings: JSON has
 * no octal numbers, and a decimal 660 silently meaning 0o1224 helps no one.
 */
export function parseFileMode(raw: RawValue): number {
  const m = typeof raw === 'string' ? /^(?:0o?)?([0-7]{1,3})$/i.exec(raw.trim()) : null;
  if (m === null) throw new InvalidValue('an octal file mode like "660" or "600"');
  return parseInt(m[1]!, 8);
}

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

/** A JSON boolean, or in a variable: true/false, 1/0, yes/no. */
export function parseBoolean(raw: RawValue): boolean {
  if (typeof raw === 'boolean') return raw;
  const s = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
  if (s !== undefined && TRUE_WORDS.includes(s)) return true;
  if (s !== undefined && FALSE_WORDS.includes(s)) return false;
  throw new InvalidValue('true or false');
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One of a fixed list of words, any case. */
function parseOneOf<T extends string>(raw: RawValue, words: readonly T[]): T {
  const s = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
  const word = words.find((w) => w === s);
  if (word === undefined) throw new InvalidValue(`one of ${words.join(', ')}`);
  return word;
}

export function parseLogLevel(raw: RawValue): LogLevel {
  return parseOneOf(raw, LOG_LEVELS);
}

export const SYNC_MODES = ['full', 'normal'] as const;
export type SyncModeName = (typeof SYNC_MODES)[number];

export function parseSyncMode(raw: RawValue): SyncModeName {
  return parseOneOf(raw, SYNC_MODES);
}
