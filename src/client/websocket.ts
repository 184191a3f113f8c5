/**
 * ws:// and wss:// in Node, through the ws package: the protocol's bytes in
 * binary WebSocket messages (websocket-stream.ts). TLS for wss:// is the
 * WebSocket's own (below the protocol), with the tls option's CA, client
 * certificate and rejectUnauthorized; the host name is checked against the
 * server's certificate as node:tls does (SNI when it is a name).
 *
 *   dial ─► HTTP upgrade (TLS first for wss://) ─► open ─► INFO … as over TCP
 */
import type WebSocketType from 'ws';
import { lazy } from '../lazy.js';

/** ws, loaded at the first ws:// dial (a process that never dials one never loads it). */
const loadWs = lazy<typeof WebSocketType>('ws');
import type { Dialer, DialTarget } from '../transport.js';
import type { ResolvedTls } from './platform.js';
import { WebSocketStream, webSocketUrl, type WebSocketLike } from './websocket-stream.js';

/** A dialer for ws:// and wss:// targets; `tls` (the tls option) applies to wss://. */
export function webSocketDialer(tls: ResolvedTls | null): Dialer {
  return (target: DialTarget, signal: AbortSignal) =>
    new Promise((resolve, reject) => {
      const secure = target.websocket!.secure;
      const WebSocket = loadWs();
      const ws = new WebSocket(webSocketUrl(target), {
        // The protocol's messages are small and many; compression is the server's to offer and ours to skip.
        perMessageDeflate: false,
        ...(secure && tls !== null ? tls.secure : {}),
      });
      ws.binaryType = 'nodebuffer';
      const cleanup = (): void => {
        ws.off('open', onOpen);
        ws.off('error', onError);
        ws.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
      };
      const onOpen = (): void => {
        cleanup();
        resolve(new WebSocketStream(ws as unknown as WebSocketLike, 'callback'));
      };
      const onError = (err: Error): void => {
        cleanup();
        // A late error (after terminate) must not be unhandled.
        ws.on('error', ignore);
        ws.terminate();
        reject(describe(err, secure));
      };
      const onClose = (code: number): void => onError(new Error(`the WebSocket closed while connecting (code ${code})`));
      const onAbort = (): void => onError(signal.reason instanceof Error ? signal.reason : new Error('connect aborted'));
      if (signal.aborted) return onAbort();
      ws.on('open', onOpen);
      ws.on('error', onError);
      ws.on('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

/** ws's and node:tls's messages, with a hint where the usual cause is known. */
function describe(err: Error, secure: boolean): Error {
  const code = (err as NodeJS.ErrnoException).code;
  // A wss:// URL to a plaintext port: the server answers the TLS hello with HTTP.
  if (secure && (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER')) {
    const reason = /routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message;
    return new Error(`the TLS handshake failed (${reason}): is this a ws:// port rather than wss://?`, { cause: err });
  }
  // Something that is not an HTTP server, e.g. a NATS client port (it greets with INFO).
  if (code !== undefined && code.startsWith('HPE_')) {
    return new Error(`the server did not answer in HTTP (${err.message}): is this a nats:// port rather than a WebSocket one?`, { cause: err });
  }
  const status = /^Unexpected server response: (\d+)$/.exec(err.message);
  if (status !== null) {
    return new Error(`the server answered the WebSocket upgrade with HTTP ${status[1]!} (is this its WebSocket port and path?)`, { cause: err });
  }
  return err;
}

function ignore(): void {}
