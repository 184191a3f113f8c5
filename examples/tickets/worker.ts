/**
 * A worker: handles `ticket.created` as a member of the "workers" queue
 * group, so each ticket goes to exactly one worker however many run. For
 * each ticket it asks the SLA service for the deadline (request/reply),
 * prints what it did, and reports `ticket.handled`.
 *
 *   node worker.js --server nats://127.0.0.1:4222 --name worker-1 [--no-queue]
 *
 * --no-queue subscribes without the group: every worker then handles every
 * ticket, which is what the queue group prevents (the runner reports it).
 */
import type { EventMeta } from 'netemitter';
import { connectRole, fail, ready, roleArgs, say, stopOnSignal } from './role.js';
import { minutes, WORKERS_QUEUE, type Ticket } from './events.js';

async function main(): Promise<void> {
  const args = roleArgs('worker', { 'no-queue': { type: 'boolean', default: false } });
  const bus = await connectRole(args);
  const busy = new Set<Promise<void>>();

  async function handle(ticket: Ticket): Promise<void> {
    let sla: string;
    try {
      const view = await bus.request('ticket.get', { id: ticket.id });
      sla = `${view.ticket.priority}, respond within ${minutes(view.respondWithinMinutes)}`;
    } catch (err) {
      // The ticket is still handled; the deadline is just unknown.
      sla = `no SLA: ${(err as Error).message}`;
    }
    say(`handled ticket ${ticket.id} (${sla})`);
    bus.emit('ticket.handled', { id: ticket.id, worker: args.name });
  }

  function onTicket(ticket: Ticket, _meta: EventMeta): void {
    const work = handle(ticket).catch((err: unknown) => say(`failed on ticket ${ticket.id}: ${(err as Error).message}`));
    busy.add(work);
    void work.finally(() => busy.delete(work));
  }

  const queue = args.values['no-queue'] === true ? undefined : WORKERS_QUEUE;
  bus.on('ticket.created', onTicket, queue === undefined ? {} : { queue });
  // drain() waits for requests and handlers, not for the rest of an event
  // listener's work: let the tickets in progress finish first.
  stopOnSignal(bus, async () => {
    while (busy.size > 0) await Promise.allSettled([...busy]);
  });
  await ready(bus, queue === undefined ? 'handling ticket.created WITHOUT a queue group' : `handling ticket.created in queue group "${queue}"`);
}

main().catch(fail);
