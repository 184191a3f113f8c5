/**
 * The monitoring HTTP listener (node:http, no framework). It resolves the
 * path, asks `authenticate` who the viewer is, and hands the request to the
 * route registered for the path (route.ts). Routes: the nats-server
 * documents (endpoints.ts), and whatever else the hub registers. A bad query
 * is answered 400 with nats-server's text. With the hub's TLS settings it
 * serves HTTPS (tls.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { documentRoutes, MonitorPath, PATH_ALIASES } from './endpoints.js';
import { MonitorQueryError } from './query.js';
import type { ResolvedTls } from '../server/security/tls-config.js';
import { secureListener } from './tls.js';
import { OPEN_VIEWER, routeMethods, type MonitorViewer, type Route, type RouteContext, type RouteTable } from './route.js';
import type { MonitorSource } from './types.js';

export { MonitorPath };

/**
 * Who the request is from: a viewer, or null to refuse it (the function has
 * then answered it, 401 or 403). Absent: everyone is the open viewer.
 */
export type Authenticate = (req: IncomingMessage, res: ServerResponse, path: string) => MonitorViewer | null | Promise<MonitorViewer | null>;

export interface MonitorListenOptions {
  host: string;
  /** 0: a free port. */
  port: number;
  /** More routes (metrics, the dashboard); they may not replace a document's path. */
  routes?: RouteTable;
  authenticate?: Authenticate;
  /** HTTP upgrade requests (the WebSocket listener on this port); absent: Node's default, the socket closed. */
  upgrade?: UpgradeHook | undefined;
  /** Serve HTTPS with the hub's TLS settings; ask for a client certificate only with requireClientCert. */
  tls?: { readonly tls: ResolvedTls; readonly requireClientCert: boolean } | undefined;
}

/** Node's 'upgrade' event: the request, its socket (a TLSSocket under HTTPS) and the bytes read past the headers. */
export type UpgradeHook = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface MonitorServer {
  /** The HTTP server; with TLS it does not listen itself, it serves the sockets the TLS listener hands it. */
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** HTTPS. */
  readonly secure: boolean;
  /** Requests per document path, /varz's http_req_stats (also sent over NATS by `$SYS.REQ.SERVER.*.VARZ`). */
  readonly reqStats: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** Opens the monitoring listener on host:port. */
export async function openMonitor(src: () => MonitorSource, opts: MonitorListenOptions): Promise<MonitorServer> {
  const reqStats: Record<string, number> = {};
  const docs = documentRoutes(reqStats);
  const routes: RouteTable = { ...opts.routes, ...docs };
  const prefixes = Object.keys(routes)
    .filter((k) => k.endsWith('/*'))
    .map((k) => [k.slice(0, -1), routes[k]!] as const);
  const authenticate = opts.authenticate;
  const server = createServer(function onRequest(req: IncomingMessage, res: ServerResponse) {
    dispatch(src(), req, res).catch((err: unknown) => fail(res, err));
  });

  async function dispatch(s: MonitorSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://monitor');
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad request\n');
      return;
    }
    let path = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
    path = PATH_ALIASES[path] ?? path;
    const route: Route | undefined = routes[path] ?? prefixes.find(([p]) => path.startsWith(p))?.[1];
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    if (route === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(head ? undefined : '404 page not found\n');
      return;
    }
    if (method !== 'GET' && !head && !(routeMethods.get(route) ?? []).includes(method)) {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    const viewer = authenticate === undefined ? OPEN_VIEWER : await authenticate(req, res, path);
    if (viewer === null) return;
    if (path in docs) reqStats[path] = (reqStats[path] ?? 0) + 1;
    const ctx: RouteContext = { src: s, req, res, url, path, viewer, head };
    await route(ctx);
  }

  if (opts.upgrade !== undefined) server.on('upgrade', opts.upgrade);
  // A monitoring client that keeps a socket open must not hold up the hub's close.
  server.keepAliveTimeout = 5_000;
  const secure = opts.tls === undefined ? null : secureListener(server, opts.tls.tls, opts.tls.requireClientCert);
  const listener = secure?.server ?? server;
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(opts.port, opts.host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const a = listener.address();
  if (a === null || typeof a === 'string') throw new Error('the monitoring listener has no address');
  return {
    server,
    host: a.address,
    port: a.port,
    secure: secure !== null,
    reqStats,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        server.closeAllConnections();
        secure?.destroyAll();
      }),
  };
}

function fail(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof MonitorQueryError ? err.status : 500;
  const text = err instanceof MonitorQueryError ? err.message : `internal error: ${(err as Error).message}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
