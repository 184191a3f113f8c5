// The views that show a document of the live stream: the overview's figures
// (from `stats`), and the connections, subjects and streams tables (from
// `view`). Each render replaces the table body; rows are built with the DOM
// helpers, so names and subjects stay text.
import { $, emptyRow, fill, fmtBytes, fmtByteRate, fmtDuration, fmtNum, fmtRate, fmtTime, h, rows } from './dom.js';

const num = (v) => ({ v: fmtNum(v), cls: 'num', title: String(v) });

/** The overview's figures. */
export function renderStats(s) {
  const figures = [
    ['Connections', fmtNum(s.connections), `${fmtNum(s.total_connections)} since start`],
    ['Subscriptions', fmtNum(s.subscriptions), ''],
    ['Messages in', fmtRate(s.in_msgs_rate), `${fmtNum(s.in_msgs)} total`],
    ['Messages out', fmtRate(s.out_msgs_rate), `${fmtNum(s.out_msgs)} total`],
    ['Bytes in', fmtByteRate(s.in_bytes_rate), `${fmtBytes(s.in_bytes)} total`],
    ['Bytes out', fmtByteRate(s.out_bytes_rate), `${fmtBytes(s.out_bytes)} total`],
    ['Memory', fmtBytes(s.mem_rss), `heap ${fmtBytes(s.heap_used)}`],
    ['CPU', `${fmtNum(s.cpu)}%`, ''],
    ['Slow consumers', fmtNum(s.slow_consumers), ''],
    ['Uptime', fmtDuration(s.uptime_ms), s.jetstream ? 'JetStream on' : 'JetStream off'],
  ];
  fill(
    $('#figures'),
    figures.map(([label, value, note]) =>
      h(
        'div',
        { className: `figure${label === 'Slow consumers' && s.slow_consumers > 0 ? ' warn' : ''}` },
        h('span', { className: 'label' }, label),
        h('span', { className: 'value' }, value),
        h('span', { className: 'note' }, note),
      ),
    ),
  );
}

function langOf(c) {
  return [c.lang, c.version].filter(Boolean).join(' ');
}

function address(c) {
  if (!c.ip) return '';
  const host = c.ip.includes(':') ? `[${c.ip}]` : c.ip;
  return c.port ? `${host}:${c.port}` : host;
}

export function renderConnections(doc) {
  const open = doc.open ?? [];
  const closed = doc.closed ?? [];
  $('#conn-count').textContent = `${open.length} open`;
  if (open.length === 0) emptyRow($('#conn-open'), 12, 'No connections.');
  else
    rows(
      $('#conn-open'),
      open,
      (c) => [
        num(c.cid),
        h('span', { className: 'name' }, c.name || '—', c.slow ? h('span', { className: 'badge warn' }, 'slow') : null),
        address(c),
        c.user ?? '',
        langOf(c),
        num(c.subscriptions),
        { v: fmtBytes(c.pending_bytes), cls: 'num' },
        { v: fmtRate(c.in_msgs_rate), cls: 'num' },
        { v: fmtRate(c.out_msgs_rate), cls: 'num' },
        { v: `${fmtNum(c.in_msgs)} / ${fmtNum(c.out_msgs)}`, cls: 'num' },
        { v: c.rtt > 0 ? `${fmtNum(c.rtt)} ms` : '–', cls: 'num', title: 'round trip of the hub\'s last PING' },
        { v: fmtDuration(c.uptime_ms), cls: 'num', title: `idle ${fmtDuration(c.idle_ms)}` },
      ],
      (c) => (c.slow ? 'slow' : ''),
    );
  $('#closed-count').textContent = `${closed.length} recently closed`;
  if (closed.length === 0) emptyRow($('#conn-closed'), 7, 'None closed yet.');
  else
    rows($('#conn-closed'), closed, (c) => [
      num(c.cid),
      c.name || '—',
      c.ip ?? '',
      c.user ?? '',
      langOf(c),
      { v: c.reason, cls: /slow|violation|fail|error|stale/i.test(c.reason ?? '') ? 'reason bad' : 'reason' },
      { v: fmtTime(c.stop), title: String(c.stop) },
    ]);
}

export function renderSubjects(doc) {
  const list = doc.subjects ?? [];
  if (list.length === 0) emptyRow($('#subjects-rows'), 5, 'No messages yet.');
  else
    rows($('#subjects-rows'), list, (s) => [
      { v: s.subject, cls: 'subject' },
      { v: fmtRate(s.msgs_rate), cls: 'num' },
      { v: fmtByteRate(s.bytes_rate), cls: 'num' },
      num(s.msgs),
      num(s.subscribers),
    ]);
}

export function renderStreams(doc, jetstream) {
  const list = doc.streams ?? [];
  const box = $('#streams-list');
  if (list.length === 0) {
    fill(box, h('p', { className: 'empty' }, jetstream === false ? 'JetStream is off on this hub.' : 'No streams.'));
    return;
  }
  fill(
    box,
    list.map((s) =>
      h(
        'article',
        { className: 'stream card' },
        h('header', null, h('h3', null, s.name), h('span', { className: 'muted' }, (s.subjects ?? []).join(', '))),
        h(
          'dl',
          { className: 'inline' },
          [
            ['messages', fmtNum(s.messages)],
            ['bytes', fmtBytes(s.bytes)],
            ['first seq', fmtNum(s.first_seq)],
            ['last seq', fmtNum(s.last_seq)],
            ['consumers', fmtNum((s.consumers ?? []).length)],
          ].map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))),
        ),
        (s.consumers ?? []).length === 0 ? null : consumerTable(s.consumers),
      ),
    ),
  );
}

function consumerTable(consumers) {
  const tbody = h('tbody');
  rows(
    tbody,
    consumers,
    (c) => [
      c.name,
      num(c.num_pending),
      num(c.num_ack_pending),
      num(c.num_redelivered),
      num(c.num_waiting),
      num(c.delivered_seq),
      num(c.ack_floor_seq),
      { v: fmtNum(c.dead_letters), cls: c.dead_letters > 0 ? 'num bad' : 'num' },
    ],
    (c) => (c.dead_letters > 0 ? 'warn' : ''),
  );
  const cols = ['consumer', 'pending', 'ack pending', 'redelivered', 'waiting', 'delivered', 'ack floor', 'dead letters'];
  const head = h('thead', null, h('tr', null, cols.map((c, i) => h('th', { className: i ? 'num' : '' }, c))));
  return h('div', { className: 'table-wrap' }, h('table', null, head, tbody));
}
