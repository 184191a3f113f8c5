/**
 * What the client answers to the server's INFO: whether to upgrade to TLS,
 * the CONNECT it sends, and the servers INFO's connect_urls add to the list.
 *
 *   INFO {…}  ─►  [TLS upgrade]  ─►  CONNECT {…} + SUB … (restored) + PING  ─►  PONG
 */
import { ConnectionError } from '../errors.js';
import type { Credentials } from './auth.js';
import { parseServer, type ResolvedConnectOptions, type ServerAddress } from './options.js';
import type { ServerInfo } from './types.js';

const VERSION = '0.1.0';

/** The INFO's JSON, or null when it is not JSON. */
export function parseInfo(json: string): ServerInfo | null {
  try {
    return JSON.parse(json) as ServerInfo;
  } catch {
    return null;
  }
}

/**
 * Whether a plaintext socket must be upgraded to TLS now: when the server
 * requires it, or offers it and this client wants it. Throws when the client
 * wants TLS and the server does not offer it.
 */
export function mustUpgrade(info: ServerInfo, opts: ResolvedConnectOptions, server: ServerAddress): boolean {
  // Over WebSocket, TLS is wss://, below the protocol: never an upgrade inside it.
  if (server.websocket !== undefined) return false;
  const wantTls = opts.tls !== null || server.tls === true;
  if (info.tls_required === true || (wantTls && info.tls_available === true)) return true;
  if (wantTls) throw new ConnectionError('the server does not offer TLS, and this client requires it (a tls:// URL or the tls option)');
  return false;
}

/** CONNECT with the credentials, the subscriptions to restore, and the PING whose PONG confirms them all. */
export function connectFrame(opts: ResolvedConnectOptions, secure: boolean, credentials: Credentials, subscriptionLines: string): Buffer {
  const connect = {
    verbose: false,
    pedantic: false,
    tls_required: secure,
    ...credentials,
    protocol: 1,
    headers: true,
    no_responders: true,
    echo: opts.echo,
    lang: 'netemitter',
    version: VERSION,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    // netemitter's extensions (protocol/extensions.ts); nats-server ignores them.
    ...(opts.will !== null ? { will: opts.will } : {}),
    ...(opts.presence !== undefined ? { presence: opts.presence } : {}),
  };
  return Buffer.from(`CONNECT ${JSON.stringify(connect)}\r\n${subscriptionLines}PING\r\n`, 'utf8');
}

/**
 * Adds INFO's connect_urls not yet in `servers` (in place); returns the URLs
 * added. nats-server advertises `host:port` without a scheme: to a client on
 * its WebSocket listener, the WebSocket ports of the cluster (nats-server
 * 2.9, checked), so over ws:// or wss:// a bare address is one of the same
 * kind as `current`, on the same path; elsewhere it is nats://.
 */
export function mergeServers(servers: ServerAddress[], urls: string[], current?: ServerAddress | null): string[] {
  const added: string[] = [];
  const ws = current?.websocket;
  for (const u of urls) {
    let s: ServerAddress;
    try {
      const bare = typeof u === 'string' && !u.includes('://');
      s = parseServer(bare && ws !== undefined ? `${ws.secure ? 'wss' : 'ws'}://${u}${ws.path}` : u, true);
    } catch {
      continue;
    }
    if (!servers.some((x) => x.url === s.url)) {
      servers.push(s);
      added.push(s.url);
    }
  }
  return added;
}
