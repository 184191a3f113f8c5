/**
 * The help desk's events: what travels on the bus, typed once for every
 * process. `connect<TicketEvents>()` then checks subjects and payloads.
 */

export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export type Status = 'open' | 'pending' | 'solved';

export interface Ticket {
  id: string;
  title: string;
  priority: Priority;
  status: Status;
  /** ISO timestamp. */
  createdAt: string;
}

export interface TicketUpdate {
  id: string;
  changes: Partial<Pick<Ticket, 'title' | 'priority' | 'status'>>;
}

export interface Note {
  ticketId: string;
  author: string;
  text: string;
}

/** A worker reports each ticket it handled; the runner counts them. */
export interface Handled {
  id: string;
  worker: string;
}

/** What the SLA service answers on `ticket.get` (and `ticket.list`, one per ticket). */
export interface TicketView {
  ticket: Ticket;
  notes: number;
  /** Minutes left to the first response, at the time of the answer; negative once breached. */
  respondWithinMinutes: number;
  firstResponseAt: string | null;
  /** The workers that reported `ticket.handled` for it (one, with the queue group). */
  handledBy: string[];
}

export interface TicketEvents {
  'ticket.created': Ticket;
  'ticket.updated': TicketUpdate;
  'ticket.handled': Handled;
  'note.created': Note;
  /** The notifier's wildcard: every ticket.* event, and ticket.get requests too (they carry a reply subject). */
  'ticket.>': Ticket | TicketUpdate | Handled | { id: string };
  /** Request/reply: a function type. */
  'ticket.get': (request: { id: string }) => TicketView;
  /** Every ticket the SLA service follows, oldest first: what a page that opens late shows first. */
  'ticket.list': (request: Record<string, never>) => TicketView[];
}

/** The workers' queue group: each ticket goes to one of them. */
export const WORKERS_QUEUE = 'workers';

/** First-response targets by priority, in minutes. */
export const RESPONSE_TARGET: Record<Priority, number> = {
  urgent: 60,
  high: 4 * 60,
  normal: 24 * 60,
  low: 72 * 60,
};

/** 90 → "1h30", 45 → "45min". */
export function minutes(n: number): string {
  const sign = n < 0 ? '-' : '';
  const m = Math.abs(Math.round(n));
  if (m < 60) return `${sign}${m}min`;
  return `${sign}${Math.floor(m / 60)}h${m % 60 === 0 ? '' : String(m % 60).padStart(2, '0')}`;
}
