/**
 * The server side of a TLS handshake on an accepted socket, bounded by the
 * TLS timeout. nats-server's default flow sends INFO in plaintext first and
 * then expects the client's ClientHello on the same socket; with
 * handshakeFirst the handshake comes before anything else. Either way the
 * hub then serves the TLSSocket like any other Duplex.
 */
import { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { PeerTls } from '../../transport.js';
import type { ResolvedTls } from './tls-config.js';

export type HandshakeDone = (err: Error | null, socket: TLSSocket) => void;

/** Starts the handshake on `raw`; `done` is called once, with the secure socket or why it failed. */
export function serverHandshake(raw: Socket, tls: ResolvedTls, done: HandshakeDone): void {
  const sock = new TLSSocket(raw, {
    isServer: true,
    secureContext: tls.context,
    requestCert: tls.verify,
    rejectUnauthorized: tls.verify,
  });
  let finished = false;
  const finish = (err: Error | null): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    sock.off('secure', onSecure);
    sock.off('close', onClose);
    // Later errors belong to the connection's own handler (or to nobody, after a failure).
    sock.off('error', onError);
    raw.off('error', onError);
    if (err !== null) {
      sock.on('error', ignore);
      raw.on('error', ignore);
      sock.destroy();
      raw.destroy();
    }
    done(err, sock);
  };
  const onSecure = (): void => finish(null);
  const onError = (err: Error): void => finish(err);
  const onClose = (): void => finish(new Error('connection closed during the TLS handshake'));
  const timer = setTimeout(() => finish(new Error('TLS handshake timeout')), tls.timeout);
  sock.once('secure', onSecure);
  sock.once('error', onError);
  sock.once('close', onClose);
  raw.once('error', onError);
}

/** The handshake's result, as the Peer record shows it. */
export function peerTls(sock: TLSSocket): PeerTls {
  const cipher = sock.getCipher();
  const cert = sock.authorized ? sock.getPeerCertificate() : null;
  const subject =
    cert !== null && cert.subject !== undefined
      ? Object.entries(cert.subject)
          .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
          .join(',')
      : undefined;
  return { protocol: sock.getProtocol(), cipher: cipher?.name ?? null, authorized: sock.authorized, subject };
}

function ignore(): void {}
