/**
 * Watching a bucket with the official @nats-io/kv client, against the
 * current target: the initial values, then the updates, with each include
 * option, a key filter (one, or several with 2.10), ignoreDeletes, headers
 * only and a resume revision.
 *
 * A watch is an ordered push consumer (ack none, flow control, idle
 * heartbeat). The client marks an entry `isUpdate` once it has seen as many
 * entries as the consumer's `num_pending` at creation, so the flags below
 * check that count as much as the deliveries.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KvWatchInclude, type KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import { readAll, startKv, taker, type KvContext } from '../helpers/kv.js';
import { rejection } from '../helpers/client.js';
import { differs } from '../helpers/target.js';

type Seen = [key: string, value: string, revision: number, operation: string, isUpdate: boolean];
const seen = (e: KvWatchEntry): Seen => [e.key, e.string(), e.revision, e.operation, e.isUpdate];

describe('key-value watch (@nats-io/kv)', () => {
  let ctx: KvContext;
  const watches: QueuedIterator<KvWatchEntry>[] = [];

  before(async () => {
    ctx = await startKv();
  });

  after(async () => {
    for (const w of watches) w.stop();
    await ctx?.stop();
  });

  /** A watch that the after() hook stops if the test did not. */
  function track(w: QueuedIterator<KvWatchEntry>): QueuedIterator<KvWatchEntry> {
    watches.push(w);
    return w;
  }

  it('delivers the last value of each key, then every update in order', async () => {
    const kv = await ctx.kvm.create(ctx.unique('w'));
    await kv.put('a', 'a1');
    await kv.put('b', 'b1');
    await kv.put('a', 'a2');
    const w = track(await kv.watch());
    const t = taker(w, 'watch()');
    // The last of the initial values is already flagged as an update: that is how the client counts (i >= num_pending).
    assert.deepEqual((await t.take(2)).map(seen), [
      ['b', 'b1', 2, 'PUT', false],
      ['a', 'a2', 3, 'PUT', true],
    ]);
    await kv.put('c', 'c1');
    await kv.delete('b');
    await kv.purge('a');
    assert.deepEqual((await t.take(3)).map(seen), [
      ['c', 'c1', 4, 'PUT', true],
      ['b', '', 5, 'DEL', true],
      ['a', '', 6, 'PURGE', true],
    ]);
    w.stop();
  });

  it('include AllHistory delivers every kept revision first', async () => {
    const kv = await ctx.kvm.create(ctx.unique('wh'), { history: 10 });
    await kv.put('k', 'v1');
    await kv.put('k', 'v2');
    await kv.put('j', 'j1');
    const w = track(await kv.watch({ include: KvWatchInclude.AllHistory }));
    const t = taker(w, 'watch(AllHistory)');
    assert.deepEqual((await t.take(3)).map(seen), [
      ['k', 'v1', 1, 'PUT', false],
      ['k', 'v2', 2, 'PUT', false],
      ['j', 'j1', 3, 'PUT', true],
    ]);
    await kv.put('k', 'v3');
    assert.deepEqual((await t.take(1)).map(seen), [['k', 'v3', 4, 'PUT', true]]);
    w.stop();
  });

  it('include UpdatesOnly delivers nothing already stored', async () => {
    const kv = await ctx.kvm.create(ctx.unique('wu'));
    await kv.put('old', 'o');
    const w = track(await kv.watch({ include: KvWatchInclude.UpdatesOnly }));
    const t = taker(w, 'watch(UpdatesOnly)');
    await kv.put('new', 'n');
    assert.deepEqual((await t.take(1)).map(seen), [['new', 'n', 2, 'PUT', true]]);
    w.stop();
  });

  it('a watch of an empty bucket flags everything as an update', async () => {
    const kv = await ctx.kvm.create(ctx.unique('we'));
    const w = track(await kv.watch());
    const t = taker(w, 'watch() of an empty bucket');
    await kv.put('a', '1');
    await kv.put('b', '2');
    assert.deepEqual((await t.take(2)).map(seen), [
      ['a', '1', 1, 'PUT', true],
      ['b', '2', 2, 'PUT', true],
    ]);
    w.stop();
  });

  it('a key filter watches only the matching keys', async () => {
    const kv = await ctx.kvm.create(ctx.unique('wf'));
    await kv.put('user.ann', 'a');
    await kv.put('team.x', 'x');
    const w = track(await kv.watch({ key: 'user.*' }));
    const t = taker(w, "watch('user.*')");
    assert.deepEqual((await t.take(1)).map(seen), [['user.ann', 'a', 1, 'PUT', true]]);
    await kv.put('team.y', 'y');
    await kv.put('user.bob', 'b');
    assert.deepEqual((await t.take(1)).map(seen), [['user.bob', 'b', 4, 'PUT', true]]);
    w.stop();
  });

  it('several keys at once (filter_subjects, a 2.10 feature) watch and list only those', async () => {
    const kv = await ctx.kvm.create(ctx.unique('wm'));
    await kv.put('a.x', '1');
    await kv.put('b', '2');
    await kv.put('c', '3');
    // The client checks the server's version first: nats-server 2.9.10 has no filter_subjects; the hub says 2.10.0.
    const refused = differs({ natsServer: true, hub: false, why: "filter_subjects needs nats-server 2.10; the hub advertises 2.10.0" });
    if (refused) {
      assert.match((await rejection(kv.keys(['a.*', 'b']))).message, /'filter_subjects' requires server 2\.10\.0/);
      assert.match((await rejection(kv.watch({ key: ['a.*', 'b'] }))).message, /'filter_subjects' requires server 2\.10\.0/);
      return;
    }
    assert.deepEqual((await readAll(await kv.keys(['a.*', 'b']), "keys(['a.*', 'b'])")).sort(), ['a.x', 'b']);
    const w = track(await kv.watch({ key: ['a.*', 'b'] }));
    const t = taker(w, "watch(['a.*', 'b'])");
    assert.deepEqual((await t.take(2)).map(seen), [
      ['a.x', '1', 1, 'PUT', false],
      ['b', '2', 2, 'PUT', true],
    ]);
    await kv.put('c', '4');
    await kv.put('a.y', '5');
    assert.deepEqual((await t.take(1)).map(seen), [['a.y', '5', 5, 'PUT', true]]);
    w.stop();
  });

  it('ignoreDeletes skips DEL markers (the client still passes PURGE on)', async () => {
    const kv = await ctx.kvm.create(ctx.unique('wd'));
    await kv.put('gone', 'g');
    await kv.delete('gone');
    await kv.put('here', 'h');
    const w = track(await kv.watch({ ignoreDeletes: true }));
    const t = taker(w, 'watch({ignoreDeletes})');
    assert.deepEqual((await t.take(1)).map(seen), [['here', 'h', 3, 'PUT', true]]);
    await kv.delete('here');
    await kv.put('next', 'n');
    await kv.purge('next');
    assert.deepEqual((await t.take(2)).map(seen), [
      ['next', 'n', 5, 'PUT', true],
      ['next', '', 6, 'PURGE', true],
    ]);
    w.stop();
  });

  it('headers_only delivers no value but the value length (Nats-Msg-Size)', async () => {
    const kv = await ctx.kvm.create(ctx.unique('who'));
    await kv.put('k', 'twelve bytes');
    const w = track(await kv.watch({ headers_only: true }));
    const [e] = await taker(w, 'watch({headers_only})').take(1);
    assert.deepEqual(seen(e!), ['k', '', 1, 'PUT', true]);
    assert.equal(e!.length, 12);
    w.stop();
  });

  it('resumeFromRevision starts at that revision, history included', async () => {
    const kv = await ctx.kvm.create(ctx.unique('wr'), { history: 5 });
    for (const v of ['v1', 'v2', 'v3', 'v4']) await kv.put('k', v);
    const w = track(await kv.watch({ resumeFromRevision: 3 }));
    assert.deepEqual((await taker(w, 'watch({resumeFromRevision: 3})').take(2)).map(seen), [
      ['k', 'v3', 3, 'PUT', false],
      ['k', 'v4', 4, 'PUT', true],
    ]);
    w.stop();
  });

  it('is an ordered push consumer: ack none, flow control, heartbeat; bound while watched, unbound after stop()', async () => {
    const kv = await ctx.kvm.create(ctx.unique('ws'));
    await kv.put('k', 'v');
    const stream = `KV_${(await kv.status()).bucket}`;
    const w = track(await kv.watch());
    await taker(w, 'watch()').take(1);
    const [ci, ...more] = await readAll(ctx.jsm.consumers.list(stream), 'consumers.list()');
    assert.equal(more.length, 0);
    const c = ci!.config;
    assert.deepEqual(
      {
        deliver_policy: c.deliver_policy,
        ack_policy: c.ack_policy,
        max_deliver: c.max_deliver,
        filter_subject: c.filter_subject,
        flow_control: c.flow_control,
        idle_heartbeat: c.idle_heartbeat,
        inactive_threshold: c.inactive_threshold,
        durable_name: c.durable_name,
      },
      {
        deliver_policy: 'last_per_subject',
        ack_policy: 'none',
        max_deliver: 1,
        filter_subject: `$KV.${stream.slice(3)}.>`,
        flow_control: true,
        idle_heartbeat: 30_000_000_000,
        inactive_threshold: 300_000_000_000,
        durable_name: undefined,
      },
    );
    assert.match(c.deliver_subject ?? '', /^_INBOX\./);
    assert.equal(ci!.push_bound, true);
    assert.equal(ci!.num_pending, 0, 'the one value was delivered');
    assert.deepEqual(ci!.delivered, { ...ci!.delivered, consumer_seq: 1, stream_seq: 1 });
    w.stop();
    // The consumer stays (until inactive_threshold) but loses its subscriber: the server notices the interest go.
    const deadline = Date.now() + 5_000;
    while ((await ctx.jsm.consumers.info(stream, ci!.name)).push_bound === true) {
      assert.ok(Date.now() < deadline, 'still push_bound 5 s after the watcher stopped');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
