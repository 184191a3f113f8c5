/**
 * The monitoring HTTP listener (node:http, no framework): GET only, one
 * route per document, JSON as nats-server sends it (pretty-printed), a bad
 * query answered 400 with nats-server's text. A small index answers `/`
 * until the dashboard takes its place.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connz, parseConnzQuery } from './connz.js';
import { accountz, CpuMeter, healthz, jsz, subsz, varz } from './documents.js';
import { MonitorQueryError } from './query.js';
import type { MonitorSource } from './types.js';

export const MonitorPath = {
  VARZ: '/varz',
  CONNZ: '/connz',
  SUBSZ: '/subsz',
  JSZ: '/jsz',
  HEALTHZ: '/healthz',
  ACCOUNTZ: '/accountz',
} as const;

/** nats-server also answers these with a trailing `/`, and /subscriptionsz as /subsz. */
const ALIASES: Record<string, string> = { '/subscriptionsz': MonitorPath.SUBSZ };

const INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>netemitter monitor</title></head>
<body><h1>netemitter</h1><ul>
${Object.values(MonitorPath)
  .map((p) => `<li><a href=".${p}">${p}</a></li>`)
  .join('\n')}
</ul></body></html>
`;

export interface MonitorServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Opens the monitoring listener on host:port (0: a free port). */
export async function openMonitor(src: () => MonitorSource, host: string, port: number): Promise<MonitorServer> {
  const reqStats: Record<string, number> = {};
  const cpu = new CpuMeter();
  const server = createServer(function onRequest(req: IncomingMessage, res: ServerResponse) {
    handle(src(), req, res, reqStats, cpu);
  });
  // A monitoring client that keeps a socket open must not hold up the hub's close.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('the monitoring listener has no address');
  return {
    server,
    host: a.address,
    port: a.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function handle(src: MonitorSource, req: IncomingMessage, res: ServerResponse, reqStats: Record<string, number>, cpu: CpuMeter): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', req.method === 'HEAD');
    return;
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://monitor');
  } catch {
    send(res, 400, 'text/plain; charset=utf-8', 'bad request\n', false);
    return;
  }
  let path = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  path = ALIASES[path] ?? path;
  const q = url.searchParams;
  const head = req.method === 'HEAD';
  try {
    let status = 200;
    let body: object;
    switch (path) {
      case '/':
        count(reqStats, path);
        send(res, 200, 'text/html; charset=utf-8', INDEX, head);
        return;
      case MonitorPath.VARZ:
        count(reqStats, path);
        body = varz(src, { cpu: cpu.percent(), httpReqStats: reqStats });
        break;
      case MonitorPath.CONNZ:
        count(reqStats, path);
        body = connz(src, parseConnzQuery(q));
        break;
      case MonitorPath.SUBSZ:
        count(reqStats, path);
        body = subsz(src, q);
        break;
      case MonitorPath.JSZ:
        count(reqStats, path);
        body = jsz(src, q);
        break;
      case MonitorPath.HEALTHZ: {
        count(reqStats, path);
        const h = healthz(src, q);
        status = h.status;
        body = h.body;
        break;
      }
      case MonitorPath.ACCOUNTZ:
        count(reqStats, path);
        body = accountz(src);
        break;
      default:
        send(res, 404, 'text/plain; charset=utf-8', '404 page not found\n', head);
        return;
    }
    send(res, status, 'application/json', JSON.stringify(body, null, 2), head);
  } catch (err) {
    if (err instanceof MonitorQueryError) send(res, err.status, 'text/plain; charset=utf-8', err.message, head);
    else send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error).message}\n`, head);
  }
}

function count(stats: Record<string, number>, path: string): void {
  stats[path] = (stats[path] ?? 0) + 1;
}

function send(res: ServerResponse, status: number, type: string, body: string, headOnly: boolean): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}
