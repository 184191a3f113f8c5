/**
 * The client's dialers: how the byte stream to a server is opened, chosen by
 * the server's URL. The connection above them needs only a connected Duplex.
 *
 *   nats://, tcp://, host:port   dialTcp
 *   unix:///path, \\.\pipe\name  dialPath
 *   option dialer                what the user gave
 *
 * TLS is not a dialer of its own: it is a handshake over the socket dialed
 * (tls.ts), after INFO or, with handshakeFirst, before it.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dialer, DialTarget } from '../transport.js';

/**
 * Resolves with `socket` once `ready` fires, rejects on its first error or an
 * early close; an abort destroys the socket with the signal's reason.
 */
export function whenReady<S extends Socket>(socket: S, ready: 'connect' | 'secureConnect', signal: AbortSignal): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(ready, onReady);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onReady = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onClose = (): void => onError(new Error('the connection closed while connecting'));
    const onAbort = (): void => onError(signal.reason instanceof Error ? signal.reason : new Error('connect aborted'));
    if (signal.aborted) return onAbort();
    socket.once(ready, onReady);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** TCP to host:port, Nagle off (the connection coalesces its own writes). */
export const dialTcp: Dialer = async (target: DialTarget, signal: AbortSignal): Promise<Duplex> => {
  const socket = await whenReady(netConnect({ host: target.host!, port: target.port! }), 'connect', signal);
  socket.setNoDelay(true);
  return socket;
};

/** A Unix socket or a Windows named pipe. */
export const dialPath: Dialer = (target: DialTarget, signal: AbortSignal): Promise<Duplex> => whenReady(netConnect(target.path!), 'connect', signal);

/** The plaintext dialer for a target: by path or by host. */
export function plainDialer(target: DialTarget): Dialer {
  return target.path !== undefined ? dialPath : dialTcp;
}
