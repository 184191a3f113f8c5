/**
 * ```html blocks: a web page, run in Chromium (test/browser/browser.ts) as a
 * reader would open it. The page is served as /index.html by a static
 * server that also serves the browser bundle (dist/browser/) at `/` (so
 * `import { connect } from '/netemitter.js'` works as written) and nats.ws's
 * ESM build at /nats.ws.js. `ws://127.0.0.1:8080` (or localhost:8080), the
 * documented WebSocket listener, becomes the shared hub's. Each `// → text`
 * line is a line the page logs (console.log, exactly); the page must log
 * them all, with no console error, no uncaught exception and no request that
 * leaves 127.0.0.1.
 */
import type { Browser } from 'playwright-core';
import { launch, openPage, SKIP_BROWSER } from '../browser/browser.js';
import { NATS_WS_FILE, BUNDLE_DIR, onThisMachine } from '../browser/pages.js';
import { serveStatic } from '../../examples/tickets/static.js';
import { label, type Block } from './blocks.js';
import { WAIT_MS, type World } from './world.js';

/** Why html blocks are skipped here, or false. */
export const SKIP_PAGES: string | false = SKIP_BROWSER;

/** The documented WebSocket URL of a hub, as a page in the docs writes it. */
const DOCUMENTED_WS = /\bws:\/\/(?:127\.0\.0\.1|localhost):8080\b/g;

let browser: Promise<Browser> | undefined;

/** Closes the browser the html blocks shared, if one was started. For after(). */
export async function closePageBrowser(): Promise<void> {
  const b = browser;
  browser = undefined;
  await (await b?.catch(() => undefined))?.close();
}

export async function checkPage(world: World, b: Block): Promise<string[]> {
  const fail = (why: string): never => {
    throw new Error(`${label(b)}: ${why}`);
  };
  if (!/<script type="module"/.test(b.text)) fail('an html block is a page with a <script type="module">');
  const html = b.text.replace(DOCUMENTED_WS, world.wsUrl);
  if (/\b8080\b/.test(html)) fail('uses port 8080 in a way the test cannot map to its hub (write ws://127.0.0.1:8080)');
  const expects = [...html.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]!.trim());
  if (expects.length === 0) fail('an html block needs a // → line: a line the page logs with console.log');

  const site = await serveStatic({
    dirs: [BUNDLE_DIR],
    entries: { '/index.html': { text: html, type: 'text/html; charset=utf-8' }, '/nats.ws.js': { file: NATS_WS_FILE } },
  });
  browser ??= launch();
  const w = await openPage(await browser);
  const logged: string[] = [];
  const offsite: string[] = [];
  let wake = (): void => {};
  w.page.on('console', (m) => {
    if (m.type() === 'log') logged.push(m.text());
    wake();
  });
  w.page.on('pageerror', () => wake());
  w.page.on('request', (r) => void (onThisMachine(r.url()) || offsite.push(r.url())));
  w.page.on('websocket', (s) => void (onThisMachine(s.url()) || offsite.push(s.url())));
  try {
    await w.page.goto(`${site.url}/index.html`);
    const missing = (): string[] => expects.filter((e) => !logged.includes(e));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the page did not log ${missing().map((e) => JSON.stringify(e)).join(', ')} within ${WAIT_MS} ms`)), WAIT_MS);
      wake = () => {
        if (w.errors.length > 0 || missing().length === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      wake();
    }).catch((err: Error) => fail(`${err.message}; it logged:\n${logged.join('\n')}\n${w.errors.join('\n')}`));
    // First: a request that left the machine usually fails, and its error would hide why.
    if (offsite.length > 0) fail(`the page reached beyond 127.0.0.1: ${offsite.join(', ')}`);
    if (w.errors.length > 0) fail(`the page reported errors:\n${w.errors.join('\n')}\nit logged:\n${logged.join('\n')}`);
    return [`ran in Chromium against the hub's WebSocket listener; logged ${expects.map((e) => JSON.stringify(e)).join(', ')}`];
  } finally {
    await w.page.context().close();
    await site.close();
  }
}
