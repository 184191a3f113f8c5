/**
 * Stream limits and retention with the official client: max_msgs, max_bytes,
 * max_age, max_msgs_per_subject, max_msg_size, discard old vs new, and the
 * work-queue and interest retention policies. Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { headers } from '@nats-io/transport-node';
import { AckPolicy, DiscardPolicy, RetentionPolicy, type StreamConfig, type StreamState } from '@nats-io/jetstream';
import { differs } from '../helpers/target.js';
import { assertApiError, ns, publishAll, startJetStream, type JsContext } from '../helpers/jetstream.js';

describe('stream limits and retention', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  async function stream(prefix: string, cfg: Partial<StreamConfig>): Promise<string> {
    const name = ctx.unique(prefix);
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`], ...cfg });
    return name;
  }

  async function state(name: string): Promise<StreamState> {
    return (await ctx.jsm.streams.info(name)).state;
  }

  async function storedSeqs(name: string): Promise<number[]> {
    const st = await state(name);
    const out: number[] = [];
    for (let seq = st.first_seq; seq <= st.last_seq; seq++) {
      if ((await ctx.jsm.streams.getMessage(name, { seq })) !== null) out.push(seq);
    }
    return out;
  }

  it('max_msgs with discard old drops the oldest messages', async () => {
    const name = await stream('MAXMSGS', { max_msgs: 3 });
    assert.deepEqual(await publishAll(ctx.js, `${name}.x`, ['1', '2', '3', '4', '5']), [1, 2, 3, 4, 5]);
    const st = await state(name);
    assert.deepEqual([st.messages, st.first_seq, st.last_seq], [3, 3, 5]);
    assert.deepEqual(await storedSeqs(name), [3, 4, 5]);
  });

  it('max_msgs with discard new refuses the publish with 503/10077', async () => {
    const name = await stream('MAXNEW', { max_msgs: 3, discard: DiscardPolicy.New });
    await publishAll(ctx.js, `${name}.x`, ['1', '2', '3']);
    await assertApiError(ctx.js.publish(`${name}.x`, '4'), { status: 503, code: 10077, description: 'maximum messages exceeded' });
    const st = await state(name);
    assert.deepEqual([st.messages, st.first_seq, st.last_seq], [3, 1, 3]);
  });

  it('a full discard-new stream still answers a duplicate with the original seq', async () => {
    const name = await stream('MAXNEWDUP', { max_msgs: 2, discard: DiscardPolicy.New });
    await ctx.js.publish(`${name}.x`, '1', { msgID: 'a' });
    await ctx.js.publish(`${name}.x`, '2', { msgID: 'b' });
    const dup = await ctx.js.publish(`${name}.x`, 'again', { msgID: 'a' });
    assert.deepEqual([dup.seq, dup.duplicate], [1, true]);
    await assertApiError(ctx.js.publish(`${name}.x`, '3', { msgID: 'c' }), { status: 503, code: 10077, description: 'maximum messages exceeded' });
  });

  it('max_bytes with discard old keeps the newest messages that fit', async () => {
    // Each message is 22 + subject + 10 + 8 stored bytes (file-store accounting, see streams.test.ts).
    const name = ctx.unique('MAXB');
    const subject = `${name}.x`;
    const size = 22 + subject.length + 10 + 8;
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`], max_bytes: Math.floor(size * 2.5) });
    await publishAll(ctx.js, subject, Array.from({ length: 5 }, () => 'x'.repeat(10)));
    const st = await state(name);
    assert.deepEqual([st.messages, st.bytes, st.first_seq, st.last_seq], [2, size * 2, 4, 5]);
  });

  it('max_bytes with discard new', async () => {
    const name = ctx.unique('MAXBNEW');
    const subject = `${name}.x`;
    const size = 22 + subject.length + 10 + 8;
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`], max_bytes: Math.floor(size * 2.5), discard: DiscardPolicy.New });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        outcomes.push(`ok ${(await ctx.js.publish(subject, 'x'.repeat(10))).seq}`);
      } catch (err) {
        const api = (err as { apiError?: () => { code: number; err_code: number; description: string } }).apiError?.();
        outcomes.push(api === undefined ? `error ${(err as Error).message}` : `${api.code}/${api.err_code} ${api.description}`);
      }
    }
    const st = await state(name);
    assert.deepEqual(
      { outcomes, kept: [st.messages, st.bytes, st.first_seq, st.last_seq] },
      differs({
        natsServer: {
          outcomes: ['ok 1', 'ok 2', 'ok 3', 'ok 4'],
          kept: [2, size * 2, 3, 4],
        },
        hub: {
          outcomes: ['ok 1', 'ok 2', '503/10077 maximum bytes exceeded', '503/10077 maximum bytes exceeded'],
          kept: [2, size * 2, 1, 2],
        },
        why:
          'nats-server 2.9.10 (file and memory store alike) does not apply discard new to max_bytes: it drops old ' +
          'messages as with discard old. Later servers refuse with 503/10077 "maximum bytes exceeded", as for max_msgs; ' +
          'the hub does what max_msgs does.',
      }),
    );
  });

  it('max_msgs_per_subject keeps the newest N messages of each subject', async () => {
    const name = await stream('PERSUBJ', { max_msgs_per_subject: 2 });
    for (let i = 0; i < 4; i++) {
      await ctx.js.publish(`${name}.a`, `a${i}`);
      await ctx.js.publish(`${name}.b`, `b${i}`);
    }
    const st = await state(name);
    assert.deepEqual([st.messages, st.first_seq, st.last_seq, st.num_subjects], [4, 5, 8, 2]);
    const kept = [];
    for (const seq of await storedSeqs(name)) kept.push((await ctx.jsm.streams.getMessage(name, { seq }))!.string());
    assert.deepEqual(kept, ['a2', 'b2', 'a3', 'b3']);
  });

  it('max_msg_size accepts a message of exactly that size and refuses a larger one with 10054', async () => {
    const name = await stream('MSGSIZE', { max_msg_size: 10 });
    assert.equal((await ctx.js.publish(`${name}.x`, 'x'.repeat(10))).seq, 1);
    const tooBig = { status: 400, code: 10054, description: 'message size exceeds maximum allowed' };
    await assertApiError(ctx.js.publish(`${name}.x`, 'x'.repeat(11)), tooBig);
    // Headers count: a 5-byte payload with a header block is over 10 bytes.
    const h = headers();
    h.set('X-Long-Header', 'value');
    await assertApiError(ctx.js.publish(`${name}.x`, 'x'.repeat(5), { headers: h }), tooBig);
    assert.equal((await state(name)).messages, 1);
  });

  it('max_age expires messages; a short max_age also shortens the duplicate window', async () => {
    const name = ctx.unique('AGE');
    const si = await ctx.jsm.streams.add({ name, subjects: [`${name}.>`], max_age: ns(300) });
    assert.equal(si.config.max_age, ns(300));
    // duplicate_window defaults to 2 min, but never longer than max_age.
    assert.equal(si.config.duplicate_window, ns(300));
    await ctx.js.publish(`${name}.x`, 'short-lived');
    assert.equal((await state(name)).messages, 1);
    const deadline = Date.now() + 3_000;
    let st = await state(name);
    while (st.messages > 0 && Date.now() < deadline) {
      await sleep(100);
      st = await state(name);
    }
    assert.deepEqual([st.messages, st.bytes, st.first_seq, st.last_seq], [0, 0, 2, 1]);
    assert.equal(await ctx.jsm.streams.getMessage(name, { seq: 1 }), null);
  });

  it('max_age under 100 ms is refused with 10052', async () => {
    // nats-server answers this config error with status 500.
    await assertApiError(ctx.jsm.streams.add({ name: ctx.unique('AGEMIN'), subjects: ['agemin.x'], max_age: ns(50) }), {
      status: 500,
      code: 10052,
      description: 'max age needs to be >= 100ms',
    });
  });

  it('work-queue retention: a message is removed once acked', async () => {
    const name = await stream('WQ', { retention: RetentionPolicy.Workqueue });
    await publishAll(ctx.js, `${name}.x`, ['1', '2']);
    await ctx.jsm.consumers.add(name, { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
    const c = await ctx.js.consumers.get(name, 'worker');
    const m = await c.next({ expires: 2_000 });
    assert.equal(m?.seq, 1);
    assert.equal((await state(name)).messages, 2, 'delivered but not acked: still stored');
    assert.equal(await m!.ackAck(), true);
    const st = await state(name);
    assert.deepEqual([st.messages, st.first_seq, st.last_seq], [1, 2, 2]);
    assert.equal(await ctx.jsm.streams.getMessage(name, { seq: 1 }), null);
  });

  it('work-queue retention refuses a second consumer without a disjoint filter (10099)', async () => {
    const name = await stream('WQ2', { retention: RetentionPolicy.Workqueue });
    await ctx.jsm.consumers.add(name, { durable_name: 'first', ack_policy: AckPolicy.Explicit });
    await assertApiError(ctx.jsm.consumers.add(name, { durable_name: 'second', ack_policy: AckPolicy.Explicit }), {
      status: 400,
      code: 10099,
      description: 'multiple non-filtered consumers not allowed on workqueue stream',
    });
  });

  it('interest retention: kept until every consumer has acked, dropped at once without consumers', async () => {
    const name = await stream('INTEREST', { retention: RetentionPolicy.Interest });
    assert.equal((await ctx.js.publish(`${name}.x`, 'nobody')).seq, 1, 'still acked, and the seq is used');
    assert.equal((await state(name)).messages, 0);

    await ctx.jsm.consumers.add(name, { durable_name: 'a', ack_policy: AckPolicy.Explicit });
    await ctx.jsm.consumers.add(name, { durable_name: 'b', ack_policy: AckPolicy.Explicit });
    assert.equal((await ctx.js.publish(`${name}.x`, 'both')).seq, 2);
    assert.equal((await state(name)).messages, 1);

    const ma = await (await ctx.js.consumers.get(name, 'a')).next({ expires: 2_000 });
    assert.equal(ma?.seq, 2);
    assert.equal(await ma!.ackAck(), true);
    assert.equal((await state(name)).messages, 1, 'b has not acked yet');

    const mb = await (await ctx.js.consumers.get(name, 'b')).next({ expires: 2_000 });
    assert.equal(mb?.seq, 2);
    assert.equal(await mb!.ackAck(), true);
    const st = await state(name);
    assert.deepEqual([st.messages, st.first_seq, st.last_seq], [0, 3, 2]);
  });
});
