/**
 * The tickets page for `run.js --web`: the page's own files (web/, copied
 * next to this file by the build), the browser bundle (netemitter/browser,
 * dist/browser/ with its chunks) and /config.json, which tells the page
 * where the hub's WebSocket listener is. All served at the same origin, so
 * the page needs no CDN and no bundler.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic, type StaticServer } from './static.js';

/** dist/examples/tickets/web/ (scripts/build.mjs copies examples/tickets/web there). */
const WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url));

/** The directory of the browser bundle, as the package exports it (`netemitter/browser`). */
function bundleDir(): string {
  try {
    return dirname(fileURLToPath(import.meta.resolve('netemitter/browser')));
  } catch (err) {
    throw new Error(`the browser bundle (netemitter/browser) cannot be found: build it first (npm run build): ${(err as Error).message}`);
  }
}

/**
 * Serves the page on `host:port` (0: a free port). `server` is the URL the
 * page connects to (`ws://127.0.0.1:PORT`).
 */
export async function serveTicketsPage(opts: { host: string; port: number; server: string }): Promise<StaticServer> {
  const wsOrigin = new URL(opts.server).origin;
  try {
    return await serveStatic({
      host: opts.host,
      port: opts.port,
      dirs: [WEB_DIR, bundleDir()],
      entries: { '/config.json': { text: `${JSON.stringify({ server: opts.server })}\n`, type: 'application/json; charset=utf-8' } },
      // Scripts from this origin only (no inline script, no CDN); WebSockets to the hub only.
      headers: { 'Content-Security-Policy': `default-src 'self'; connect-src 'self' ${wsOrigin}; frame-ancestors 'none'` },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`--web: port ${opts.port} of ${opts.host} is in use: give another (--web 8081), or 0 for a free one`);
    }
    throw err;
  }
}
