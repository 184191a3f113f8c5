// DOM and formatting helpers for the dashboard. Every string from the hub
// (subjects, names, payloads) reaches the page as a text node or an attribute
// value set through the DOM: nothing here parses HTML, so nothing the hub
// relays can become markup or script.

/**
 * h('td', { className: 'num', title: x }, 'text', child…): an element with
 * properties (`dataset` and `on*` handled) and children (strings become text nodes).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k in el) el[k] = v;
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '–';
  let i = 0;
  while (Math.abs(n) >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export function fmtNum(n) {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export const fmtRate = (n) => `${fmtNum(n)}/s`;
export const fmtByteRate = (n) => `${fmtBytes(n)}/s`;

export function fmtDuration(ms) {
  if (!Number.isFinite(ms)) return '–';
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hr = Math.floor(s / 3600);
  s -= hr * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

export function fmtTime(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleTimeString([], { hour12: false });
}

/** A table body from rows of cells; a cell is a string/number/Node or { v, cls, title }. */
export function rows(tbody, list, toCells, rowClass) {
  fill(
    tbody,
    list.map((item) =>
      h(
        'tr',
        { className: rowClass ? rowClass(item) : '' },
        toCells(item).map((c) => (isCell(c) ? h('td', { className: c.cls ?? '', title: c.title }, c.v) : h('td', null, c))),
      ),
    ),
  );
}

const isCell = (c) => c !== null && typeof c === 'object' && !(c instanceof Node);

/** A placeholder row spanning the table, for an empty list. */
export function emptyRow(tbody, cols, text) {
  fill(tbody, h('tr', { className: 'empty' }, h('td', { colSpan: cols }, text)));
}
