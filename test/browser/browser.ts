/**
 * Helpers for the dashboard's browser tests: Debian's chromium driven by
 * playwright-core (never a downloaded browser), a page that records its
 * console errors and uncaught exceptions, and waits on the page's own state
 * (the query of the live stream it has open) instead of on time.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The one piece of the page's DOM the waits read (the tests compile without the DOM library). */
export interface PageBody {
  body: { dataset: Record<string, string | undefined> };
}
declare const document: PageBody;

/** Why the suite is skipped, or false: only a missing browser skips it (CI installs it, .ci/run). */
export const SKIP_BROWSER: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the dashboard's browser tests`;

/**
 * The flags Chromium needs on this machine: headless without a sandbox (we
 * run as root), and none of its own network traffic, which the closed network
 * would refuse many times over.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Bound on any one wait in the page; generous, for a loaded machine. */
export const WAIT_MS = 10_000;

/** Where `NETEMITTER_SCREENSHOTS=<dir>` asks the run to save each view (docs/images), or undefined. */
export const SCREENSHOTS: string | undefined = process.env.NETEMITTER_SCREENSHOTS || undefined;

/** `extraArgs`: more Chromium flags for this browser (e.g. a certificate to trust). */
export function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 30_000 });
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions, in order. */
  readonly errors: string[];
}

export async function openPage(browser: Browser, opts: { colorScheme?: 'light' | 'dark'; width?: number } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: 800 }, colorScheme: opts.colorScheme ?? 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return { page, errors };
}

/** What a live stream's query asks for (LIVE-API.md): the view, the tail's filter, paused. */
export interface StreamQuery {
  view: string;
  tail?: string;
  paused?: boolean;
}

/**
 * Waits until the page's live stream is open (its `hello` arrived) with the
 * query `want` (the page writes the open stream's query to body[data-stream]).
 */
export async function streamOpen(page: Page, want: StreamQuery): Promise<void> {
  await page.waitForFunction(
    (w) => {
      const b = document.body.dataset;
      if (!b.stream || b.live !== 'open') return false;
      const q = new URLSearchParams(b.stream);
      return q.get('view') === w.view && q.get('tail') === (w.tail ?? null) && (q.get('paused') === '1') === (w.paused ?? false);
    },
    want,
    { timeout: WAIT_MS },
  );
}
