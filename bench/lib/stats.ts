/**
 * Small statistics and table helpers shared by the peer and micro benches.
 * Every measurement is repeated; we report the median and the spread
 * ((max - min) / median), never the best run.
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, as a fraction. */
  spread: number;
  values: number[];
}

export function summarize(values: readonly number[]): Summary {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, spread: NaN, values: [...values] };
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  const min = v[0]!;
  const max = v[v.length - 1]!;
  return { median, min, max, spread: median === 0 ? 0 : (max - min) / median, values: [...values] };
}

/** Exact percentile (nearest rank) of a sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** 1234567 → "1.23M", 12345 → "12.3k". */
export function si(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toPrecision(digits)}G`;
  if (a >= 1e6) return `${(n / 1e6).toPrecision(digits)}M`;
  if (a >= 1e3) return `${(n / 1e3).toPrecision(digits)}k`;
  return n.toPrecision(digits);
}

export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** A spread fraction as a percentage: 0.123 → "12.3%". */
export function pct(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)}%` : '-';
}

export function mb(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : '-';
}

/** A plain-text table: first row is the header; numbers right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}
