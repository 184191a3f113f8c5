/**
 * Publishing into streams with the official client (`jetstream().publish`):
 * the PubAck, deduplication by Nats-Msg-Id, the Nats-Expected-* checks,
 * publishing where no stream listens, and byte-exact storage of headers and
 * binary payloads. Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headers } from '@nats-io/transport-node';
import { AckPolicy } from '@nats-io/jetstream';
import { assertApiError, startJetStream, type JsContext } from '../helpers/jetstream.js';
import { rejection } from '../helpers/client.js';

describe('publish', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  async function stream(prefix: string): Promise<string> {
    const name = ctx.unique(prefix);
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    return name;
  }

  it('answers each publish with a PubAck naming the stream and the next seq', async () => {
    const name = await stream('PUBACK');
    const acks = [];
    for (let i = 0; i < 3; i++) acks.push(await ctx.js.publish(`${name}.x`, `m${i}`));
    assert.deepEqual(
      acks.map((a) => ({ stream: a.stream, seq: a.seq, duplicate: a.duplicate })),
      [1, 2, 3].map((seq) => ({ stream: name, seq, duplicate: false })),
    );
  });

  it('the raw PubAck is {"stream","seq"} JSON, for a core request without headers too', async () => {
    const name = await stream('RAWACK');
    const r = await ctx.nc.request(`${name}.x`, 'core', { timeout: 5_000 });
    assert.equal(r.headers, undefined);
    const body = r.json<Record<string, unknown>>();
    // No "duplicate" key on a first publish (the client defaults it to false).
    assert.deepEqual(body, { stream: name, seq: 1 });
    const dup = ctx.nc.request(`${name}.x`, 'again', { timeout: 5_000, headers: msgIdHeaders('only-once') });
    assert.deepEqual((await dup).json(), { stream: name, seq: 2 });
    const again = await ctx.nc.request(`${name}.x`, 'again', { timeout: 5_000, headers: msgIdHeaders('only-once') });
    assert.deepEqual(again.json(), { stream: name, seq: 2, duplicate: true });
  });

  it('stores a core publish without a reply subject, and answers nothing', async () => {
    const name = await stream('NOREPLY');
    ctx.nc.publish(`${name}.x`, 'fire and forget');
    await ctx.nc.flush();
    const m = await ctx.jsm.streams.getMessage(name, { seq: 1 });
    assert.equal(m?.string(), 'fire and forget');
  });

  it('deduplicates by msgID: the duplicate gets the original seq and duplicate: true', async () => {
    const name = await stream('DEDUP');
    const a = await ctx.js.publish(`${name}.x`, 'first', { msgID: 'id-1' });
    const b = await ctx.js.publish(`${name}.x`, 'second', { msgID: 'id-1' });
    const c = await ctx.js.publish(`${name}.x`, 'third', { msgID: 'id-2' });
    assert.deepEqual([a.seq, a.duplicate], [1, false]);
    assert.deepEqual([b.seq, b.duplicate], [1, true]);
    assert.deepEqual([c.seq, c.duplicate], [2, false]);
    const si = await ctx.jsm.streams.info(name);
    assert.equal(si.state.messages, 2);
    const stored = await ctx.jsm.streams.getMessage(name, { seq: 1 });
    assert.equal(stored?.string(), 'first', 'the duplicate did not replace the original');
    assert.equal(stored?.header.get('Nats-Msg-Id'), 'id-1', 'the id header is stored with the message');
  });

  it('dedup ids outlive a purge within the duplicate window', async () => {
    const name = await stream('DEDUPP');
    await ctx.js.publish(`${name}.x`, 'first', { msgID: 'keep-me' });
    await ctx.jsm.streams.purge(name);
    const again = await ctx.js.publish(`${name}.x`, 'again', { msgID: 'keep-me' });
    assert.deepEqual([again.seq, again.duplicate], [1, true]);
    assert.equal((await ctx.jsm.streams.info(name)).state.messages, 0);
  });

  it('Nats-Expected-Last-Sequence: accepted when right, 10071 with the real last seq when wrong', async () => {
    const name = await stream('EXPSEQ');
    assert.equal((await ctx.js.publish(`${name}.x`, '1', { expect: { lastSequence: 0 } })).seq, 1);
    assert.equal((await ctx.js.publish(`${name}.x`, '2', { expect: { lastSequence: 1 } })).seq, 2);
    await assertApiError(ctx.js.publish(`${name}.x`, 'no', { expect: { lastSequence: 7 } }), {
      status: 400,
      code: 10071,
      description: 'wrong last sequence: 2',
    });
    assert.equal((await ctx.js.publish(`${name}.x`, '3')).seq, 3, 'a refused publish takes no seq');
  });

  it('Nats-Expected-Last-Msg-Id: accepted when right, 10070 naming the real last id when wrong', async () => {
    const name = await stream('EXPID');
    await ctx.js.publish(`${name}.x`, '1', { msgID: 'a' });
    assert.equal((await ctx.js.publish(`${name}.x`, '2', { msgID: 'b', expect: { lastMsgID: 'a' } })).seq, 2);
    await assertApiError(ctx.js.publish(`${name}.x`, 'no', { msgID: 'c', expect: { lastMsgID: 'a' } }), {
      status: 400,
      code: 10070,
      description: 'wrong last msg ID: b',
    });
    assert.equal((await ctx.jsm.streams.info(name)).state.messages, 2);
  });

  it('Nats-Expected-Stream: accepted for the capturing stream, 10060 for another name', async () => {
    const name = await stream('EXPSTR');
    assert.equal((await ctx.js.publish(`${name}.x`, '1', { expect: { streamName: name } })).seq, 1);
    await assertApiError(ctx.js.publish(`${name}.x`, 'no', { expect: { streamName: 'OTHER' } }), {
      status: 400,
      code: 10060,
      description: 'expected stream does not match',
    });
    assert.equal((await ctx.jsm.streams.info(name)).state.messages, 1);
  });

  it('Nats-Expected-Last-Subject-Sequence: checked against the last seq on that subject', async () => {
    const name = await stream('EXPSUBJ');
    await ctx.js.publish(`${name}.a`, 'a1'); // seq 1
    await ctx.js.publish(`${name}.b`, 'b1'); // seq 2
    assert.equal((await ctx.js.publish(`${name}.a`, 'a2', { expect: { lastSubjectSequence: 1 } })).seq, 3);
    // Same code and text as the stream-wide check, with the subject's last seq.
    await assertApiError(ctx.js.publish(`${name}.a`, 'no', { expect: { lastSubjectSequence: 2 } }), {
      status: 400,
      code: 10071,
      description: 'wrong last sequence: 3',
    });
    assert.equal((await ctx.js.publish(`${name}.c`, 'c1', { expect: { lastSubjectSequence: 0 } })).seq, 4);
  });

  it('where no stream captures the subject, publish fails with JetStreamNotEnabled (no responders)', async () => {
    const err = await rejection(ctx.js.publish(`${ctx.unique('nostream')}.x`, 'lost'));
    assert.equal(err.name, 'JetStreamNotEnabled');
    assert.equal(err.message, 'jetstream is not enabled');
    assert.match(String((err as Error & { cause?: unknown }).cause), /no responders/);
  });

  it('stores headers and a binary payload, and delivers them unchanged', async () => {
    const name = await stream('BIN');
    const payload = Uint8Array.from([...Array.from({ length: 256 }, (_, i) => i), 13, 10, 13, 10, 0]);
    const h = headers();
    h.set('X-Trace', 'abc-123');
    h.append('X-Multi', 'one');
    h.append('X-Multi', 'two');
    h.set('X-Spaces', 'a value with  spaces');
    await ctx.js.publish(`${name}.bin`, payload, { headers: h, msgID: 'bin-1' });

    const stored = await ctx.jsm.streams.getMessage(name, { seq: 1 });
    assert.ok(stored !== null);
    assert.deepEqual(Buffer.from(stored.data), Buffer.from(payload));
    assert.equal(stored.header.get('X-Trace'), 'abc-123');
    assert.deepEqual(stored.header.values('X-Multi'), ['one', 'two']);
    assert.equal(stored.header.get('X-Spaces'), 'a value with  spaces');

    await ctx.jsm.consumers.add(name, { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
    const c = await ctx.js.consumers.get(name, 'reader');
    const m = await c.next({ expires: 2_000 });
    assert.ok(m !== null);
    assert.equal(m.subject, `${name}.bin`);
    assert.deepEqual(Buffer.from(m.data), Buffer.from(payload));
    assert.equal(m.headers?.get('X-Trace'), 'abc-123');
    assert.deepEqual(m.headers?.values('X-Multi'), ['one', 'two']);
    assert.equal(m.headers?.get('Nats-Msg-Id'), 'bin-1');
    m.ack();
  });

  it('delivers a message published without headers with no headers', async () => {
    const name = await stream('NOHDR');
    await ctx.js.publish(`${name}.x`, 'bare');
    await ctx.jsm.consumers.add(name, { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
    const m = await (await ctx.js.consumers.get(name, 'reader')).next({ expires: 2_000 });
    assert.ok(m !== null);
    assert.equal(m.string(), 'bare');
    // An empty header block (HPUB … 0 …) is not stored as headers: delivered as a plain MSG.
    assert.equal(m.headers, undefined);
    m.ack();
  });
});

function msgIdHeaders(id: string) {
  const h = headers();
  h.set('Nats-Msg-Id', id);
  return h;
}
