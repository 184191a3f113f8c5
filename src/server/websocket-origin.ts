/**
 * Which web pages may open a WebSocket to the hub. A browser names the page's
 * origin in the upgrade request's Origin header and cannot forge it; any
 * other client can send what it likes or nothing, so the check keeps other
 * sites' scripts out (cross-site WebSocket hijacking of a user's session),
 * never a determined client: credentials do that. As nats-server:
 *
 *   no Origin header             → allowed (not a browser)
 *   sameOrigin                   → the Origin's host:port must be the request's Host
 *   allowedOrigins               → scheme://host:port must be one of them
 *
 * Ports are compared explicitly: a missing one is the scheme's default.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { normaliseOrigin } from './options.js';

export interface OriginPolicy {
  readonly sameOrigin: boolean;
  /** Normalised `scheme://host:port`; empty: any. */
  readonly allowedOrigins: readonly string[];
}

/** null when the request may upgrade, else why not (for the log and the 403's body). */
export function checkOrigin(headers: IncomingHttpHeaders, policy: OriginPolicy, secure: boolean): string | null {
  if (!policy.sameOrigin && policy.allowedOrigins.length === 0) return null;
  const raw = headers.origin ?? headers['sec-websocket-origin'];
  const origin = Array.isArray(raw) ? raw[0] : raw;
  if (origin === undefined || origin === '') return null;
  const normal = normaliseOrigin(origin);
  if (normal === null) return `origin ${JSON.stringify(origin)} is not a valid origin`;
  if (policy.sameOrigin) {
    const host = hostPort(headers.host, secure);
    if (host === null || normal.slice(normal.indexOf('//') + 2) !== host) return `origin ${normal} is not the same origin as the request's Host`;
  }
  if (policy.allowedOrigins.length > 0 && !policy.allowedOrigins.includes(normal)) return `origin ${normal} is not allowed`;
  return null;
}

/** The Host header as `host:port` (the listener's scheme giving the default port), or null when absent or malformed. */
function hostPort(host: string | undefined, secure: boolean): string | null {
  if (host === undefined || host === '') return null;
  let u: URL;
  try {
    u = new URL(`${secure ? 'https' : 'http'}://${host}`);
  } catch {
    return null;
  }
  if (u.pathname !== '/' || u.username !== '' || u.search !== '') return null;
  return `${u.hostname}:${u.port !== '' ? u.port : secure ? '443' : '80'}`;
}
