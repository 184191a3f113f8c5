/**
 * The screenshots in docs/monitoring.md: each view of the dashboard against a
 * hub with some traffic (traffic.ts), light, plus the overview dark. Each
 * waits for what makes the picture worth having (a few chart samples, rates
 * past the first interval, tail rows), never for a fixed time.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openPage, streamOpen, type PageBody } from './browser.js';

/** The page's document, as the functions run in the page see it. */
declare const document: PageBody;

/** Chart samples (one a second) the overview waits for, so its charts show a line. */
const SAMPLES = 8;

async function overview(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/#overview`);
  await streamOpen(page, { view: 'overview' });
  await page.waitForFunction((n) => Number(document.body.dataset.samples ?? 0) >= n, SAMPLES, { timeout: 30_000 });
}

export async function screenshotViews(browser: Browser, base: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const dark = await openPage(browser, { colorScheme: 'dark' });
  await overview(dark.page, base);
  await dark.page.screenshot({ path: join(dir, 'dashboard-overview-dark.png'), fullPage: true });
  assert.deepEqual(dark.errors, []);
  await dark.page.context().close();

  const { page, errors } = await openPage(browser, { colorScheme: 'light' });
  const shot = (name: string) => page.screenshot({ path: join(dir, `dashboard-${name}.png`), fullPage: true });
  await overview(page, base);
  await shot('overview');
  for (const view of ['connections', 'subjects', 'streams']) {
    await page.click(`#tabs a[data-view="${view}"]`);
    await streamOpen(page, { view });
    await page.locator(`#view-${view} tbody tr:not(.empty), #view-${view} .stream`).first().waitFor();
    // The first document of a stream has no rates yet (no interval behind it): wait for one that has.
    if (view !== 'streams') await page.locator(`#view-${view} td.num`, { hasText: /^[1-9][\d.]*k?\/s$/ }).first().waitFor();
    await shot(view);
  }
  await page.click('#tabs a[data-view="tail"]');
  await page.fill('#tail-filter', 'orders.>');
  await page.click('#tail-form button[type="submit"]');
  await streamOpen(page, { view: 'overview', tail: 'orders.>' });
  await page.locator('#tail-rows .tail-row:nth-child(8)').waitFor();
  await page.locator('#tail-rows .tail-row summary').nth(2).click();
  await shot('tail');
  await page.click('#tabs a[data-view="publish"]');
  await page.fill('#pub-subject', 'inventory.check');
  await page.fill('#pub-payload', '{"sku":"B-1001"}');
  await page.click('#pub-request');
  await page.locator('#pub-result p.ok').waitFor();
  await shot('publish');
  assert.deepEqual(errors, []);
  await page.context().close();
}
