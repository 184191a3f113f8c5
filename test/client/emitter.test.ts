/**
 * The bus as an EventEmitter over the network: listener management, one
 * server subscription per subject, events.once / events.on, wildcards, queue
 * groups, and user events named like lifecycle events. Runs against
 * NETEMITTER_TARGET; the server's own view of the subscriptions (hub events
 * or nats-server /connz) is checked after a flush.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once, on } from 'node:events';
import { connect, ErrorCode, type Bus, type EventMeta } from '../../src/index.js';
import { startServer, targetKind, TargetKind, type ServerHandle } from './helpers/server.js';
import { barrier, inbox, within } from './helpers/wait.js';

describe('the bus as an EventEmitter', () => {
  let server: ServerHandle;
  let a: Bus;
  let b: Bus;
  const extra: Bus[] = [];

  async function bus(name: string): Promise<Bus> {
    const x = await connect({ servers: server.url, name });
    extra.push(x);
    return x;
  }

  before(async () => {
    server = await startServer();
    a = await connect({ servers: server.url, name: 'emitter-a' });
    b = await connect({ servers: server.url, name: 'emitter-b' });
  });

  after(async () => {
    await Promise.all([a, b, ...extra].map((x) => (x.isClosed ? undefined : x.close())));
    await server.stop();
  });

  it('delivers events emitted by another bus, and by itself (echo)', async () => {
    const box = inbox(b, 'ee.basic');
    await b.flush(); // the server has the subscription before a's event
    a.emit('ee.basic', { from: 'a' });
    b.emit('ee.basic', { from: 'b' });
    await barrier(a, b);
    await box.atLeast(2);
    assert.deepEqual(box.payloads.map((p) => (p as { from: string }).from).sort(), ['a', 'b']);
    b.removeAllListeners('ee.basic');
  });

  it('holds one server subscription per subject and queue, whatever the number of listeners', async () => {
    const x = await bus('emitter-subs');
    const f1 = (): void => {};
    const f2 = (): void => {};
    const f3 = (): void => {};
    x.on('ee.one', f1);
    x.on('ee.one', f2);
    x.on('ee.one', f1); // the same function twice: two listeners, as EventEmitter
    x.once('ee.one', f3);
    x.on('ee.one', f1, { queue: 'workers' });
    x.on('ee.one', f2, { queue: 'workers' });
    await x.flush();
    assert.deepEqual(await server.subscriptions('emitter-subs'), ['ee.one', 'ee.one workers']);
    assert.equal(x.listenerCount('ee.one'), 6);
    assert.equal(x.listenerCount('ee.one', f1), 3);

    // Like EventEmitter, off() removes the last instance in listeners() order: plain listeners, then the group's.
    assert.deepEqual(x.listeners('ee.one'), [f1, f2, f1, f3, f1, f2]);
    x.off('ee.one', f1);
    await x.flush();
    assert.deepEqual(x.listeners('ee.one'), [f1, f2, f1, f3, f2]);
    assert.deepEqual(await server.subscriptions('emitter-subs'), ['ee.one', 'ee.one workers'], 'listeners remain on both');

    x.removeListener('ee.one', f2);
    await x.flush();
    assert.deepEqual(x.listeners('ee.one'), [f1, f2, f1, f3]);
    assert.deepEqual(await server.subscriptions('emitter-subs'), ['ee.one'], 'the queue subscription went with its last listener');

    for (const f of [f1, f1, f2]) x.off('ee.one', f);
    await x.flush();
    assert.deepEqual(x.listeners('ee.one'), [f3]);
    assert.deepEqual(await server.subscriptions('emitter-subs'), ['ee.one']);
    x.off('ee.one', f3);
    await x.flush();
    assert.deepEqual(await server.subscriptions('emitter-subs'), [], 'the plain subscription went with its last listener');
    assert.equal(x.listenerCount('ee.one'), 0);
    assert.deepEqual(x.eventNames(), []);
  });

  it('subscribes and unsubscribes on the hub, as its subscribe/unsubscribe events and stats show', { skip: targetKind() === TargetKind.NATS_SERVER ? 'hub only: reads the hub\'s events and stats' : false }, async () => {
    const hub = server.hub!;
    const x = await bus('emitter-hubevents');
    const subs: string[] = [];
    const unsubs: string[] = [];
    const onSub = (e: { subject: string; client: { name: string | undefined } }): void => {
      if (e.client.name === 'emitter-hubevents') subs.push(e.subject);
    };
    const onUnsub = (e: { subject: string; client: { name: string | undefined } }): void => {
      if (e.client.name === 'emitter-hubevents') unsubs.push(e.subject);
    };
    hub.on('subscribe', onSub);
    hub.on('unsubscribe', onUnsub);
    try {
      const before = hub.stats().subscriptions;
      const fns = [(): void => {}, (): void => {}, (): void => {}];
      for (const f of fns) x.on('ee.hub', f);
      await x.flush();
      assert.deepEqual(subs, ['ee.hub']);
      assert.equal(hub.stats().subscriptions, before + 1);
      for (const f of fns) x.off('ee.hub', f);
      await x.flush();
      assert.deepEqual(unsubs, ['ee.hub']);
      assert.equal(hub.stats().subscriptions, before);
    } finally {
      hub.off('subscribe', onSub);
      hub.off('unsubscribe', onUnsub);
    }
  });

  it('once() runs once and drops its subscription', async () => {
    const x = await bus('emitter-once');
    const got: unknown[] = [];
    x.once('ee.once', (p) => got.push(p));
    await x.flush();
    a.emit('ee.once', 1);
    a.emit('ee.once', 2);
    await barrier(a, x);
    assert.deepEqual(got, [1]);
    assert.deepEqual(await server.subscriptions('emitter-once'), []);
  });

  it('off() stops delivery; removeAllListeners() with and without a subject', async () => {
    const x = await bus('emitter-off');
    const got: string[] = [];
    const f = (p: unknown): void => void got.push(`f:${String(p)}`);
    const g = (p: unknown): void => void got.push(`g:${String(p)}`);
    x.on('ee.off', f).on('ee.off', g).on('ee.off2', f).on('ee.off3', g, { queue: 'q' });
    await x.flush();
    a.emit('ee.off', 1);
    await barrier(a, x);
    x.off('ee.off', f);
    a.emit('ee.off', 2);
    await barrier(a, x);
    assert.deepEqual(got, ['f:1', 'g:1', 'g:2']);

    x.removeAllListeners('ee.off');
    assert.deepEqual(x.eventNames().sort(), ['ee.off2', 'ee.off3']);
    x.removeAllListeners();
    assert.deepEqual(x.eventNames(), []);
    a.emit('ee.off', 3);
    a.emit('ee.off2', 3);
    a.emit('ee.off3', 3);
    await barrier(a, x);
    assert.deepEqual(got, ['f:1', 'g:1', 'g:2']);
    assert.deepEqual(await server.subscriptions('emitter-off'), []);
  });

  it('prependListener() and prependOnceListener() run before earlier listeners', async () => {
    const x = await bus('emitter-prepend');
    const order: string[] = [];
    x.on('ee.prepend', () => void order.push('first-added'));
    x.prependListener('ee.prepend', () => void order.push('prepended'));
    x.prependOnceListener('ee.prepend', () => void order.push('prepended-once'));
    await x.flush();
    a.emit('ee.prepend');
    a.emit('ee.prepend');
    await barrier(a, x);
    assert.deepEqual(order, ['prepended-once', 'prepended', 'first-added', 'prepended', 'first-added']);
  });

  it('listenerCount(), listeners() and eventNames() reflect the local listeners', () => {
    const x = a;
    const f = (): void => {};
    x.on('ee.names.a', f).on('ee.names.a', f).on('ee.names.b', f, { queue: 'g' }).on('ee.names.*', f);
    assert.equal(x.listenerCount('ee.names.a'), 2);
    assert.equal(x.listenerCount('ee.names.b'), 1);
    assert.equal(x.listenerCount('ee.names.c'), 0);
    assert.deepEqual(x.listeners('ee.names.a'), [f, f]);
    const names = x.eventNames();
    for (const n of ['ee.names.a', 'ee.names.b', 'ee.names.*']) assert.ok(names.includes(n), n);
    for (const n of ['ee.names.a', 'ee.names.b', 'ee.names.*']) x.removeAllListeners(n);
    assert.ok(!x.eventNames().some((n) => n.startsWith('ee.names')));
  });

  it('works with events.once(bus, name)', async () => {
    const x = await bus('emitter-events-once');
    const p = once(x as never, 'ee.events.once');
    await x.flush();
    a.emit('ee.events.once', { n: 1 }, { headers: { 'X-Id': '7' } });
    const [payload, meta] = (await within(p, 5_000, 'events.once')) as [unknown, EventMeta];
    assert.deepEqual(payload, { n: 1 });
    assert.equal(meta.subject, 'ee.events.once');
    assert.equal(meta.headers?.get('x-id'), '7');
    await x.flush();
    assert.equal(x.listenerCount('ee.events.once'), 0);
    assert.ok(!(await server.subscriptions('emitter-events-once')).includes('ee.events.once'));
  });

  it('works with for await (const x of events.on(bus, name))', async () => {
    const x = await bus('emitter-events-on');
    const got: unknown[] = [];
    const reading = (async () => {
      for await (const [payload] of on(x as never, 'ee.events.on')) {
        got.push(payload);
        if (got.length === 3) break;
      }
    })();
    await x.flush();
    for (let i = 1; i <= 3; i++) a.emit('ee.events.on', i);
    await within(reading, 5_000, 'for await over events.on');
    assert.deepEqual(got, [1, 2, 3]);
    await x.flush();
    assert.equal(x.listenerCount('ee.events.on'), 0, 'leaving the loop removed the listener');
    assert.ok(!(await server.subscriptions('emitter-events-on')).includes('ee.events.on'));
  });

  it('does not call a listener added during dispatch for the current event (EventEmitter semantics)', async () => {
    const x = await bus('emitter-dispatch');
    const calls: string[] = [];
    let added = 0;
    const late = (p: unknown): void => void calls.push(`late:${String(p)}`);
    function first(p: unknown): void {
      calls.push(`first:${String(p)}`);
      if (added++ < 3) x.on('ee.dispatch', late);
    }
    x.on('ee.dispatch', first);
    await x.flush();
    a.emit('ee.dispatch', 1);
    await barrier(a, x);
    assert.deepEqual(calls, ['first:1']);

    // A listener that prepends another while it runs: the new one waits for the next event.
    const y = await bus('emitter-dispatch-prepend');
    const seen: string[] = [];
    let prepended = 0;
    function self(p: unknown): void {
      seen.push(`self:${String(p)}`);
      if (prepended++ < 5) y.prependListener('ee.dispatch2', (q: unknown) => void seen.push(`pre:${String(q)}`));
    }
    y.on('ee.dispatch2', self);
    await y.flush();
    a.emit('ee.dispatch2', 1);
    await barrier(a, y);
    assert.deepEqual(seen, ['self:1']);
  });

  it('gives wildcard listeners the concrete subject, and each listener the event once', async () => {
    const x = await bus('emitter-wild');
    const star = inbox(x, 'ticket.*');
    const tail = inbox(x, 'ticket.>');
    const exact = inbox(x, 'ticket.created');
    await x.flush();
    a.emit('ticket.created', { id: 1 });
    a.emit('ticket.eu.closed', { id: 2 });
    a.emit('other.created', { id: 3 });
    await barrier(a, x);
    assert.deepEqual(star.items.map((r) => [r.meta.subject, r.payload]), [['ticket.created', { id: 1 }]]);
    assert.deepEqual(tail.items.map((r) => [r.meta.subject, r.payload]), [
      ['ticket.created', { id: 1 }],
      ['ticket.eu.closed', { id: 2 }],
    ]);
    assert.deepEqual(exact.items.map((r) => r.meta.subject), ['ticket.created']);
    assert.deepEqual(await server.subscriptions('emitter-wild'), ['ticket.*', 'ticket.>', 'ticket.created'].sort());
  });

  it('delivers each event once per queue group across several buses', async () => {
    const workers = await Promise.all([bus('emitter-q1'), bus('emitter-q2'), bus('emitter-q3')]);
    const boxes = workers.map((w) => inbox<number>(w, 'jobs.q', { queue: 'workers' }));
    // A second group and a plain listener get every event.
    const audit = inbox<number>(workers[0]!, 'jobs.q', { queue: 'audit' });
    const plain = inbox<number>(workers[1]!, 'jobs.q');
    for (const w of workers) await w.flush();
    const n = 60;
    for (let i = 0; i < n; i++) a.emit('jobs.q', i);
    await barrier(a, ...workers);
    const handled = boxes.flatMap((box) => box.payloads).sort((p, q) => p - q);
    assert.deepEqual(handled, Array.from({ length: n }, (_, i) => i), 'every job handled exactly once by the group');
    assert.deepEqual(audit.payloads, Array.from({ length: n }, (_, i) => i));
    assert.deepEqual(plain.payloads, Array.from({ length: n }, (_, i) => i));
  });

  it('delivers a remote event named "error" or "close" like any other, without throwing', async () => {
    const x = await bus('emitter-error-event');
    const errors = inbox(x, 'error');
    const closes = inbox(x, 'close');
    const lifecycle: string[] = [];
    x.status.on('error', (e) => void lifecycle.push(`error:${e.message}`));
    x.status.on('close', () => void lifecycle.push('close'));
    await x.flush();
    a.emit('error', { reason: 'disk full' });
    a.emit('close', { door: 3 });
    await barrier(a, x);
    assert.deepEqual(errors.payloads, [{ reason: 'disk full' }]);
    assert.equal(errors.items[0]!.meta.subject, 'error');
    assert.deepEqual(closes.payloads, [{ door: 3 }]);
    assert.deepEqual(lifecycle, [], 'nothing on bus.status');
    assert.equal(x.isConnected, true);

    // Emitting "error" with no local listener publishes it; it does not throw like EventEmitter would.
    const y = await bus('emitter-error-nolistener');
    assert.equal(typeof y.emit('error', new Error('as data').message), 'boolean');
    await barrier(y, x);
    assert.deepEqual(errors.payloads, [{ reason: 'disk full' }, 'as data']);
  });

  it('reports a listener that throws on bus.status "error" and still calls the others', async () => {
    const x = await bus('emitter-throws');
    const got: unknown[] = [];
    x.on('ee.throws', () => {
      throw new Error('boom');
    });
    x.on('ee.throws', async () => {
      throw new Error('async boom');
    });
    x.on('ee.throws', (p) => void got.push(p));
    const errs: Error[] = [];
    x.status.on('error', (e) => void errs.push(e));
    await x.flush();
    a.emit('ee.throws', 'payload');
    await barrier(a, x);
    assert.deepEqual(got, ['payload']);
    assert.deepEqual(errs.map((e) => [(e as { code?: string }).code, e.message]).sort(), [
      ['ERR_NETEMITTER_LISTENER', 'a listener for "ee.throws" failed: async boom'],
      ['ERR_NETEMITTER_LISTENER', 'a listener for "ee.throws" failed: boom'],
    ]);
    assert.equal(x.isConnected, true);
  });

  it('refuses invalid subjects with InvalidSubjectError', () => {
    for (const s of ['a b', '', 'a..b', '.a', 'a.>.b']) {
      assert.throws(() => a.on(s, () => {}), (e: { code?: string }) => e.code === ErrorCode.INVALID_SUBJECT, `on(${JSON.stringify(s)})`);
    }
    for (const s of ['a.*', 'a.>', 'a b', '']) {
      assert.throws(() => a.emit(s, 1), (e: { code?: string }) => e.code === ErrorCode.INVALID_SUBJECT, `emit(${JSON.stringify(s)})`);
    }
    assert.throws(() => a.on('ok.subject', () => {}, { queue: 'bad queue' }), TypeError);
    assert.throws(() => a.on('ok.subject', 'nope' as never), TypeError);
  });
});
