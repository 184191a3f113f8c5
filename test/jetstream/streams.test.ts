/**
 * Stream management with the official client (`jetstreamManager().streams`):
 * create with server-filled defaults, info with exact counts and bytes,
 * update, list and names, delete, purge variants, message get, and the
 * API errors with their codes. Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headers } from '@nats-io/transport-node';
import { StorageType, type StreamInfo } from '@nats-io/jetstream';
import { assertApiError, publishAll, startJetStream, ZERO_TIME, type JsContext } from '../helpers/jetstream.js';

/**
 * The bytes STREAM.INFO counts for one message, as nats-server's file store
 * does: 22 bytes of record overhead + subject + header block (+4 when there
 * is one) + payload + 8 bytes of checksum.
 */
function storedBytes(subject: string, hdrLen: number, payloadLen: number): number {
  return 22 + subject.length + (hdrLen > 0 ? hdrLen + 4 : 0) + payloadLen + 8;
}

/** The defaults nats-server 2.9.10 fills into a stream config (STREAM.CREATE response). */
const STREAM_DEFAULTS = {
  retention: 'limits',
  max_consumers: -1,
  max_msgs: -1,
  max_bytes: -1,
  max_age: 0,
  max_msgs_per_subject: -1,
  max_msg_size: -1,
  discard: 'old',
  storage: 'file',
  num_replicas: 1,
  duplicate_window: 120_000_000_000, // 2 min in ns
  allow_direct: false,
  mirror_direct: false,
  sealed: false,
  deny_delete: false,
  deny_purge: false,
  allow_rollup_hdrs: false,
} as const;

async function collectNames(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const n of it) out.push(n);
  return out.sort();
}

function assertTime(s: string | undefined, near: number, what: string): void {
  assert.equal(typeof s, 'string', what);
  // RFC 3339 with nanoseconds, UTC.
  assert.match(s!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/, what);
  const t = Date.parse(s!);
  assert.ok(Math.abs(t - near) < 10_000, `${what} ${s} is not near ${new Date(near).toISOString()}`);
}

describe('streams', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  it('add answers with the full config, defaults filled in, and an empty state', async () => {
    const name = ctx.unique('ORDERS');
    const before = Date.now();
    const si = await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    const config = si.config as unknown as Record<string, unknown>;
    assert.equal(config.name, name);
    assert.deepEqual(config.subjects, [`${name}.>`]);
    for (const [k, v] of Object.entries(STREAM_DEFAULTS)) assert.deepEqual(config[k], v, `config.${k}`);
    assertTime(si.created, before, 'created');
    const raw = si as unknown as { did_create?: boolean };
    assert.equal(raw.did_create, true);
    assert.deepEqual(si.state, {
      messages: 0,
      bytes: 0,
      first_seq: 0,
      first_ts: ZERO_TIME,
      last_seq: 0,
      last_ts: ZERO_TIME,
      consumer_count: 0,
    });
  });

  it('add with the same config again succeeds and returns the same stream', async () => {
    const name = ctx.unique('SAME');
    const a = await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    await ctx.js.publish(`${name}.x`, 'kept');
    const b = await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    assert.equal(b.created, a.created);
    assert.equal(b.state.messages, 1, 'the existing stream is untouched');
  });

  it('add with a taken name and a different config fails with 10058', async () => {
    const name = ctx.unique('TAKEN');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.a`] });
    await assertApiError(ctx.jsm.streams.add({ name, subjects: [`${name}.b`] }), {
      status: 400,
      code: 10058,
      description: 'stream name already in use with a different configuration',
    });
  });

  it('add with subjects overlapping another stream fails with 10065', async () => {
    const a = ctx.unique('OVA');
    await ctx.jsm.streams.add({ name: a, subjects: [`${a}.>`] });
    await assertApiError(ctx.jsm.streams.add({ name: ctx.unique('OVB'), subjects: [`${a}.x`] }), {
      status: 400,
      code: 10065,
      description: 'subjects overlap with an existing stream',
    });
    assert.deepEqual(await collectNames(ctx.jsm.streams.names(`${a}.x`)), [a], 'the second stream was not created');
  });

  it('info counts messages, subjects and bytes exactly', async () => {
    const name = ctx.unique('INFO');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    const t0 = Date.now();
    const s1 = `${name}.a`;
    await ctx.js.publish(s1, 'hello');
    let si = await ctx.jsm.streams.info(name);
    assert.equal(si.state.messages, 1);
    // js.publish without options sends HPUB with an empty header block; it is stored without headers.
    assert.equal(si.state.bytes, storedBytes(s1, 0, 5));
    assert.equal(si.state.first_seq, 1);
    assert.equal(si.state.last_seq, 1);
    assert.equal(si.state.num_subjects, 1);
    assert.equal(si.state.consumer_count, 0);
    assertTime(si.state.first_ts, t0, 'first_ts');
    assert.equal(si.state.last_ts, si.state.first_ts);

    const h = headers();
    h.set('X-A', '1');
    const s2 = `${name}.b`;
    await ctx.js.publish(s2, 'hi', { headers: h, msgID: 'm1' });
    // The header block as the client sends it: "NATS/1.0\r\nX-A: 1\r\nNats-Msg-Id: m1\r\n\r\n".
    const hdrLen = 'NATS/1.0\r\nX-A: 1\r\nNats-Msg-Id: m1\r\n\r\n'.length;
    si = await ctx.jsm.streams.info(name);
    assert.equal(si.state.messages, 2);
    assert.equal(si.state.bytes, storedBytes(s1, 0, 5) + storedBytes(s2, hdrLen, 2));
    assert.equal(si.state.first_seq, 1);
    assert.equal(si.state.last_seq, 2);
    assert.equal(si.state.num_subjects, 2);
    assert.ok(Date.parse(si.state.last_ts) >= Date.parse(si.state.first_ts));
  });

  it('update changes subjects and limits, keeps created and the messages', async () => {
    const name = ctx.unique('UPD');
    const created = await ctx.jsm.streams.add({ name, subjects: [`${name}.a`] });
    await ctx.js.publish(`${name}.a`, '1');
    const si = await ctx.jsm.streams.update(name, { subjects: [`${name}.a`, `${name}.b`], max_msgs: 10 });
    assert.deepEqual(si.config.subjects, [`${name}.a`, `${name}.b`]);
    assert.equal(si.config.max_msgs, 10);
    assert.equal(si.config.duplicate_window, STREAM_DEFAULTS.duplicate_window);
    assert.equal(si.created, created.created);
    assert.equal(si.state.messages, 1);
    assert.equal((await ctx.js.publish(`${name}.b`, '2')).seq, 2, 'the added subject is captured');
  });

  it('update of a missing stream fails with 10059, of the storage type with 10052', async () => {
    await assertApiError(ctx.jsm.streams.update(ctx.unique('NOPE'), { subjects: ['nope.x'] }), {
      status: 404,
      code: 10059,
      description: 'stream not found',
      name: 'StreamNotFoundError',
    });
    const name = ctx.unique('UPDS');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.a`] });
    // nats-server answers this one with status 500.
    await assertApiError(ctx.jsm.streams.update(name, { storage: StorageType.Memory } as never), {
      status: 500,
      code: 10052,
      description: 'stream configuration update can not change storage type',
    });
  });

  it('names and list include every stream; names(subject) only the streams that capture it', async () => {
    const a = ctx.unique('LA');
    const b = ctx.unique('LB');
    await ctx.jsm.streams.add({ name: a, subjects: [`${a}.>`] });
    await ctx.jsm.streams.add({ name: b, subjects: [`${b}.x`, `${b}.y`] });
    const all = await collectNames(ctx.jsm.streams.names());
    assert.ok(all.includes(a) && all.includes(b), `names: ${all.join(',')}`);
    const listed: StreamInfo[] = [];
    for await (const si of ctx.jsm.streams.list()) listed.push(si);
    assert.deepEqual(listed.map((si) => si.config.name).sort(), all, 'list and names agree');
    assert.deepEqual(listed.find((si) => si.config.name === b)?.config.subjects, [`${b}.x`, `${b}.y`]);
    assert.deepEqual(await collectNames(ctx.jsm.streams.names(`${b}.y`)), [b]);
    assert.deepEqual(await collectNames(ctx.jsm.streams.names(`${a}.deep.er`)), [a]);
    assert.deepEqual(await collectNames(ctx.jsm.streams.names(`${b}.z`)), []);
    assert.equal(await ctx.jsm.streams.find(`${a}.q`), a);
  });

  it('delete removes the stream; a second delete, info and purge fail with 10059', async () => {
    const name = ctx.unique('DEL');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.a`] });
    await ctx.js.publish(`${name}.a`, 'x');
    assert.equal(await ctx.jsm.streams.delete(name), true);
    const notFound = { status: 404, code: 10059, description: 'stream not found', name: 'StreamNotFoundError' };
    await assertApiError(ctx.jsm.streams.info(name), notFound);
    await assertApiError(ctx.jsm.streams.delete(name), notFound);
    await assertApiError(ctx.jsm.streams.purge(name), notFound);
    assert.ok(!(await collectNames(ctx.jsm.streams.names())).includes(name));
    // Its subjects are free again: nothing captures them.
    await assert.rejects(ctx.js.publish(`${name}.a`, 'y'), { name: 'JetStreamNotEnabled' });
  });

  it('purge of everything empties the stream and keeps the sequence going', async () => {
    const name = ctx.unique('PALL');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    await publishAll(ctx.js, `${name}.a`, ['1', '2', '3']);
    const r = await ctx.jsm.streams.purge(name);
    assert.deepEqual({ success: r.success, purged: r.purged }, { success: true, purged: 3 });
    const st = (await ctx.jsm.streams.info(name)).state;
    assert.equal(st.messages, 0);
    assert.equal(st.bytes, 0);
    assert.equal(st.first_seq, 4);
    assert.equal(st.last_seq, 3);
    assert.equal((await ctx.js.publish(`${name}.a`, '4')).seq, 4, 'seqs are never reused');
  });

  it('purge with a subject filter removes only that subject', async () => {
    const name = ctx.unique('PFIL');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    await ctx.js.publish(`${name}.a`, '1');
    await ctx.js.publish(`${name}.b`, '2');
    await ctx.js.publish(`${name}.a`, '3');
    const r = await ctx.jsm.streams.purge(name, { filter: `${name}.a` });
    assert.equal(r.purged, 2);
    const st = (await ctx.jsm.streams.info(name)).state;
    assert.equal(st.messages, 1);
    assert.equal(st.first_seq, 2);
    assert.equal(st.last_seq, 3);
    assert.equal((await ctx.jsm.streams.getMessage(name, { seq: 2 }))?.string(), '2');
    assert.equal(await ctx.jsm.streams.getMessage(name, { seq: 1 }), null);
  });

  it('purge with keep leaves the newest N messages', async () => {
    const name = ctx.unique('PKEEP');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    await publishAll(ctx.js, `${name}.a`, ['1', '2', '3', '4', '5']);
    const r = await ctx.jsm.streams.purge(name, { keep: 2 });
    assert.equal(r.purged, 3);
    const st = (await ctx.jsm.streams.info(name)).state;
    assert.deepEqual([st.messages, st.first_seq, st.last_seq], [2, 4, 5]);
  });

  it('purge up to a seq removes everything below it', async () => {
    const name = ctx.unique('PSEQ');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    await publishAll(ctx.js, `${name}.a`, ['1', '2', '3', '4', '5']);
    const r = await ctx.jsm.streams.purge(name, { seq: 4 });
    assert.equal(r.purged, 3);
    const st = (await ctx.jsm.streams.info(name)).state;
    assert.deepEqual([st.messages, st.first_seq, st.last_seq], [2, 4, 5]);
  });

  it('getMessage by seq returns subject, data, headers and time; a missing seq gives null', async () => {
    const name = ctx.unique('GET');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    const t0 = Date.now();
    await ctx.js.publish(`${name}.a`, 'plain');
    const h = headers();
    h.set('X-Kind', 'test');
    h.append('X-Multi', 'one');
    h.append('X-Multi', 'two');
    await ctx.js.publish(`${name}.b`, 'with headers', { headers: h });

    const m1 = await ctx.jsm.streams.getMessage(name, { seq: 1 });
    assert.ok(m1 !== null);
    assert.equal(m1.subject, `${name}.a`);
    assert.equal(m1.seq, 1);
    assert.equal(m1.string(), 'plain');
    assert.deepEqual([...m1.header.keys()], []);
    assert.ok(Math.abs(m1.time.getTime() - t0) < 10_000, `time ${m1.time.toISOString()}`);

    const m2 = await ctx.jsm.streams.getMessage(name, { seq: 2 });
    assert.ok(m2 !== null);
    assert.equal(m2.string(), 'with headers');
    assert.equal(m2.header.get('X-Kind'), 'test');
    assert.deepEqual(m2.header.values('X-Multi'), ['one', 'two']);

    assert.equal(await ctx.jsm.streams.getMessage(name, { seq: 99 }), null);
  });

  it('getMessage last_by_subj returns the newest message on that subject, or null', async () => {
    const name = ctx.unique('LAST');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    await ctx.js.publish(`${name}.a`, 'a1');
    await ctx.js.publish(`${name}.b`, 'b1');
    await ctx.js.publish(`${name}.a`, 'a2');
    await ctx.js.publish(`${name}.b`, 'b2');
    const m = await ctx.jsm.streams.getMessage(name, { last_by_subj: `${name}.a` });
    assert.equal(m?.seq, 3);
    assert.equal(m?.string(), 'a2');
    assert.equal(await ctx.jsm.streams.getMessage(name, { last_by_subj: `${name}.zzz` }), null);
  });

  it('STREAM.MSG.GET answers a missing message with 404/10037 and a hit with base64 fields', async () => {
    // The client maps 10037 to null (above); the raw answer is what a hub must send.
    const name = ctx.unique('RAWGET');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.*`] });
    await ctx.js.publish(`${name}.a`, 'xyz');
    const miss = (await ctx.nc.request(`$JS.API.STREAM.MSG.GET.${name}`, JSON.stringify({ seq: 5 }), { timeout: 5_000 })).json<{
      type: string;
      error: unknown;
    }>();
    assert.equal(miss.type, 'io.nats.jetstream.api.v1.stream_msg_get_response');
    assert.deepEqual(miss.error, { code: 404, err_code: 10037, description: 'no message found' });
    const hit = (await ctx.nc.request(`$JS.API.STREAM.MSG.GET.${name}`, JSON.stringify({ seq: 1 }), { timeout: 5_000 })).json<{
      message: { subject: string; seq: number; data: string; hdrs?: string; time: string };
    }>();
    assert.equal(hit.message.subject, `${name}.a`);
    assert.equal(hit.message.seq, 1);
    assert.equal(Buffer.from(hit.message.data, 'base64').toString(), 'xyz');
    assert.equal(hit.message.hdrs, undefined, 'no header block was stored');
  });

  it('$JS.API.INFO reports the account: stream count and unlimited limits', async () => {
    const info = await ctx.jsm.getAccountInfo();
    const names = await collectNames(ctx.jsm.streams.names());
    assert.equal(info.streams, names.length);
    assert.deepEqual(info.limits, {
      max_memory: -1,
      max_storage: -1,
      max_streams: -1,
      max_consumers: -1,
      max_ack_pending: -1,
      memory_max_stream_bytes: -1,
      storage_max_stream_bytes: -1,
      max_bytes_required: false,
    });
    assert.equal(typeof info.api.total, 'number');
    assert.equal(typeof info.api.errors, 'number');
    const raw = (await ctx.nc.request('$JS.API.INFO', '', { timeout: 5_000 })).json<{ type: string }>();
    assert.equal(raw.type, 'io.nats.jetstream.api.v1.account_info_response');
  });

  it('a raw STREAM.CREATE with a body that is not JSON, or names another stream, is refused', async () => {
    const request = async (subject: string, body: string) => (await ctx.nc.request(subject, body, { timeout: 5_000 })).json<Record<string, unknown>>();
    const name = ctx.unique('RAWCREATE');
    const type = 'io.nats.jetstream.api.v1.stream_create_response';
    assert.deepEqual(await request(`$JS.API.STREAM.CREATE.${name}`, 'not json'), {
      type,
      error: { code: 400, err_code: 10025, description: 'invalid JSON' },
    });
    assert.deepEqual(await request(`$JS.API.STREAM.CREATE.${name}`, ''), {
      type,
      error: { code: 400, err_code: 10025, description: 'invalid JSON' },
    });
    assert.deepEqual(await request(`$JS.API.STREAM.CREATE.${name}`, JSON.stringify({ name: 'OTHER', subjects: ['other.x'] })), {
      type,
      error: { code: 400, err_code: 10056, description: 'stream name in subject does not match request' },
    });
    assert.equal((await collectNames(ctx.jsm.streams.names())).includes(name), false);
  });

  it('info, purge and delete of a stream that never existed fail with 10059 (StreamNotFoundError)', async () => {
    const name = ctx.unique('NEVER');
    const notFound = { status: 404, code: 10059, description: 'stream not found', name: 'StreamNotFoundError' };
    await assertApiError(ctx.jsm.streams.info(name), notFound);
    await assertApiError(ctx.jsm.streams.purge(name), notFound);
    await assertApiError(ctx.jsm.streams.delete(name), notFound);
  });
});
