/**
 * The SLA service: follows every ticket (created, updated, notes, handled)
 * and answers `ticket.get` with the ticket and its first-response deadline,
 * and `ticket.list` with every ticket (the web page's first view).
 * Answering is `handle()`: the returned value is the reply, a thrown error
 * (with a `status`) reaches the requester as a RemoteError.
 *
 *   node sla.js --server nats://127.0.0.1:4222
 */
import { connectRole, fail, ready, roleArgs, say, stopOnSignal } from './role.js';
import { minutes, RESPONSE_TARGET, type Ticket, type TicketView } from './events.js';

class UnknownTicket extends Error {
  readonly status = 404;
  constructor(id: string) {
    super(`unknown ticket ${id}`);
  }
}

interface Tracked {
  ticket: Ticket;
  notes: number;
  firstResponseAt: string | null;
  handledBy: string[];
}

function minutesLeft(t: Tracked, now = Date.now()): number {
  const due = Date.parse(t.ticket.createdAt) + RESPONSE_TARGET[t.ticket.priority] * 60_000;
  return (due - now) / 60_000;
}

async function main(): Promise<void> {
  const args = roleArgs('sla');
  const bus = await connectRole(args);
  const tickets = new Map<string, Tracked>();

  bus.on('ticket.created', (ticket) => {
    tickets.set(ticket.id, { ticket, notes: 0, firstResponseAt: null, handledBy: [] });
    say(`tracking ${ticket.id}: first response due in ${minutes(RESPONSE_TARGET[ticket.priority])}`);
  });
  bus.on('ticket.updated', ({ id, changes }) => {
    const t = tickets.get(id);
    if (t === undefined) return;
    const before = t.ticket.priority;
    t.ticket = { ...t.ticket, ...changes };
    if (t.ticket.priority !== before) say(`${id} is now ${t.ticket.priority}: first response due in ${minutes(minutesLeft(t))}`);
  });
  bus.on('note.created', ({ ticketId, author }) => {
    const t = tickets.get(ticketId);
    if (t === undefined) return;
    t.notes++;
    if (t.firstResponseAt === null) {
      t.firstResponseAt = new Date().toISOString();
      say(`${ticketId} got its first response from ${author}, within target`);
    }
  });
  bus.on('ticket.handled', ({ id, worker }) => {
    tickets.get(id)?.handledBy.push(worker);
  });
  const view = (t: Tracked): TicketView => ({
    ticket: t.ticket,
    notes: t.notes,
    respondWithinMinutes: minutesLeft(t),
    firstResponseAt: t.firstResponseAt,
    handledBy: t.handledBy,
  });
  bus.handle('ticket.get', ({ id }) => {
    const t = tickets.get(id);
    if (t === undefined) throw new UnknownTicket(id);
    return view(t);
  });
  bus.handle('ticket.list', () => [...tickets.values()].map(view));

  stopOnSignal(bus);
  await ready(bus, 'following tickets, answering ticket.get');
}

main().catch(fail);
