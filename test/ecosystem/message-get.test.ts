/**
 * Reading one stored message on the raw JetStream API, as the KV and object
 * store clients do, against the current target:
 *
 *   $JS.API.DIRECT.GET.<stream>            {seq} | {last_by_subj} | {next_by_subj[, seq]}
 *   $JS.API.DIRECT.GET.<stream>.<subject>  the last message on <subject> (no body needed)
 *   $JS.API.STREAM.MSG.GET.<stream>        the JSON answer, without `data` for an empty payload
 *
 * A direct get answers with the message itself: its payload, its own
 * headers and Nats-Stream, Nats-Subject, Nats-Sequence, Nats-Time-Stamp; a
 * miss or a bad request is a status-only message (`404 Message Not Found`,
 * `408 …`). Only a stream with allow_direct answers at all.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headers, type Msg } from '@nats-io/transport-node';
import { startJetStream, type JsContext } from '../helpers/jetstream.js';
import { rejection } from '../helpers/client.js';
import { differs } from '../helpers/target.js';

const REQUEST_TIMEOUT_MS = 5_000;
/** How long "no answer at all" is waited for; long enough that a stalled machine does not turn the hub's 503 into a timeout. */
const SILENCE_MS = 1_000;
/** RFC 3339 in UTC with up to nanosecond digits, as Go prints a time.Time. */
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

/** A reply's headers as a plain object (every value list), and its status. */
function view(m: Msg): { status: number; description: string; headers: Record<string, string[]>; data: string } {
  const h: Record<string, string[]> = {};
  for (const [k, v] of m.headers ?? []) h[k] = v;
  return { status: m.headers?.code ?? 0, description: m.headers?.description ?? '', headers: h, data: Buffer.from(m.data).toString() };
}

describe('message get: DIRECT.GET and STREAM.MSG.GET', () => {
  let ctx: JsContext;
  let stream: string;
  /** The stored time of each seq, as STREAM.MSG.GET reports it. */
  const times = new Map<number, string>();

  before(async () => {
    ctx = await startJetStream();
    stream = ctx.unique('DG');
    await ctx.jsm.streams.add({ name: stream, subjects: [`${stream}.>`], allow_direct: true });
    const h = headers();
    h.set('X-Foo', 'bar');
    await ctx.js.publish(`${stream}.a`, 'one'); //                      seq 1
    await ctx.js.publish(`${stream}.b`, 'two'); //                      seq 2
    await ctx.js.publish(`${stream}.a`, 'three', { headers: h }); //    seq 3
    await ctx.js.publish(`${stream}.c`, new Uint8Array(0)); //          seq 4
    for (let seq = 1; seq <= 4; seq++) times.set(seq, (await msgGet(stream, { seq })).message.time);
  });

  after(async () => {
    await ctx?.stop();
  });

  function directGet(body: unknown, subjectTail = '', s = stream): Promise<Msg> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return ctx.nc.request(`$JS.API.DIRECT.GET.${s}${subjectTail}`, payload, { timeout: REQUEST_TIMEOUT_MS });
  }

  async function msgGet(s: string, body: unknown): Promise<{ type: string; message: Record<string, unknown> & { time: string } }> {
    const r = await ctx.nc.request(`$JS.API.STREAM.MSG.GET.${s}`, JSON.stringify(body), { timeout: REQUEST_TIMEOUT_MS });
    return r.json();
  }

  /** The headers a direct get adds to stored message `seq` on `subject`. */
  const meta = (subject: string, seq: number): Record<string, string[]> => ({
    'Nats-Stream': [stream],
    'Nats-Subject': [`${stream}.${subject}`],
    'Nats-Sequence': [String(seq)],
    'Nats-Time-Stamp': [times.get(seq)!],
  });

  const notFound = { status: 404, description: 'Message Not Found', headers: {}, data: '' };

  describe('DIRECT.GET', () => {
    it('by seq: the payload, with Nats-Stream, Nats-Subject, Nats-Sequence and Nats-Time-Stamp', async () => {
      assert.deepEqual(view(await directGet({ seq: 1 })), { status: 0, description: '', headers: meta('a', 1), data: 'one' });
      assert.match(times.get(1)!, RFC3339_NANO);
    });

    it("keeps the message's own headers beside the added ones", async () => {
      assert.deepEqual(view(await directGet({ seq: 3 })), {
        status: 0,
        description: '',
        headers: { 'X-Foo': ['bar'], ...meta('a', 3) },
        data: 'three',
      });
    });

    it('an empty payload comes back empty, with the headers', async () => {
      assert.deepEqual(view(await directGet({ seq: 4 })), { status: 0, description: '', headers: meta('c', 4), data: '' });
    });

    it('last_by_subj: the last message on the subject', async () => {
      assert.deepEqual(view(await directGet({ last_by_subj: `${stream}.a` })).headers, { 'X-Foo': ['bar'], ...meta('a', 3) });
      assert.deepEqual(view(await directGet({ last_by_subj: `${stream}.b` })).headers, meta('b', 2));
    });

    it('next_by_subj: the first message on the subject at or after seq (from 1 without one), wildcards too', async () => {
      assert.deepEqual(view(await directGet({ next_by_subj: `${stream}.a` })).headers, meta('a', 1));
      assert.deepEqual(view(await directGet({ next_by_subj: `${stream}.a`, seq: 2 })).headers, { 'X-Foo': ['bar'], ...meta('a', 3) });
      assert.deepEqual(view(await directGet({ next_by_subj: `${stream}.a`, seq: 3 })).headers, { 'X-Foo': ['bar'], ...meta('a', 3) });
      assert.deepEqual(view(await directGet({ next_by_subj: `${stream}.*`, seq: 2 })).headers, meta('b', 2));
    });

    it('DIRECT.GET.<stream>.<subject>: the last message on that subject, with or without a body', async () => {
      assert.deepEqual(view(await directGet(undefined, `.${stream}.a`)), {
        status: 0,
        description: '',
        headers: { 'X-Foo': ['bar'], ...meta('a', 3) },
        data: 'three',
      });
      assert.deepEqual(view(await directGet('', `.${stream}.b`)).headers, meta('b', 2));
      // A wildcard subject there means the last message on any matching subject.
      assert.deepEqual(view(await directGet(undefined, `.${stream}.*`)).headers, meta('c', 4));
    });

    it('404 Message Not Found, status only, for every kind of miss', async () => {
      assert.deepEqual(view(await directGet({ seq: 99 })), notFound);
      assert.deepEqual(view(await directGet({ last_by_subj: `${stream}.zz` })), notFound);
      assert.deepEqual(view(await directGet({ next_by_subj: `${stream}.a`, seq: 4 })), notFound);
      assert.deepEqual(view(await directGet(undefined, `.${stream}.zz`)), notFound);
    });

    it('404 for a deleted message', async () => {
      const s = ctx.unique('DGDEL');
      await ctx.jsm.streams.add({ name: s, subjects: [`${s}.>`], allow_direct: true });
      await ctx.js.publish(`${s}.x`, 'doomed');
      await ctx.js.publish(`${s}.x`, 'stays');
      assert.equal(await ctx.jsm.streams.deleteMessage(s, 1), true);
      assert.deepEqual(view(await directGet({ seq: 1 }, '', s)), notFound);
      assert.equal(view(await directGet({ next_by_subj: `${s}.x` }, '', s)).data, 'stays');
    });

    it('408 for a request it cannot read: empty, not JSON, seq 0, or two kinds at once', async () => {
      const bad = (description: string) => ({ status: 408, description, headers: {}, data: '' });
      assert.deepEqual(view(await directGet('')), bad('Empty Request'));
      assert.deepEqual(view(await directGet({ seq: 0 })), bad('Empty Request'));
      assert.deepEqual(view(await directGet('not json')), bad('Malformed Request'));
      assert.deepEqual(view(await directGet({ seq: 1, last_by_subj: `${stream}.a` })), bad('Bad Request'));
    });

    it('a stream without allow_direct, or no stream at all, has no direct get', async () => {
      const s = ctx.unique('NODIRECT');
      await ctx.jsm.streams.add({ name: s, subjects: [`${s}.>`] });
      await ctx.js.publish(`${s}.x`, 'x');
      const want = differs({
        natsServer: 'TimeoutError',
        hub: 'RequestError',
        why:
          "nats-server's JetStream API import takes the request and drops it, so the client waits out its timeout; " +
          'the hub has no subscriber there, and the core 503 no-responders status tells the client at once',
      });
      const subjects = [`$JS.API.DIRECT.GET.${s}`, `$JS.API.DIRECT.GET.${ctx.unique('NOSTREAM')}`];
      const errs = await Promise.all(subjects.map((subject) => rejection(ctx.nc.request(subject, JSON.stringify({ seq: 1 }), { timeout: SILENCE_MS }))));
      assert.deepEqual(
        errs.map((e) => e.name),
        [want, want],
        errs.map((e, i) => `${subjects[i]}: ${e.name}: ${e.message}`).join('; '),
      );
    });

    it('the official client reads through it (jsm.direct.getMessage)', async () => {
      const sm = await ctx.jsm.direct.getMessage(stream, { last_by_subj: `${stream}.a` });
      assert.ok(sm !== null);
      assert.deepEqual([sm.subject, sm.seq, sm.string(), sm.header.get('X-Foo')], [`${stream}.a`, 3, 'three', 'bar']);
      assert.equal(sm.time.toISOString().slice(0, 19), times.get(3)!.slice(0, 19));
      assert.equal(await ctx.jsm.direct.getMessage(stream, { seq: 99 }), null);
    });
  });

  describe('STREAM.MSG.GET', () => {
    it('leaves `data` out for an empty payload', async () => {
      assert.deepEqual(await msgGet(stream, { seq: 4 }), {
        type: 'io.nats.jetstream.api.v1.stream_msg_get_response',
        message: { subject: `${stream}.c`, seq: 4, time: times.get(4) },
      });
    });

    it('leaves `data` out for a marker with headers and no payload (a KV delete)', async () => {
      const s = ctx.unique('MARK');
      await ctx.jsm.streams.add({ name: s, subjects: [`${s}.>`] });
      const h = headers();
      h.set('KV-Operation', 'DEL');
      await ctx.js.publish(`${s}.k`, new Uint8Array(0), { headers: h });
      const got = await msgGet(s, { seq: 1 });
      assert.deepEqual(Object.keys(got.message).sort(), ['hdrs', 'seq', 'subject', 'time']);
      assert.equal(Buffer.from(got.message.hdrs as string, 'base64').toString(), 'NATS/1.0\r\nKV-Operation: DEL\r\n\r\n');
    });

    it('carries `data` (base64) and `hdrs` when there are some', async () => {
      assert.deepEqual(await msgGet(stream, { seq: 3 }), {
        type: 'io.nats.jetstream.api.v1.stream_msg_get_response',
        message: {
          subject: `${stream}.a`,
          seq: 3,
          hdrs: Buffer.from('NATS/1.0\r\nX-Foo: bar\r\n\r\n').toString('base64'),
          data: Buffer.from('three').toString('base64'),
          time: times.get(3),
        },
      });
    });
  });
});
