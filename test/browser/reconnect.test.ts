/**
 * A page's bus outlives its hub: the hub closes, a new one starts on the
 * same WebSocket port, and the page's bus reconnects by itself (with its
 * backoff), restores its subscriptions, and its listeners get events again.
 * Hub only: it restarts the server on a fixed port, which the reference
 * helper does not do for nats-server.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { connect, createHub, type Bus, type Hub } from '../../src/index.js';
import { skipUnlessHub } from '../helpers/target.js';
import { launch, SKIP_BROWSER, WAIT_MS } from './browser.js';
import { closePage, openClientPage, PageClient, seenInPage, servePages, type ClientPage, type PageServer, type PageWindow } from './pages.js';

declare const window: PageWindow;

const TEST_MS = 60_000;
const HOST = '127.0.0.1';

async function startHub(wsPort: number): Promise<Hub> {
  const hub = createHub({ host: HOST, port: 0, websocket: { port: wsPort, host: HOST } });
  await hub.listen();
  return hub;
}

/** Lifecycle events the page's bus reported, in order (window.vars.status). */
function statusInPage(w: ClientPage): Promise<string[]> {
  return w.page.evaluate(() => [...(window.vars.status as string[])]);
}

describe("a page's bus across a hub restart", { skip: SKIP_BROWSER || skipUnlessHub('restarts the hub on the same WebSocket port') }, () => {
  const hubs: Hub[] = [];
  const buses: Bus[] = [];
  let pages: PageServer | undefined;
  let browser: Browser | undefined;
  let w: ClientPage | undefined;

  after(async () => {
    await w?.page.evaluate(() => window.bus?.close()).catch(() => {});
    await closePage(w);
    await browser?.close();
    for (const b of buses) await b.close();
    await pages?.close();
    for (const h of hubs) await h.close({ grace: 0 });
  });

  it('reconnects to the new hub on the same port, and its listeners get events again', { timeout: TEST_MS }, async () => {
    const first = await startHub(0);
    hubs.push(first);
    const ws = first.websocketAddress!;
    pages = await servePages();
    browser = await launch();
    w = await openClientPage(browser, pages, PageClient.NETEMITTER);
    const page = w.page;
    await page.evaluate(async (url) => {
      const status: string[] = (window.vars.status = []);
      // A short backoff keeps the test quick; the default (250 ms doubling to 5 s) behaves the same.
      window.bus = await window.netemitter.connect({ servers: url, name: 'page', reconnect: { initialDelay: 20, maxDelay: 200 } });
      for (const e of ['disconnect', 'reconnecting', 'reconnect', 'close'] as const) window.bus.status.on(e, () => void status.push(e));
      window.bus.on('ticket.updated', (payload: unknown, meta: { subject: string }) => window.seen.push({ subject: meta.subject, payload, by: 'page' }));
      await window.bus.flush();
    }, ws.url);

    const before = await connect({ servers: first.url, name: 'worker before', reconnect: false });
    buses.push(before);
    before.emit('ticket.updated', { id: 'T-1', n: 1 });
    assert.deepEqual(await seenInPage(page, 1), [{ subject: 'ticket.updated', payload: { id: 'T-1', n: 1 }, by: 'page' }]);

    await first.close({ grace: 0 });
    await page.waitForFunction(() => (window.vars.status as string[]).includes('reconnecting'), undefined, { timeout: WAIT_MS });

    const second = await startHub(ws.port);
    hubs.push(second);
    await page.waitForFunction(() => (window.vars.status as string[]).includes('reconnect'), undefined, { timeout: WAIT_MS });
    // Its SUBs went out right after CONNECT; the flush's PONG says the new hub has them.
    await page.evaluate(() => window.bus.flush());
    const after = await connect({ servers: second.url, name: 'worker after' });
    buses.push(after);
    after.emit('ticket.updated', { id: 'T-1', n: 2 });
    const seen = await seenInPage(page, 2);
    assert.deepEqual(seen[1], { subject: 'ticket.updated', payload: { id: 'T-1', n: 2 }, by: 'page' });
    const status = await statusInPage(w);
    assert.equal(status[0], 'disconnect');
    assert.equal(status.at(-1), 'reconnect');
    assert.ok(!status.includes('close'), status.join(' '));
    assert.deepEqual(w.offsite, []);
  });
});
