/**
 * Pull consumer management with the official client
 * (`jetstreamManager().consumers`, `jetstream().consumers.get`): create with
 * server-filled defaults (the client picks `CONSUMER.CREATE.<stream>.<name>`
 * or `….<name>.<filter>` by itself), info counters, list, delete, the
 * not-found errors, deliver policies and subject filters.
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type ConsumerInfo } from '@nats-io/jetstream';
import { differs } from '../helpers/target.js';
import { assertApiError, drain, ns, publishAll, seqs, startJetStream, type JsContext } from '../helpers/jetstream.js';

/** The defaults nats-server 2.9.10 fills into a pull consumer's config. */
const CONSUMER_DEFAULTS = {
  deliver_policy: 'all',
  ack_policy: 'explicit',
  ack_wait: 30_000_000_000, // 30 s in ns
  max_deliver: -1,
  replay_policy: 'instant',
  max_waiting: 512,
  max_ack_pending: 1000,
  num_replicas: 0,
} as const;

const consumerNotFound = { status: 404, code: 10014, description: 'consumer not found', name: 'ConsumerNotFoundError' };
const streamNotFound = { status: 404, code: 10059, description: 'stream not found', name: 'StreamNotFoundError' };

describe('consumers', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  /** A stream `<name>` on `<name>.>` holding the given messages on `<name>.<subject>`. */
  async function stream(prefix: string, msgs: [subject: string, data: string][] = []): Promise<string> {
    const name = ctx.unique(prefix);
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    for (const [s, d] of msgs) await ctx.js.publish(`${name}.${s}`, d);
    return name;
  }

  async function add(name: string, cfg: Partial<ConsumerConfig>): Promise<ConsumerInfo> {
    return ctx.jsm.consumers.add(name, { ack_policy: AckPolicy.Explicit, ...cfg });
  }

  it('add answers with the full config, defaults filled in, and zero counters', async () => {
    const name = await stream('CADD', [['a', '1'], ['b', '2'], ['a', '3']]);
    const before = Date.now();
    const ci = await add(name, { durable_name: 'worker' });
    assert.equal(ci.stream_name, name);
    assert.equal(ci.name, 'worker');
    const config = ci.config as unknown as Record<string, unknown>;
    assert.equal(config.durable_name, 'worker');
    assert.equal(config.name, 'worker');
    for (const [k, v] of Object.entries(CONSUMER_DEFAULTS)) assert.deepEqual(config[k], v, `config.${k}`);
    // A pull consumer: the key must be absent, not "" (the client checks its type).
    assert.equal('deliver_subject' in config, false);
    assert.equal('filter_subject' in config, false);
    assert.ok(Math.abs(Date.parse(ci.created) - before) < 10_000, `created ${ci.created}`);
    assert.deepEqual(ci.delivered, { consumer_seq: 0, stream_seq: 0 });
    assert.deepEqual(ci.ack_floor, { consumer_seq: 0, stream_seq: 0 });
    assert.equal(ci.num_ack_pending, 0);
    assert.equal(ci.num_redelivered, 0);
    assert.equal(ci.num_waiting, 0);
    assert.equal(ci.num_pending, 3);
    assert.equal((await ctx.jsm.streams.info(name)).state.consumer_count, 1);
  });

  it('add with the same config again returns the existing consumer', async () => {
    const name = await stream('CSAME', [['a', '1']]);
    const a = await add(name, { durable_name: 'w' });
    const b = await add(name, { durable_name: 'w' });
    assert.equal(b.created, a.created);
    assert.equal((await ctx.jsm.streams.info(name)).state.consumer_count, 1);
  });

  it('add with the same name and a different config', async () => {
    const name = await stream('CDIFF', [['a', '1']]);
    await add(name, { durable_name: 'w' });
    const outcome = await add(name, { durable_name: 'w', ack_wait: ns(5_000) }).then(
      (ci) => `updated: ack_wait ${ci.config.ack_wait}`,
      (err: Error & { apiError?: () => { code: number; err_code: number; description: string } }) => {
        const api = err.apiError?.();
        return api === undefined ? err.message : `${api.code}/${api.err_code} ${api.description}`;
      },
    );
    assert.equal(
      outcome,
      differs({
        natsServer: `updated: ack_wait ${ns(5_000)}`,
        hub: '400/10148 consumer already exists',
        why:
          'nats.js sends action "create"; nats-server 2.9.10 predates actions and updates the consumer, ' +
          'servers from 2.10 (which the hub advertises) refuse with 10148',
      }),
    );
  });

  it('update changes ack_wait and keeps the delivery state; updating a missing consumer fails with 10014', async () => {
    const name = await stream('CUPD', [['a', '1'], ['a', '2']]);
    const created = await add(name, { durable_name: 'w' });
    const c = await ctx.js.consumers.get(name, 'w');
    const m = await c.next({ expires: 2_000 });
    assert.equal(await m!.ackAck(), true);
    const ci = await ctx.jsm.consumers.update(name, 'w', { ack_wait: ns(5_000), max_ack_pending: 50 });
    assert.equal(ci.config.ack_wait, ns(5_000));
    assert.equal(ci.config.max_ack_pending, 50);
    assert.equal(ci.created, created.created);
    assert.deepEqual([ci.delivered.stream_seq, ci.ack_floor.stream_seq, ci.num_pending], [1, 1, 1]);
    await assertApiError(ctx.jsm.consumers.update(name, 'missing', { ack_wait: ns(5_000) }), consumerNotFound);
  });

  it('add with a filter subject (the CREATE subject with the filter appended) echoes it and counts only matches', async () => {
    const name = await stream('CFILT', [['a', '1'], ['b', '2'], ['a', '3'], ['c.d', '4']]);
    const ci = await add(name, { durable_name: 'only-a', filter_subject: `${name}.a` });
    assert.equal(ci.config.filter_subject, `${name}.a`);
    assert.equal(ci.num_pending, 2);
    const wild = await add(name, { durable_name: 'wild', filter_subject: `${name}.c.*` });
    assert.equal(wild.num_pending, 1);

    const c = await ctx.js.consumers.get(name, 'only-a');
    const got = await drain(await c.fetch({ max_messages: 2, expires: 2_000 }));
    assert.deepEqual(seqs(got), [1, 3]);
    assert.deepEqual(
      got.map((m) => m.subject),
      [`${name}.a`, `${name}.a`],
    );
    for (const m of got) m.ack();
  });

  it('add on a missing stream fails with 10059', async () => {
    await assertApiError(add(ctx.unique('NOSTREAM'), { durable_name: 'w' }), streamNotFound);
  });

  it('info tracks delivered, ack floor, ack pending and pending', async () => {
    const name = await stream('CINFO', [['a', '1'], ['a', '2'], ['a', '3']]);
    await add(name, { durable_name: 'w' });
    const c = await ctx.js.consumers.get(name, 'w');
    const got = await drain(await c.fetch({ max_messages: 2, expires: 2_000 }));
    assert.deepEqual(seqs(got), [1, 2]);

    let ci = await c.info();
    assert.equal(ci.delivered.consumer_seq, 2);
    assert.equal(ci.delivered.stream_seq, 2);
    assert.equal(ci.ack_floor.consumer_seq, 0);
    assert.equal(ci.ack_floor.stream_seq, 0);
    assert.equal(ci.num_ack_pending, 2);
    assert.equal(ci.num_pending, 1);

    // Acking the second first does not move the floor past the unacked first.
    assert.equal(await got[1]!.ackAck(), true);
    ci = await c.info();
    assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq, ci.num_ack_pending], [0, 0, 1]);

    assert.equal(await got[0]!.ackAck(), true);
    ci = await c.info();
    assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq, ci.num_ack_pending], [2, 2, 0]);
    assert.equal(ci.num_pending, 1);
    assert.equal(ci.num_redelivered, 0);

    await ctx.js.publish(`${name}.a`, '4');
    assert.equal((await c.info()).num_pending, 2, 'a new message adds to pending');
  });

  it('info: delivered.last_active is the time of the last delivery, ack_floor.last_active of the last ack, absent before', async () => {
    const name = await stream('CLAST', [['a', '1'], ['a', '2'], ['a', '3']]);
    await add(name, { durable_name: 'w' });
    const c = await ctx.js.consumers.get(name, 'w');
    // The official client types last_active as Nanos; the servers send an RFC 3339 string.
    const last = (s: { last_active?: unknown }): string | undefined => s.last_active as string | undefined;
    let ci = await c.info();
    assert.equal(last(ci.delivered), undefined, 'no delivery yet');
    assert.equal(last(ci.ack_floor), undefined, 'no ack yet');

    /** An RFC 3339 time (UTC, up to nanoseconds) within [from, to] milliseconds. */
    const within = (ts: string | undefined, from: number, to: number, what: string): number => {
      assert.match(ts ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/, what);
      const t = Date.parse(ts!);
      assert.ok(t >= from && t <= to, `${what}: ${ts} not within ${new Date(from).toISOString()} … ${new Date(to).toISOString()}`);
      return t;
    };
    const beforeFetch = Date.now();
    const got = await drain(await c.fetch({ max_messages: 2, expires: 2_000 }));
    assert.deepEqual(seqs(got), [1, 2]);
    ci = await c.info();
    const delivered = within(last(ci.delivered), beforeFetch, Date.now(), 'delivered.last_active');
    assert.equal(last(ci.ack_floor), undefined, 'delivered, not acked');

    // An ack that does not move the floor (the first is still pending) is an ack all the same.
    const beforeAck = Date.now();
    assert.equal(await got[1]!.ackAck(), true);
    ci = await c.info();
    assert.equal(ci.ack_floor.stream_seq, 0);
    within(last(ci.ack_floor), beforeAck, Date.now(), 'ack_floor.last_active');
    assert.equal(Date.parse(last(ci.delivered)!), delivered, 'an ack is not a delivery');
  });

  it('list returns every consumer of the stream', async () => {
    const name = await stream('CLIST');
    await add(name, { durable_name: 'one' });
    await add(name, { durable_name: 'two', filter_subject: `${name}.two` });
    const listed: ConsumerInfo[] = [];
    for await (const ci of ctx.jsm.consumers.list(name)) listed.push(ci);
    assert.deepEqual(listed.map((ci) => ci.name).sort(), ['one', 'two']);
    assert.equal(listed.find((ci) => ci.name === 'two')?.config.filter_subject, `${name}.two`);
    assert.ok(listed.every((ci) => ci.stream_name === name));
  });

  it('delete removes the consumer; info, get and delete again fail with 10014', async () => {
    const name = await stream('CDEL', [['a', '1']]);
    await add(name, { durable_name: 'gone' });
    assert.equal(await ctx.jsm.consumers.delete(name, 'gone'), true);
    await assertApiError(ctx.jsm.consumers.info(name, 'gone'), consumerNotFound);
    await assertApiError(ctx.js.consumers.get(name, 'gone'), consumerNotFound);
    await assertApiError(ctx.jsm.consumers.delete(name, 'gone'), consumerNotFound);
    assert.equal((await ctx.jsm.streams.info(name)).state.consumer_count, 0);
  });

  it('info of a consumer on a missing stream fails with 10059, of a missing consumer with 10014', async () => {
    await assertApiError(ctx.jsm.consumers.info(ctx.unique('NOSTREAM'), 'w'), streamNotFound);
    const name = await stream('CNONE');
    await assertApiError(ctx.jsm.consumers.info(name, 'never'), consumerNotFound);
  });

  it('deleting the stream deletes its consumers', async () => {
    const name = await stream('CSDEL', [['a', '1']]);
    await add(name, { durable_name: 'w' });
    await ctx.jsm.streams.delete(name);
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    await assertApiError(ctx.jsm.consumers.info(name, 'w'), consumerNotFound);
  });

  describe('deliver policies', () => {
    let name: string;
    let startTime: string;

    before(async () => {
      name = await stream('DP');
      await publishAll(ctx.js, `${name}.x`, ['x1', 'x2', 'x3']);
      await sleep(50);
      startTime = new Date().toISOString();
      await sleep(50);
      await publishAll(ctx.js, `${name}.y`, ['y4', 'y5', 'y6']);
    });

    async function deliveredBy(durable: string, cfg: Partial<ConsumerConfig>, expectPending: number): Promise<number[]> {
      const ci = await add(name, { durable_name: durable, ...cfg });
      assert.equal(ci.num_pending, expectPending, `num_pending of ${durable}`);
      if (expectPending === 0) return [];
      const c = await ctx.js.consumers.get(name, durable);
      const got = await drain(await c.fetch({ max_messages: expectPending, expires: 2_000 }));
      for (const m of got) m.ack();
      return seqs(got);
    }

    it('all delivers from the first message', async () => {
      assert.deepEqual(await deliveredBy('all', { deliver_policy: DeliverPolicy.All }, 6), [1, 2, 3, 4, 5, 6]);
    });

    it('last delivers the last message only', async () => {
      assert.deepEqual(await deliveredBy('last', { deliver_policy: DeliverPolicy.Last }, 1), [6]);
    });

    it('by_start_sequence starts at opt_start_seq', async () => {
      const got = await deliveredBy('byseq', { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 5 }, 2);
      assert.deepEqual(got, [5, 6]);
      assert.equal((await ctx.jsm.consumers.info(name, 'byseq')).config.opt_start_seq, 5);
    });

    it('by_start_time starts at the first message at or after opt_start_time', async () => {
      assert.deepEqual(await deliveredBy('bytime', { deliver_policy: DeliverPolicy.StartTime, opt_start_time: startTime }, 3), [4, 5, 6]);
      const echoed = (await ctx.jsm.consumers.info(name, 'bytime')).config.opt_start_time;
      assert.equal(Date.parse(echoed!), Date.parse(startTime));
    });

    it('by_start_sequence without opt_start_seq, or all with one, is refused with 10094', async () => {
      await assertApiError(add(name, { durable_name: 'bad1', deliver_policy: DeliverPolicy.StartSequence }), {
        status: 400,
        code: 10094,
        description: 'consumer delivery policy is deliver by start sequence, but optional start sequence is not set',
      });
      await assertApiError(add(name, { durable_name: 'bad2', deliver_policy: DeliverPolicy.All, opt_start_seq: 3 }), {
        status: 400,
        code: 10094,
        description: 'consumer delivery policy is deliver all, but optional start sequence is also set',
      });
    });

    // Last: it publishes, which would change what the others see.
    it('new delivers only what is published after the consumer exists', async () => {
      assert.deepEqual(await deliveredBy('new', { deliver_policy: DeliverPolicy.New }, 0), []);
      const c = await ctx.js.consumers.get(name, 'new');
      const ack = await ctx.js.publish(`${name}.z`, 'later');
      const m = await c.next({ expires: 2_000 });
      assert.equal(m?.seq, ack.seq);
      assert.equal(m?.string(), 'later');
      m!.ack();
    });
  });

  it('ack_wait and other settings given at create are echoed in ns', async () => {
    const name = await stream('CCFG');
    const ci = await add(name, { durable_name: 'cfg', ack_wait: ns(1_500), max_deliver: 3, max_ack_pending: 7 });
    assert.equal(ci.config.ack_wait, ns(1_500));
    assert.equal(ci.config.max_deliver, 3);
    assert.equal(ci.config.max_ack_pending, 7);
  });
});
