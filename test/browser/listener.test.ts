/**
 * How a page reaches the hub, as docs/browser.md describes it: through the
 * monitoring HTTP port at /nats (`websocket: { port: 'http' }`, beside the
 * dashboard), and past an Origin check: a real browser sends its page's
 * origin, which `allowedOrigins` lets in or refuses. Hub only (the options
 * are the hub's; the reference helper does not set them for nats-server).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { connect, createHub, type Bus, type Hub } from '../../src/index.js';
import { skipUnlessHub } from '../helpers/target.js';
import { launch, SKIP_BROWSER } from './browser.js';
import { closePage, openClientPage, PageClient, seenInPage, servePages, type ClientPage, type PageServer, type PageWindow } from './pages.js';

declare const window: PageWindow;

const TEST_MS = 60_000;
const HOST = '127.0.0.1';

describe('a page through the HTTP port, and origins', { skip: SKIP_BROWSER || skipUnlessHub('hub options: the shared HTTP port, allowedOrigins') }, () => {
  let pages: PageServer;
  let browser: Browser;
  const hubs: Hub[] = [];
  const buses: Bus[] = [];
  const opened: ClientPage[] = [];

  before(async () => {
    pages = await servePages();
    browser = await launch();
  });

  after(async () => {
    for (const w of opened) await closePage(w);
    await browser?.close();
    for (const b of buses) await b.close();
    await pages?.close();
    for (const h of hubs) await h.close({ grace: 0 });
  });

  async function startHub(opts: Parameters<typeof createHub>[0]): Promise<Hub> {
    const hub = createHub({ host: HOST, port: 0, ...opts });
    hubs.push(hub);
    await hub.listen();
    return hub;
  }

  async function page(): Promise<ClientPage> {
    const w = await openClientPage(browser, pages, PageClient.NETEMITTER);
    opened.push(w);
    return w;
  }

  it("connects at ws://…:HTTP-PORT/nats, beside the dashboard on the same port", { timeout: TEST_MS }, async () => {
    const hub = await startHub({ httpPort: 0, websocket: { port: 'http' } });
    const http = new URL(hub.monitorAddress!.url);
    const url = `ws://${http.host}/nats`;
    assert.equal(hub.websocketAddress?.url, url);
    const dashboard = await fetch(`${http.origin}/`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(dashboard.status, 200);
    await dashboard.arrayBuffer();

    const w = await page();
    await w.page.evaluate(async (u) => {
      window.bus = await window.netemitter.connect(u);
      window.bus.on('shared.port', (payload: unknown, meta: { subject: string }) => void window.seen.push({ subject: meta.subject, payload, by: 'page' }));
      await window.bus.flush();
    }, url);
    const node = await connect(hub.url);
    buses.push(node);
    node.emit('shared.port', { via: '/nats' });
    assert.deepEqual(await seenInPage(w.page, 1), [{ subject: 'shared.port', payload: { via: '/nats' }, by: 'page' }]);
    assert.deepEqual(w.errors, []);
  });

  it("allowedOrigins lets the page's own origin in, and refuses a page from anywhere else", { timeout: TEST_MS }, async () => {
    const open = await startHub({ websocket: { port: 0, allowedOrigins: [pages.url] } });
    const closed = await startHub({ websocket: { port: 0, allowedOrigins: ['https://tickets.example.com'] } });
    const w = await page();
    const outcome = (u: string) =>
      w.page.evaluate(async (url) => {
        try {
          const bus = await window.netemitter.connect({ servers: url, reconnect: false, timeout: 5000 });
          await bus.close();
          return 'connected';
        } catch (err) {
          return window.fail(err).name;
        }
      }, u);
    assert.equal(await outcome(open.websocketAddress!.url), 'connected');
    assert.equal(await outcome(closed.websocketAddress!.url), 'ConnectionError');
    // A client that is no browser sends no Origin, and is let in.
    const node = await connect({ servers: closed.websocketAddress!.url, reconnect: false });
    buses.push(node);
    assert.equal(node.isConnected, true);
  });
});
