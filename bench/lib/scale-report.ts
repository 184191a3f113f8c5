/**
 * The scale bench's tables: per axis, one row per point with each peer's
 * median and spread per metric and the ratio hub ÷ nats-server (> 1 is the
 * hub ahead), then each metric's slope per peer and the slope ratio (≤ 1:
 * the hub's cost grows no faster). Skipped points and errors are listed
 * under the table.
 */
import { pointRatio, slope, slopeRatio, type Curve, type CurveMetric } from './curves.js';
import { table, si, fixed, pct } from './stats.js';

function value(m: CurveMetric, v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (m.unit === 'ms' || m.unit === 'MiB' || m.unit === 'MB/s') return fixed(v, v >= 100 ? 0 : 1);
  return si(v);
}

/** A point on an axis as a reader writes it: 1,000,000. */
export function at(x: number): string {
  return x.toLocaleString('en-US');
}

export function curveReport(curve: Curve, peers: readonly string[]): string {
  const baseline = curve.baseline ?? 'nats-server';
  const others = peers.filter((p) => p !== baseline);
  const compare = peers.includes(baseline);
  const head = [curve.xLabel];
  for (const m of curve.metrics) {
    for (const p of peers) head.push(`${p} ${m.unit}`, '±');
    if (compare) for (const p of others) head.push(`${p} ÷ ${baseline}`);
  }
  const rows = [head];
  const xs = [...new Set(curve.points.map((p) => p.x))].sort((a, b) => a - b);
  for (const x of xs) {
    const row = [at(x)];
    for (const m of curve.metrics) {
      for (const p of peers) {
        const pt = curve.points.find((q) => q.x === x && q.peer === p);
        row.push(pt?.skipped !== undefined ? 'skipped' : value(m, pt?.median[m.id]), pct(pt?.spread[m.id] ?? NaN));
      }
      if (compare) for (const p of others) row.push(fixed(pointRatio(curve, p, m, x), 2));
    }
    rows.push(row);
  }
  const out = [`${curve.title}`, `  (${curve.metrics.map((m) => `${m.label}: ${m.better} is better`).join('; ')}; ratios > 1: the hub ahead)`, table(rows)];
  const slopes = [['slope (cost last ÷ first)', ...peers, ...(compare ? others.map((p) => `${p} ÷ ${baseline}`) : [])]];
  for (const m of curve.metrics) {
    slopes.push([m.label, ...peers.map((p) => fixed(slope(curve, p, m), 2)), ...(compare ? others.map((p) => fixed(slopeRatio(curve, p, m), 2)) : [])]);
  }
  out.push(table(slopes));
  for (const p of curve.points) {
    if (p.skipped !== undefined) out.push(`  skipped ${p.peer} at ${at(p.x)}: ${p.skipped}`);
    for (const e of p.errors ?? []) out.push(`  error ${p.peer} at ${at(p.x)}: ${e}`);
  }
  return out.join('\n');
}
