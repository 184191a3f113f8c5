/**
 * The hub's own events (advisories, presence events) are built only when
 * something would take them: a subscription, or a stream that captures the
 * subject with nobody subscribed. A stream alone must be enough.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createHub } from '../../src/index.js';
import { MemoryStore } from '../../src/store/index.js';

describe('lifecycle events captured by a stream', () => {
  it('a stream capturing the advisories and presence events stores them with no subscriber', async () => {
    const hub = createHub({ port: 0, jetstream: { store: new MemoryStore() } });
    const opened: { close(): Promise<void> }[] = [];
    try {
      await hub.listen();
      const admin = await connect({ servers: hub.url });
      opened.push(admin);
      const jsm = await jetstreamManager(admin);
      await jsm.streams.add({ name: 'SYS', subjects: ['$SYS.ACCOUNT.$G.>'] });
      await jsm.streams.add({ name: 'PRESENCE', subjects: ['$NE.PRESENCE.EVENT.>'] });
      const worker = await connect({ servers: hub.url, name: 'captured-worker' });
      await worker.flush();
      await worker.close();
      // The admin's flush follows the worker's close in the hub: its events are stored by now.
      const until = Date.now() + 5000;
      let sys = 0;
      let presence = 0;
      while (Date.now() < until) {
        await admin.flush();
        sys = (await jsm.streams.info('SYS')).state.messages;
        presence = (await jsm.streams.info('PRESENCE')).state.messages;
        if (sys >= 2 && presence >= 2) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      // The worker's connect and disconnect (the admin connected before the streams existed).
      assert.equal(sys, 2);
      assert.equal(presence, 2);
      const last = await jsm.streams.getMessage('SYS', { last_by_subj: '$SYS.ACCOUNT.$G.DISCONNECT' });
      const body = JSON.parse(new TextDecoder().decode(last!.data)) as { client: { name: string }; reason: string };
      assert.equal(body.client.name, 'captured-worker');
      assert.equal(body.reason, 'Client Closed');
    } finally {
      for (const c of opened) await c.close().catch(() => {});
      await hub.close({ grace: 0 });
    }
  });
});
