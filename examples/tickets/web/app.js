// The help desk's tickets, live, in a browser tab: the tab is one more
// process on the bus. It connects over the hub's WebSocket listener with the
// browser bundle (served at /netemitter.js), asks the SLA service for the
// tickets so far, then follows `ticket.>`; its form emits `ticket.created`,
// which a worker handles like any other ticket.
import { connect } from '/netemitter.js';

const $ = (selector) => document.querySelector(selector);
/** id → its row. */
const rows = new Map();

function setState(state, text) {
  document.body.dataset.state = state;
  $('#state').textContent = text;
}

function cell(tr, name) {
  return tr.querySelector(`td[data-field="${name}"]`);
}

function rowFor(id) {
  let tr = rows.get(id);
  if (tr !== undefined) return tr;
  tr = document.createElement('tr');
  tr.dataset.id = id;
  for (const name of ['id', 'title', 'priority', 'status', 'handled']) {
    const td = document.createElement('td');
    td.dataset.field = name;
    tr.append(td);
  }
  cell(tr, 'id').textContent = id;
  rows.set(id, tr);
  $('#tickets').append(tr);
  $('#empty').hidden = true;
  return tr;
}

// textContent, never innerHTML: titles come from anyone on the bus.
function showTicket(ticket) {
  const tr = rowFor(ticket.id);
  for (const name of ['title', 'priority', 'status']) {
    if (ticket[name] !== undefined) cell(tr, name).textContent = ticket[name];
  }
  cell(tr, 'priority').className = `priority-${cell(tr, 'priority').textContent}`;
  tr.classList.remove('fresh');
  void tr.offsetWidth; // Restart the highlight.
  tr.classList.add('fresh');
}

function showHandled(id, workers) {
  const tr = rowFor(id);
  const known = new Set((tr.dataset.handledBy ?? '').split(' ').filter(Boolean));
  for (const w of workers) known.add(w);
  tr.dataset.handledBy = [...known].join(' ');
  cell(tr, 'handled').textContent = [...known].join(', ');
}

/** One event of `ticket.>`; the same event twice changes nothing (see start()). */
function apply(event, subject) {
  switch (subject) {
    case 'ticket.created':
      showTicket(event);
      break;
    case 'ticket.updated':
      showTicket({ id: event.id, ...event.changes });
      break;
    case 'ticket.handled':
      showHandled(event.id, [event.worker]);
      break;
    // ticket.get and ticket.list are requests: nothing to show.
  }
}

function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return `W-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

async function start() {
  const config = await (await fetch('/config.json')).json();
  setState('connecting', `connecting to ${config.server}…`);
  const bus = await connect({ servers: config.server, name: 'tickets page' });
  setState('connected', `connected to ${config.server}`);
  bus.status.on('disconnect', () => setState('reconnecting', 'disconnected: reconnecting…'));
  bus.status.on('reconnect', () => setState('connected', `connected to ${config.server}`));
  bus.status.on('close', () => setState('failed', 'closed'));
  bus.status.on('error', (err) => console.warn(`bus: ${err.message}`));

  // Listen first, then ask for the list: an event that comes in meanwhile
  // waits, and is applied after the list (applying one twice is harmless).
  let waiting = [];
  bus.on('ticket.>', (event, meta) => {
    if (meta.reply !== undefined) return;
    if (waiting !== null) waiting.push([event, meta.subject]);
    else apply(event, meta.subject);
  });
  await bus.flush();
  let list = [];
  try {
    list = await bus.request('ticket.list', {});
  } catch (err) {
    // No SLA service (yet): show what happens from now on.
    console.warn(`ticket.list: ${err.message}`);
  }
  for (const view of list) {
    showTicket(view.ticket);
    showHandled(view.ticket.id, view.handledBy);
  }
  for (const [event, subject] of waiting) apply(event, subject);
  waiting = null;
  document.body.dataset.tickets = 'listed';

  const form = $('#create');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const ticket = {
      id: newId(),
      title: String(data.get('title')).trim(),
      priority: String(data.get('priority')),
      status: 'open',
      createdAt: new Date().toISOString(),
    };
    if (ticket.title === '') return;
    bus.emit('ticket.created', ticket);
    form.reset();
  });
  form.querySelector('button').disabled = false;
}

start().catch((err) => {
  setState('failed', `could not start: ${err.message}`);
  console.error(err);
});
