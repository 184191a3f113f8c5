/**
 * The tickets API: where tickets come from. It emits `ticket.created` for
 * each new ticket, then some `ticket.updated` (an escalation, a status
 * change) and `note.created` (an agent's reply), and finally asks the SLA
 * service about one ticket, to show a request/reply. Then it exits.
 *
 *   node api.js --server nats://127.0.0.1:4222 [--tickets 9]
 */
import { connectRole, fail, roleArgs, say } from './role.js';
import { minutes, type Priority, type Ticket } from './events.js';

const TITLES = [
  'Printer on fire',
  'Cannot log in after password change',
  'Refund for a double charge',
  'VPN drops every hour',
  'Invoice shows the wrong VAT rate',
  'Password reset email never arrives',
  'App crashes when uploading a photo',
  'Feature request: dark mode',
  'Order stuck in processing',
];
const PRIORITIES: Priority[] = ['high', 'normal', 'low', 'urgent', 'normal', 'high'];

async function main(): Promise<void> {
  const args = roleArgs('api', { tickets: { type: 'string', default: '9' } });
  const count = Number(args.values.tickets);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--tickets must be a positive integer, got ${String(args.values.tickets)}`);
  const bus = await connectRole(args);

  const tickets: Ticket[] = [];
  for (let i = 1; i <= count; i++) {
    const ticket: Ticket = {
      id: `T-${i}`,
      title: TITLES[(i - 1) % TITLES.length]!,
      priority: PRIORITIES[(i - 1) % PRIORITIES.length]!,
      status: 'open',
      createdAt: new Date().toISOString(),
    };
    tickets.push(ticket);
    bus.emit('ticket.created', ticket);
    say(`created ticket ${ticket.id} "${ticket.title}" (${ticket.priority})`);
  }
  // Every third ticket is escalated; every other one gets a first answer from an agent.
  for (const t of tickets.filter((_, i) => i % 3 === 1)) {
    bus.emit('ticket.updated', { id: t.id, changes: { priority: 'urgent' } });
    say(`escalated ticket ${t.id} to urgent`);
  }
  for (const t of tickets.filter((_, i) => i % 2 === 0)) {
    bus.emit('note.created', { ticketId: t.id, author: 'agent-ada', text: 'Thanks, we are on it.' });
    say(`added a note to ticket ${t.id}`);
  }

  // Sent on the same connection after the events, so the SLA service has seen them all.
  // T-5 when there is one: escalated and answered.
  const asked = tickets[Math.min(4, tickets.length - 1)]!;
  const view = await bus.request('ticket.get', { id: asked.id });
  const due = view.firstResponseAt !== null ? 'answered' : `first response due in ${minutes(view.respondWithinMinutes)}`;
  say(`asked the SLA service about ${asked.id}: ${view.ticket.priority}, ${view.notes} note(s), ${due}`);

  await bus.drain();
}

main().catch(fail);
