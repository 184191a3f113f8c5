// The dashboard: one EventSource on api/live (the live API) carries the
// figures, the chosen view's document and the tail; switching the view, the
// tail's filter or pause opens a new stream with the new query. When the hub
// goes away the page says "reconnecting" and opens a stream again once the hub
// answers (after asking api/whoami, which may want a login again).
import { $, fill, fmtBytes, h } from './dom.js';
import { BYTE_INCRS, LiveChart, rateFmt } from './charts.js';
import { showReply, Tail } from './tail.js';
import { renderConnections, renderStats, renderStreams, renderSubjects } from './views.js';

const VIEWS = ['overview', 'connections', 'subjects', 'streams', 'tail', 'publish'];
/** The live API's `view` parameter for each page view. */
const STREAM_VIEW = {
  overview: 'overview',
  connections: 'connections',
  subjects: 'subjects',
  streams: 'streams',
  tail: 'overview',
  publish: 'overview',
};
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10_000;

const state = {
  view: 'overview',
  tailFilter: '>',
  paused: false,
  jetstream: undefined,
  es: null,
  streamQuery: '',
  retryMs: RETRY_MIN_MS,
  retryTimer: 0,
  authRequired: false,
};

const tail = new Tail($('#tail-rows'), $('#tail-skipped'));
let charts = null;

function setStatus(live, text) {
  document.body.dataset.live = live;
  const el = $('#status');
  el.textContent = text;
  el.className = `pill ${live}`;
}

function streamQuery() {
  const q = new URLSearchParams({ view: STREAM_VIEW[state.view] });
  if (state.view === 'tail') {
    q.set('tail', state.tailFilter);
    if (state.paused) q.set('paused', '1');
  }
  return q.toString();
}

function closeStream() {
  clearTimeout(state.retryTimer);
  state.es?.close();
  state.es = null;
}

/** Opens the stream for the current view, unless the one open already carries that query. */
function openStream(force = false) {
  const query = streamQuery();
  if (!force && state.es !== null && state.streamQuery === query) return;
  closeStream();
  state.streamQuery = query;
  document.body.dataset.stream = '';
  const es = new EventSource(`api/live?${query}`);
  state.es = es;
  const on = (name, fn) =>
    es.addEventListener(name, (e) => {
      if (state.es === es) fn(JSON.parse(e.data));
    });
  on('hello', (d) => {
    state.retryMs = RETRY_MIN_MS;
    setStatus('open', 'live');
    fill($('#server'), d.server_name ?? '', d.version ? ` · v${d.version}` : '');
    // Tests and scripts read which query the open stream serves.
    document.body.dataset.stream = query;
  });
  on('stats', onStats);
  on('view', (d) => {
    if (state.view === 'connections') renderConnections(d);
    else if (state.view === 'subjects') renderSubjects(d);
    else if (state.view === 'streams') renderStreams(d, state.jetstream);
  });
  on('msg', (m) => {
    if (state.view === 'tail' && !state.paused) tail.add(m);
  });
  on('skipped', (d) => tail.addSkipped(d.count));
  es.onerror = () => {
    if (state.es !== es) return;
    setStatus('reconnecting', 'reconnecting…');
    // A refused stream (401 after a restart, 503 when full) is not retried by
    // the browser: retry it here, checking the session first.
    if (es.readyState === EventSource.CLOSED) scheduleRetry();
  };
}

function scheduleRetry() {
  closeStream();
  state.retryTimer = setTimeout(() => start(true), state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
}

function onStats(s) {
  state.jetstream = s.jetstream;
  renderStats(s);
  charts ??= {
    msgs: new LiveChart($('#chart-msgs'), ['in', 'out'], rateFmt),
    bytes: new LiveChart($('#chart-bytes'), ['in', 'out'], (v) => `${fmtBytes(v)}/s`, BYTE_INCRS),
  };
  charts.msgs.push(s.now, [s.in_msgs_rate, s.out_msgs_rate]);
  charts.bytes.push(s.now, [s.in_bytes_rate, s.out_bytes_rate]);
  // How many samples the charts hold (the screenshot run waits for a few).
  document.body.dataset.samples = String(charts.msgs.data[0].length);
}

function showView(view) {
  state.view = VIEWS.includes(view) ? view : 'overview';
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== state.view || !$('#login').hidden;
  for (const a of document.querySelectorAll('#tabs a')) a.setAttribute('aria-current', a.dataset.view === state.view ? 'page' : 'false');
  if ($('#login').hidden) openStream();
}

// ── auth ─────────────────────────────────────────────────────────────────

async function api(path, body) {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = { error: `HTTP ${res.status}` };
  }
  return { status: res.status, data };
}

function showLogin(message) {
  closeStream();
  setStatus('login', 'sign in');
  $('#login').hidden = false;
  $('#tabs').hidden = true;
  for (const v of VIEWS) $(`#view-${v}`).hidden = true;
  $('#who').hidden = true;
  $('#logout').hidden = true;
  const err = $('#login-error');
  err.hidden = !message;
  err.textContent = message ?? '';
}

function showUser(user) {
  $('#who').hidden = !state.authRequired;
  $('#who').textContent = user ? `signed in as ${user}` : 'signed in';
  $('#logout').hidden = !state.authRequired;
}

/** Asks who we are, then shows the login form or the views. */
async function start(reconnecting = false) {
  let who;
  try {
    who = await api('api/whoami');
  } catch {
    // The hub is down: keep trying.
    setStatus('reconnecting', 'reconnecting…');
    state.retryTimer = setTimeout(() => start(true), state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
    return;
  }
  if (who.status === 401) {
    state.authRequired = true;
    showLogin(reconnecting ? 'Your session ended: sign in again.' : undefined);
    return;
  }
  state.authRequired = who.data?.auth_required === true;
  $('#login').hidden = true;
  $('#tabs').hidden = false;
  showUser(who.data?.user);
  showView(state.view);
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const token = String(f.get('token') ?? '');
  const body = token ? { token } : { user: String(f.get('user') ?? ''), password: String(f.get('password') ?? '') };
  let res;
  try {
    res = await api('api/login', body);
  } catch (err) {
    showLogin(`The hub did not answer: ${err.message}`);
    return;
  }
  if (res.status !== 200) {
    showLogin(res.data?.error ?? 'Sign-in failed.');
    return;
  }
  e.target.reset();
  start();
});

$('#logout').addEventListener('click', async () => {
  await api('api/logout', {}).catch(() => undefined);
  showLogin();
});

// ── tail ─────────────────────────────────────────────────────────────────

function setPaused(paused) {
  state.paused = paused;
  const b = $('#tail-pause');
  b.textContent = paused ? 'Resume' : 'Pause';
  b.setAttribute('aria-pressed', String(paused));
  const s = $('#tail-state');
  s.textContent = paused ? 'paused' : 'live';
  s.className = `pill ${paused ? 'paused' : 'open'}`;
  openStream();
}

/**
 * Whether a tail filter is a subject with wildcards as NATS spells them: the
 * hub refuses anything else with a 400, which an EventSource cannot tell from
 * a hub that is down, so the page checks first.
 */
function validFilter(f) {
  const tokens = f.split('.');
  return tokens.every((t, i) => {
    if (t === '' || /\s/.test(t)) return false;
    if (t === '*' || (t === '>' && i === tokens.length - 1)) return true;
    return !t.includes('*') && !t.includes('>');
  });
}

$('#tail-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const filter = $('#tail-filter').value.trim() || '>';
  const err = $('#tail-error');
  err.hidden = validFilter(filter);
  err.textContent = err.hidden ? '' : `Not a subject filter: ${filter} (tokens separated by dots; * for one token, > for the rest)`;
  if (!err.hidden) return;
  if (filter !== state.tailFilter) tail.clear();
  state.tailFilter = filter;
  openStream();
});
$('#tail-pause').addEventListener('click', () => setPaused(!state.paused));
$('#tail-clear').addEventListener('click', () => tail.clear());
$('#tail-format').addEventListener('change', (e) => tail.setFormat(e.target.value));

// ── publish and request ──────────────────────────────────────────────────

function parseHeaders(text) {
  const headers = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`a header line needs "Name: value": ${line}`);
    headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return headers;
}

$('#pub-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('#pub-result');
  const request = e.submitter?.value === 'request';
  const body = { subject: $('#pub-subject').value.trim(), payload: $('#pub-payload').value };
  try {
    const headers = parseHeaders($('#pub-headers').value);
    if (Object.keys(headers).length > 0) body.headers = headers;
  } catch (err) {
    fill(out, h('p', { className: 'error' }, err.message));
    return;
  }
  if (request) body.timeout_ms = Number($('#pub-timeout').value) || 2000;
  fill(out, h('p', { className: 'muted' }, request ? 'waiting for a reply…' : 'publishing…'));
  let res;
  try {
    res = await api(request ? 'api/request' : 'api/publish', body);
  } catch (err) {
    fill(out, h('p', { className: 'error' }, `The hub did not answer: ${err.message}`));
    return;
  }
  if (res.status === 401) return showLogin('Your session ended: sign in again.');
  if (res.status !== 200) fill(out, h('p', { className: 'error' }, res.data?.error ?? `HTTP ${res.status}`));
  else if (request) showReply(out, res.data, 'auto');
  else fill(out, h('p', { className: 'ok' }, `published to ${body.subject}`));
});

// ── navigation ───────────────────────────────────────────────────────────

window.addEventListener('hashchange', () => showView(location.hash.slice(1)));
// uPlot takes its colours when a chart is made: remake them when the theme changes.
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  if (charts) for (const c of Object.values(charts)) c.build();
});
state.view = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'overview';
start();
