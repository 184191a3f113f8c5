/**
 * nats.ws, the official NATS client for browsers, in a real page (Chromium)
 * over the server's WebSocket listener, talking to a Node process that uses
 * netemitter's bus over TCP: the page publishes, subscribes, requests and
 * answers requests, and the JSON it exchanges is what the bus sends and
 * expects. One suite, both targets (NETEMITTER_TARGET=nats-server).
 *
 * Every wait is for something the page recorded or a message, bounded.
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

describe('nats.ws in a page, through the server, with a Node process', { skip: SKIP_BROWSER }, () => {
  let server: TestServer;
  let pages: PageServer;
  let browser: Browser;
  let w: ClientPage;
  let bus: Bus;

  before(async () => {
    server = await startServer({ websocket: true });
    pages = await servePages();
    bus = await connect({ servers: server.url, name: 'node side' });
    browser = await launch();
    w = await openClientPage(browser, pages, PageClient.NATS_WS);
    await w.page.evaluate(async (ws) => {
      window.nc = await window.nats.connect({ servers: ws, name: 'nats.ws page' });
    }, server.wsUrl!);
  });

  after(async () => {
    await w?.page.evaluate(() => window.nc?.close()).catch(() => {});
    await closePage(w);
    await browser?.close();
    await bus?.close();
    await pages?.close();
    await server?.stop();
  });

  it('loads from this machine only, with no console error', () => {
    assert.deepEqual(w.offsite, []);
    assert.deepEqual(w.errors, []);
  });

  it("the page's publish reaches the bus's listener as JSON", { timeout: TEST_MS }, async () => {
    const got = new Promise<{ payload: unknown; subject: string }>((resolve) => bus.once('orders.created', (payload, meta) => resolve({ payload, subject: meta.subject })));
    await bus.flush();
    await w.page.evaluate(async () => {
      window.nc.publish('orders.created', new TextEncoder().encode(JSON.stringify({ id: 7, item: 'lamp' })));
      await window.nc.flush();
    });
    assert.deepEqual(await within(got, WAIT_MS, 'the event from the page'), { payload: { id: 7, item: 'lamp' }, subject: 'orders.created' });
  });

  it("the page's wildcard subscription gets the bus's emits", { timeout: TEST_MS }, async () => {
    await w.page.evaluate(async () => {
      const sub = window.nc.subscribe('orders.*.shipped');
      void (async () => {
        for await (const m of sub) window.seen.push({ subject: m.subject, payload: JSON.parse(new TextDecoder().decode(m.data)), by: 'nats.ws' });
      })();
      // The server has the subscription once the flush's PONG is back.
      await window.nc.flush();
    });
    bus.emit('orders.7.shipped', { id: 7, carrier: 'post' });
    bus.emit('orders.8.created', { id: 8 }); // Not matched by the wildcard.
    bus.emit('orders.9.shipped', { id: 9, carrier: 'bike' });
    await bus.flush();
    const seen = await seenInPage(w.page, 2);
    assert.deepEqual(seen, [
      { subject: 'orders.7.shipped', payload: { id: 7, carrier: 'post' }, by: 'nats.ws' },
      { subject: 'orders.9.shipped', payload: { id: 9, carrier: 'bike' }, by: 'nats.ws' },
    ]);
  });

  it("the page's request gets the bus's handle() reply", { timeout: TEST_MS }, async () => {
    bus.handle('orders.get', (req: { id: number }, meta) => ({ id: req.id, status: 'shipped', subject: meta.subject }));
    await bus.flush();
    const reply = await w.page.evaluate(async () => {
      const m = await window.nc.request('orders.get', new TextEncoder().encode(JSON.stringify({ id: 7 })), { timeout: 5000 });
      return JSON.parse(new TextDecoder().decode(m.data)) as unknown;
    });
    assert.deepEqual(reply, { id: 7, status: 'shipped', subject: 'orders.get' });
  });

  it("the bus's request gets the page's reply", { timeout: TEST_MS }, async () => {
    await w.page.evaluate(async () => {
      const sub = window.nc.subscribe('page.echo');
      void (async () => {
        for await (const m of sub) {
          const req = JSON.parse(new TextDecoder().decode(m.data)) as { text: string };
          m.respond(new TextEncoder().encode(JSON.stringify({ echoed: req.text.toUpperCase(), from: 'nats.ws' })));
        }
      })();
      await window.nc.flush();
    });
    assert.deepEqual(await bus.request('page.echo', { text: 'hello' }, { timeout: WAIT_MS }), { echoed: 'HELLO', from: 'nats.ws' });
    assert.deepEqual(w.errors, []);
  });
});
