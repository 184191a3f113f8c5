/**
 * Pulling from a consumer with the official client: `next()`, `fetch()`
 * (by count and by bytes), `consume()` across later publishes, `+NXT`, and
 * the raw `$JS.API.CONSUMER.MSG.NEXT` status messages the client's
 * termination logic depends on (100 Idle Heartbeat, 404 No Messages,
 * 408 Request Timeout with pending headers, 409, 400).
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInbox, type Msg } from '@nats-io/transport-node';
import { AckPolicy, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import { drain, ns, publishAll, pullBytes, pullsWaiting, seqs, startJetStream, streamWithConsumer, type JsContext } from '../helpers/jetstream.js';
import { rejection, within } from '../helpers/client.js';

describe('pull', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  /** A stream with `n` messages on `<name>.x` (payloads m1…mn) and a pull consumer `c` on it. */
  function setup(prefix: string, n: number, cfg: Partial<ConsumerConfig> = {}): Promise<string> {
    return streamWithConsumer(ctx, prefix, n, cfg);
  }

  /**
   * Sends a raw pull request to MSG.NEXT with a reply inbox and collects what
   * arrives on the inbox until a status other than 100 ends it, `count`
   * messages have arrived, or timeoutMs. Then a flush round trip, so that
   * anything the server sent meanwhile is in the result too.
   */
  async function rawPull(stream: string, consumer: string, body: unknown, timeoutMs: number, count = Infinity): Promise<Msg[]> {
    const inbox = createInbox();
    const got: Msg[] = [];
    let done: () => void = () => {};
    const ended = new Promise<void>((resolve) => (done = resolve));
    const sub = ctx.nc.subscribe(inbox, {
      callback: (_err, m) => {
        got.push(m);
        const code = m.subject === inbox ? (m.headers?.code ?? 0) : 0;
        if ((code !== 0 && code !== 100) || got.length >= count) done();
      },
    });
    const timer = setTimeout(done, timeoutMs);
    ctx.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, body === undefined ? '' : JSON.stringify(body), { reply: inbox });
    try {
      await ended;
      await ctx.nc.flush();
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
    }
    return got;
  }

  function status(m: Msg): { code: number; description: string; headers: Record<string, string> } {
    assert.ok(m.headers !== undefined, `not a status message: ${m.subject}`);
    assert.equal(m.data.length, 0, 'a status message has no payload');
    const headers: Record<string, string> = {};
    for (const k of m.headers.keys()) headers[k] = m.headers.get(k);
    return { code: m.headers.code, description: m.headers.description, headers };
  }

  it('next() returns the first message with its subject, payload and delivery info', async () => {
    const name = await setup('NEXT', 2);
    const c = await ctx.js.consumers.get(name, 'c');
    const m = await c.next({ expires: 2_000 });
    assert.ok(m !== null);
    assert.equal(m.subject, `${name}.x`);
    assert.equal(m.string(), 'm1');
    assert.equal(m.seq, 1);
    assert.equal(m.redelivered, false);
    assert.equal(m.info.stream, name);
    assert.equal(m.info.consumer, 'c');
    assert.equal(m.info.pending, 1);
    m.ack();
  });

  it('next() with nothing to deliver resolves null once expires has passed', async () => {
    const name = await setup('NEXTNULL', 0);
    const c = await ctx.js.consumers.get(name, 'c');
    const t0 = Date.now();
    const m = await within(c.next({ expires: 1_000 }), 5_000, 'next() on an empty consumer');
    const took = Date.now() - t0;
    assert.equal(m, null);
    assert.ok(took >= 900 && took < 3_000, `took ${took} ms`);
  });

  it('next() waits for a message published while it is pending', async () => {
    const name = await setup('NEXTWAIT', 0);
    const c = await ctx.js.consumers.get(name, 'c');
    const pending = c.next({ expires: 3_000 });
    await pullsWaiting(ctx, name, 'c');
    await ctx.js.publish(`${name}.x`, 'late');
    const m = await within(pending, 5_000, 'next() for a later publish');
    assert.equal(m?.string(), 'late');
    m!.ack();
  });

  it('fetch({max_messages}) returns exactly that many, in stream order, and the rest on the next fetch', async () => {
    const name = await setup('FETCH', 5);
    const c = await ctx.js.consumers.get(name, 'c');
    const first = await drain(await c.fetch({ max_messages: 3, expires: 2_000 }));
    assert.deepEqual(seqs(first), [1, 2, 3]);
    assert.deepEqual(
      first.map((m) => m.string()),
      ['m1', 'm2', 'm3'],
    );
    assert.deepEqual(
      first.map((m) => m.info.pending),
      [4, 3, 2],
    );
    for (const m of first) m.ack();
    const t0 = Date.now();
    const rest = await drain(await c.fetch({ max_messages: 5, expires: 1_000 }));
    assert.deepEqual(seqs(rest), [4, 5]);
    // Fewer than asked for: the fetch ends when expires passes (408 with the pending counts).
    assert.ok(Date.now() - t0 >= 900, `ended after ${Date.now() - t0} ms`);
    for (const m of rest) m.ack();
  });

  it('fetch({max_bytes}) stops before the message that would pass the budget, then fails with 409', async () => {
    // What counts against max_bytes, as nats-server measures it: subject + ack reply subject
    // + header block + payload of each delivered message (see pullBytes).
    const name = await setup('FBYTES', 0);
    await publishAll(
      ctx.js,
      `${name}.x`,
      Array.from({ length: 6 }, () => 'p'.repeat(100)),
    );
    const c = await ctx.js.consumers.get(name, 'c');
    const budget = 350; // two messages of about 146 bytes fit, three do not
    const iter = await c.fetch({ max_bytes: budget, expires: 2_000 });
    const got: JsMsg[] = [];
    const err = await rejection(
      within(
        (async () => {
          for await (const m of iter) got.push(m);
        })(),
        5_000,
        'fetch by bytes',
      ),
    );
    assert.deepEqual(seqs(got), [1, 2]);
    const used = got.reduce((n, m) => n + pullBytes(m), 0);
    assert.ok(used <= budget && used + pullBytes(got[1]!) > budget, `used ${used} of ${budget}`);
    // The server's "409 Message Size Exceeds MaxBytes" ends the fetch with an error in nats.js 3.4.
    assert.equal(err.name, 'JetStreamStatusError');
    assert.equal(err.message, 'message size exceeds maxbytes');
    assert.equal((err as Error & { code?: number }).code, 409);
    for (const m of got) m.ack();

    const all = await drain(await c.fetch({ max_messages: 4, expires: 2_000 }));
    assert.deepEqual(seqs(all), [3, 4, 5, 6]);
    for (const m of all) m.ack();
  });

  it('consume() keeps delivering as messages are published later', async () => {
    const name = await setup('CONSUME', 2);
    const c = await ctx.js.consumers.get(name, 'c');
    const iter = await c.consume({ max_messages: 3, expires: 1_000 });
    const got: number[] = [];
    const publisher = (async () => {
      await sleep(300);
      for (let i = 3; i <= 7; i++) {
        await ctx.js.publish(`${name}.x`, `m${i}`);
        await sleep(20);
      }
    })();
    await within(
      (async () => {
        for await (const m of iter) {
          assert.equal(m.string(), `m${m.seq}`);
          got.push(m.seq);
          m.ack();
          if (got.length === 7) break;
        }
      })(),
      8_000,
      'consume() reading 7 messages',
    );
    await publisher;
    assert.deepEqual(got, [1, 2, 3, 4, 5, 6, 7]);
    const ci = await c.info();
    assert.equal(ci.num_pending, 0);
    assert.equal(ci.delivered.stream_seq, 7);
  });

  it('consume() spanning several pull requests and an idle period delivers each message once', async () => {
    const name = await setup('CONSUME2', 0);
    const c = await ctx.js.consumers.get(name, 'c');
    // max_messages 2 forces a re-pull after every message or two; expires 1 s forces
    // at least one 408 while the publisher sleeps.
    const iter = await c.consume({ max_messages: 2, expires: 1_000 });
    const got: number[] = [];
    const publisher = (async () => {
      await publishAll(ctx.js, `${name}.x`, ['m1', 'm2', 'm3']);
      await sleep(1_300);
      await publishAll(ctx.js, `${name}.x`, ['m4', 'm5']);
    })();
    await within(
      (async () => {
        for await (const m of iter) {
          got.push(m.seq);
          m.ack();
          if (got.length === 5) break;
        }
      })(),
      8_000,
      'consume() reading 5 messages',
    );
    await publisher;
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
  });

  it('+NXT acks a message and pulls the next one to the given inbox', async () => {
    const name = await setup('NXT', 2);
    const c = await ctx.js.consumers.get(name, 'c');
    const first = await c.next({ expires: 2_000 });
    assert.equal(first?.seq, 1);
    const inbox = createInbox();
    const sub = ctx.nc.subscribe(inbox, { max: 2 });
    await ctx.nc.flush();
    first!.next(inbox, { batch: 1 });
    const got: Msg[] = [];
    const reading = (async () => {
      for await (const m of sub) {
        got.push(m);
        if (got.length === 1) {
          // The second message, acked with +NXT no_wait: nothing is left, so 404.
          m.respond(`+NXT ${JSON.stringify({ batch: 1, no_wait: true })}`, { reply: inbox });
        }
      }
    })();
    await within(reading, 5_000, '+NXT deliveries');
    assert.equal(got[0]!.subject, `${name}.x`);
    assert.equal(got[0]!.string(), 'm2');
    assert.deepEqual(status(got[1]!), { code: 404, description: 'No Messages', headers: {} });
    const ci = await c.info();
    assert.equal(ci.num_ack_pending, 0, 'both +NXT acked their message');
    assert.deepEqual([ci.ack_floor.stream_seq, ci.delivered.stream_seq], [2, 2]);
  });

  it('next() pending when its consumer is deleted rejects with 409 consumer deleted', async () => {
    const name = await setup('NEXTDEL', 0);
    const c = await ctx.js.consumers.get(name, 'c');
    const pending = rejection(within(c.next({ expires: 3_000 }), 6_000, 'next() on a deleted consumer'));
    await pullsWaiting(ctx, name, 'c');
    await ctx.jsm.consumers.delete(name, 'c');
    const err = await pending;
    assert.equal(err.name, 'JetStreamStatusError');
    assert.equal(err.message, 'consumer deleted');
    assert.equal((err as Error & { code?: number }).code, 409);
  });

  describe('raw MSG.NEXT statuses', () => {
    it('no_wait with nothing pending: 404 No Messages, no pending headers', async () => {
      const name = await setup('NOWAIT', 0);
      const got = await rawPull(name, 'c', { batch: 1, no_wait: true }, 3_000);
      assert.equal(got.length, 1);
      assert.deepEqual(status(got[0]!), { code: 404, description: 'No Messages', headers: {} });
    });

    it('no_wait with messages pending: delivers them at once', async () => {
      const name = await setup('NOWAIT2', 2);
      const got = await rawPull(name, 'c', { batch: 2, no_wait: true }, 3_000, 2);
      // The batch is complete: no status follows.
      assert.deepEqual(
        got.map((m) => m.string()),
        ['m1', 'm2'],
      );
      assert.match(got[0]!.reply!, new RegExp(`^\\$JS\\.ACK\\.${name}\\.c\\.1\\.1\\.1\\.\\d+\\.1$`));
    });

    it('expires with nothing delivered: 408 Request Timeout with the unfilled counts', async () => {
      const name = await setup('EXPIRE', 0);
      const t0 = Date.now();
      const got = await rawPull(name, 'c', { batch: 3, expires: ns(300) }, 3_000);
      assert.ok(Date.now() - t0 >= 250, `ended after ${Date.now() - t0} ms`);
      assert.equal(got.length, 1);
      assert.deepEqual(status(got[0]!), {
        code: 408,
        description: 'Request Timeout',
        headers: { 'Nats-Pending-Messages': '3', 'Nats-Pending-Bytes': '0' },
      });
    });

    it('expires after a partial batch: 408 counts only what is still owed', async () => {
      const name = await setup('EXPIRE2', 1);
      const got = await rawPull(name, 'c', { batch: 3, expires: ns(300), max_bytes: 5_000 }, 3_000);
      assert.equal(got.length, 2);
      assert.equal(got[0]!.string(), 'm1');
      const st = status(got[1]!);
      assert.equal(st.code, 408);
      assert.equal(st.headers['Nats-Pending-Messages'], '2');
      assert.equal(st.headers['Nats-Pending-Bytes'], String(5_000 - (got[0]!.subject.length + got[0]!.reply!.length + got[0]!.data.length)));
    });

    it('idle_heartbeat: 100 Idle Heartbeat while waiting, then 408', async () => {
      const name = await setup('HB', 0);
      const got = await rawPull(name, 'c', { batch: 1, expires: ns(1_300), idle_heartbeat: ns(400) }, 4_000);
      const statuses = got.map(status);
      const beats = statuses.filter((s) => s.code === 100);
      assert.ok(beats.length >= 2, `heartbeats: ${JSON.stringify(statuses)}`);
      assert.deepEqual(beats[0], {
        code: 100,
        description: 'Idle Heartbeat',
        headers: { 'Nats-Last-Consumer': '0', 'Nats-Last-Stream': '0' },
      });
      assert.equal(statuses.at(-1)!.code, 408);
    });

    it('idle_heartbeat longer than half of expires: 400 Bad Request - heartbeat value too large', async () => {
      const name = await setup('HBBAD', 0);
      const got = await rawPull(name, 'c', { batch: 1, expires: ns(2_000), idle_heartbeat: ns(1_500) }, 3_000);
      assert.equal(got.length, 1);
      assert.deepEqual(status(got[0]!), { code: 400, description: 'Bad Request - heartbeat value too large', headers: {} });
    });

    it('a pull over max_waiting: 409 Exceeded MaxWaiting', async () => {
      const name = await setup('MAXW', 0, { max_waiting: 1 });
      const first = rawPull(name, 'c', { batch: 1, expires: ns(2_000) }, 4_000);
      await pullsWaiting(ctx, name, 'c');
      const second = await rawPull(name, 'c', { batch: 1, expires: ns(800) }, 3_000);
      assert.equal(second.length, 1);
      assert.deepEqual(status(second[0]!), { code: 409, description: 'Exceeded MaxWaiting', headers: {} });
      const firstGot = await first;
      assert.equal(status(firstGot.at(-1)!).code, 408, 'the waiting pull still expires normally');
    });

    it('a waiting pull whose consumer or stream is deleted: 409 Consumer Deleted', async () => {
      const name = await setup('PULLDEL', 0);
      const waiting = rawPull(name, 'c', { batch: 1, expires: ns(3_000) }, 5_000);
      await pullsWaiting(ctx, name, 'c');
      await ctx.jsm.consumers.delete(name, 'c');
      const got = await waiting;
      assert.equal(got.length, 1);
      assert.deepEqual(status(got[0]!), { code: 409, description: 'Consumer Deleted', headers: {} });

      await ctx.jsm.consumers.add(name, { durable_name: 'c2', ack_policy: AckPolicy.Explicit });
      const waiting2 = rawPull(name, 'c2', { batch: 1, expires: ns(3_000) }, 5_000);
      await pullsWaiting(ctx, name, 'c2');
      await ctx.jsm.streams.delete(name);
      const got2 = await waiting2;
      assert.equal(got2.length, 1);
      assert.deepEqual(status(got2[0]!), { code: 409, description: 'Consumer Deleted', headers: {} });
    });

    it('an empty body pulls one message', async () => {
      const name = await setup('EMPTYBODY', 2);
      const got = await rawPull(name, 'c', undefined, 3_000, 1);
      assert.deepEqual(
        got.map((m) => m.string()),
        ['m1'],
      );
    });
  });
});
