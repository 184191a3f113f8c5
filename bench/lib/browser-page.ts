/**
 * The dashboard in a real browser, for the monitoring bench: headless
 * Chromium (Debian's, driven by playwright-core) opens the page's tail view
 * (URL in argv, e.g. http://127.0.0.1:8222/#tail, which tails `>`). Prints
 * `TAILING` once the page's stream serves the tail, and on SIGTERM
 * `TAIL rows=… skipped=…` as the page shows them, then closes the browser.
 */
import { chromium, type Browser } from 'playwright-core';
// The same browser and flags as the dashboard's tests.
import { CHROMIUM, CHROMIUM_ARGS } from '../../test/browser/browser.js';

async function main(): Promise<void> {
  const url = process.argv[2];
  if (url === undefined) throw new Error('usage: node browser-page.js <dashboard URL>#tail');
  // The signals are ours to handle: the page is read before the browser closes.
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, handleSIGTERM: false, handleSIGINT: false, handleSIGHUP: false });
  const page = await browser.newPage();
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Page-side code as strings: this file is compiled without the DOM's types.
    const shown = (await page
      .evaluate("({ rows: document.querySelector('#tail-rows')?.children.length ?? 0, skipped: document.querySelector('#tail-skipped')?.textContent ?? '' })")
      .catch(() => ({ rows: -1, skipped: '?' }))) as { rows: number; skipped: string };
    process.stdout.write(`TAIL rows=${shown.rows} skipped=${JSON.stringify(shown.skipped.trim())}\n`);
    await browser.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  await page.goto(url);
  await page.waitForFunction("(document.body.dataset.stream ?? '').includes('tail=')", undefined, { timeout: 30_000 });
  process.stdout.write('TAILING\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`browser page: ${(err as Error).message}\n`);
  process.exit(1);
});
