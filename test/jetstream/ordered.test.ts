/**
 * Ordered push consumers as the official clients make them: @nats-io/jetstream's
 * ordered push consumer (ack none, max_deliver 1, flow control, idle heartbeat,
 * num_replicas 1), its re-creation at a start sequence after a gap (the echoed
 * config sent back with a new name and deliver subject), and what @nats-io/kv
 * builds on it: watch (initial values, then updates), keys and history.
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createInbox, type Msg } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KvEntry } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { filledStream, ns, startJetStream, type JsContext } from '../helpers/jetstream.js';
import { within } from '../helpers/client.js';
import { skipUnlessHub } from '../helpers/target.js';

/**
 * Reads an async iterable in one loop (the clients' iterators take one
 * reader), so a test can wait for the first `n` items more than once.
 */
class Reader<T> {
  readonly got: T[] = [];
  private wake: () => void = () => {};

  constructor(it: AsyncIterable<T>) {
    void (async () => {
      for await (const x of it) {
        this.got.push(x);
        this.wake();
      }
    })();
  }

  /** The first `n` items, once they are there (or fails after timeoutMs). */
  async upTo(n: number, what: string, timeoutMs = 5_000): Promise<T[]> {
    await within(
      new Promise<void>((resolve) => {
        this.wake = () => {
          if (this.got.length >= n) resolve();
        };
        this.wake();
      }),
      timeoutMs,
      what,
    );
    return this.got.slice(0, n);
  }
}

describe('ordered consumers', { timeout: 60_000 }, () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  const stream = (prefix: string, n: number): Promise<string> => filledStream(ctx, prefix, n);

  it('the client creates it with ack none, max_deliver 1, flow control and heartbeats; it reads in order, then new messages', async () => {
    const name = await stream('ORD', 3);
    const oc = await ctx.js.consumers.getPushConsumer(name);
    const info = await oc.info(true);
    const cfg = info.config;
    assert.deepEqual(
      [cfg.ack_policy, cfg.max_deliver, cfg.flow_control, cfg.idle_heartbeat, cfg.num_replicas, cfg.deliver_policy, cfg.filter_subject],
      [AckPolicy.None, 1, true, ns(30_000), 1, DeliverPolicy.All, '>'],
    );
    assert.equal(cfg.inactive_threshold, ns(300_000));
    assert.equal(cfg.max_waiting, undefined);
    assert.equal(info.num_pending, 3);
    const got: JsMsg[] = [];
    let wake: () => void = () => {};
    const msgs = await oc.consume({
      callback: (m) => {
        got.push(m);
        wake();
      },
    });
    const upTo = (n: number): Promise<void> =>
      within(
        new Promise<void>((resolve) => {
          wake = () => got.length >= n && resolve();
          wake();
        }),
        5_000,
        `${n} ordered messages`,
      );
    await upTo(3);
    assert.deepEqual(
      got.map((m) => [m.string(), m.seq, m.info.deliverySequence, m.info.pending]),
      [
        ['m1', 1, 1, 2],
        ['m2', 2, 2, 1],
        ['m3', 3, 3, 0],
      ],
    );
    await ctx.js.publish(`${name}.y`, 'm4');
    await upTo(4);
    const m4 = got[3]!;
    assert.deepEqual([m4.subject, m4.seq, m4.info.deliverySequence, m4.info.pending], [`${name}.y`, 4, 4, 0]);
    msgs.stop();
  });

  it('re-created at a start sequence from its echoed config, as the client does after a gap', async () => {
    const name = await stream('RECREATE', 5);
    const first = await ctx.jsm.consumers.add(name, {
      name: 'oc_1',
      deliver_subject: createInbox(),
      ack_policy: AckPolicy.None,
      max_deliver: 1,
      flow_control: true,
      idle_heartbeat: ns(30_000),
      num_replicas: 1,
      mem_storage: true,
      inactive_threshold: ns(300_000),
      filter_subject: '>',
    } as Partial<ConsumerConfig>);
    assert.equal((first.config as ConsumerConfig & { mem_storage?: boolean }).mem_storage, true);
    await ctx.jsm.consumers.delete(name, 'oc_1');
    // What the client sends back: the echo, with a new name, deliver subject and start.
    const subject = createInbox();
    const got: Msg[] = [];
    let seen: () => void = () => {};
    const three = new Promise<void>((resolve) => (seen = resolve));
    const sub = ctx.nc.subscribe(subject, {
      callback: (_e, m) => {
        if (m.headers?.code) return;
        got.push(m);
        if (got.length === 3) seen();
      },
    });
    await ctx.nc.flush();
    const again = await ctx.jsm.consumers.add(name, {
      ...first.config,
      name: 'oc_2',
      deliver_subject: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 3,
    });
    assert.deepEqual([again.config.deliver_policy, again.config.opt_start_seq, again.num_pending], [DeliverPolicy.StartSequence, 3, 3]);
    await within(three, 5_000, 'three messages from seq 3');
    // Consumer seqs start again at 1; stream seqs from 3.
    assert.deepEqual(
      got.map((m) => m.reply!.split('.').slice(5, 7).map(Number)),
      [
        [3, 1],
        [4, 2],
        [5, 3],
      ],
    );
    sub.unsubscribe();
    await ctx.jsm.consumers.delete(name, 'oc_2');
  });

  it('several filter subjects (2.10)', { skip: skipUnlessHub('filter_subjects needs nats-server 2.10; the reference here is 2.9.10') }, async () => {
    const name = ctx.unique('FILTERS');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    for (const s of ['a', 'b', 'c', 'a']) await ctx.js.publish(`${name}.${s}`, s);
    const oc = await ctx.js.consumers.getPushConsumer(name, { filter_subjects: [`${name}.a`, `${name}.c`] });
    assert.equal((await oc.info(true)).num_pending, 3);
    const msgs = await oc.consume();
    const got = await new Reader(msgs).upTo(3, 'filtered messages');
    assert.deepEqual(got.map((m) => [m.seq, m.info.pending]), [
      [1, 2],
      [3, 1],
      [4, 0],
    ]);
    msgs.stop();
  });

  describe('key-value (@nats-io/kv)', () => {
    async function bucket(prefix: string, history = 1) {
      const kvm = new Kvm(ctx.nc);
      return kvm.create(ctx.unique(prefix), { history });
    }

    it('watch: the newest value of each key, then updates', async () => {
      const kv = await bucket('watch');
      await kv.put('a', 'a1');
      await kv.put('b', 'b1');
      await kv.put('a', 'a2');
      const w = await kv.watch();
      const r = new Reader(w);
      const initial = await r.upTo(2, 'initial values');
      assert.deepEqual(
        initial.map((e: KvEntry) => [e.key, e.string(), e.revision, e.delta]),
        [
          ['b', 'b1', 2, 1],
          ['a', 'a2', 3, 0],
        ],
      );
      await kv.put('c', 'c1');
      await kv.delete('b');
      const updates = (await r.upTo(4, 'updates')).slice(2);
      assert.deepEqual(
        updates.map((e: KvEntry) => [e.key, e.operation, e.revision]),
        [
          ['c', 'PUT', 4],
          ['b', 'DEL', 5],
        ],
      );
      w.stop();
    });

    it('keys and history', async () => {
      const kv = await bucket('keys', 5);
      await kv.put('x', '1');
      await kv.put('y', '1');
      await kv.put('x', '2');
      await kv.put('z', '1');
      await kv.delete('z');
      const keys: string[] = [];
      for await (const k of await kv.keys()) keys.push(k);
      assert.deepEqual(keys.sort(), ['x', 'y']);
      const hist: KvEntry[] = [];
      for await (const e of await kv.history({ key: 'x' })) hist.push(e);
      assert.deepEqual(hist.map((e) => [e.string(), e.revision]), [
        ['1', 1],
        ['2', 3],
      ]);
    });

    it('watch on an empty bucket sees only updates', async () => {
      const kv = await bucket('empty');
      const w = await kv.watch();
      const r = new Reader(w);
      await kv.put('k', 'v');
      const [e] = await r.upTo(1, 'the first update');
      assert.deepEqual([e!.key, e!.string(), e!.revision], ['k', 'v', 1]);
      w.stop();
    });
  });

  describe('object store (@nats-io/obj)', () => {
    it('a 3 MB object comes back whole through an ordered consumer with flow control; list and info', async () => {
      const os = await new Objm(ctx.nc).create(ctx.unique('objects'));
      // More than the first flow-control window (2 MiB): the client must answer a request for the rest to come.
      const data = new Uint8Array(3 * 1024 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
      const info = await os.putBlob({ name: 'big' }, data);
      assert.equal(info.size, data.length);
      await os.putBlob({ name: 'small' }, new TextEncoder().encode('hi'));
      const got = await within(os.getBlob('big'), 20_000, 'the object back');
      assert.ok(got !== null);
      assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(data)), 0);
      const names = (await os.list()).map((e) => e.name).sort();
      assert.deepEqual(names, ['big', 'small']);
    });
  });
});
