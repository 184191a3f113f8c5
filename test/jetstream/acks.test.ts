/**
 * Acknowledgements with the official client: ack, ackAck, nak (now and with
 * a delay), working (+WPI), term, redelivery after ack_wait, backoff,
 * max_deliver, max_ack_pending, and the delivery metadata carried by the ack
 * subject (`m.info`). Timings use ack_wait of 1 s at most.
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, type Consumer, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import { assertApiError, drain, ns, seqs, startJetStream, streamWithConsumer, type JsContext } from '../helpers/jetstream.js';
import { within } from '../helpers/client.js';
import { differs } from '../helpers/target.js';

const ACK_WAIT_MS = 1_000;

describe('acks', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  /** A stream with `n` messages on `<name>.x` (m1…mn) and a pull consumer `c`; returns the consumer. */
  async function setup(prefix: string, n: number, cfg: Partial<ConsumerConfig> = {}): Promise<{ name: string; c: Consumer }> {
    const name = await streamWithConsumer(ctx, prefix, n, { ack_wait: ns(ACK_WAIT_MS), ...cfg });
    return { name, c: await ctx.js.consumers.get(name, 'c') };
  }

  async function next(c: Consumer, expires = 2_000): Promise<JsMsg> {
    const m = await within(c.next({ expires }), expires + 3_000, 'next()');
    assert.ok(m !== null, 'expected a message');
    return m;
  }

  /** Asserts that nothing is delivered within `expires` ms (the client's minimum is 1 s). */
  async function nothing(c: Consumer, expires: number): Promise<void> {
    const m = await within(c.next({ expires }), expires + 3_000, 'next()');
    assert.equal(m, null, m === null ? '' : `unexpected delivery of seq ${m.seq} (delivery ${m.info.deliveryCount})`);
  }

  it('ack: the message is not redelivered after ack_wait, and the ack floor moves', async () => {
    const { c } = await setup('ACK', 1);
    const m = await next(c);
    m.ack();
    await nothing(c, ACK_WAIT_MS + 500);
    const ci = await c.info();
    assert.deepEqual(
      [ci.num_ack_pending, ci.num_redelivered, ci.ack_floor.stream_seq, ci.ack_floor.consumer_seq, ci.delivered.consumer_seq],
      [0, 0, 1, 1, 1],
    );
  });

  it('ackAck resolves true once the server confirms, and the ack is then visible in info', async () => {
    const { c } = await setup('ACKACK', 2);
    const m = await next(c);
    assert.equal(await m.ackAck(), true);
    const ci = await c.info();
    assert.equal(ci.num_ack_pending, 0);
    assert.equal(ci.ack_floor.stream_seq, 1);
  });

  it('the ack confirmation is an empty message to the +ACK request reply subject', async () => {
    const { c } = await setup('ACKRAW', 1);
    const m = await next(c);
    const reply = (m as unknown as { reply: string }).reply;
    const r = await ctx.nc.request(reply, '+ACK', { timeout: 2_000 });
    assert.equal(r.data.length, 0);
    assert.equal(r.headers, undefined);
    assert.equal((await c.info()).num_ack_pending, 0);
  });

  it('nak: immediate redelivery with redelivered set, delivery count 2 and a new consumer seq', async () => {
    const { name, c } = await setup('NAK', 1);
    const first = await next(c);
    assert.deepEqual([first.info.deliveryCount, first.redelivered, first.info.deliverySequence], [1, false, 1]);
    const t0 = Date.now();
    first.nak();
    const again = await next(c);
    assert.ok(Date.now() - t0 < ACK_WAIT_MS - 200, `redelivered after ${Date.now() - t0} ms, not at once`);
    assert.equal(again.seq, 1);
    assert.equal(again.string(), 'm1');
    assert.equal(again.redelivered, true);
    assert.equal(again.info.deliveryCount, 2);
    assert.equal(again.info.deliverySequence, 2);
    assert.equal(again.info.streamSequence, 1);
    assert.equal(again.info.timestampNanos, first.info.timestampNanos, 'the stored time, not the delivery time');
    const reply = (again as unknown as { reply: string }).reply;
    assert.match(reply, new RegExp(`^\\$JS\\.ACK\\.${name}\\.c\\.2\\.1\\.2\\.\\d+\\.0$`));
    let ci = await c.info();
    assert.deepEqual([ci.num_redelivered, ci.num_ack_pending, ci.delivered.consumer_seq], [1, 1, 2]);
    assert.equal(await again.ackAck(), true);
    ci = await c.info();
    assert.deepEqual([ci.num_redelivered, ci.num_ack_pending, ci.delivered.consumer_seq], [0, 0, 2]);
  });

  it('nak with a delay: redelivered after the delay, other messages go first', async () => {
    const { c } = await setup('NAKDELAY', 2);
    const m1 = await next(c);
    const t0 = Date.now();
    m1.nak(600);
    const m2 = await next(c);
    assert.equal(m2.seq, 2, 'the delayed message waits; the next one is delivered');
    m2.ack();
    const back = await next(c, 2_000);
    const after = Date.now() - t0;
    assert.equal(back.seq, 1);
    assert.equal(back.info.deliveryCount, 2);
    assert.ok(after >= 550 && after < 2_000, `redelivered after ${after} ms`);
    back.ack();
  });

  it('working (+WPI) restarts the ack_wait clock', async () => {
    const ackWait = 2_000;
    const { c } = await setup('WPI', 1, { ack_wait: ns(ackWait) });
    const m = await next(c);
    await sleep(500);
    const sent = Date.now();
    m.working();
    const again = await next(c, ackWait + 2_000);
    const after = Date.now() - sent;
    assert.equal(again.info.deliveryCount, 2);
    // The server reads the +WPI after `sent`, so a restarted clock redelivers ack_wait after it at the
    // earliest. Without the restart it would be back ack_wait after the delivery: ~500 ms sooner.
    assert.ok(after >= ackWait - 20, `redelivered ${after} ms after the +WPI`);
    again.ack();
  });

  it('term: never redelivered, even after ack_wait', async () => {
    const { c } = await setup('TERM', 1);
    const m = await next(c);
    m.term();
    await nothing(c, ACK_WAIT_MS + 500);
    const ci = await c.info();
    assert.equal(ci.num_ack_pending, 0);
    assert.equal(ci.delivered.consumer_seq, 1);
  });

  it('term with a reason (+TERM <reason>)', async () => {
    const { c } = await setup('TERMWHY', 1);
    const m = await next(c);
    m.term('bad payload');
    const redelivered = await within(c.next({ expires: ACK_WAIT_MS + 500 }), 5_000, 'next()');
    assert.equal(
      redelivered === null ? 'never redelivered' : `redelivered (delivery ${redelivered.info.deliveryCount})`,
      differs({
        natsServer: 'redelivered (delivery 2)',
        hub: 'never redelivered',
        why:
          'nats-server 2.9.10 only knows the bare "+TERM"; "+TERM <reason>" (nats.js term(reason), 2.10+ servers) ' +
          'is not recognised there and the message comes back after ack_wait. The hub advertises 2.10 and honours it.',
      }),
    );
    redelivered?.term();
  });

  it('an unacked message is redelivered after ack_wait', async () => {
    const { c } = await setup('ACKWAIT', 1);
    const m = await next(c);
    const t0 = Date.now();
    assert.equal(m.info.deliveryCount, 1);
    const again = await next(c, 2_500);
    const after = Date.now() - t0;
    assert.equal(again.seq, 1);
    assert.equal(again.info.deliveryCount, 2);
    assert.equal(again.redelivered, true);
    assert.ok(after >= ACK_WAIT_MS - 100 && after < ACK_WAIT_MS + 1_000, `redelivered after ${after} ms`);
    assert.equal((await c.info()).num_redelivered, 1);
    assert.equal(await again.ackAck(), true);
    assert.equal((await c.info()).num_redelivered, 0);
  });

  it('backoff: ack_wait becomes backoff[0]; redeliveries follow the list, its last value repeating', async () => {
    const backoff = [ns(300), ns(600)];
    const { c } = await setup('BACKOFF', 1, { backoff, max_deliver: 4 });
    const ci = await c.info();
    assert.deepEqual(ci.config.backoff, backoff);
    assert.equal(ci.config.ack_wait, ns(300));
    const times: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const m = await next(c, 2_000);
      times.push(Date.now());
      assert.equal(m.info.deliveryCount, i);
    }
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const want = [300, 600, 600];
    gaps.forEach((g, i) => assert.ok(g >= want[i]! - 100 && g < want[i]! + 600, `gap ${i + 1}: ${g} ms, want about ${want[i]} (all: ${gaps})`));
    await nothing(c, 1_000);
  });

  it('backoff needs max_deliver above its length (10116)', async () => {
    const name = ctx.unique('BACKOFFBAD');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    await assertApiError(ctx.jsm.consumers.add(name, { durable_name: 'c', ack_policy: AckPolicy.Explicit, backoff: [ns(300), ns(600)] }), {
      status: 400,
      code: 10116,
      description: 'max deliver is required to be > length of backoff values',
    });
  });

  it('max_deliver: no delivery beyond it, nak or not', async () => {
    const { c } = await setup('MAXDEL', 1, { max_deliver: 2 });
    const m1 = await next(c);
    m1.nak();
    const m2 = await next(c);
    assert.equal(m2.info.deliveryCount, 2);
    m2.nak();
    await nothing(c, 1_000);
    const ci = await c.info();
    assert.equal(ci.num_ack_pending, 0);
    assert.equal(ci.delivered.consumer_seq, 2);
    assert.equal(ci.num_pending, 0);
  });

  it('max_ack_pending caps the deliveries awaiting an ack', async () => {
    // A long ack_wait: nothing may come back on its own while the test looks.
    const { c } = await setup('MAXACKP', 5, { max_ack_pending: 2, ack_wait: ns(30_000) });
    const held = await drain(await c.fetch({ max_messages: 5, expires: 1_000 }));
    assert.deepEqual(seqs(held), [1, 2], 'two in flight, no more');
    let ci = await c.info();
    assert.deepEqual([ci.num_ack_pending, ci.num_pending], [2, 3]);
    assert.equal(await held[0]!.ackAck(), true);
    const m3 = await next(c);
    assert.equal(m3.seq, 3);
    ci = await c.info();
    assert.deepEqual([ci.num_ack_pending, ci.num_pending], [2, 2]);
    held[1]!.ack();
    m3.ack();
  });

  it('m.info reads the ack subject: stream, consumer, counts, sequences, pending and the stored time', async () => {
    const { name, c } = await setup('INFO', 3);
    const stored = await ctx.jsm.streams.getMessage(name, { seq: 1 });
    const m = await next(c);
    const reply = (m as unknown as { reply: string }).reply;
    const tokens = reply.split('.');
    assert.equal(tokens.length, 9, reply);
    assert.deepEqual(tokens.slice(0, 7), ['$JS', 'ACK', name, 'c', '1', '1', '1']);
    assert.equal(tokens[8], '2');
    assert.equal(m.info.stream, name);
    assert.equal(m.info.consumer, 'c');
    assert.equal(m.info.deliveryCount, 1);
    assert.equal(m.info.streamSequence, 1);
    assert.equal(m.info.deliverySequence, 1);
    assert.equal(m.info.pending, 2);
    assert.equal(m.info.redelivered, false);
    // The timestamp token is the message's stored time in Unix ns.
    assert.equal(BigInt(tokens[7]!) / 1_000_000n, BigInt(stored!.time.getTime()));
    assert.equal(m.seq, 1);
    m.ack();
  });

  it('acks sent to a subject the consumer never issued are ignored', async () => {
    const { name, c } = await setup('BOGUS', 1);
    // A well-formed ack subject for a delivery that never happened (stream seq 1, consumer seq 9).
    ctx.nc.publish(`$JS.ACK.${name}.c.1.1.9.1700000000000000000.0`, '+ACK');
    await ctx.nc.flush();
    const m = await next(c);
    assert.equal(m.seq, 1);
    assert.equal(m.info.deliveryCount, 1, 'the message is still delivered');
    m.ack();
  });
});
