/**
 * `bus.presence` in the bundle, in a real page (Chromium) over the server's
 * WebSocket listener, with Node workers on the same bus over TCP: the page
 * watches them join and leave, and Node lists the page with its metadata.
 * One suite, both targets (on nats-server the page is a user of its system
 * account, and metadata is {}).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { connect, type Bus } from '../../src/index.js';
import { differs, startServer, SYSTEM_USER, targetKind, TargetKind, type TestServer } from '../helpers/target.js';
import { launch, SKIP_BROWSER } from './browser.js';
import { closePage, openClientPage, PageClient, seenInPage, servePages, type ClientPage, type PageServer, type PageWindow } from './pages.js';

declare const window: PageWindow;

const TEST_MS = 60_000;
const CREDENTIALS = targetKind() === TargetKind.NATS_SERVER ? { user: SYSTEM_USER, pass: SYSTEM_USER } : {};

describe('bus.presence in a page', { skip: SKIP_BROWSER }, () => {
  let server: TestServer;
  let pages: PageServer;
  let browser: Browser;
  let w: ClientPage;
  const workers: Bus[] = [];

  before(async () => {
    server = await startServer({ websocket: true, systemAccount: true });
    pages = await servePages();
    browser = await launch();
    w = await openClientPage(browser, pages, PageClient.NETEMITTER);
  });

  after(async () => {
    await w?.page.evaluate(() => window.bus?.close()).catch(() => {});
    await closePage(w);
    await browser?.close();
    await Promise.all(workers.map((b) => (b.isClosed ? undefined : b.close())));
    await pages?.close();
    await server?.stop();
  });

  it('the page sees Node workers join and leave; Node lists the page with its metadata', { timeout: TEST_MS }, async () => {
    await w.page.evaluate(
      async ({ ws, creds }) => {
        window.bus = await window.netemitter.connect({ servers: ws, name: 'tab.1', presence: { kind: 'page' }, ...creds });
        const record = (by: string) => (m: { name: string | null }, c: { reason?: string }) =>
          void (m.name?.startsWith('workers.') && window.seen.push({ subject: m.name, payload: c.reason ?? null, by }));
        window.bus.presence.on('join', record('join'));
        window.bus.presence.on('leave', record('leave'));
        await window.bus.presence.ready();
      },
      { ws: server.wsUrl!, creds: CREDENTIALS },
    );
    const worker = await connect({ servers: server.url, name: 'workers.1' });
    workers.push(worker);
    assert.deepEqual(await seenInPage(w.page, 1), [{ subject: 'workers.1', payload: null, by: 'join' }]);

    const watcher = await connect({ servers: server.url, name: 'node watcher', ...CREDENTIALS });
    workers.push(watcher);
    const tab = (await watcher.presence.list('tab.*'))[0];
    assert.equal(tab?.name, 'tab.1');
    assert.deepEqual(tab?.meta, differs({ hub: { kind: 'page' }, natsServer: {}, why: 'nats-server has no presence metadata' }));

    await worker.close();
    assert.deepEqual((await seenInPage(w.page, 2))[1], { subject: 'workers.1', payload: 'Client Closed', by: 'leave' });
    assert.deepEqual(w.errors, []);
  });
});
