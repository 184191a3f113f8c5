/**
 * Curves: how a figure grows along one axis of the work (subscriptions,
 * fan-out, payload, connections, publishers, durable publishers), measured for
 * the hub and nats-server in the same run. The scale bench (bench/scale.ts),
 * the durable bench and the start-up bench write them as JSON (CurveFile);
 * bench/charts.ts draws one SVG chart per curve and metric from that JSON for
 * docs/performance.md.
 *
 * The slope of a curve is how its cost grows from its first point to its last:
 * cost(last) ÷ cost(first), where the cost is 1 / value for a figure where
 * higher is better (msgs/s, MB/s) and the value itself where lower is better
 * (p99, RSS per subscription). A ratio of ratios, so it needs no straight line
 * and no log scale: hub slope ÷ nats-server slope ≤ 1 means the hub's cost grows
 * no faster than nats-server's along that axis.
 */
import { summarize } from './stats.js';

export interface CurveMetric {
  /** A key of CurvePoint.runs[i] and CurvePoint.median, e.g. 'msgsPerSec'. */
  readonly id: string;
  /** For tables and chart axes, e.g. 'delivered msgs/s'. */
  readonly label: string;
  /** 'msgs/s', 'MB/s', 'µs', 'B', 'ms'. */
  readonly unit: string;
  readonly better: 'higher' | 'lower';
}

export interface CurvePoint {
  /** The position on the axis (subscriptions, subscribers, payload bytes, connections, publishers). */
  readonly x: number;
  /** The peer's id: 'hub', 'nats-server', or a variant ('hub sync=full'). */
  readonly peer: string;
  /** Each run's figures, by metric id; a failed run is left out and counted in `errors`. */
  readonly runs: Record<string, number>[];
  /** The median of the runs, by metric id (NaN when no run succeeded). */
  readonly median: Record<string, number>;
  /** (max - min) ÷ median of the runs, by metric id. */
  readonly spread: Record<string, number>;
  /** Why the point was not measured here (one line, e.g. the fd limit), if it was not. */
  readonly skipped?: string;
  /** Failed runs' messages, if any. */
  readonly errors?: string[];
}

export interface Curve {
  /** A file-name-safe id: 'subscriptions', 'fanout', 'payload', 'connections', 'publishers', 'durable-normal', … */
  readonly id: string;
  /** One line: 'Subscriptions (100 connections, 10% wildcards)'. */
  readonly title: string;
  /** The x axis: 'subscriptions', 'payload bytes', … */
  readonly xLabel: string;
  /** Draw x on a log scale (the points grow ×10). */
  readonly xLog: boolean;
  readonly metrics: CurveMetric[];
  readonly points: CurvePoint[];
  /** The peer every other peer is compared with (ratios, slope ratios): 'nats-server' unless said. */
  readonly baseline?: string;
}

export interface CurveFile {
  /** 'scale', 'durable', 'startup'. */
  readonly kind: string;
  /** ISO time of the run. */
  readonly date: string;
  /** The command line that made it, as a reader would type it. */
  readonly command: string;
  readonly node: string;
  readonly natsServer: string;
  readonly curves: Curve[];
}

/** Summarizes runs (each a record of figures by metric id) into a point. */
export function point(x: number, peer: string, runs: Record<string, number>[], errors: string[] = []): CurvePoint {
  const median: Record<string, number> = {};
  const spread: Record<string, number> = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const s = summarize(runs.map((r) => r[k] ?? NaN));
    median[k] = s.median;
    spread[k] = s.spread;
  }
  return { x, peer, runs, median, spread, ...(errors.length > 0 ? { errors } : {}) };
}

/** A point not measured, with why. */
export function skippedPoint(x: number, peer: string, why: string): CurvePoint {
  return { x, peer, runs: [], median: {}, spread: {}, skipped: why };
}

/** A peer's measured points of a curve with a finite median for the metric, in order of x. */
export function measured(curve: Curve, peer: string, metric: string): CurvePoint[] {
  return curve.points.filter((p) => p.peer === peer && Number.isFinite(p.median[metric])).sort((a, b) => a.x - b.x);
}

/** The cost a figure stands for: 1 / value when higher is better, the value when lower is. */
export function cost(m: CurveMetric, value: number): number {
  return m.better === 'higher' ? 1 / value : value;
}

/**
 * The slope of a peer's curve for a metric: cost at the last measured point ÷
 * cost at the first. NaN with fewer than two points.
 */
export function slope(curve: Curve, peer: string, m: CurveMetric): number {
  const pts = measured(curve, peer, m.id);
  if (pts.length < 2) return NaN;
  return cost(m, pts[pts.length - 1]!.median[m.id]!) / cost(m, pts[0]!.median[m.id]!);
}

/**
 * The slope ratio peer ÷ baseline over the x values both measured (so a point
 * one of them skipped does not skew it). ≤ 1: the peer's cost grows no faster.
 */
export function slopeRatio(curve: Curve, peer: string, m: CurveMetric, baseline = curve.baseline ?? 'nats-server'): number {
  const xs = new Set(measured(curve, baseline, m.id).map((p) => p.x));
  const common = measured(curve, peer, m.id).filter((p) => xs.has(p.x)).map((p) => p.x);
  if (common.length < 2) return NaN;
  const keep = new Set([common[0], common[common.length - 1]]);
  const sub: Curve = { ...curve, points: curve.points.filter((p) => keep.has(p.x)) };
  return slope(sub, peer, m) / slope(sub, baseline, m);
}

/**
 * The point ratio peer ÷ baseline at x, oriented so that > 1 is better for
 * the peer (value ratio when higher is better, inverse when lower is).
 */
export function pointRatio(curve: Curve, peer: string, m: CurveMetric, x: number, baseline = curve.baseline ?? 'nats-server'): number {
  const a = curve.points.find((p) => p.peer === peer && p.x === x)?.median[m.id];
  const b = curve.points.find((p) => p.peer === baseline && p.x === x)?.median[m.id];
  if (a === undefined || b === undefined) return NaN;
  return m.better === 'higher' ? a / b : b / a;
}
