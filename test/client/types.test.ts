/**
 * Type tests for connect<Events>(): this file is compiled by tsc with the
 * rest of the build, and every `// @ts-expect-error` line must be an error.
 * If the types regress (accept a wrong payload, an unknown event, a wrong
 * request or reply), the directive is unused and the build fails.
 *
 * Nothing below the runtime test connects: the checks live in functions that
 * are type-checked and never called.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Bus, type DurableMeta, type EventMeta, type EventName, type PubAck, type RequestName } from '../../src/index.js';

/** Events are payload types; request/reply subjects are function types (request) => reply. */
interface Events {
  'ticket.created': { id: number; title: string };
  'ticket.closed': { id: number };
  'user.renamed': string;
  'tick': undefined;
  'math.add': (req: { a: number; b: number }) => number;
  'user.lookup': (id: number) => { name: string } | null;
}

/** A type alias works as well as an interface. */
type AliasEvents = { 'ping': number; 'echo': (s: string) => string };

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_?: T): void {}

// The name helpers split the map.
assertType<Equal<EventName<Events>, 'ticket.created' | 'ticket.closed' | 'user.renamed' | 'tick'>>();
assertType<Equal<RequestName<Events>, 'math.add' | 'user.lookup'>>();

export async function typedDurableUsage(bus: Bus<Events>): Promise<void> {
  // A durable listener's meta is a DurableMeta; a plain one's stays EventMeta.
  bus.on('ticket.created', (t, meta) => {
    assertType<Equal<typeof t, { id: number; title: string }>>();
    assertType<Equal<typeof meta, DurableMeta>>();
    return meta.seq + meta.deliveryCount;
  }, { durable: 'billing', maxDeliver: 3 });
  bus.on('ticket.closed', (_t, meta) => {
    assertType<Equal<typeof meta, EventMeta>>();
  }, { queue: 'q' });
  const ack = await bus.publish('ticket.created', { id: 1, title: 'x' }, { msgId: 'm', expect: { lastSequence: 1 } });
  assertType<Equal<typeof ack, PubAck>>();
  // @ts-expect-error: the payload of a durable publish is checked like emit's
  await bus.publish('ticket.created', { id: 'one' });
  // @ts-expect-error: a durable listener gets the event's payload type
  bus.on('ticket.closed', (t: string) => t, { durable: 'x' });
}

export async function typedUsage(bus: Bus<Events>): Promise<void> {
  // ── on / once / off / prependListener ──
  bus.on('ticket.created', (t, meta) => {
    assertType<Equal<typeof t, { id: number; title: string }>>();
    assertType<Equal<typeof meta, EventMeta>>();
  });
  bus.once('user.renamed', (name) => name.toUpperCase());
  bus.prependListener('ticket.closed', (t) => t.id.toFixed());
  bus.on('ticket.closed', (t) => t.id, { queue: 'workers' });
  const fn = (t: { id: number }): void => void t;
  bus.on('ticket.closed', fn).off('ticket.closed', fn);
  bus.removeListener('ticket.closed', fn);

  // @ts-expect-error: unknown event name
  bus.on('ticket.deleted', () => {});
  // @ts-expect-error: a request subject is not an event
  bus.on('math.add', () => {});
  // @ts-expect-error: the listener expects the wrong payload type
  bus.on('ticket.closed', (t: { id: string }) => t);
  // @ts-expect-error: property that the payload does not have
  bus.on('ticket.created', (t) => t.priority);
  // @ts-expect-error: unknown event name in once
  bus.once('nope', () => {});

  // ── emit ──
  bus.emit('ticket.created', { id: 1, title: 'printer on fire' });
  bus.emit('user.renamed', 'ada', { headers: { 'X-By': 'admin' } });
  bus.emit('tick');
  // @ts-expect-error: wrong payload type
  bus.emit('ticket.created', { id: '1', title: 'x' });
  // @ts-expect-error: missing property
  bus.emit('ticket.created', { id: 1 });
  // @ts-expect-error: a number is not a string
  bus.emit('user.renamed', 42);
  // @ts-expect-error: unknown event name
  bus.emit('ticket.reopened', { id: 1 });
  // @ts-expect-error: a request subject cannot be emitted as an event
  bus.emit('math.add', { a: 1, b: 2 });

  // ── request / handle ──
  const sum = await bus.request('math.add', { a: 1, b: 2 }, { timeout: 1000 });
  assertType<Equal<typeof sum, number>>();
  const user = await bus.request('user.lookup', 7);
  assertType<Equal<typeof user, { name: string } | null>>();
  // @ts-expect-error: wrong request type
  await bus.request('math.add', { a: '1', b: 2 });
  // @ts-expect-error: an event subject is not a request subject
  await bus.request('ticket.created', { id: 1, title: 't' });
  // @ts-expect-error: unknown request subject
  await bus.request('math.sub', { a: 1, b: 2 });
  // @ts-expect-error: the reply is a number, not a string
  const wrong: string = await bus.request('math.add', { a: 1, b: 2 });
  void wrong;

  bus.handle('math.add', (req, meta) => {
    assertType<Equal<typeof req, { a: number; b: number }>>();
    void meta.subject;
    return req.a + req.b;
  });
  bus.handle('user.lookup', async (id) => (id > 0 ? { name: 'ada' } : null));
  // @ts-expect-error: the handler returns the wrong reply type
  bus.handle('math.add', () => 'three');
  // @ts-expect-error: an async handler with the wrong reply type
  bus.handle('user.lookup', async () => ({ nom: 'ada' }));
  // @ts-expect-error: the handler expects the wrong request type
  bus.handle('math.add', (req: string) => req.length);
  // @ts-expect-error: an event subject cannot be handled
  bus.handle('ticket.closed', () => 1);
  bus.unhandle('math.add');
  // @ts-expect-error: unknown request subject
  bus.unhandle('math.mul');

  // ── listener introspection ──
  const n: number = bus.listenerCount('ticket.created');
  void n;
  // @ts-expect-error: unknown event name
  bus.removeAllListeners('ticket.nope');

  // ── events.once works on a bus ──
  const [payload] = await once(bus, 'ticket.created');
  void payload;
}

export async function aliasUsage(bus: Bus<AliasEvents>): Promise<void> {
  bus.emit('ping', 1);
  const s: string = await bus.request('echo', 'hi');
  void s;
  // @ts-expect-error: wrong payload type
  bus.emit('ping', 'one');
}

export async function untypedUsage(): Promise<void> {
  // Without a map, any subject and payload are accepted (wildcards included).
  const bus = await connect('nats://127.0.0.1:4222');
  bus.on('anything.*', (p, meta) => void [p, meta.subject]);
  bus.emit('anything.goes', { free: 'form' });
  bus.handle('svc.any', (req: { a: number }) => req.a);
  const r: unknown = await bus.request('svc.any', { a: 1 });
  void r;
  // connect<Events>() gives a typed bus.
  const typed: Bus<Events> = await connect<Events>({ servers: 'nats://127.0.0.1:4222' });
  // @ts-expect-error: a typed bus checks names
  typed.emit('anything.goes', 1);
}

test('the typed API compiles (checks run at build time; see the @ts-expect-error lines)', () => {
  assert.equal(typeof typedUsage, 'function');
  assert.equal(typeof aliasUsage, 'function');
  assert.equal(typeof untypedUsage, 'function');
});
