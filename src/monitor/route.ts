/**
 * The monitoring listener's seam: a route is a function of one request, and
 * every route sees who is asking (the viewer). Endpoints, /metrics and the
 * dashboard register routes; the listener (http.ts) only authenticates and
 * dispatches. Nothing here imports a route, so any route module can import
 * this one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MonitorSource } from './types.js';

/**
 * Who asks. Without authorization on the hub, everyone is the open viewer.
 * With it, the user (or token holder) the request authenticated as, with
 * that user's subject permissions: a route shows a subject only when the
 * viewer may subscribe to it, and publishes only where the viewer may publish.
 */
export interface MonitorViewer {
  /** The user's name; undefined without auth or for a token. */
  readonly user: string | undefined;
  maySubscribe(subject: string): boolean;
  mayPublish(subject: string): boolean;
}

export const OPEN_VIEWER: MonitorViewer = Object.freeze({
  user: undefined,
  maySubscribe: () => true,
  mayPublish: () => true,
});

export interface RouteContext {
  readonly src: MonitorSource;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The path without a trailing `/` (but `/` itself), aliases resolved. */
  readonly path: string;
  readonly viewer: MonitorViewer;
  /** A HEAD request: answer with headers only. */
  readonly head: boolean;
}

/** Answers one request. A thrown MonitorQueryError becomes its status and text. */
export type Route = (ctx: RouteContext) => void | Promise<void>;

/** Exact paths, and prefixes (keys ending in `/*`) for trees such as static assets. */
export type RouteTable = Record<string, Route>;

/** Which HTTP methods a route accepts besides GET and HEAD (the JSON documents take only those). */
export const routeMethods = new WeakMap<Route, readonly string[]>();

export function sendText(ctx: RouteContext, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  send(ctx, status, type, body);
}

export function sendJson(ctx: RouteContext, body: unknown, status = 200): void {
  send(ctx, status, 'application/json', JSON.stringify(body, null, 2));
}

export function send(ctx: RouteContext, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  ctx.res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
  ctx.res.end(ctx.head ? undefined : body);
}
