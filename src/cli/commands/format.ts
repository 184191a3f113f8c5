/**
 * Printing for the stream and consumer commands: aligned tables, and the
 * numbers people read (sizes, durations, how long ago). `--json` output
 * bypasses all of this and prints the server's JSON as it came.
 */
import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../../errors.js';

/** Left-aligned columns, numbers right-aligned, two spaces apart. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d,.]+( \w+)?$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** Aligned `Key: value` lines under a title, as `nats stream info` prints them. */
export function section(title: string, pairs: readonly (readonly [string, string | undefined])[]): string {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  const w = Math.max(0, ...shown.map(([k]) => k.length));
  return `${title}:\n\n${shown.map(([k, v]) => `  ${k.padStart(w)}: ${v}`).join('\n')}\n`;
}

/**
 * 1234567 → "1,234,567", as toLocaleString('en-US') writes it, without its
 * first call's ~30 ms of loading locale data at every CLI start.
 */
export function count(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const [whole, frac] = String(n).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+$)/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** -1 means no limit in JetStream configs. */
export function limit(n: number | undefined, show: (n: number) => string = count): string {
  return n === undefined || n < 0 ? 'unlimited' : show(n);
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A duration in JetStream nanoseconds, like Go prints it: 2m0s, 1.5s, 250ms. */
export function nsDuration(ns: number | undefined): string {
  if (ns === undefined) return '';
  return msDuration(ns / 1_000_000);
}

export function msDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = Number.isInteger(s) ? `${s}s` : `${s.toFixed(3).replace(/0+$/, '')}s`;
  return h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
}

/** How long ago an RFC 3339 time was; JetStream's zero time (year 1) is "never". */
export function ago(ts: string | undefined, now = Date.now()): string {
  if (ts === undefined || ts.startsWith('0001-')) return 'never';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return ts;
  return `${msDuration(Math.max(0, now - t))} ago`;
}

/**
 * Asks before a destructive step (rm, purge). Without a terminal there is no
 * one to ask: --force is required, and its absence is a usage error.
 */
export async function confirm(question: string, force: boolean | undefined): Promise<boolean> {
  if (force === true) return true;
  if (process.stdin.isTTY !== true) throw new ConfigError(`${question.replace(/\?$/, '')}: pass --force to confirm when not on a terminal`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** JSON for --json: indented, one document. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
