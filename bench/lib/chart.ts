/**
 * One chart of one curve's metric (bench/lib/curves.ts) as an SVG string:
 * a line per peer with its points marked, log x when the curve grows ×10,
 * the slope ratio of each peer against the baseline in the subtitle, and a
 * note under the chart naming the points that were not measured (so a
 * missing point reads as skipped, not as a gap in the line).
 *
 * Rendered by vega-lite → vega with renderer 'none' (no canvas, no browser).
 * The output holds no date and no generated id, so the same curve gives the
 * same bytes: regenerating the docs' charts changes only what changed. A
 * white background, so it reads on GitHub's dark theme too.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { slopeRatio, type Curve, type CurveMetric } from './curves.js';

/** Colours by order of first appearance: hub first in every bench, then nats-server; distinct on white. */
const PALETTE = ['#1f5fbf', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a', '#0b7285', '#e67700'];
const WIDTH = 480;
const HEIGHT = 260;
const NOTE_LINE = 15;

/** The peers of a curve in order of first appearance. */
export function peersOf(curve: Curve): string[] {
  return [...new Set(curve.points.map((p) => p.peer))];
}

function formatX(x: number): string {
  return x.toLocaleString('en-US');
}

/** An x tick's label: 1k, 10k, 1M; sizes in bytes as 1 KiB, 64 KiB, 1 MiB when they are powers of 1024. */
export function tickLabel(x: number, xLabel: string): string {
  if (/bytes/.test(xLabel) && x >= 1024 && x % 1024 === 0) return x % (1024 * 1024) === 0 ? `${x / (1024 * 1024)} MiB` : `${x / 1024} KiB`;
  for (const [n, suffix] of [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (Math.abs(x) >= n) return `${Number((x / n).toPrecision(3))}${suffix}`;
  }
  return String(Number(x.toPrecision(3)));
}

/** "slope hub ÷ nats-server 0.93" for each peer but the baseline (those with a slope on both). */
export function slopeText(curve: Curve, m: CurveMetric): string {
  const baseline = curve.baseline ?? 'nats-server';
  const parts: string[] = [];
  for (const peer of peersOf(curve)) {
    if (peer === baseline) continue;
    const r = slopeRatio(curve, peer, m, baseline);
    if (Number.isFinite(r)) parts.push(`slope ${peer} ÷ ${baseline} ${r.toFixed(2)}`);
  }
  return parts.join(' · ');
}

/** One line per point absent from the chart: skipped (with why) or every run failed (with the first error). */
export function absentNotes(curve: Curve, m: CurveMetric): string[] {
  const notes: string[] = [];
  for (const p of curve.points) {
    if (Number.isFinite(p.median[m.id])) continue;
    const at = `${p.peer} at ${formatX(p.x)} ${curve.xLabel}`;
    if (p.skipped !== undefined) notes.push(`not measured: ${at}: ${p.skipped}`);
    else if (p.errors !== undefined && p.errors.length > 0) notes.push(`failed: ${at}: ${p.errors[0]}`);
    else notes.push(`no figure: ${at}`);
  }
  return notes;
}

/** The vega-lite spec of a curve's metric (exported for tests and for anyone who wants the spec, not the SVG). */
export function chartSpec(curve: Curve, m: CurveMetric): TopLevelSpec {
  const peers = peersOf(curve);
  const values = curve.points
    .filter((p) => Number.isFinite(p.median[m.id]))
    .map((p) => ({ x: p.x, y: p.median[m.id]!, peer: p.peer }))
    .sort((a, b) => (a.peer === b.peer ? a.x - b.x : peers.indexOf(a.peer) - peers.indexOf(b.peer)));
  const xs = [...new Set(values.map((v) => v.x))].sort((a, b) => a - b);
  const slopes = slopeText(curve, m);
  const chart = {
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: 50 }, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: curve.xLabel,
        // The points' own x values as ticks, and no "nice" widening past them.
        scale: curve.xLog ? { type: 'log', nice: false, padding: 12 } : { nice: false, zero: false, padding: 12 },
        axis: { values: xs, labelExpr: `${JSON.stringify(Object.fromEntries(xs.map((x) => [String(x), tickLabel(x, curve.xLabel)])))}[''+datum.value]` },
      },
      // 86M msgs/s or bytes, but 1,800 ms rather than 1.8k.
      y: {
        field: 'y',
        type: 'quantitative',
        title: `${m.label} (${m.unit})`,
        axis: { labelExpr: "abs(datum.value) >= 10000 ? format(datum.value, '~s') : format(datum.value, ',~r')" },
      },
      color: {
        field: 'peer',
        type: 'nominal',
        title: null,
        scale: { domain: peers, range: peers.map((_, i) => PALETTE[i % PALETTE.length]!) },
        legend: { orient: 'bottom', direction: 'horizontal' },
      },
      order: { field: 'x', type: 'quantitative' },
    },
  };
  const notes = absentNotes(curve, m);
  const body =
    notes.length === 0
      ? chart
      : {
          vconcat: [
            chart,
            {
              width: WIDTH,
              height: notes.length * NOTE_LINE,
              data: { values: notes.map((text, i) => ({ text, i })) },
              mark: { type: 'text', align: 'left', baseline: 'top', fontSize: 11, color: '#495057' },
              encoding: {
                text: { field: 'text' },
                x: { value: 0 },
                y: { field: 'i', type: 'ordinal', axis: null },
              },
            },
          ],
        };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    padding: 12,
    title: { text: curve.title, ...(slopes === '' ? {} : { subtitle: slopes }), anchor: 'start' },
    config: { view: { stroke: null }, axis: { grid: true, gridColor: '#e9ecef' }, font: 'sans-serif' },
    ...body,
  } as TopLevelSpec;
}

/** The chart as SVG text. */
export async function renderChart(curve: Curve, m: CurveMetric): Promise<string> {
  const view = new vega.View(vega.parse(compile(chartSpec(curve, m)).spec), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}
