/**
 * `Nats-Rollup` on publish, against the current target: with
 * allow_rollup_hdrs, `sub` keeps only the new message on its subject and
 * `all` only the new message in the stream; without it the publish is
 * refused. KV purges and every object store metadata write depend on it.
 * Also the stream permissions around it: deny_purge, deny_delete.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { StreamConfig } from '@nats-io/jetstream';
import { assertApiError, startJetStream, type JsContext } from '../helpers/jetstream.js';

const REQUEST_TIMEOUT_MS = 5_000;

function rollup(value: string): MsgHdrs {
  const h = headers();
  h.set('Nats-Rollup', value);
  return h;
}

describe('Nats-Rollup', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  async function stream(prefix: string, cfg: Partial<StreamConfig> = {}): Promise<string> {
    const name = ctx.unique(prefix);
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`], ...cfg });
    return name;
  }

  /** Per-subject message counts, and the seqs still stored. */
  async function contents(name: string): Promise<{ subjects: Record<string, number>; seqs: number[] }> {
    const si = await ctx.jsm.streams.info(name, { subjects_filter: '>' });
    const seqs: number[] = [];
    for (let seq = si.state.first_seq; seq <= si.state.last_seq; seq++) {
      if ((await ctx.jsm.streams.getMessage(name, { seq })) !== null) seqs.push(seq);
    }
    return { subjects: si.state.subjects ?? {}, seqs };
  }

  it('sub: only the new message stays on its subject; other subjects keep theirs', async () => {
    const s = await stream('RSUB', { allow_rollup_hdrs: true });
    for (const v of ['a1', 'a2', 'a3']) await ctx.js.publish(`${s}.a`, v);
    await ctx.js.publish(`${s}.b`, 'b1');
    await ctx.js.publish(`${s}.b`, 'b2');
    const pa = await ctx.js.publish(`${s}.a`, 'a4', { headers: rollup('sub') });
    assert.deepEqual([pa.stream, pa.seq, pa.duplicate], [s, 6, false]);
    assert.deepEqual(await contents(s), { subjects: { [`${s}.a`]: 1, [`${s}.b`]: 2 }, seqs: [4, 5, 6] });
    const si = await ctx.jsm.streams.info(s);
    assert.deepEqual([si.state.messages, si.state.first_seq, si.state.last_seq], [3, 4, 6]);
    const kept = await ctx.jsm.streams.getMessage(s, { seq: 6 });
    assert.equal(kept?.string(), 'a4');
    assert.equal(kept?.header.get('Nats-Rollup'), 'sub', 'the marker keeps its header');
  });

  it('sub with an empty payload (a KV purge marker) works the same', async () => {
    const s = await stream('RSUBE', { allow_rollup_hdrs: true });
    await ctx.js.publish(`${s}.k`, 'v1');
    await ctx.js.publish(`${s}.k`, 'v2');
    const h = rollup('sub');
    h.set('KV-Operation', 'PURGE');
    await ctx.js.publish(`${s}.k`, new Uint8Array(0), { headers: h });
    assert.deepEqual(await contents(s), { subjects: { [`${s}.k`]: 1 }, seqs: [3] });
  });

  it('all: only the new message stays in the stream', async () => {
    const s = await stream('RALL', { allow_rollup_hdrs: true });
    await ctx.js.publish(`${s}.a`, 'a1');
    await ctx.js.publish(`${s}.b`, 'b1');
    await ctx.js.publish(`${s}.a`, 'a2');
    const pa = await ctx.js.publish(`${s}.c`, 'c1', { headers: rollup('all') });
    assert.equal(pa.seq, 4);
    assert.deepEqual(await contents(s), { subjects: { [`${s}.c`]: 1 }, seqs: [4] });
    // The stream goes on after a rollup.
    assert.equal((await ctx.js.publish(`${s}.a`, 'a3')).seq, 5);
  });

  it('the value is read without regard to case', async () => {
    const s = await stream('RCASE', { allow_rollup_hdrs: true });
    await ctx.js.publish(`${s}.a`, 'a1');
    await ctx.js.publish(`${s}.a`, 'a2', { headers: rollup('SUB') });
    assert.deepEqual(await contents(s), { subjects: { [`${s}.a`]: 1 }, seqs: [2] });
  });

  it('an unknown value is not stored and takes no seq', async () => {
    const s = await stream('RBAD', { allow_rollup_hdrs: true });
    await ctx.js.publish(`${s}.a`, 'a1');
    // nats-server 2.9.10 sends no PubAck at all here, so the reply is not part of the check.
    ctx.nc.publish(`${s}.a`, 'bad', { headers: rollup('everything') });
    await ctx.nc.flush();
    assert.equal((await ctx.js.publish(`${s}.a`, 'a2')).seq, 2);
    assert.deepEqual(await contents(s), { subjects: { [`${s}.a`]: 2 }, seqs: [1, 2] });
  });

  it('without allow_rollup_hdrs the publish is refused (500/10111) and nothing changes', async () => {
    const s = await stream('RNO');
    await ctx.js.publish(`${s}.a`, 'a1');
    for (const v of ['sub', 'all']) {
      await assertApiError(ctx.js.publish(`${s}.a`, 'a2', { headers: rollup(v) }), { status: 500, code: 10111, description: 'rollup not permitted' });
    }
    // The raw PubAck names the stream with seq 0.
    const raw = await ctx.nc.request(`${s}.a`, 'a3', { headers: rollup('sub'), timeout: REQUEST_TIMEOUT_MS });
    assert.deepEqual(raw.json(), { error: { code: 500, err_code: 10111, description: 'rollup not permitted' }, stream: s, seq: 0 });
    assert.deepEqual(await contents(s), { subjects: { [`${s}.a`]: 1 }, seqs: [1] });
    assert.equal((await ctx.js.publish(`${s}.a`, 'a4')).seq, 2);
  });

  it('deny_purge: a stream cannot allow rollups, purge is refused, rollups are refused', async () => {
    const name = ctx.unique('RDENY');
    await assertApiError(ctx.jsm.streams.add({ name, subjects: [`${name}.>`], allow_rollup_hdrs: true, deny_purge: true }), {
      status: 500,
      code: 10052,
      description: 'roll-ups require the purge permission',
    });
    const s = await stream('RDENY', { deny_purge: true, deny_delete: true });
    const cfg = (await ctx.jsm.streams.info(s)).config;
    assert.deepEqual([cfg.deny_purge, cfg.deny_delete, cfg.allow_rollup_hdrs], [true, true, false]);
    await ctx.js.publish(`${s}.a`, 'a1');
    await assertApiError(ctx.js.publish(`${s}.a`, 'a2', { headers: rollup('sub') }), { status: 500, code: 10111, description: 'rollup not permitted' });
    await assertApiError(ctx.jsm.streams.purge(s), { status: 500, code: 10110, description: 'stream purge not permitted' });
    await assertApiError(ctx.jsm.streams.deleteMessage(s, 1), { status: 500, code: 10057, description: 'message delete not permitted' });
    assert.deepEqual(await contents(s), { subjects: { [`${s}.a`]: 1 }, seqs: [1] });
  });
});
