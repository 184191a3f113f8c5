/**
 * The dashboard in a real browser (Debian's chromium, driven by
 * playwright-core) against a real hub: the page loads clean, shows a new
 * connection, tails events, holds them while paused, publishes and requests
 * from its form, and, with authorization on, asks for credentials and never
 * shows a user events of a subject the user may not subscribe to.
 *
 * Every wait is for something in the page (a row, the live stream's query)
 * or for a message, with a bounded timeout; nothing sleeps.
 * With NETEMITTER_SCREENSHOTS=<dir> the run also saves each view there as a
 * PNG (`npm run docs:screenshots` writes docs/images).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { createHub, type Hub } from '../../src/index.js';
import { closeAll, collect } from '../helpers/client.js';
import { launch, openPage, SCREENSHOTS, SKIP_BROWSER, streamOpen, WAIT_MS, type WatchedPage } from './browser.js';
import { screenshotViews } from './screenshots.js';
import { makeTraffic } from './traffic.js';

const TEST_MS = 60_000;
const SHOTS_SKIP = SCREENSHOTS === undefined ? 'NETEMITTER_SCREENSHOTS is not set' : false;

/** The tail's row that shows `text` (in its subject or payload preview). */
const tailRow = (page: Page, text: string) => page.locator('#tail-rows .tail-row', { hasText: text });

describe('dashboard', { skip: SKIP_BROWSER }, () => {
  let hub: Hub;
  let base: string;
  let browser: Browser;
  let w: WatchedPage;
  let nc: NatsConnection;
  const conns: NatsConnection[] = [];

  before(async () => {
    hub = createHub({ port: 0, host: '127.0.0.1', httpPort: 0, jetstream: true, serverName: 'demo-hub' });
    await hub.listen();
    base = hub.monitorAddress!.url;
    nc = await connect({ servers: hub.url, name: 'dashboard-test' });
    browser = await launch();
    w = await openPage(browser);
  });

  after(async () => {
    await browser?.close();
    await closeAll(nc, ...conns);
    await hub?.close({ grace: 0 });
  });

  it('loads each view with no console errors, under its Content-Security-Policy', { timeout: TEST_MS }, async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await res.text(), /<script type="module" src="assets\/app\.js">/);
    const page = w.page;
    await page.goto(`${base}/`);
    await streamOpen(page, { view: 'overview' });
    await page.locator('#figures .figure', { hasText: 'Connections' }).waitFor();
    for (const view of ['connections', 'subjects', 'streams']) {
      await page.click(`#tabs a[data-view="${view}"]`);
      await streamOpen(page, { view });
      await page.locator(`#view-${view}`).waitFor();
    }
    await page.click('#tabs a[data-view="tail"]');
    await streamOpen(page, { view: 'overview', tail: '>' });
    await page.click('#tabs a[data-view="publish"]');
    await page.locator('#pub-form').waitFor();
    assert.deepEqual(w.errors, []);
  });

  it('shows a new connection by its name within 2 s', { timeout: TEST_MS }, async () => {
    const page = w.page;
    await page.goto(`${base}/#connections`);
    await streamOpen(page, { view: 'connections' });
    await page.locator('#conn-open tr', { hasText: 'dashboard-test' }).waitFor();
    const c = await connect({ servers: hub.url, name: 'newcomer-7' });
    conns.push(c);
    await page.locator('#conn-open tr', { hasText: 'newcomer-7' }).waitFor({ timeout: 2_000 });
    await c.close();
    // Closed connections are listed with nats-server's reason.
    await page.locator('#conn-closed tr', { hasText: 'newcomer-7' }).filter({ hasText: 'Client Closed' }).waitFor();
  });

  it('tails a published event, and holds events while paused', { timeout: TEST_MS }, async () => {
    const page = w.page;
    await page.goto(`${base}/#tail`);
    await streamOpen(page, { view: 'overview', tail: '>' });
    nc.publish('tail.first', JSON.stringify({ marker: 'first-event' }));
    await nc.flush();
    await tailRow(page, 'first-event').waitFor();
    assert.equal(await tailRow(page, 'tail.first').count(), 1);

    await page.click('#tail-pause');
    await streamOpen(page, { view: 'overview', tail: '>', paused: true });
    assert.equal((await page.textContent('#tail-pause'))?.trim(), 'Resume');
    // The hub counts what it holds back; the page shows it once the count arrives.
    nc.publish('tail.paused', 'while-paused-event');
    await nc.flush();
    await page.locator('#tail-skipped', { hasText: /\d+ events? skipped/ }).waitFor();
    assert.equal(await tailRow(page, 'while-paused-event').count(), 0);

    await page.click('#tail-pause');
    await streamOpen(page, { view: 'overview', tail: '>' });
    nc.publish('tail.resumed', 'after-resume-event');
    await nc.flush();
    await tailRow(page, 'after-resume-event').waitFor();
    assert.equal(await tailRow(page, 'while-paused-event').count(), 0, 'an event published while paused showed up');
  });

  it('tails only the subjects its filter matches, and shows a payload as JSON, text or hex', { timeout: TEST_MS }, async () => {
    const page = w.page;
    await page.goto(`${base}/#tail`);
    await streamOpen(page, { view: 'overview', tail: '>' });
    // A filter the hub would refuse is refused in the page, and the tail stays as it was.
    await page.fill('#tail-filter', 'orders..>');
    await page.click('#tail-form button[type="submit"]');
    await page.locator('#tail-error', { hasText: 'Not a subject filter: orders..>' }).waitFor();
    assert.equal(await page.getAttribute('body', 'data-stream'), 'view=overview&tail=%3E');
    await page.fill('#tail-filter', 'filtered.*');
    await page.click('#tail-form button[type="submit"]');
    await streamOpen(page, { view: 'overview', tail: 'filtered.*' });
    assert.equal(await page.locator('#tail-error').isVisible(), false);
    const h = natsHeaders();
    h.set('X-Trace', 'abc<script>');
    nc.publish('other.subject', 'not-matching-event');
    nc.publish('filtered.one', JSON.stringify({ kind: 'matching-event', n: 1 }), { headers: h });
    await nc.flush();
    const row = tailRow(page, 'matching-event');
    await row.waitFor();
    assert.equal(await tailRow(page, 'not-matching-event').count(), 0);
    await row.locator('summary').click();
    const pre = row.locator('pre.payload');
    assert.equal(await pre.textContent(), JSON.stringify({ kind: 'matching-event', n: 1 }, null, 2));
    // A header from the hub is text, never markup.
    assert.equal(await row.locator('table.headers td').first().textContent(), 'abc<script>');
    await page.selectOption('#tail-format', 'hex');
    await row.locator('pre.payload.hex').waitFor();
    assert.match((await pre.textContent()) ?? '', /^000000 {2}7b 22 6b 69/);
  });

  it('keeps at most MAX_ROWS (500) rows in the tail, dropping the oldest', { timeout: TEST_MS }, async () => {
    const page = w.page;
    await page.goto(`${base}/#tail`);
    // The page's own Tail, fed directly: how many rows the hub lets through depends on its rate limit, not on the page.
    const [max, rows, newest, oldest] = await page.evaluate<[number, number, string, string]>(`(async () => {
      const { Tail, MAX_ROWS } = await import('./assets/tail.js');
      const list = document.createElement('div');
      const tail = new Tail(list, document.createElement('span'));
      for (let i = 0; i < MAX_ROWS + 100; i++) {
        tail.add({ subject: 'bulk.' + i, reply: null, headers: null, size: 1, payload: btoa('x'), truncated: false, time: Date.now() });
      }
      const subject = (row) => row.querySelector('.subject').textContent;
      return [MAX_ROWS, list.childElementCount, subject(list.firstElementChild), subject(list.lastElementChild)];
    })()`);
    assert.deepEqual([max, rows, newest, oldest], [500, 500, 'bulk.599', 'bulk.100']);
  });

  it('publishes from its form to a subscriber of the official client, with headers', { timeout: TEST_MS }, async () => {
    const page = w.page;
    const sub = nc.subscribe('ui.orders', { max: 1 });
    await nc.flush();
    await page.goto(`${base}/#publish`);
    await page.fill('#pub-subject', 'ui.orders');
    await page.fill('#pub-payload', '{"from":"the dashboard"}');
    await page.fill('#pub-headers', 'X-Origin: dashboard');
    await page.click('#pub-send');
    const [m] = await collect(sub, 1, WAIT_MS);
    assert.equal(m!.string(), '{"from":"the dashboard"}');
    assert.equal(m!.headers?.get('X-Origin'), 'dashboard');
    await page.locator('#pub-result', { hasText: 'published to ui.orders' }).waitFor();
  });

  it('sends a request from its form and shows the reply', { timeout: TEST_MS }, async () => {
    const page = w.page;
    const responder = nc.subscribe('ui.echo', { callback: (_err, m) => void m.respond(`echo: ${m.string()}`) });
    await nc.flush();
    try {
      await page.goto(`${base}/#publish`);
      await page.fill('#pub-subject', 'ui.echo');
      await page.fill('#pub-payload', 'ping-from-page');
      await page.click('#pub-request');
      await page.locator('#pub-result pre.payload', { hasText: 'echo: ping-from-page' }).waitFor();
      assert.match((await page.textContent('#pub-result p.ok')) ?? '', /^reply: \d+ bytes in /);
    } finally {
      responder.unsubscribe();
    }
  });

  it('saves a screenshot of each view when NETEMITTER_SCREENSHOTS is set', { skip: SHOTS_SKIP, timeout: 120_000 }, async () => {
    const traffic = await makeTraffic(hub.url);
    try {
      await screenshotViews(browser, base, SCREENSHOTS!);
    } finally {
      await traffic.stop();
    }
  });

  it('logged no console errors in the whole run', () => {
    assert.deepEqual(w.errors, []);
  });
});

describe('dashboard with authorization', { skip: SKIP_BROWSER }, () => {
  let hub: Hub;
  let base: string;
  let browser: Browser;
  let admin: NatsConnection;

  before(async () => {
    hub = createHub({
      port: 0,
      host: '127.0.0.1',
      httpPort: 0,
      authorization: {
        users: [
          { user: 'admin', password: 'admin-pass' },
          { user: 'alice', password: 'alice-pass', permissions: { publish: ['orders.>'], subscribe: ['orders.>', '_INBOX.>'] } },
        ],
      },
    });
    await hub.listen();
    base = hub.monitorAddress!.url;
    admin = await connect({ servers: hub.url, user: 'admin', pass: 'admin-pass', name: 'admin-publisher' });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await closeAll(admin);
    await hub?.close({ grace: 0 });
  });

  it('asks for credentials, logs in, and never tails a subject the user may not subscribe to', { timeout: TEST_MS }, async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${base}/#tail`);
    await page.locator('#login-form').waitFor();
    assert.equal(await page.locator('#view-tail').isVisible(), false);
    if (SCREENSHOTS !== undefined) await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-login.png') });

    await page.fill('#login-form input[name="user"]', 'alice');
    await page.fill('#login-form input[name="password"]', 'wrong');
    await page.click('#login-form button[type="submit"]');
    await page.locator('#login-error').waitFor();

    await page.fill('#login-form input[name="user"]', 'alice');
    await page.fill('#login-form input[name="password"]', 'alice-pass');
    await page.click('#login-form button[type="submit"]');
    await page.locator('#who', { hasText: 'alice' }).waitFor();
    await streamOpen(page, { view: 'overview', tail: '>' });

    // Published by one connection in this order: once the allowed one shows, the forbidden one has been decided.
    admin.publish('secret.plans', 'forbidden-event');
    admin.publish('orders.placed', 'allowed-event');
    await admin.flush();
    await tailRow(page, 'allowed-event').waitFor();
    assert.equal(await tailRow(page, 'forbidden-event').count(), 0, 'alice saw an event on a subject she may not subscribe to');
    assert.equal(await tailRow(page, 'secret.plans').count(), 0);

    // Nor does the subjects view list it, though both subjects have a subscriber and traffic.
    const subs = [admin.subscribe('orders.placed'), admin.subscribe('secret.plans')];
    admin.publish('secret.plans', 'forbidden-event');
    admin.publish('orders.placed', 'allowed-event');
    await admin.flush();
    await page.click('#tabs a[data-view="subjects"]');
    await streamOpen(page, { view: 'subjects' });
    await page.locator('#subjects-rows tr', { hasText: 'orders.placed' }).waitFor();
    assert.equal(await page.locator('#subjects-rows tr', { hasText: 'secret.plans' }).count(), 0);
    for (const sub of subs) sub.unsubscribe();

    // Her publish permissions hold in the form too.
    await page.click('#tabs a[data-view="publish"]');
    await page.fill('#pub-subject', 'secret.plans');
    await page.click('#pub-send');
    await page.locator('#pub-result .error').waitFor();

    // Only the 401s of the page asking who it is (before the login) and the refused login are errors.
    assert.deepEqual(
      errors.filter((e) => !/status of 40[13]/.test(e)),
      [],
    );
  });
});

describe('dashboard across a hub restart', { skip: SKIP_BROWSER }, () => {
  let hub: Hub | undefined;
  let browser: Browser;

  before(async () => {
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await hub?.close({ grace: 0 });
  });

  it('says it is reconnecting while the hub is down, and goes live again when it is back', { timeout: TEST_MS }, async () => {
    hub = createHub({ port: 0, host: '127.0.0.1', httpPort: 0, serverName: 'first-life' });
    await hub.listen();
    const port = hub.monitorAddress!.port;
    const { page } = await openPage(browser);
    await page.goto(`${hub.monitorAddress!.url}/#connections`);
    await streamOpen(page, { view: 'connections' });
    await page.locator('#server', { hasText: 'first-life' }).waitFor();

    await hub.close({ grace: 0 });
    hub = undefined;
    await page.locator('body[data-live="reconnecting"]').waitFor();
    assert.match((await page.textContent('#status')) ?? '', /reconnecting/);

    // The same monitoring port, as a restarted hub would have.
    hub = createHub({ port: 0, host: '127.0.0.1', httpPort: port, serverName: 'second-life' });
    await hub.listen();
    await page.locator('#server', { hasText: 'second-life' }).waitFor({ timeout: 20_000 });
    await streamOpen(page, { view: 'connections' });
    const nc = await connect({ servers: hub.url, name: 'after-restart' });
    try {
      await page.locator('#conn-open tr', { hasText: 'after-restart' }).waitFor();
    } finally {
      await nc.close();
    }
  });
});
