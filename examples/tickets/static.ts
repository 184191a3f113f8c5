/**
 * A small static file server (node:http) for the example's web page: it
 * serves a few directories and single files, read only, on one address.
 * The browser tests use it too, to serve the bundle and their test pages.
 *
 *   GET /               → index.html of the first directory that has one
 *   GET /app.js         → the first directory (in order) that has app.js
 *   GET /config.json    → a fixed document (e.g. where the hub's WebSocket listens)
 *
 * Only GET and HEAD. A path that leaves its directory (`..`, an encoded
 * slash) is a 404, like any file that is not there; /favicon.ico, when no
 * directory has one, is a 204. Nothing is cached: a rebuilt bundle shows on
 * the next reload.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';

/** What one URL path serves: a file on disk, or text given here. */
export type StaticEntry = { file: string } | { text: string; type: string };

export interface StaticOptions {
  /** Default 127.0.0.1: the page is for this machine unless asked otherwise. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Directories served at `/`, looked up in order. */
  dirs?: string[];
  /** Exact URL paths (`/nats.ws.js`), looked up before the directories. */
  entries?: Record<string, StaticEntry>;
  /** Extra headers on every answer (a Content-Security-Policy). */
  headers?: Record<string, string>;
}

export interface StaticServer {
  /** http://HOST:PORT (no trailing slash). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** The file under `dir` that `path` names, or null when it would leave `dir`. */
function inside(dir: string, path: string): string | null {
  const root = resolve(dir);
  const file = resolve(root, `.${path}`);
  return file === root || file.startsWith(root + sep) ? file : null;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export function serveStatic(opts: StaticOptions): Promise<StaticServer> {
  const dirs = opts.dirs ?? [];
  const entries = opts.entries ?? {};
  const extra = opts.headers ?? {};

  async function find(path: string): Promise<{ body: Buffer | string; type: string } | null> {
    const entry = entries[path];
    if (entry !== undefined) {
      if ('text' in entry) return { body: entry.text, type: entry.type };
      return { body: await readFile(entry.file), type: TYPES[extname(entry.file)] ?? 'application/octet-stream' };
    }
    const name = path.endsWith('/') ? `${path}index.html` : path;
    for (const dir of dirs) {
      const file = inside(dir, name);
      if (file !== null && (await isFile(file))) return { body: await readFile(file), type: TYPES[extname(file)] ?? 'application/octet-stream' };
    }
    return null;
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      path = '';
    }
    // An encoded slash or NUL would let a name reach past the checks above.
    const found = path.startsWith('/') && !path.includes('\\') && !path.includes('\0') ? await find(path) : null;
    if (found === null && path === '/favicon.ico') {
      // Browsers ask for it unprompted; a 404 would be an error in the page's console.
      res.writeHead(204, extra).end();
      return;
    }
    if (found === null) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...extra }).end('not found\n');
      return;
    }
    const length = typeof found.body === 'string' ? Buffer.byteLength(found.body) : found.body.length;
    res.writeHead(200, { 'Content-Type': found.type, 'Content-Length': length, 'Cache-Control': 'no-cache', ...extra });
    res.end(req.method === 'HEAD' ? undefined : found.body);
  }

  const server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${(err as Error).message}\n`);
    });
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolveStart({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Keep-alive connections of a browser that is still open would hold close() forever.
            server.closeAllConnections();
          }),
      });
    });
  });
}
