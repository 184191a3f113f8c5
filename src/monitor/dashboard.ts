/**
 * The dashboard's static side: the page at `/` and its files under
 * `/assets/*`. Everything comes from the package (no CDN): the page's own
 * files from ./ui (copied next to this module by scripts/build.mjs) and
 * uPlot from its npm package. All of it is read once, when the routes are
 * made (the listener's start-up), so a request never touches the disk.
 * The live data comes from the routes of the live API (/api/*), not from here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { send, sendText, type RouteContext, type RouteTable } from './route.js';

/** The page's own files (src/monitor/ui), served as /assets/<name>. */
const UI_FILES = ['app.js', 'dom.js', 'views.js', 'tail.js', 'charts.js', 'app.css'] as const;

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/**
 * No inline script or style, nothing from elsewhere: a subject or payload
 * that slipped past the page's escaping still could not run. uPlot styles
 * its elements through the CSSOM, which style-src does not govern.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

function asset(body: Buffer, name: string): Asset {
  const ext = name.slice(name.lastIndexOf('.'));
  const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;
  return { body, type: TYPES[ext] ?? 'application/octet-stream', etag };
}

/** Reads the page and its assets; throws when the package is incomplete (a build without the copy step). */
export function loadDashboardAssets(): { index: Asset; assets: ReadonlyMap<string, Asset> } {
  const uiDir = new URL('./ui/', import.meta.url);
  const read = (name: string): Buffer => {
    try {
      return readFileSync(new URL(name, uiDir));
    } catch (err) {
      throw new Error(`dashboard: ${name} is missing from ${uiDir.pathname} (was the package built with scripts/build.mjs?)`, { cause: err });
    }
  };
  const assets = new Map<string, Asset>();
  for (const name of UI_FILES) assets.set(name, asset(read(name), name));
  const require = createRequire(import.meta.url);
  for (const name of ['uPlot.iife.min.js', 'uPlot.min.css']) {
    assets.set(name, asset(readFileSync(require.resolve(`uplot/dist/${name}`)), name));
  }
  return { index: asset(read('index.html'), 'index.html'), assets };
}

/**
 * Revalidated on every use (`no-cache` with an ETag): a hub upgraded in place
 * serves its new page at once, and an unchanged file costs a 304 with no body.
 */
function serve(ctx: RouteContext, a: Asset, extra: Record<string, string> = {}): void {
  const headers = { ETag: a.etag, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...extra };
  if (ctx.req.headers['if-none-match'] === a.etag) {
    ctx.res.writeHead(304, headers).end();
    return;
  }
  send(ctx, 200, a.type, a.body, headers);
}

/** The routes: `/` (the page) and `/assets/*`. */
export function dashboardRoutes(): RouteTable {
  const { index, assets } = loadDashboardAssets();
  return {
    '/': (ctx) =>
      serve(ctx, index, { 'Content-Security-Policy': DASHBOARD_CSP, 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' }),
    '/assets/*': (ctx) => {
      const a = assets.get(ctx.path.slice('/assets/'.length));
      if (a === undefined) sendText(ctx, 404, '404 page not found\n');
      else serve(ctx, a);
    },
  };
}
