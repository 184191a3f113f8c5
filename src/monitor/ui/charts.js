// The overview's live charts, drawn with uPlot (loaded before this module as
// the global `uPlot`, from the package's own copy). Each chart keeps the last
// POINTS samples, one per `stats` event (one a second).
import { fmtNum } from './dom.js';

const POINTS = 300;

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class LiveChart {
  /** `labels`: the series (e.g. ['in', 'out']); `fmt`: how a value reads on the axis and in the legend. */
  constructor(el, labels, fmt) {
    this.el = el;
    this.labels = labels;
    this.fmt = fmt;
    this.data = [[], ...labels.map(() => [])];
    this.plot = null;
    this.build();
    new ResizeObserver(() => this.resize()).observe(el);
  }

  /** (Re)creates the plot with the colours of the current theme. */
  build() {
    if (typeof uPlot !== 'function') return;
    this.plot?.destroy();
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { stroke: cssVar('--grid'), width: 1 } };
    const colours = [cssVar('--series-1'), cssVar('--series-2')];
    const fmt = this.fmt;
    this.plot = new uPlot(
      {
        width: this.width(),
        height: 180,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        series: [
          {},
          ...this.labels.map((label, i) => ({ label, stroke: colours[i % colours.length], width: 2, value: (_u, v) => (v == null ? '–' : fmt(v)) })),
        ],
        axes: [axis, { ...axis, size: 64, values: (_u, ticks) => ticks.map(fmt) }],
      },
      this.data,
      this.el,
    );
  }

  width() {
    return Math.max(200, Math.floor(this.el.clientWidth || 600));
  }

  resize() {
    if (this.plot && this.el.clientWidth > 0) this.plot.setSize({ width: this.width(), height: 180 });
  }

  /** Adds one sample: `t` in ms since the epoch, one value per series. */
  push(t, values) {
    this.data[0].push(t / 1000);
    values.forEach((v, i) => this.data[i + 1].push(v));
    if (this.data[0].length > POINTS) for (const s of this.data) s.shift();
    this.plot?.setData(this.data);
  }
}

export const rateFmt = (v) => `${fmtNum(v)}/s`;
