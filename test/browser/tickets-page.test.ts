/**
 * `npm run example:tickets -- --web`: the runner with its page, and the page
 * in a real browser. The page lists the tickets the API created (with the
 * worker that handled each), shows a ticket a Node process emits while it is
 * open, and creates one from its form that a worker of the example handles;
 * then Ctrl-C stops everything with exit 0. Waits are on the page's rows and
 * the runner's lines, bounded.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { connect, type Bus } from '../../src/index.js';
import { Proc, killProcs } from '../cli/proc.js';
import { launch, openPage, SKIP_BROWSER, WAIT_MS, type PageBody } from './browser.js';
import { closePage, onThisMachine, type ClientPage } from './pages.js';

declare const document: PageBody;

const RUNNER = fileURLToPath(new URL('../../examples/tickets/run.js', import.meta.url));
const TEST_MS = 90_000;
/** The runner bounds each of its steps at 10 s; its start and check take a few of them. */
const RUN_MS = 45_000;

after(killProcs);

describe('examples/tickets --web', { skip: SKIP_BROWSER }, () => {
  let browser: Browser | undefined;
  let w: ClientPage | undefined;
  let bus: Bus | undefined;

  after(async () => {
    await bus?.close();
    await closePage(w);
    await browser?.close();
  });

  it('the page shows the tickets live, and creates one that a worker handles', { timeout: TEST_MS }, async () => {
    const p = new Proc(process.execPath, [RUNNER, '--web', '0', '--tickets', '4'], {}, 'tickets --web 0');
    const [open] = await p.waitForLines(/^\[web\]\s+open http:\/\/127\.0\.0\.1:\d+\/ in a browser/, 1, RUN_MS);
    const pageUrl = /(http:\S+)/.exec(open!)![1]!;
    const [listening] = await p.waitForLines(/^\[hub\]\s+listening on nats:\/\//, 1);
    const hubUrl = /(nats:\S+)/.exec(listening!)![1]!;
    await p.waitForLines(/^\[run\]\s+all 4 tickets handled exactly once \(worker-/, 1, RUN_MS);
    await p.waitForLines(/^\[run\]\s+still running for the page at http:/, 1);

    browser = await launch();
    const watched = await openPage(browser);
    const offsite: string[] = [];
    watched.page.on('request', (r) => void (onThisMachine(r.url()) || offsite.push(r.url())));
    watched.page.on('websocket', (s) => void (onThisMachine(s.url()) || offsite.push(s.url())));
    w = { ...watched, offsite };
    const page = w.page;
    await page.goto(pageUrl);
    await page.waitForFunction(() => document.body.dataset.tickets === 'listed', undefined, { timeout: WAIT_MS });
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'connected');

    // The API's tickets, listed by the SLA service, each with the one worker that handled it.
    const handledCell = (id: string) => page.locator(`#tickets tr[data-id="${id}"] td[data-field="handled"]`);
    for (const id of ['T-1', 'T-2', 'T-3', 'T-4']) await handledCell(id).filter({ hasText: /^worker-\d+$/ }).waitFor();
    assert.equal(await page.locator('#tickets tr').count(), 4);
    assert.equal(await page.locator('#tickets tr[data-id="T-2"] td[data-field="priority"]').textContent(), 'urgent', 'T-2 was escalated');

    // A Node process's events show up live.
    bus = await connect({ servers: hubUrl, name: 'test' });
    bus.emit('ticket.created', { id: 'N-1', title: 'Sent from Node', priority: 'high', status: 'open', createdAt: new Date().toISOString() });
    bus.emit('ticket.updated', { id: 'T-3', changes: { status: 'solved' } });
    await handledCell('N-1').filter({ hasText: /^worker-\d+$/ }).waitFor();
    assert.equal(await page.locator('#tickets tr[data-id="N-1"] td[data-field="title"]').textContent(), 'Sent from Node');
    await page.locator('#tickets tr[data-id="T-3"] td[data-field="status"]', { hasText: 'solved' }).waitFor();

    // The page's form emits ticket.created; a worker of the example handles it.
    await page.locator('#create button[type="submit"]:not([disabled])').waitFor();
    await page.fill('#create input[name="title"]', 'Coffee machine <b>leaks</b>');
    await page.selectOption('#create select[name="priority"]', 'urgent');
    await page.click('#create button[type="submit"]');
    const row = page.locator('#tickets tr', { hasText: 'Coffee machine <b>leaks</b>' });
    await row.locator('td[data-field="handled"]', { hasText: /^worker-\d+$/ }).waitFor();
    const id = await row.getAttribute('data-id');
    assert.match(id ?? '', /^W-[0-9a-f]{6}$/);
    assert.equal(await row.locator('td[data-field="priority"]').textContent(), 'urgent');
    // Text, not markup: the title shows as typed.
    assert.equal(await row.locator('b').count(), 0);
    await p.waitForLines(new RegExp(`^\\[worker-\\d+\\]\\s+handled ticket ${id} \\(urgent, `), 1);
    await p.waitForLines(new RegExp(`^\\[notifier\\]\\s+to #support: new ticket ${id} "Coffee machine <b>leaks</b>" \\(urgent\\)$`), 1);

    assert.deepEqual(w.errors, []);
    assert.deepEqual(offsite, []);

    // Ctrl-C: the roles drain, the hub and the page server close, exit 0.
    await bus.close();
    bus = undefined;
    p.kill('SIGINT');
    const exit = await p.waitForExit(RUN_MS);
    assert.equal(exit.code, 0, p.output());
    assert.equal(p.stderr, '');
  });

  it('--web with --server is refused: the page needs the embedded hub', { timeout: TEST_MS }, async () => {
    const p = new Proc(process.execPath, [RUNNER, '--web', '0', '--server', 'nats://127.0.0.1:4222'], {}, 'tickets --web --server');
    const exit = await p.waitForExit(RUN_MS);
    assert.equal(exit.code, 1);
    assert.match(p.stderr, /^\[run\]\s+FAILED: --web serves the embedded hub: leave out --server$/m);
  });
});
