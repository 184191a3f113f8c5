/**
 * The server side of a TLS handshake on an accepted socket. nats-server's
 * default flow sends INFO in plaintext first and then expects the client's
 * ClientHello on the same socket; with handshakeFirst the handshake comes
 * before anything else. Either way the hub then serves the TLSSocket like
 * any other Duplex.
 *
 * The handshake runs in a tls.Server that never listens (ResolvedTls.server):
 * only tls.Server checks a client certificate against the CA (a bare
 * TLSSocket leaves that undone), and it bounds the handshake by the TLS
 * timeout. Its events name the TLSSocket, not the socket we handed it, so
 * pending handshakes are found by the TCP peer's address and port, unique
 * among open connections.
 */
import type { Socket } from 'node:net';
import type { Server, TLSSocket } from 'node:tls';
import type { PeerTls } from '../../transport.js';
import type { ResolvedTls } from './tls-config.js';

export type HandshakeDone = (err: Error | null, socket: TLSSocket | null) => void;

/** Handshakes under way, per tls.Server, by `address|port`. */
const pendingByServer = new WeakMap<Server, Map<string, HandshakeDone>>();

function keyOf(s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${s.remoteAddress}|${s.remotePort}`;
}

function pendingFor(server: Server): Map<string, HandshakeDone> {
  let pending = pendingByServer.get(server);
  if (pending === undefined) {
    const map = new Map<string, HandshakeDone>();
    pending = map;
    pendingByServer.set(server, map);
    server.on('secureConnection', (tls: TLSSocket) => map.get(keyOf(tls))?.(null, tls));
    // A refused client certificate, a bad ClientHello, the handshake timeout.
    server.on('tlsClientError', (err: Error, tls: TLSSocket) => map.get(keyOf(tls))?.(err, null));
  }
  return pending;
}

/** Starts the handshake on `raw`; `done` is called once, with the secure socket or why it failed. */
export function serverHandshake(raw: Socket, tls: ResolvedTls, done: HandshakeDone): void {
  const server = tls.server;
  const pending = pendingFor(server);
  const key = keyOf(raw);
  let finished = false;
  const finish: HandshakeDone = (err, sock) => {
    if (finished) return;
    finished = true;
    pending.delete(key);
    raw.off('close', onClose);
    if (err !== null) raw.destroy();
    done(err, sock);
  };
  const onClose = (): void => finish(new Error('connection closed during the TLS handshake'), null);
  // The TLSSocket reports the socket's errors; this only keeps an unheard one from throwing.
  raw.on('error', ignore);
  raw.once('close', onClose);
  pending.set(key, finish);
  server.emit('connection', raw);
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
