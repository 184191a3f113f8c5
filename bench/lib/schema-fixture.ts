/**
 * The schema suite's event and rules (issue #19's Measure): a 200-byte JSON
 * event of 5 fields, the shape of the tickets example's `ticket.created`,
 * and a typical object schema for it (types, an enum, a length bound, a
 * date-time format, no other properties). `match` puts it on the W1 subject
 * (bench.pubsub) after two rules for other subjects; `other` keeps only
 * those two, so the hub checks schemas but W1's subject has none.
 */
import type { SchemaRule } from '../../src/index.js';

const TICKET_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    title: { type: 'string', maxLength: 200 },
    priority: { enum: ['low', 'normal', 'high', 'urgent'] },
    status: { enum: ['open', 'pending', 'solved'] },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'title', 'priority', 'status', 'createdAt'],
  additionalProperties: false,
};

const OTHERS: SchemaRule[] = [
  { subjects: ['orders.>'], schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
  { subjects: ['ticket.updated', 'ticket.*.note'], schema: { type: 'object', required: ['id'] } },
];

export const SCHEMA_SETS: Record<'match' | 'other', SchemaRule[]> = {
  match: [...OTHERS, { subjects: ['bench.pubsub'], schema: TICKET_SCHEMA }],
  other: OTHERS,
};

function event(): string {
  const base = { id: 'tkt_0001234', title: '', priority: 'high', status: 'open', createdAt: '2026-12-06T13:00:00.000Z' };
  const empty = JSON.stringify(base).length;
  return JSON.stringify({ ...base, title: 'Printer on floor 3 jams on every duplex job '.repeat(5).slice(0, 200 - empty) });
}

/** Exactly 200 bytes, valid against TICKET_SCHEMA. */
export const SCHEMA_EVENT = event();
