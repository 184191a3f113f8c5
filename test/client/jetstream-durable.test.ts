/**
 * Durable listeners: bus.on(subject, handler, { durable }) binds a durable
 * pull consumer, delivers stored events, acknowledges on success, NAKs with
 * a delay on failure, terminates on TerminateError, shares work between
 * processes, stops on off(), finishes in-flight work on drain(), re-pulls
 * after a reconnect. Runs against NETEMITTER_TARGET with JetStream on; the
 * dead-letter subject is a hub feature (skipped on nats-server).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  connect,
  DurableListenerError,
  ErrorCode,
  NoStreamError,
  TerminateError,
  nanos,
  type Bus,
  type ConnectOptions,
  type DurableMeta,
} from '../../src/index.js';
import { startServer, skipInProcess, skipUnlessHub, type TestServer } from '../helpers/target.js';
import { TestProxy } from './helpers/proxy.js';
import { inbox, next, rejection, until, within, WAIT_MS } from './helpers/wait.js';

interface Got {
  payload: unknown;
  meta: DurableMeta;
}

/** A durable handler that records what it gets; `behave` decides each outcome. */
function recorder(behave: (payload: unknown, meta: DurableMeta) => unknown = () => {}) {
  const got: Got[] = [];
  const fn = async (payload: unknown, meta: DurableMeta): Promise<unknown> => {
    got.push({ payload, meta });
    return behave(payload, meta);
  };
  return { got, fn };
}

describe('durable listeners', () => {
  let server: TestServer;
  let admin: Bus;
  const buses: Bus[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];
  let n = 0;

  async function bus(opts: ConnectOptions = {}): Promise<Bus> {
    const b = await connect({ servers: server.url, name: `durable-${++n}`, ...opts });
    buses.push(b);
    // Listener failures are expected in some tests; keep them off process warnings.
    b.status.on('error', () => {});
    return b;
  }

  /** A fresh stream per test: its own subjects, so tests do not see each other's events. */
  async function stream(name: string): Promise<string> {
    await admin.streams.add({ name, subjects: [`${name.toLowerCase()}.>`] });
    return name.toLowerCase();
  }

  /** Waits until the consumer has nothing delivered and unacknowledged, and nothing left to deliver. */
  async function settled(streamName: string, durable: string): Promise<void> {
    await until(async () => {
      const i = await admin.consumers.info(streamName, durable);
      return i.num_ack_pending === 0 && i.num_pending === 0;
    }, `${streamName}/${durable} settled`);
  }

  before(async () => {
    server = await startServer({ jetstream: true });
    admin = await connect({ servers: server.url, name: 'durable-admin' });
  });

  after(async () => {
    for (const f of cleanup) await f();
    await Promise.all([admin, ...buses].map((b) => (b === undefined || b.isClosed ? undefined : b.close().catch(() => {}))));
    await server?.stop();
  });

  it('delivers events stored before it started, decoded, with their stream position', async () => {
    const s = await stream('D_BASIC');
    const first = await admin.publish(`${s}.created`, { id: 'T-1' }, { msgId: 'm-1' });
    await admin.publish(`${s}.created`, 'two');
    const b = await bus();
    const r = recorder();
    b.on(`${s}.created`, r.fn, { durable: 'billing' });
    await b.ready();
    await until(() => r.got.length === 2, 'two events');
    assert.deepEqual(r.got.map((g) => g.payload), [{ id: 'T-1' }, 'two']);
    const m = r.got[0]!.meta;
    assert.equal(m.subject, `${s}.created`);
    assert.equal(m.stream, 'D_BASIC');
    assert.equal(m.consumer, 'billing');
    assert.equal(m.seq, first.seq);
    assert.equal(m.deliveryCount, 1);
    assert.equal(m.redelivered, false);
    assert.equal(m.headers?.get('Nats-Msg-Id'), 'm-1');
    assert.equal(m.pending, 1);
    assert.ok(m.timestamp instanceof Date && m.timestamp.getTime() > 0);
    assert.equal(m.reply, undefined);
    assert.throws(() => m.respond('x'), TypeError);
    // Events published while it runs arrive too, and everything is acknowledged.
    await admin.publish(`${s}.created`, 3);
    await until(() => r.got.length === 3, 'the third event');
    await settled('D_BASIC', 'billing');
    const info = await admin.consumers.info('D_BASIC', 'billing');
    assert.equal(info.ack_floor.stream_seq, 3);
    assert.equal(info.config.ack_policy, 'explicit');
    assert.equal(info.config.filter_subject, `${s}.created`);
    assert.equal(b.listenerCount(`${s}.created`), 1);
    assert.deepEqual(b.eventNames(), [`${s}.created`]);
  });

  it('creates the consumer with the listener\'s options', async () => {
    const s = await stream('D_OPTS');
    const b = await bus();
    b.on(`${s}.*`, () => {}, { durable: 'opts', ackWait: 7_000, maxDeliver: 4, maxAckPending: 50, deliverPolicy: 'new' });
    b.on(`${s}.retry.*`, () => {}, { durable: 'opts-backoff', maxDeliver: 4, backoff: [1_000, 2_000] });
    await b.ready();
    const c = (await admin.consumers.info('D_OPTS', 'opts')).config;
    assert.equal(c.durable_name, 'opts');
    assert.equal(c.ack_policy, 'explicit');
    assert.equal(c.ack_wait, nanos(7_000));
    assert.equal(c.max_deliver, 4);
    assert.equal(c.max_ack_pending, 50);
    assert.equal(c.deliver_policy, 'new');
    assert.deepEqual((await admin.consumers.info('D_OPTS', 'opts-backoff')).config.backoff, [nanos(1_000), nanos(2_000)]);
    assert.equal(c.filter_subject, `${s}.*`);
  });

  it('redelivers after a failed handler, with the NAK delay for that delivery', async () => {
    const s = await stream('D_NAK');
    const b = await bus();
    const delays: number[] = [];
    const r = recorder((_p, m) => {
      if (m.deliveryCount < 3) throw new Error(`attempt ${m.deliveryCount} fails`);
    });
    const failures: Error[] = [];
    b.status.on('error', (e) => failures.push(e));
    b.on(`${s}.job`, r.fn, { durable: 'retry', nakDelay: (count) => (delays.push(count), 50) });
    await admin.publish(`${s}.job`, { n: 1 });
    await until(() => r.got.length === 3, 'three deliveries');
    assert.deepEqual(r.got.map((g) => [g.meta.deliveryCount, g.meta.redelivered]), [[1, false], [2, true], [3, true]]);
    assert.deepEqual(r.got.map((g) => g.payload), [{ n: 1 }, { n: 1 }, { n: 1 }]);
    assert.deepEqual(delays, [1, 2]);
    assert.equal(failures.filter((e) => (e as { code?: string }).code === 'ERR_NETEMITTER_LISTENER').length, 2);
    await settled('D_NAK', 'retry');
  });

  it('stops redelivering after maxDeliver', async () => {
    const s = await stream('D_MAX');
    const b = await bus();
    const r = recorder(() => {
      throw new Error('always');
    });
    b.on(`${s}.job`, r.fn, { durable: 'max', maxDeliver: 2, nakDelay: () => 10 });
    await admin.publish(`${s}.job`, 1);
    await until(() => r.got.length >= 2, 'two deliveries');
    await settled('D_MAX', 'max');
    // A later event still flows, and the exhausted one did not come back before it.
    await admin.publish(`${s}.job`, 2);
    await until(() => r.got.some((g) => g.payload === 2), 'the later event');
    assert.deepEqual(r.got.filter((g) => g.payload === 1).map((g) => g.meta.deliveryCount), [1, 2]);
  });

  it('terminates an event when the handler throws TerminateError', async () => {
    const s = await stream('D_TERM');
    const b = await bus();
    const failures: Error[] = [];
    b.status.on('error', (e) => failures.push(e));
    const r = recorder((p) => {
      if (p === 'poison') throw new TerminateError('cannot parse');
    });
    b.on(`${s}.job`, r.fn, { durable: 'term', nakDelay: () => 0 });
    await admin.publish(`${s}.job`, 'poison');
    await admin.publish(`${s}.job`, 'fine');
    await until(() => r.got.length === 2, 'both events');
    await settled('D_TERM', 'term');
    const info = await admin.consumers.info('D_TERM', 'term');
    assert.equal(info.num_redelivered, 0);
    assert.deepEqual(r.got.map((g) => g.payload), ['poison', 'fine']);
    assert.deepEqual(failures, [], 'a deliberate termination is not reported as a failure');
  });

  it('lets the handler settle by hand with meta.nak() and meta.ack()', async () => {
    const s = await stream('D_MANUAL');
    const b = await bus();
    const r = recorder((_p, m) => {
      if (m.deliveryCount === 1) m.nak(10);
      else m.ack();
      return 'ignored';
    });
    b.on(`${s}.job`, r.fn, { durable: 'manual' });
    await admin.publish(`${s}.job`, 1);
    await until(() => r.got.length === 2, 'the redelivery');
    await settled('D_MANUAL', 'manual');
  });

  it('shares events between listeners of the same durable, each event handled once', async () => {
    const s = await stream('D_SHARE');
    const a = await bus();
    const b = await bus();
    const ra = recorder();
    const rb = recorder();
    a.on(`${s}.job`, ra.fn, { durable: 'pool', batch: 2 });
    b.on(`${s}.job`, rb.fn, { durable: 'pool', batch: 2 });
    await Promise.all([a.ready(), b.ready()]);
    for (let i = 0; i < 20; i++) await admin.publish(`${s}.job`, i);
    await until(() => ra.got.length + rb.got.length === 20, '20 events across both');
    await settled('D_SHARE', 'pool');
    const all = [...ra.got, ...rb.got].map((g) => g.payload as number).sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 20 }, (_, i) => i));
  });

  it('handles one event at a time, in stream order, by default', async () => {
    const s = await stream('D_ORDER');
    const b = await bus();
    let running = 0;
    let most = 0;
    const r = recorder(async () => {
      most = Math.max(most, ++running);
      await new Promise((res) => setImmediate(res));
      running--;
    });
    for (let i = 0; i < 15; i++) await admin.publish(`${s}.job`, i);
    b.on(`${s}.job`, r.fn, { durable: 'ordered', batch: 5 });
    await until(() => r.got.length === 15, '15 events');
    assert.deepEqual(r.got.map((g) => g.payload), Array.from({ length: 15 }, (_, i) => i));
    assert.equal(most, 1);
  });

  it('passes the raw bytes with raw: true', async () => {
    const s = await stream('D_RAW');
    const b = await bus();
    const r = recorder();
    b.on(`${s}.bin`, r.fn, { durable: 'raw', raw: true, ackAck: false });
    await admin.publish(`${s}.bin`, { a: 1 });
    await until(() => r.got.length === 1, 'the event');
    assert.ok(Buffer.isBuffer(r.got[0]!.payload));
    assert.equal((r.got[0]!.payload as Buffer).toString(), '{"a":1}');
    await settled('D_RAW', 'raw'); // acknowledged without waiting for the server's confirmation
  });

  it('stops pulling on off(); the consumer keeps the events for the next listener', async () => {
    const s = await stream('D_OFF');
    const b = await bus();
    const r = recorder();
    b.on(`${s}.job`, r.fn, { durable: 'offable' });
    await admin.publish(`${s}.job`, 1);
    await until(() => r.got.length === 1, 'the first event');
    await settled('D_OFF', 'offable');
    b.off(`${s}.job`, r.fn);
    assert.equal(b.listenerCount(`${s}.job`), 0);
    await b.flush();
    await admin.publish(`${s}.job`, 2);
    await until(async () => (await admin.consumers.info('D_OFF', 'offable')).num_pending === 1, 'the event waits in the stream');
    assert.equal(r.got.length, 1);
    const again = recorder();
    b.on(`${s}.job`, again.fn, { durable: 'offable' });
    await until(() => again.got.length === 1, 'the waiting event');
    assert.equal(again.got[0]!.payload, 2);
  });

  it('reports a missing stream, then binds once the stream exists', async () => {
    const b = await bus();
    const errors: Error[] = [];
    b.status.on('error', (e) => errors.push(e));
    const r = recorder();
    b.on('late.job', r.fn, { durable: 'late' });
    const err = await rejection(b.ready());
    assert.ok(err instanceof DurableListenerError);
    assert.equal(err.code, ErrorCode.DURABLE);
    assert.equal(err.durable, 'late');
    assert.equal(err.subject, 'late.job');
    assert.ok(err.cause instanceof NoStreamError);
    assert.ok(errors.some((e) => e instanceof DurableListenerError));
    await admin.streams.add({ name: 'D_LATE', subjects: ['late.>'] });
    await admin.publish('late.job', 'finally');
    await until(() => r.got.length === 1, 'the event after the stream appeared', 10_000);
  });

  it('rejects options that cannot work, at the call site', async () => {
    const b = await bus();
    assert.throws(() => b.on('x.y', () => {}, { durable: 'a.b' }), TypeError);
    assert.throws(() => b.on('x.y', () => {}, { durable: 'ok', batch: 0 }), TypeError);
    assert.throws(() => b.on('x.y', () => {}, { durable: 'ok', expires: 10 }), TypeError);
    assert.throws(() => b.once('x.y', () => {}, { durable: 'ok' } as never), TypeError);
    assert.throws(() => b.on('x.y', () => {}, { durable: 'ok', queue: 'q' } as never), TypeError);
    assert.equal(b.listenerCount('x.y'), 0);
    b.on('x.y', () => {}, { durable: 'one' });
    assert.throws(() => b.on('x.z', () => {}, { durable: 'one' }), /already listens on "x\.y"/);
    b.removeAllListeners('x.y');
    assert.equal(b.listenerCount('x.y'), 0);
  });

  it('drain() lets a running handler finish and acknowledges it before closing', async () => {
    const s = await stream('D_DRAIN');
    const b = await bus();
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const r = recorder(() => gate);
    b.on(`${s}.job`, r.fn, { durable: 'drainer' });
    await admin.publish(`${s}.job`, 1);
    await until(() => r.got.length === 1, 'the event in the handler');
    const drained = b.drain();
    await new Promise((res) => setImmediate(res));
    assert.equal(b.isClosed, false);
    release();
    await within(drained, WAIT_MS, 'drain');
    assert.equal(b.isClosed, true);
    const info = await admin.consumers.info('D_DRAIN', 'drainer');
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.ack_floor.stream_seq, 1);
  });

  it('keeps listening while pulls expire and are renewed', async () => {
    const s = await stream('D_EXPIRE');
    const b = await bus();
    const r = recorder();
    b.on(`${s}.job`, r.fn, { durable: 'exp', expires: 1_000 });
    await b.ready();
    await sleep(2_500); // two pulls end with 408 Request Timeout (after 500 ms heartbeats) and are renewed
    await admin.publish(`${s}.job`, 'late');
    await until(() => r.got.length === 1, 'the event after expired pulls');
    assert.equal(r.got[0]!.payload, 'late');
  });

  it('pulls again after a reconnect', { skip: skipInProcess('a TCP proxy between client and server cuts the connection') }, async () => {
    const s = await stream('D_RECONNECT');
    const proxy = await TestProxy.start({ host: server.host, port: server.port });
    cleanup.push(() => proxy.close());
    const b = await bus({ servers: proxy.url, reconnect: { initialDelay: 20, maxDelay: 50, jitter: 0 } });
    const r = recorder();
    b.on(`${s}.job`, r.fn, { durable: 'rc', expires: 30_000 });
    await b.ready();
    await admin.publish(`${s}.job`, 'before');
    await until(() => r.got.length === 1, 'the event before the drop');
    // Its ack must reach the server before the drop: an ack lost with the connection is redelivered only after
    // ack_wait (30 s), and this test is about the pull after the reconnect.
    await settled('D_RECONNECT', 'rc');
    const reconnected = next(b.status, 'reconnect');
    proxy.drop();
    await reconnected;
    await admin.publish(`${s}.job`, 'after');
    await until(() => r.got.length === 2, 'the event after the reconnect');
    assert.equal(r.got[1]!.payload, 'after');
    await settled('D_RECONNECT', 'rc');
  });

  describe('dead letters (a netemitter hub feature)', () => {
    it('moves an event that exhausted maxDeliver to dlq.<stream>.<durable>', { skip: skipUnlessHub('nats-server has no dead-letter queue') }, async () => {
      const s = await stream('D_DLQ');
      const b = await bus();
      const dead = inbox(admin, 'dlq.D_DLQ.dl');
      await admin.flush();
      b.on(`${s}.job`, () => {
        throw new Error('never works');
      }, { durable: 'dl', maxDeliver: 2, nakDelay: () => 10 });
      await admin.publish(`${s}.job`, { id: 'lost' });
      const [item] = await dead.atLeast(1, 'the dead letter');
      assert.deepEqual(item!.payload, { id: 'lost' });
    });

    it('sends terminated events to the deadLetter subject given', { skip: skipUnlessHub('nats-server has no dead-letter queue') }, async () => {
      const s = await stream('D_DLQ2');
      const b = await bus();
      const dead = inbox(admin, 'poison.d_dlq2');
      await admin.flush();
      b.on(`${s}.job`, () => {
        throw new TerminateError('bad input');
      }, { durable: 'dl2', deadLetter: 'poison.d_dlq2' });
      await admin.publish(`${s}.job`, 'bad');
      const [item] = await dead.atLeast(1, 'the dead letter');
      assert.equal(item!.payload, 'bad');
      const c = (await admin.consumers.info('D_DLQ2', 'dl2')).config;
      assert.deepEqual(c.metadata, { dead_letter_subject: 'poison.d_dlq2' });
    });
  });
});
