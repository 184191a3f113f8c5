/**
 * The hub's JetStream layer from the hub's side: what only our hub does or
 * can show (off by default, one transaction per turn, state across a restart
 * on the same store, memory streams beside file streams). The JetStream API
 * itself, against the hub and nats-server alike, is in test/jetstream/.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { createHub, ConfigError, type Hub, type HubOptions } from '../../src/index.js';
import { MemoryStore, TooManyStreamsError, type Store } from '../../src/store/index.js';
import { rejection, within } from '../helpers/client.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-js-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const open: { hub: Hub; nc: NatsConnection }[] = [];
after(async () => {
  for (const { hub, nc } of open) {
    await nc.close().catch(() => {});
    await hub.close({ grace: 0 });
  }
});

async function start(opts: HubOptions): Promise<{ hub: Hub; nc: NatsConnection }> {
  const hub = createHub({ port: 0, ...opts });
  const [a] = await hub.listen();
  const nc = await connect({ servers: a!.url });
  const pair = { hub, nc };
  open.push(pair);
  return pair;
}

/**
 * A MemoryStore (or the store given) whose named methods run through a wrapper
 * (to count calls, or to stall one); `call` runs the real method with the
 * original arguments.
 */
function watchedStore(wrap: Partial<Record<keyof Store, (call: () => unknown) => unknown>>, store: Store = new MemoryStore()): Store {
  return new Proxy(store, {
    get(target, key) {
      const v = Reflect.get(target, key) as unknown;
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      const w = wrap[key as keyof Store];
      return w === undefined ? f : (...a: unknown[]) => w(() => f(...a));
    },
  });
}

async function stop(pair: { hub: Hub; nc: NatsConnection }): Promise<void> {
  await pair.nc.close();
  await pair.hub.close({ grace: 0 });
  open.splice(open.indexOf(pair), 1);
}

describe('JetStream in the hub', () => {
  it('is off unless asked for: clients are told JetStream is not enabled', async () => {
    const { nc, hub } = await start({});
    assert.equal(hub.jetstream, null);
    const err = await rejection(jetstreamManager(nc));
    assert.match(err.message, /jetstream is not enabled/i);
  });

  it('refuses bad options with a ConfigError', () => {
    assert.throws(() => createHub({ jetstream: { deadLetterPrefix: 'dlq.*' } }), ConfigError);
    assert.throws(() => createHub({ jetstream: 'yes' as never }), ConfigError);
    assert.throws(() => createHub({ jetstream: { store: { dir: '' } } }), ConfigError);
    for (const maxCommitBatch of [0, -1, 1.5, Number.NaN, '8' as never]) {
      assert.throws(() => createHub({ jetstream: { maxCommitBatch } }), ConfigError, String(maxCommitBatch));
    }
  });

  it('answers an unknown API subject with no responders at once (nats-server 2.9 leaves it unanswered until the timeout)', async () => {
    const { nc } = await start({ jetstream: true });
    const err = await rejection(nc.request('$JS.API.NOPE.X', '', { timeout: 2000 }));
    assert.match(err.message, /no responders/i);
  });

  it('applies what one read brings in one transaction', async () => {
    let commits = 0;
    let depth = 0;
    // Counts outermost transactions only: a nested one is part of its parent's commit.
    const counting = watchedStore({
      transaction: (call) => {
        if (depth === 0) commits++;
        depth++;
        try {
          return call();
        } finally {
          depth--;
        }
      },
    });
    const { nc } = await start({ jetstream: { store: counting } });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'B', subjects: ['b'] });
    const js = jetstream(nc);
    const before = commits;
    // 200 publishes written together reach the hub in a few reads.
    const acks = await within(Promise.all(Array.from({ length: 200 }, (_, i) => js.publish('b', `m${i}`))), 10_000, 'pub acks');
    assert.deepEqual(acks.map((a) => a.seq), Array.from({ length: 200 }, (_, i) => i + 1));
    assert.ok(commits - before >= 1 && commits - before <= 20, `200 publishes took ${commits - before} transactions`);
    assert.equal((await jsm.streams.info('B')).state.messages, 200);
  });

  it('answers a store that holds all the streams it can with JetStream\'s 10027', async () => {
    const full = watchedStore({
      createStream: (call) => {
        if (fullNow) throw new TooManyStreamsError(1);
        return call();
      },
    });
    let fullNow = false;
    const { nc } = await start({ jetstream: { store: full } });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'ONE', subjects: ['one'] });
    fullNow = true;
    const err = await rejection(jsm.streams.add({ name: 'TWO', subjects: ['two'] }));
    assert.match(err.message, /maximum number of streams reached/);
    assert.deepEqual(await jsm.streams.names().next(), ['ONE']);
  });

  it('stores what hub.publish() was given, even if the caller reuses its buffer at once', async () => {
    const { hub, nc } = await start({ jetstream: { store: { dir: tempDir() } } });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'P', subjects: ['p'] });
    const buf = Buffer.from('original');
    hub.publish('p', buf);
    buf.write('changed!');
    const m = await within(jsm.streams.getMessage('P', { seq: 1 }), 5000, 'stored message');
    assert.equal(m?.string(), 'original');
  });

  /** Publishes 200 messages at once through a hub with that maxCommitBatch; returns the appends of each transaction. */
  async function slicesOf(maxCommitBatch: number | undefined): Promise<number[]> {
    let depth = 0;
    let appends = 0;
    const slices: number[] = [];
    const counting = watchedStore({
      transaction: (call) => {
        if (depth++ === 0) appends = 0;
        try {
          return call();
        } finally {
          if (--depth === 0 && appends > 0) slices.push(appends);
        }
      },
      append: (call) => (appends++, call()),
    });
    const pair = await start({ jetstream: { store: counting, ...(maxCommitBatch === undefined ? {} : { maxCommitBatch }) } });
    try {
      const jsm = await jetstreamManager(pair.nc);
      await jsm.streams.add({ name: 'B', subjects: ['b'] });
      const js = jetstream(pair.nc);
      const acks = await within(Promise.all(Array.from({ length: 200 }, (_, i) => js.publish('b', `m${i}`))), 10_000, 'pub acks');
      assert.deepEqual(acks.map((a) => a.seq), Array.from({ length: 200 }, (_, i) => i + 1));
      assert.equal(slices.reduce((a, b) => a + b, 0), 200);
      return slices;
    } finally {
      await stop(pair);
    }
  }

  it('commits a large turn in slices of at most maxCommitBatch, each answered in order', async () => {
    const slices = await slicesOf(16);
    assert.ok(Math.max(...slices) <= 16, `slices of ${slices.join(', ')}`);
    assert.ok(slices.length >= 13);
  });

  it('commits a turn of more than 64 ops in two halves at least, however large maxCommitBatch is', async () => {
    const slices = await slicesOf(10_000);
    assert.ok(Math.max(...slices) <= 100, `slices of ${slices.join(', ')}`);
  });


  it('waits quietly with a redelivery due and nobody pulling', async () => {
    let lookups = 0;
    const count = (call: () => unknown): unknown => (lookups++, call());
    const counting = watchedStore({ dueAcks: count, nextDeadline: count });
    const { nc } = await start({ jetstream: { store: counting } });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'Q', subjects: ['q'] });
    await jsm.consumers.add('Q', { durable_name: 'd', ack_policy: AckPolicy.Explicit, ack_wait: 100_000_000 });
    const js = jetstream(nc);
    await js.publish('q', 'x');
    const c = await js.consumers.get('Q', 'd');
    assert.equal((await c.next({ expires: 2000 }))?.string(), 'x'); // never acked: due again 100 ms later
    const before = lookups;
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(lookups - before <= 4, `${lookups - before} deadline lookups in 1 s with nobody pulling`);
    const again = await c.next({ expires: 2000 });
    assert.equal(again?.info.deliveryCount, 2, 'the pull that comes gets it');
    again!.ack();
  });


  it('serves a waiting pull a redelivery whose deadline passed while the turn was running', async () => {
    // A busy machine can stall a turn between its "what is due" query and arming the ack timer. A
    // deadline that falls in between must still wake the consumer: the waiting pull gets the
    // redelivery instead of expiring empty. The store below makes that stall happen every time.
    let stall = false;
    const store = new MemoryStore();
    const stalling = watchedStore({
      dueAcks: (call) => {
        const due = call() as unknown[];
        if (stall && due.length === 0) {
          const next = Math.min(...store.pendingAcks('S', 'd').map((p) => p.deadlineMs));
          while (Number.isFinite(next) && Date.now() <= next + 1); // the turn is stalled past the deadline
        }
        return due;
      },
    }, store);
    const { nc } = await start({ jetstream: { store: stalling } });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'S', subjects: ['s'] });
    await jsm.consumers.add('S', { durable_name: 'd', ack_policy: AckPolicy.Explicit, ack_wait: 200_000_000 });
    const js = jetstream(nc);
    await js.publish('s', 'x');
    const c = await js.consumers.get('S', 'd');
    assert.equal((await c.next({ expires: 2000 }))?.string(), 'x'); // never acked: due again 200 ms later
    stall = true;
    const again = await c.next({ expires: 2000 }); // arrives before the deadline; the turn it starts stalls past it
    assert.equal(again?.info.deliveryCount, 2, 'the waiting pull gets the redelivery');
    again!.ack();
  });
  it('takes absurd durations from clients without flooding or failing (heartbeat, expires, nak delay, ack_wait)', async () => {
    const logged: unknown[] = [];
    const noop = (): void => {};
    const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: (...a: unknown[]) => void logged.push(a) };
    const { nc } = await start({ jetstream: { store: { dir: tempDir() } }, logger });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'L', subjects: ['l'] });
    await jsm.consumers.add('L', { durable_name: 'd', ack_policy: AckPolicy.Explicit, ack_wait: 9e15 }); // ~104 days
    const inbox = '_INBOX.absurd';
    const got: Msg[] = [];
    const sub = nc.subscribe(inbox, {
      callback: (_err, m) => {
        got.push(m);
      },
    });
    await nc.flush();
    // Past the longest timer delay (~24.8 days): Node would fire such a timer after 1 ms.
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.L.d', JSON.stringify({ batch: 1, idle_heartbeat: 3e18 }), { reply: inbox });
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.L.d', JSON.stringify({ batch: 1, expires: 9e18 }), { reply: inbox });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, 0, 'a heartbeat or an expiry fired at once');
    await jetstream(nc).publish('l', 'x');
    await within(
      (async () => {
        while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      2000,
      'the delivery',
    );
    const delivered = got[0]!;
    assert.equal(delivered.string(), 'x');
    // A NAK delay past any date is kept as "much later", not refused by the store.
    nc.publish(delivered.reply!, '-NAK {"delay":1e30}');
    await nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    const info = await jsm.consumers.info('L', 'd');
    assert.deepEqual([info.num_ack_pending, info.num_redelivered], [1, 0]);
    assert.deepEqual(logged, [], 'the hub logged no error');
    sub.unsubscribe();
  });

  it('keeps streams, consumers and ack state across a restart on the same store; ephemeral consumers and memory streams do not survive', async () => {
    const dir = tempDir();
    const first = await start({ jetstream: { store: { dir } } });
    let jsm = await jetstreamManager(first.nc);
    await jsm.streams.add({ name: 'F', subjects: ['f.>'] });
    await jsm.streams.add({ name: 'M', subjects: ['m'], storage: 'memory' as never });
    await jsm.consumers.add('F', { durable_name: 'd', ack_policy: AckPolicy.Explicit, ack_wait: 500_000_000 });
    await jsm.consumers.add('F', { name: 'eph', ack_policy: AckPolicy.Explicit });
    let js = jetstream(first.nc);
    await js.publish('f.1', 'one');
    await js.publish('f.2', 'two');
    await js.publish('m', 'mem');
    const c = await js.consumers.get('F', 'd');
    const m1 = await c.next({ expires: 2000 });
    assert.equal(await m1!.ackAck(), true);
    const m2 = await c.next({ expires: 2000 });
    assert.equal(m2!.string(), 'two'); // delivered, never acked
    await stop(first);

    const second = await start({ jetstream: { store: { dir } } });
    jsm = await jetstreamManager(second.nc);
    assert.deepEqual(await jsm.streams.names().next(), ['F']);
    assert.deepEqual((await jsm.consumers.list('F').next()).map((ci) => ci.name), ['d']);
    const info = await jsm.consumers.info('F', 'd');
    assert.deepEqual([info.ack_floor.stream_seq, info.num_ack_pending, info.delivered.stream_seq], [1, 1, 2]);
    js = jetstream(second.nc);
    // The unacked message comes back after its ack_wait, as a redelivery.
    const again = await (await js.consumers.get('F', 'd')).next({ expires: 3000 });
    assert.equal(again?.string(), 'two');
    assert.equal(again?.info.deliveryCount, 2);
    again!.ack();
  });
});
