/**
 * Pages for the client-in-the-browser tests: a static server (the example's,
 * examples/tickets/static.ts) that serves the browser bundle (dist/browser/)
 * at `/`, nats.ws's browser build at `/nats.ws.js`, and two test pages that
 * load one or the other and hand it to the test on `window`. The test then
 * drives the page with `page.evaluate` and waits on what the page records
 * (`window.seen`, `window.failures`), never on time.
 *
 * A watched page also lists every request it made that left 127.0.0.1
 * (pages, modules, WebSockets): the bundle must not reach for a CDN.
 */
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type * as NetEmitter from '../../src/index.js';
import { serveStatic, type StaticServer } from '../../examples/tickets/static.js';
import { openPage, WAIT_MS, type PageBody, type WatchedPage } from './browser.js';

/** dist/test/browser/pages.js → dist/browser/, where the build puts the bundle. */
export const BUNDLE_DIR = fileURLToPath(new URL('../../browser/', import.meta.url));

/** nats.ws's ESM build (its package's "import" export, esm/nats.js): one self-contained file, no imports. */
export const NATS_WS_FILE = fileURLToPath(import.meta.resolve('nats.ws'));

/** Which client a test page loads. */
export const PageClient = {
  NETEMITTER: 'netemitter',
  NATS_WS: 'nats.ws',
} as const;
export type PageClient = (typeof PageClient)[keyof typeof PageClient];

/** What a listener in the page saw, as the page records it. */
export interface Seen {
  subject: string;
  payload: unknown;
  /** Which of the page's listeners (a label the test gives). */
  by: string;
}

/** An error as the page records it: what crosses to the test of an Error. */
export interface Failure {
  name: string;
  code: string | undefined;
  message: string;
  [field: string]: unknown;
}

/**
 * The page's globals the tests use, for the functions that run in the page
 * (page.evaluate): the tests compile without the DOM library.
 */
export interface PageWindow {
  netemitter: typeof NetEmitter;
  // nats.ws's API is used through `any`: its types are for the DOM, which these tests do not load.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  nats: any;
  /** The page's bus, once a test connected it. */
  bus: NetEmitter.Bus;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  nc: any;
  seen: Seen[];
  failures: Failure[];
  /** Pushes an error onto `failures` as plain data (name, code, message and its own fields). */
  fail(err: unknown): Failure;
  /** Named values a test leaves in the page for a later step. */
  vars: Record<string, unknown>;
}
declare const window: PageWindow;
declare const document: PageBody;

// Runs in the page: the recording both test pages share.
const RECORDER = `
window.seen = [];
window.failures = [];
window.vars = {};
window.fail = (err) => {
  const f = { name: err?.name ?? typeof err, code: err?.code, message: err?.message ?? String(err) };
  for (const k of Object.keys(err ?? {})) if (!(k in f) && typeof err[k] !== 'object') f[k] = err[k];
  window.failures.push(f);
  return f;
};`;

function testPage(client: PageClient): string {
  const script = client === PageClient.NETEMITTER ? `/netemitter-page.js` : `/nats-ws-page.js`;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${client} test page</title></head>\n<body>\n<script type="module" src="${script}"></script>\n</body></html>\n`;
}

export interface PageServer extends StaticServer {
  /** The URL of the test page that loads `client`. */
  pageUrl(client: PageClient): string;
}

/** Serves the bundle, nats.ws and the test pages on 127.0.0.1:0. */
export async function servePages(): Promise<PageServer> {
  const js = 'text/javascript; charset=utf-8';
  const html = 'text/html; charset=utf-8';
  const server = await serveStatic({
    dirs: [BUNDLE_DIR],
    entries: {
      '/nats.ws.js': { file: NATS_WS_FILE },
      '/netemitter.html': { text: testPage(PageClient.NETEMITTER), type: html },
      '/nats-ws.html': { text: testPage(PageClient.NATS_WS), type: html },
      '/netemitter-page.js': {
        text: `import * as netemitter from '/netemitter.js';\n${RECORDER}\nwindow.netemitter = netemitter;\ndocument.body.dataset.ready = 'netemitter';\n`,
        type: js,
      },
      '/nats-ws-page.js': {
        text: `import * as nats from '/nats.ws.js';\n${RECORDER}\nwindow.nats = nats;\ndocument.body.dataset.ready = 'nats.ws';\n`,
        type: js,
      },
    },
    // No inline script, and the page may open WebSockets to this machine only.
    headers: { 'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws://127.0.0.1:* wss://127.0.0.1:*" },
  });
  return {
    ...server,
    pageUrl: (client) => `${server.url}/${client === PageClient.NETEMITTER ? 'netemitter' : 'nats-ws'}.html`,
  };
}

export interface ClientPage extends WatchedPage {
  /** Every URL the page asked for (documents, modules, WebSockets) that is not on 127.0.0.1. */
  readonly offsite: string[];
}

/** Whether a URL the page asked for stays on this machine. */
export function onThisMachine(url: string): boolean {
  try {
    return new URL(url).hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

/** Opens a new page on the test page of `client` and waits until the client is loaded. */
export async function openClientPage(browser: Browser, pages: PageServer, client: PageClient): Promise<ClientPage> {
  const w = await openPage(browser);
  const offsite: string[] = [];
  const note = (url: string): void => {
    if (!onThisMachine(url)) offsite.push(url);
  };
  w.page.on('request', (r) => note(r.url()));
  w.page.on('websocket', (ws) => note(ws.url()));
  await w.page.goto(pages.pageUrl(client));
  await w.page.waitForFunction((c) => document.body.dataset.ready === c, client, { timeout: WAIT_MS });
  return { ...w, offsite };
}

/** Waits until the page's listeners have recorded at least `n` events, and returns them. */
export async function seenInPage(page: Page, n: number): Promise<Seen[]> {
  await page.waitForFunction((k) => window.seen.length >= k, n, { timeout: WAIT_MS });
  return page.evaluate(() => window.seen);
}

/** Waits until the page has recorded at least `n` failures, and returns them. */
export async function failuresInPage(page: Page, n: number): Promise<Failure[]> {
  await page.waitForFunction((k) => window.failures.length >= k, n, { timeout: WAIT_MS });
  return page.evaluate(() => window.failures);
}

/** Closes the page's context (its WebSockets with it). */
export async function closePage(w: WatchedPage | undefined): Promise<void> {
  await w?.page.context().close();
}
