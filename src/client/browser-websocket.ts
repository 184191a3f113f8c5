/**
 * ws:// and wss:// in a browser: the page's WebSocket, made a ByteStream by
 * websocket-stream.ts. The browser does TLS (wss://), proxies and cookies;
 * what it does not do is say why a connection failed (its error event has
 * no detail, by design), so the error here carries the close code at most.
 */
import type { ByteStream, Dialer, DialTarget } from '../transport.js';
import { WebSocketStream, webSocketUrl, type WebSocketEvent, type WebSocketLike } from './websocket-stream.js';

type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Opens a WebSocket with the global constructor (a page's, or one a test or runtime installed). */
export const dialBrowserWebSocket: Dialer = (target: DialTarget, signal: AbortSignal): Promise<ByteStream> =>
  new Promise((resolve, reject) => {
    const Ctor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (typeof Ctor !== 'function') {
      reject(new Error('this environment has no WebSocket (globalThis.WebSocket)'));
      return;
    }
    const url = webSocketUrl(target);
    let ws: WebSocketLike;
    try {
      ws = new Ctor(url);
    } catch (err) {
      // A SecurityError, e.g. ws:// from an https:// page (mixed content), or a SyntaxError.
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    ws.binaryType = 'arraybuffer';
    let failure: Error | undefined;
    const cleanup = (): void => {
      ws.removeEventListener('open', onOpen);
      ws.removeEventListener('error', onError);
      ws.removeEventListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      ws.addEventListener('error', ignore);
      // With a status: nats-server 2.9 answers a close frame without one with status 1005, which is invalid on the wire.
      ws.close(1000);
      reject(err);
    };
    const onOpen = (): void => {
      cleanup();
      resolve(new WebSocketStream(ws, 'poll'));
    };
    // A browser fires 'error' (no detail) then 'close' (a code): wait for the code, unless the error says more.
    const onError = (ev: WebSocketEvent): void => {
      if (ev.error instanceof Error) fail(ev.error);
      else failure = new Error(`the WebSocket to ${url} failed`);
    };
    const onClose = (ev: WebSocketEvent): void => {
      const why = `the WebSocket to ${url} closed while connecting (code ${ev.code ?? 1006}${ev.reason ? `: ${ev.reason}` : ''})`;
      fail(failure === undefined ? new Error(why) : new Error(`${failure.message}; ${why.slice(why.indexOf('closed'))}`));
    };
    const onAbort = (): void => fail(signal.reason instanceof Error ? signal.reason : new Error('connect aborted'));
    if (signal.aborted) return onAbort();
    ws.addEventListener('open', onOpen);
    ws.addEventListener('error', onError);
    ws.addEventListener('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });

function ignore(): void {}
