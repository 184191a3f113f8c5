/**
 * What happens to a message a consumer gives up on.
 *
 * - The MAX_DELIVERIES advisory: nats-server publishes it when max_deliver
 *   is exhausted, so this half runs against both targets.
 * - The dead-letter queue: a netemitter feature (hub only). The message is
 *   republished, headers and payload unchanged, to `dlq.<stream>.<consumer>`
 *   (or the consumer's `metadata.dead_letter_subject`) with Dead-Letter-*
 *   headers saying why, from where and after how many deliveries.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headers, type Msg, type MsgHdrs, type Subscription } from '@nats-io/transport-node';
import { AckPolicy, type Consumer, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import { skipUnlessHub } from '../helpers/target.js';
import { ns, startJetStream, type JsContext } from '../helpers/jetstream.js';
import { barrier, within } from '../helpers/client.js';

const DLQ = 'dead-letter queue is a netemitter feature';

describe('dead letters', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  /** Stream `name` on `<name>.>` with a pull consumer `c` (ack_wait 1 s). */
  async function setup(name: string, cfg: Partial<ConsumerConfig>): Promise<Consumer> {
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    await ctx.jsm.consumers.add(name, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: ns(1_000), ...cfg });
    return ctx.js.consumers.get(name, 'c');
  }

  async function next(c: Consumer): Promise<JsMsg> {
    const m = await within(c.next({ expires: 3_000 }), 6_000, 'next()');
    assert.ok(m !== null, 'expected a message');
    return m;
  }

  interface Watch {
    readonly sub: Subscription;
    /** Every message received so far, in order. */
    readonly msgs: Msg[];
    readonly first: Promise<Msg>;
  }

  /** Subscribes (with a callback, so that every arrival is counted) and waits until the server has the interest. */
  async function watch(subject: string): Promise<Watch> {
    const msgs: Msg[] = [];
    let onFirst: (m: Msg) => void = () => {};
    const first = new Promise<Msg>((resolve) => (onFirst = resolve));
    const sub = ctx.nc.subscribe(subject, {
      callback: (_err, m) => {
        msgs.push(m);
        if (msgs.length === 1) onFirst(m);
      },
    });
    await ctx.nc.flush();
    return { sub, msgs, first };
  }

  /**
   * Waits for the one message on `w` while a pull is pending on `c`, and
   * checks that the pull gets nothing: the message is not delivered again.
   * nats-server 2.9.10 gives up on a message lazily, when a pull makes the
   * consumer look for its next message, and only then publishes the
   * MAX_DELIVERIES advisory; with the pull pending, an eager implementation
   * passes too.
   */
  async function givenUp(c: Consumer, w: Watch): Promise<Msg> {
    const [pulled, m] = await Promise.all([within(c.next({ expires: 1_500 }), 5_000, 'next()'), one(w)]);
    assert.equal(pulled, null, pulled === null ? '' : `delivered again: seq ${pulled.seq}, delivery ${pulled.info.deliveryCount}`);
    return m;
  }

  /** Waits for the first message on `w`, then checks that no second one follows it. */
  async function one(w: Watch, timeoutMs = 5_000): Promise<Msg> {
    const m = await within(w.first, timeoutMs, `a message on ${w.sub.getSubject()}`);
    await barrier(ctx.nc);
    assert.equal(w.msgs.length, 1, `${w.sub.getSubject()}: ${w.msgs.length} messages`);
    w.sub.unsubscribe();
    return m;
  }

  function headerMap(h: MsgHdrs | undefined): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const k of h?.keys() ?? []) out[k] = h!.values(k);
    return out;
  }

  describe('MAX_DELIVERIES advisory', () => {
    function assertAdvisory(m: Msg, stream: string, deliveries: number): void {
      assert.equal(m.subject, `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.c`);
      const a = m.json<Record<string, unknown>>();
      assert.equal(a.type, 'io.nats.jetstream.advisory.v1.max_deliver');
      assert.equal(a.stream, stream);
      assert.equal(a.consumer, 'c');
      assert.equal(a.stream_seq, 1);
      assert.equal(a.deliveries, deliveries);
      // Every nats-server advisory carries a unique id and an RFC 3339 timestamp.
      assert.equal(typeof a.id, 'string');
      assert.ok((a.id as string).length > 0);
      assert.ok(Math.abs(Date.parse(a.timestamp as string) - Date.now()) < 10_000, `timestamp ${String(a.timestamp)}`);
    }

    it('is published when the last allowed delivery is nak-ed', async () => {
      const name = ctx.unique('ADVNAK');
      const adv = await watch(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${name}.c`);
      const c = await setup(name, { max_deliver: 2 });
      await ctx.js.publish(`${name}.x`, 'poison');
      (await next(c)).nak();
      const last = await next(c);
      assert.equal(last.info.deliveryCount, 2);
      last.nak();
      assertAdvisory(await givenUp(c, adv), name, 2);
    });

    it('is published when the last allowed delivery times out', async () => {
      const name = ctx.unique('ADVTIME');
      const adv = await watch(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${name}.c`);
      const c = await setup(name, { max_deliver: 1 });
      await ctx.js.publish(`${name}.x`, 'ignored');
      const t0 = Date.now();
      await next(c); // never acked
      const m = await givenUp(c, adv);
      assert.ok(Date.now() - t0 >= 900, `advisory after ${Date.now() - t0} ms, before ack_wait`);
      assertAdvisory(m, name, 1);
    });
  });

  describe('dead-letter queue', () => {
    it('a message that exhausts max_deliver goes to dlq.<stream>.<consumer> with its headers, payload and why', { skip: skipUnlessHub(DLQ) }, async () => {
      const name = ctx.unique('DLQMAX');
      const c = await setup(name, { max_deliver: 2 });
      const dlq = await watch(`dlq.${name}.c`);
      const payload = Uint8Array.from([0, 1, 2, 13, 10, 255]);
      const h = headers();
      h.set('X-Order', '42');
      h.append('X-Multi', 'a');
      h.append('X-Multi', 'b');
      await ctx.js.publish(`${name}.orders`, payload, { headers: h, msgID: 'order-42' });
      (await next(c)).nak();
      (await next(c)).nak();

      const dead = await givenUp(c, dlq);
      assert.equal(dead.subject, `dlq.${name}.c`);
      assert.deepEqual(Buffer.from(dead.data), Buffer.from(payload));
      assert.deepEqual(headerMap(dead.headers), {
        'X-Order': ['42'],
        'X-Multi': ['a', 'b'],
        'Nats-Msg-Id': ['order-42'],
        'Dead-Letter-Reason': ['max_deliveries'],
        'Dead-Letter-Stream': [name],
        'Dead-Letter-Consumer': ['c'],
        'Dead-Letter-Deliveries': ['2'],
        'Dead-Letter-Sequence': ['1'],
        'Dead-Letter-Subject': [`${name}.orders`],
      });
    });

    it('a message that times out on its last delivery is dead-lettered too', { skip: skipUnlessHub(DLQ) }, async () => {
      const name = ctx.unique('DLQTIME');
      const c = await setup(name, { max_deliver: 1 });
      const dlq = await watch(`dlq.${name}.c`);
      await ctx.js.publish(`${name}.x`, 'slow');
      await next(c); // never acked
      const dead = await givenUp(c, dlq);
      assert.equal(dead.string(), 'slow');
      assert.equal(dead.headers?.get('Dead-Letter-Reason'), 'max_deliveries');
      assert.equal(dead.headers?.get('Dead-Letter-Deliveries'), '1');
    });

    it('a terminated message goes to the dead-letter subject with reason terminated', { skip: skipUnlessHub(DLQ) }, async () => {
      const name = ctx.unique('DLQTERM');
      const c = await setup(name, {});
      const dlq = await watch(`dlq.${name}.c`);
      await ctx.js.publish(`${name}.a`, 'first');
      await ctx.js.publish(`${name}.b`, 'bad');
      (await next(c)).ack();
      const bad = await next(c);
      assert.equal(bad.seq, 2);
      bad.term();
      const dead = await givenUp(c, dlq);
      assert.equal(dead.string(), 'bad');
      // No headers of its own: only the Dead-Letter-* ones.
      assert.deepEqual(headerMap(dead.headers), {
        'Dead-Letter-Reason': ['terminated'],
        'Dead-Letter-Stream': [name],
        'Dead-Letter-Consumer': ['c'],
        'Dead-Letter-Deliveries': ['1'],
        'Dead-Letter-Sequence': ['2'],
        'Dead-Letter-Subject': [`${name}.b`],
      });
    });

    it('metadata.dead_letter_subject overrides the default subject', { skip: skipUnlessHub(DLQ) }, async () => {
      const custom = `${ctx.unique('errors')}.custom`;
      const name = ctx.unique('DLQMETA');
      const c = await setup(name, { metadata: { dead_letter_subject: custom } });
      const defaultSub = await watch(`dlq.${name}.c`);
      const customSub = await watch(custom);
      await ctx.js.publish(`${name}.x`, 'rejected');
      (await next(c)).term();
      const dead = await givenUp(c, customSub);
      assert.equal(dead.subject, custom);
      assert.equal(dead.string(), 'rejected');
      assert.equal(dead.headers?.get('Dead-Letter-Reason'), 'terminated');
      await barrier(ctx.nc);
      assert.equal(defaultSub.msgs.length, 0, 'nothing on the default subject');
      defaultSub.sub.unsubscribe();
    });

    it('a stream on the dead-letter subject keeps the dead letters', { skip: skipUnlessHub(DLQ) }, async () => {
      const name = ctx.unique('DLQKEEP');
      const c = await setup(name, {});
      const keep = ctx.unique('DEAD');
      await ctx.jsm.streams.add({ name: keep, subjects: [`dlq.${name}.>`] });
      const watchKept = await watch(`dlq.${name}.c`);
      await ctx.js.publish(`${name}.x`, 'keep me');
      (await next(c)).term();
      await givenUp(c, watchKept);
      const stored = await ctx.jsm.streams.getMessage(keep, { seq: 1 });
      assert.ok(stored !== null, 'the dead letter was captured by the stream');
      assert.equal(stored.subject, `dlq.${name}.c`);
      assert.equal(stored.string(), 'keep me');
      assert.equal(stored.header.get('Dead-Letter-Reason'), 'terminated');
      assert.equal(stored.header.get('Dead-Letter-Sequence'), '1');
    });

    it('an acked message is never dead-lettered, and a nak within max_deliver is not either', { skip: skipUnlessHub(DLQ) }, async () => {
      const name = ctx.unique('DLQNONE');
      const c = await setup(name, { max_deliver: 3 });
      const dlq = await watch(`dlq.${name}.c`);
      await ctx.js.publish(`${name}.x`, 'fine');
      (await next(c)).nak();
      assert.equal(await (await next(c)).ackAck(), true);
      await barrier(ctx.nc);
      assert.equal(dlq.msgs.length, 0);
      dlq.sub.unsubscribe();
    });
  });
});
