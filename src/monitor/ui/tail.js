// The live tail: messages the hub relays on the stream (`msg` events), newest
// first, at most MAX_ROWS in the DOM, plus the count the hub reports as
// skipped (sampling, a slow page, or pause). Each row opens to its headers and
// its payload, shown as pretty JSON, text or hex.
import { fill, fmtBytes, fmtTime, h } from './dom.js';

/** Rows kept in the page; older ones are dropped so a long tail cannot grow the DOM. */
export const MAX_ROWS = 500;
/** Characters of a payload shown in a row's one-line preview. */
const PREVIEW_CHARS = 160;
/** Bytes of a payload a hex view shows (the hub already cuts payloads to its tailMaxPayload). */
const HEX_MAX = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeBase64(b64) {
  const bin = atob(b64 ?? '');
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The payload as text, or null when it is not UTF-8. */
function asText(bytes) {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

function hexDump(bytes) {
  const lines = [];
  const n = Math.min(bytes.length, HEX_MAX);
  for (let off = 0; off < n; off += 16) {
    const chunk = bytes.subarray(off, Math.min(off + 16, n));
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(chunk, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(6, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`);
  return lines.join('\n');
}

/**
 * The payload in a format: 'json' (pretty, falling back to text), 'text',
 * 'hex', or 'auto' (JSON if it parses, else text if UTF-8, else hex).
 * Returns { kind, text }.
 */
export function renderPayload(bytes, format) {
  if (format === 'hex') return { kind: 'hex', text: hexDump(bytes) };
  const text = asText(bytes);
  if (text === null) return { kind: 'hex', text: hexDump(bytes) };
  if (format === 'json' || format === 'auto') {
    try {
      return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch {
      // not JSON: shown as text
    }
  }
  return { kind: 'text', text };
}

export class Tail {
  constructor(list, skippedEl) {
    this.list = list;
    this.skippedEl = skippedEl;
    this.skipped = 0;
    this.format = 'auto';
    /** Row element → its message (for re-rendering on a format change). */
    this.msgs = new WeakMap();
  }

  clear() {
    this.list.replaceChildren();
    this.skipped = 0;
    this.showSkipped();
  }

  addSkipped(count) {
    this.skipped += count;
    this.showSkipped();
  }

  showSkipped() {
    this.skippedEl.hidden = this.skipped === 0;
    this.skippedEl.textContent = `${this.skipped} event${this.skipped === 1 ? '' : 's'} skipped`;
  }

  setFormat(format) {
    this.format = format;
    for (const row of this.list.querySelectorAll('details[open]')) this.renderBody(row);
  }

  add(m) {
    const bytes = decodeBase64(m.payload);
    const text = asText(bytes);
    const preview = text === null ? `${bytes.length} binary bytes` : text.slice(0, PREVIEW_CHARS);
    const row = h(
      'details',
      { className: 'tail-row' },
      h(
        'summary',
        null,
        h('span', { className: 'time' }, fmtTime(m.time)),
        h('span', { className: 'subject' }, m.subject),
        h('span', { className: 'size' }, fmtBytes(m.size), m.truncated ? ' (cut)' : ''),
        m.headers ? h('span', { className: 'badge' }, 'headers') : null,
        h('span', { className: 'preview' }, preview),
      ),
      h('div', { className: 'tail-body' }),
    );
    this.msgs.set(row, { ...m, bytes });
    row.addEventListener('toggle', () => {
      if (row.open) this.renderBody(row);
    });
    this.list.prepend(row);
    while (this.list.childElementCount > MAX_ROWS) this.list.lastElementChild.remove();
  }

  renderBody(row) {
    const m = this.msgs.get(row);
    const body = row.querySelector('.tail-body');
    if (m === undefined || body === null) return;
    const shown = renderPayload(m.bytes, this.format);
    fill(
      body,
      h(
        'dl',
        { className: 'meta' },
        h('dt', null, 'subject'),
        h('dd', null, m.subject),
        m.reply ? [h('dt', null, 'reply'), h('dd', null, m.reply)] : null,
        h('dt', null, 'size'),
        h('dd', null, `${m.size} bytes${m.truncated ? ` (${m.bytes.length} shown)` : ''}`),
      ),
      headerTable(m.headers),
      h('pre', { className: `payload ${shown.kind}` }, shown.text),
    );
  }
}

/** A message's headers ([[name, value], …] or null) as a table, or null. */
function headerTable(headers) {
  if (!headers || headers.length === 0) return null;
  return h('table', { className: 'headers' }, h('tbody', null, headers.map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v)))));
}

/** Shows a request's reply (from POST /api/request) in `el`. */
export function showReply(el, reply, format) {
  const bytes = decodeBase64(reply.payload);
  const shown = renderPayload(bytes, format);
  fill(
    el,
    h('p', { className: 'ok' }, `reply: ${reply.size} bytes in ${reply.elapsed_ms} ms`),
    headerTable(reply.headers),
    h('pre', { className: `payload ${shown.kind}` }, shown.text),
  );
}
