/**
 * The client in a browser: servers are reached over the page's WebSocket
 * only (ws:// and wss://), TLS is the browser's (wss://), and there is no
 * NATS-level TLS upgrade nor object store (it needs node:crypto and
 * node:stream). The browser entry (src/browser.ts) binds connect() to it.
 */
import { ConfigError } from '../errors.js';
import type { DialTarget } from '../transport.js';
import { dialBrowserWebSocket } from './browser-websocket.js';
import type { ClientPlatform, ResolvedTls, TlsOptions } from './platform.js';

export const browserPlatform: ClientPlatform = {
  name: 'browser',
  dialerFor(target: DialTarget, _tls: ResolvedTls | null) {
    if (target.websocket !== undefined) return dialBrowserWebSocket;
    return 'a browser reaches servers over WebSocket only: use a ws:// or wss:// URL';
  },
  resolveTls(tls: TlsOptions | undefined): ResolvedTls | null {
    if (tls === undefined) return null;
    throw new ConfigError('the tls option does not apply in a browser: the browser does TLS for wss:// URLs');
  },
  upgradeTls: null,
  openObjectStore: 'the object store is not available in the browser build (it hashes with node:crypto and streams with node:stream)',
};
