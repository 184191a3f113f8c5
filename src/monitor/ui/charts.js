// The overview's live charts, drawn with uPlot (loaded before this module as
// the global `uPlot`, from the package's own copy). Each chart keeps the last
// POINTS samples, one per `stats` event (one a second).
import { fmtNum } from './dom.js';

const POINTS = 300;
/** Tick steps of the time axis, in seconds: whole seconds at least (samples come once a second). */
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

const clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false });

/** The y axis as wide as its longest label (uPlot's fixed default clips "4.9 KiB/s"). */
function fitLabels(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  if (longest !== '') {
    u.ctx.font = axis.font[0];
    size += u.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size) + 4;
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class LiveChart {
  /**
   * `labels`: the series (e.g. ['in', 'out']); `fmt`: how a value reads on the
   * axis and in the legend; `incrs`: the y axis's tick steps (uPlot's decimal
   * ones by default).
   */
  constructor(el, labels, fmt, incrs) {
    this.incrs = incrs;
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
          ...this.labels.map((label, i) => ({
            label,
            stroke: colours[i % colours.length],
            width: 2,
            value: (_u, v) => (v == null ? '–' : fmt(v)),
          })),
        ],
        axes: [
          { ...axis, space: 70, incrs: TIME_INCRS, values: (_u, ticks) => ticks.map(clock) },
          { ...axis, size: fitLabels, ...(this.incrs ? { incrs: this.incrs } : {}), values: (_u, ticks) => ticks.map(fmt) },
        ],
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

/** Byte tick steps that read as round numbers in KiB and MiB (1, 2, 5, 10… of each unit). */
export const BYTE_INCRS = [1, 1024, 1024 ** 2, 1024 ** 3].flatMap((unit) => [1, 2, 5, 10, 20, 50, 100, 200, 500].map((m) => m * unit));
