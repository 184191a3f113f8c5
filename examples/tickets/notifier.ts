/**
 * The notifier: one wildcard listener on `ticket.>` sees every ticket event
 * (`meta.subject` says which) and tells people about it. Requests on
 * `ticket.get` match the wildcard too; they carry a reply subject and are
 * left to the SLA service.
 *
 *   node notifier.js --server nats://127.0.0.1:4222
 */
import type { EventMeta } from 'netemitter';
import { connectRole, fail, ready, roleArgs, say, stopOnSignal } from './role.js';
import type { Handled, Ticket, TicketEvents, TicketUpdate } from './events.js';

function notify(event: TicketEvents['ticket.>'], meta: EventMeta): void {
  if (meta.reply !== undefined) return;
  switch (meta.subject) {
    case 'ticket.created': {
      const t = event as Ticket;
      say(`to #support: new ticket ${t.id} "${t.title}" (${t.priority})`);
      break;
    }
    case 'ticket.updated': {
      const u = event as TicketUpdate;
      const changes = Object.entries(u.changes).map(([k, v]) => `${k} → ${v}`).join(', ');
      say(`to #support: ${u.id} changed: ${changes}`);
      break;
    }
    case 'ticket.handled': {
      const h = event as Handled;
      say(`to the requester of ${h.id}: ${h.worker} is on it`);
      break;
    }
    default:
      say(`(${meta.subject}: nothing to tell)`);
  }
}

async function main(): Promise<void> {
  const args = roleArgs('notifier');
  const bus = await connectRole(args);
  bus.on('ticket.>', notify);
  stopOnSignal(bus);
  await ready(bus, 'listening on ticket.>');
}

main().catch(fail);
