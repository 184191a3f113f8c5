/**
 * Who may read the monitoring listener, when the hub has authorization:
 * the hub's own Authenticator decides (the same token, users, passwords and
 * bcrypt hashes, the same embedder hook, the same brute-force tracker as a
 * NATS CONNECT), so there is one credential check, not two.
 *
 *   request ──► open path (/, /assets/*, /healthz, /api/login, /api/logout)? ──► the nobody viewer
 *           ──► Authorization: Bearer <token> | Basic base64(user:password) ──► Authenticator.check
 *           ──► Cookie: netemitter_session=<id> (from POST /api/login)      ──► SessionStore
 *           ──► else 401
 *
 * The viewer is the user's compiled permissions: a route shows a subject only
 * where the user could subscribe, and publishes only where it could publish.
 * NKey users cannot log in here: proving an NKey takes signing a nonce, which
 * a browser or curl does not do.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuthResult, Authenticator } from '../server/security/auth.js';
import { peerTls } from '../server/security/handshake.js';
import type { ConnectRequest } from '../server/security/types.js';
import type { Logger } from '../server/options.js';
import { TransportKind, type Peer } from '../transport.js';
import type { ResolvedTls } from '../server/security/tls-config.js';
import type { Authenticate, MonitorListenOptions } from './http.js';
import { OPEN_VIEWER, routeMethods, sendJson, type MonitorViewer, type Route, type RouteContext, type RouteTable } from './route.js';
import { SessionStore } from './sessions.js';

export const MonitorAuthDefaults = {
  /** The session cookie's name. */
  cookie: 'netemitter_session',
  /** Largest POST /api/login body: credentials, not documents. */
  maxLoginBody: 4096,
  /** The realm documents name in WWW-Authenticate. */
  realm: 'netemitter',
} as const;

export const AuthPath = {
  LOGIN: '/api/login',
  LOGOUT: '/api/logout',
  WHOAMI: '/api/whoami',
} as const;

/** Paths served without credentials: the dashboard's shell (no data), probes, and the way in and out. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/', '/healthz', AuthPath.LOGIN, AuthPath.LOGOUT]);
const OPEN_PREFIXES = ['/assets/'];

/** What an open path sees: it may read no subject and publish nowhere. */
export const NOBODY_VIEWER: MonitorViewer = Object.freeze({
  user: undefined,
  maySubscribe: () => false,
  mayPublish: () => false,
});

export interface MonitorAuthOptions {
  /** The hub's authenticator. */
  auth: Authenticator;
  /** The listener serves HTTPS: cookies get `Secure`. */
  secure: boolean;
  maxSessions: number;
  /** Milliseconds a session lasts. */
  sessionTtl: number;
  logger: Logger;
  /** Credentials were presented and refused: the hub counts it (authFailures). */
  failed(): void;
}

type Credentials = { readonly kind: 'token'; readonly token: string } | { readonly kind: 'basic'; readonly user: string; readonly password: string };

/** A credential that could not be read is refused like a wrong one. */
const MALFORMED: unique symbol = Symbol('malformed');

export class MonitorAuth {
  readonly sessions: SessionStore<MonitorViewer>;
  private readonly auth: Authenticator;
  private readonly secure: boolean;
  private readonly logger: Logger;
  private readonly failed: () => void;
  /** One viewer per configured account (their AuthResults are reused), so a viewer is not rebuilt per request. */
  private readonly viewers = new WeakMap<AuthResult, MonitorViewer>();

  constructor(opts: MonitorAuthOptions) {
    this.auth = opts.auth;
    this.secure = opts.secure;
    this.logger = opts.logger;
    this.failed = opts.failed;
    this.sessions = new SessionStore(opts.maxSessions, opts.sessionTtl);
  }

  /** For openMonitor: the viewer of a request, or null once it has been refused. */
  readonly authenticate: Authenticate = async (req, res, path) => {
    if (!sameOrigin(req)) {
      // A cross-site form cannot publish or log in with the browser's cookie or cached Basic credentials.
      refuse(res, req, 403, path, 'cross-origin request refused');
      return null;
    }
    if (OPEN_PATHS.has(path) || OPEN_PREFIXES.some((p) => path.startsWith(p))) return NOBODY_VIEWER;
    const header = req.headers.authorization;
    if (header !== undefined) {
      const creds = parseAuthorization(header);
      const result = creds === MALFORMED ? null : await this.check(creds, req);
      if (result === null) {
        await this.refused(req, res, path, 'invalid credentials');
        return null;
      }
      return this.viewer(result);
    }
    const id = sessionId(req);
    const viewer = id === undefined ? undefined : this.sessions.get(id);
    if (viewer !== undefined) return viewer;
    // No credentials, or a session that ended (logout, expiry, a restart): not an attempt to guess, not counted.
    refuse(res, req, 401, path, id === undefined ? 'authentication required' : 'session expired');
    return null;
  };

  /** POST /api/login's work: a session for valid credentials, or null (refused, counted, answered). */
  async login(req: IncomingMessage, res: ServerResponse, creds: Credentials): Promise<{ id: string; viewer: MonitorViewer } | null> {
    const result = await this.check(creds, req);
    if (result === null) {
      await this.refused(req, res, AuthPath.LOGIN, 'invalid credentials');
      return null;
    }
    const viewer = this.viewer(result);
    return { id: this.sessions.create(viewer), viewer };
  }

  /** The Set-Cookie value for a session id ('' ends it). */
  cookie(id: string): string {
    const attrs = [`${MonitorAuthDefaults.cookie}=${id}`, 'HttpOnly', 'SameSite=Strict', 'Path=/', `Max-Age=${id === '' ? 0 : this.sessions.maxAgeSeconds}`];
    if (this.secure) attrs.push('Secure');
    return attrs.join('; ');
  }

  private async check(creds: Credentials, req: IncomingMessage): Promise<AuthResult | null> {
    // Only one of token, single user and users list is ever configured, so
    // Basic may carry either: a user and password, or (any user) the token.
    const connect: ConnectRequest =
      creds.kind === 'token' ? { auth_token: creds.token } : { user: creds.user, pass: creds.password, auth_token: creds.password };
    const peer = peerOf(req);
    try {
      const result = await this.auth.check(connect, peer, undefined);
      if (result !== null) this.auth.failures.succeed(peer.address);
      return result;
    } catch (err) {
      // An authenticate hook that returned something unusable: the embedder's bug, logged without the credentials.
      this.logger.error({ address: peer.address, err: (err as Error).message }, 'monitoring authentication failed with an error');
      return null;
    }
  }

  /** Refused credentials: counted, then answered after the same growing delay a refused CONNECT waits. */
  private async refused(req: IncomingMessage, res: ServerResponse, path: string, why: string): Promise<void> {
    const peer = peerOf(req);
    this.failed();
    this.logger.warn({ address: peer.address, port: peer.port, monitor: peer.listener.url, path }, 'monitoring authentication failed');
    const delay = this.auth.failures.fail(peer.address, Date.now());
    if (delay > 0) await new Promise<void>((resolve) => setTimeout(resolve, delay).unref());
    if (!res.destroyed) refuse(res, req, 401, path, why);
  }

  private viewer(r: AuthResult): MonitorViewer {
    let v = this.viewers.get(r);
    if (v === undefined) {
      v = viewerOf(r);
      this.viewers.set(r, v);
    }
    return v;
  }
}

/**
 * The viewer of an authenticated user. A literal subject is visible when a
 * message on it would be delivered to a subscription the user may make; a
 * subject with wildcards (a subscription, a stream's subjects) when the user
 * could subscribe to it as such.
 */
export function viewerOf(r: AuthResult): MonitorViewer {
  const p = r.permissions;
  const user = r.identity.user;
  if (p === null) return Object.freeze({ user, maySubscribe: OPEN_VIEWER.maySubscribe, mayPublish: OPEN_VIEWER.mayPublish });
  return Object.freeze({
    user,
    maySubscribe: (subject: string) => p.canSubscribe(subject, undefined),
    mayPublish: (subject: string) => p.canPublish(subject),
  });
}

/** `Bearer <token>` or `Basic <base64(user:password)>`; the scheme is case-insensitive (RFC 9110). */
export function parseAuthorization(header: string): Credentials | typeof MALFORMED {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (m === null) return MALFORMED;
  const scheme = m[1]!.toLowerCase();
  const value = m[2]!;
  if (scheme === 'bearer') return { kind: 'token', token: value };
  if (scheme !== 'basic' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return MALFORMED;
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon === -1) return MALFORMED;
  return { kind: 'basic', user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The session cookie's value, if the request has one. */
function sessionId(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  const name = `${MonitorAuthDefaults.cookie}=`;
  for (const part of header.split(';')) {
    const p = part.trim();
    if (p.startsWith(name)) return p.slice(name.length);
  }
  return undefined;
}

/**
 * Whether a request that changes something comes from a page of this
 * listener. Browsers say so in Sec-Fetch-Site, which survives a reverse
 * proxy that rewrites Host; older ones send Origin on a cross-site POST,
 * compared with Host. Tools (curl, Prometheus) send neither, and are not a
 * browser whose cookie or remembered Basic credentials a third site could borrow.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return true;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * A refusal. The JSON API answers JSON without a challenge, so the page's
 * fetch does not pop the browser's password dialog; documents carry the
 * Basic challenge, so curl, browsers and Prometheus can answer it.
 */
function refuse(res: ServerResponse, req: IncomingMessage, status: number, path: string, error: string): void {
  const head = req.method === 'HEAD';
  if (path.startsWith('/api/')) {
    const body = JSON.stringify({ error, auth_required: true });
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(head ? undefined : body);
    return;
  }
  const body = `${error}\n`;
  const headers: Record<string, string | number> = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) };
  if (status === 401) headers['WWW-Authenticate'] = `Basic realm="${MonitorAuthDefaults.realm}", charset="UTF-8"`;
  res.writeHead(status, headers).end(head ? undefined : body);
}

/** The request as the authenticate hook sees a client: its address, and the monitoring listener it came through. */
function peerOf(req: IncomingMessage): Peer {
  const s = req.socket;
  const remote = s.remoteAddress ?? '';
  const secure = (s as TLSSocket).encrypted === true;
  const local = s.localAddress ?? '';
  const host = local.includes(':') ? `[${local}]` : local;
  return {
    address: remote.startsWith('::ffff:') ? remote.slice(7) : remote,
    port: s.remotePort,
    listener: { kind: TransportKind.TCP, url: `${secure ? 'https' : 'http'}://${host}:${s.localPort ?? 0}` },
    tls: secure ? peerTls(s as TLSSocket) : null,
  };
}

// ── the routes: /api/login, /api/logout, /api/whoami ───────────────────────

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a JSON body of at most `max` bytes. Past it, the rest is discarded
 * unkept and the caller answers 413 with `Connection: close`, so the socket
 * goes once the answer is written.
 */
function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  // As the live API's POSTs: a cross-site form cannot send this type.
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return Promise.reject(new BodyError(400, 'Content-Type must be application/json'));
  const tooLarge = new BodyError(413, `body larger than ${max} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.reject(tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      done();
      // Drained, not kept: unread bytes at the close would make it a reset, which could cut off the 413.
      req.resume();
      reject(tooLarge);
    };
    const onEnd = (): void => {
      done();
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new BodyError(400, 'body is not JSON'));
      }
    };
    // The client went away before the end: nobody is left to answer.
    const onClose = (): void => {
      done();
      reject(new BodyError(400, 'body incomplete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

/** `{ user, password }` or `{ token }`, as strings. */
function loginCredentials(body: unknown): Credentials | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  if (typeof b.token === 'string' && b.user === undefined && b.password === undefined) return { kind: 'token', token: b.token };
  if (typeof b.user === 'string' && typeof b.password === 'string' && b.token === undefined) return { kind: 'basic', user: b.user, password: b.password };
  return null;
}

/** The listener lets GET and HEAD through to every route: these take POST alone. */
function postOnly(route: Route): Route {
  const only: Route = (ctx) => {
    if (ctx.req.method !== 'POST') {
      ctx.res.setHeader('Allow', 'POST');
      sendJson(ctx, { error: 'use POST' }, 405);
      return;
    }
    return route(ctx);
  };
  routeMethods.set(only, ['POST']);
  return only;
}

/** The session routes. `auth` null: the hub has no authorization, everyone is let in as no one in particular. */
export function authRoutes(auth: MonitorAuth | null): RouteTable {
  const login: Route = async (ctx: RouteContext) => {
    let body: unknown;
    try {
      body = await readJson(ctx.req, MonitorAuthDefaults.maxLoginBody);
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      // The rest of an oversized body is not read: close the connection after the answer.
      ctx.res.setHeader('Connection', 'close');
      sendJson(ctx, { error: err.message }, err.status);
      return;
    }
    const creds = loginCredentials(body);
    if (creds === null) {
      sendJson(ctx, { error: 'expected { "user", "password" } or { "token" }' }, 400);
      return;
    }
    if (auth === null) {
      sendJson(ctx, { user: null });
      return;
    }
    const session = await auth.login(ctx.req, ctx.res, creds);
    if (session === null) return;
    ctx.res.setHeader('Set-Cookie', auth.cookie(session.id));
    sendJson(ctx, { user: session.viewer.user ?? null });
  };
  const logout: Route = (ctx: RouteContext) => {
    if (auth !== null) {
      const id = sessionId(ctx.req);
      if (id !== undefined) auth.sessions.delete(id);
      ctx.res.setHeader('Set-Cookie', auth.cookie(''));
    }
    sendJson(ctx, { ok: true });
  };
  const whoami: Route = (ctx: RouteContext) => sendJson(ctx, { user: ctx.viewer.user ?? null, auth_required: auth !== null });
  return {
    [AuthPath.LOGIN]: postOnly(login),
    [AuthPath.LOGOUT]: postOnly(logout),
    [AuthPath.WHOAMI]: whoami,
  };
}

/**
 * What the hub hands openMonitor for its security: the session routes, the
 * authenticate hook when the hub has authorization, and HTTPS when it has
 * TLS. `failed` counts a refused credential (the hub's authFailures).
 */
export function monitorAccess(
  auth: Authenticator | null,
  tls: ResolvedTls | null,
  o: { maxMonitorSessions: number; monitorSessionTtl: number; logger: Logger },
  failed: () => void,
): Required<Pick<MonitorListenOptions, 'routes'>> & Pick<MonitorListenOptions, 'authenticate' | 'tls'> {
  const access =
    auth === null
      ? null
      : new MonitorAuth({ auth, secure: tls !== null, maxSessions: o.maxMonitorSessions, sessionTtl: o.monitorSessionTtl, logger: o.logger, failed });
  return {
    routes: authRoutes(access),
    authenticate: access?.authenticate,
    // A client certificate is asked for only when it is the sole guard (tls.ts).
    tls: tls === null ? undefined : { tls, requireClientCert: tls.verify && auth === null },
  };
}
