/**
 * What a stream update may change, and the one-way switches: deny_delete,
 * deny_purge and sealed cannot be undone, sealing forces what a sealed
 * stream means, and roll-ups need the purge permission. Runs against
 * NETEMITTER_TARGET; where nats-server 2.10 changed 2.9's rule the hub
 * follows 2.10 and the test says so.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RetentionPolicy } from '@nats-io/jetstream';
import { differs } from '../helpers/target.js';
import { assertApiError, startJetStream, type JsContext } from '../helpers/jetstream.js';

const invalid = (description: string) => ({ status: 500, code: 10052, description });

describe('stream updates', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });
  after(async () => {
    await ctx?.stop();
  });

  it('deny_delete and deny_purge, once set, cannot be taken back', async () => {
    const name = ctx.unique('DENY');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`], deny_delete: true, deny_purge: true });
    await assertApiError(
      ctx.jsm.streams.update(name, { subjects: [`${name}.>`], deny_delete: false, deny_purge: true }),
      invalid('stream configuration update can not cancel deny message deletes'),
    );
    await assertApiError(
      ctx.jsm.streams.update(name, { subjects: [`${name}.>`], deny_delete: true, deny_purge: false }),
      invalid('stream configuration update can not cancel deny purge'),
    );
    await ctx.js.publish(`${name}.a`, 'x');
    await assertApiError(ctx.jsm.streams.deleteMessage(name, 1), { status: 500, code: 10057, description: 'message delete not permitted' });
    await assertApiError(ctx.jsm.streams.purge(name), { status: 500, code: 10110, description: 'stream purge not permitted' });
  });

  it('a stream that allows roll-ups must allow purges, on create and on update', async () => {
    const name = ctx.unique('ROLL');
    await assertApiError(
      ctx.jsm.streams.add({ name, subjects: [`${name}.>`], allow_rollup_hdrs: true, deny_purge: true }),
      invalid('roll-ups require the purge permission'),
    );
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`], allow_rollup_hdrs: true });
    await assertApiError(
      ctx.jsm.streams.update(name, { subjects: [`${name}.>`], allow_rollup_hdrs: true, deny_purge: true }),
      invalid('roll-ups require the purge permission'),
    );
  });

  it('retention cannot move to or from work queue', async () => {
    const name = ctx.unique('RET');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    await assertApiError(
      ctx.jsm.streams.update(name, { subjects: [`${name}.>`], retention: RetentionPolicy.Workqueue } as never),
      invalid(
        differs({
          natsServer: 'stream configuration update can not change retention policy',
          hub: 'stream configuration update can not change retention policy to/from workqueue',
          why: 'nats-server 2.10 lets limits and interest trade places and names work queue in the refusal; 2.9 refuses any change',
        }),
      ),
    );
  });

  it('max_consumers can change', async () => {
    const name = ctx.unique('MAXC');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    const p = ctx.jsm.streams.update(name, { subjects: [`${name}.>`], max_consumers: 3 } as never);
    if (
      differs({ natsServer: true, hub: false, why: 'nats-server 2.9 refuses to change max_consumers; 2.10 dropped that rule' })
    ) {
      await assertApiError(p, invalid('stream configuration update can not change MaxConsumers'));
    } else {
      assert.equal((await p).config.max_consumers, 3);
    }
  });

  it('sealing forces deny_delete, deny_purge, discard new, no max_age and no roll-ups; unsealing is refused', async () => {
    const name = ctx.unique('SEAL');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`], max_age: 60_000_000_000, allow_rollup_hdrs: true });
    await ctx.js.publish(`${name}.a`, 'kept');
    const si = await ctx.jsm.streams.update(name, { subjects: [`${name}.>`], max_age: 60_000_000_000, allow_rollup_hdrs: true, sealed: true } as never);
    assert.equal(si.config.sealed, true);
    assert.equal(si.config.deny_delete, true);
    assert.equal(si.config.deny_purge, true);
    assert.equal(si.config.discard, 'new');
    assert.equal(si.config.max_age, 0);
    assert.equal(si.config.allow_rollup_hdrs, false);
    assert.equal(si.state.messages, 1);
    await assertApiError(
      ctx.jsm.streams.update(name, { ...si.config, sealed: false } as never),
      invalid('stream configuration update can not unseal a sealed stream'),
    );
    await assertApiError(ctx.js.publish(`${name}.a`, 'refused'), { status: 400, code: 10109, description: 'invalid operation on sealed stream' });
  });

  it('a stream cannot be created sealed', async () => {
    const name = ctx.unique('SEALC');
    await assertApiError(ctx.jsm.streams.add({ name, subjects: [`${name}.>`], sealed: true }), invalid('stream configuration for create can not be sealed'));
  });
});
