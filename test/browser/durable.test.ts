/**
 * Durable streams in a page (docs/browser.md, "What works in the browser"):
 * a durable listener in the page reads what Node stored before the page
 * listened (the listener's code is a chunk the bundle loads with the first
 * durable listener), a KV bucket written in the page is read and watched in
 * Node, and the object store says plainly that it is not there. One suite,
 * both targets (JetStream on).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { connect, type Bus } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/target.js';
import { within } from '../helpers/client.js';
import { launch, SKIP_BROWSER, WAIT_MS } from './browser.js';
import { closePage, openClientPage, PageClient, seenInPage, servePages, type ClientPage, type PageServer, type PageWindow } from './pages.js';

declare const window: PageWindow;

const TEST_MS = 60_000;

describe('durable listeners and KV in a page', { skip: SKIP_BROWSER }, () => {
  let server: TestServer;
  let pages: PageServer;
  let browser: Browser;
  let w: ClientPage;
  let node: Bus;

  before(async () => {
    server = await startServer({ websocket: true, jetstream: true });
    pages = await servePages();
    node = await connect({ servers: server.url, name: 'node side' });
    browser = await launch();
    w = await openClientPage(browser, pages, PageClient.NETEMITTER);
    await w.page.evaluate(async (ws) => {
      window.bus = await window.netemitter.connect({ servers: ws, name: 'page' });
      window.bus.status.on('error', (err: unknown) => void window.fail(err));
    }, server.wsUrl!);
  });

  after(async () => {
    await w?.page.evaluate(() => window.bus?.close()).catch(() => {});
    await closePage(w);
    await browser?.close();
    await node?.close();
    await pages?.close();
    await server?.stop();
  });

  it('a durable listener in the page gets the events stored before it listened, then new ones', { timeout: TEST_MS }, async () => {
    await node.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    for (const n of [1, 2, 3]) await node.publish('orders.created', { n });
    await w.page.evaluate(async () => {
      window.bus.on(
        'orders.>',
        (payload: unknown, meta: { subject: string; seq: number }) => void window.seen.push({ subject: meta.subject, payload, by: `seq ${meta.seq}` }),
        { durable: 'page-reader' },
      );
      // Resolves once the listener is bound to its consumer.
      await window.bus.ready();
    });
    assert.deepEqual(await seenInPage(w.page, 3), [
      { subject: 'orders.created', payload: { n: 1 }, by: 'seq 1' },
      { subject: 'orders.created', payload: { n: 2 }, by: 'seq 2' },
      { subject: 'orders.created', payload: { n: 3 }, by: 'seq 3' },
    ]);
    await node.publish('orders.shipped', { n: 1 });
    const seen = await seenInPage(w.page, 4);
    assert.deepEqual(seen[3], { subject: 'orders.shipped', payload: { n: 1 }, by: 'seq 4' });
    // Acknowledged: the consumer has nothing pending for anyone.
    const info = await node.consumers.info('ORDERS', 'page-reader');
    assert.equal(info.num_pending, 0);
    assert.deepEqual(w.errors, []);
  });

  it("a KV bucket written in the page is read and watched in Node", { timeout: TEST_MS }, async () => {
    const flags = await node.kv('flags');
    const watch = flags.watch('checkout.>');
    await watch.ready;
    const changed = new Promise<{ key: string; value: unknown }>((resolve) => watch.once('put', (e) => resolve({ key: e.key, value: e.value })));
    const rev = await w.page.evaluate(async () => {
      const kv = await window.bus.kv('flags');
      return kv.put('checkout.v2', { enabled: true, percent: 10 });
    });
    assert.deepEqual(await within(changed, WAIT_MS, 'the watch in Node'), { key: 'checkout.v2', value: { enabled: true, percent: 10 } });
    const e = await flags.get('checkout.v2');
    assert.equal(e?.revision, rev);
    // And back: what Node writes, the page reads.
    await flags.put('checkout.v2', { enabled: false });
    const read = await w.page.evaluate(async () => (await (await window.bus.kv('flags')).get('checkout.v2'))?.value);
    assert.deepEqual(read, { enabled: false });
    await watch.stop();
  });

  it('the object store is not in the browser build, and says so', { timeout: TEST_MS }, async () => {
    const failure = await w.page.evaluate(async () => {
      try {
        await window.bus.objects('files');
        return null;
      } catch (err) {
        return window.fail(err);
      }
    });
    assert.ok(failure !== null, 'bus.objects() worked in the page');
    assert.match(failure.message, /object store is not available in the browser/);
  });
});
