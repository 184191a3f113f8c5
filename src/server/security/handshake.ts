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
 *
 * A missing or untrusted client certificate is refused here, not by Node:
 * Node's refusal destroys the socket, which resets it when the client has
 * already sent CONNECT, so the client would see an alert or a reset by
 * timing. The hub closes every refused certificate cleanly (close_notify,
 * FIN), before any protocol byte.
 */
import type { Socket } from 'node:net';
import type { Server, TLSSocket } from 'node:tls';
import type { PeerTls } from '../../transport.js';
import type { ResolvedTls } from './tls-config.js';

export type HandshakeDone = (err: Error | null, socket: TLSSocket | null) => void;

interface Pending {
  /** The listener's settings at the handshake's start. */
  verify: boolean;
  /** `closing`: the socket is already being closed cleanly; otherwise a failure cuts it off. */
  finish(err: Error | null, sock: TLSSocket | null, closing?: boolean): void;
}

/** Handshakes under way, per tls.Server, by `address|port`. */
const pendingByServer = new WeakMap<Server, Map<string, Pending>>();
/** How long a refused client has to read the close before its socket is destroyed. */
const REFUSED_LINGER_MS = 1000;

function keyOf(s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${s.remoteAddress}|${s.remotePort}`;
}

function pendingFor(server: Server): Map<string, Pending> {
  let pending = pendingByServer.get(server);
  if (pending === undefined) {
    const map = new Map<string, Pending>();
    pending = map;
    pendingByServer.set(server, map);
    server.on('secureConnection', (tls: TLSSocket) => {
      const p = map.get(keyOf(tls));
      if (p === undefined) return;
      if (!p.verify || tls.authorized) p.finish(null, tls);
      else refuse(tls, p);
    });
    // A bad ClientHello, the handshake timeout: Node has cut the socket off.
    server.on('tlsClientError', (err: Error, tls: TLSSocket) => map.get(keyOf(tls))?.finish(err, null));
  }
  return pending;
}

function refuse(tls: TLSSocket, p: Pending): void {
  const why = new Error(`client certificate refused: ${String(tls.authorizationError ?? 'none presented')}`);
  tls.on('error', ignore);
  tls.resume();
  tls.end();
  const timer = setTimeout(destroyTls, REFUSED_LINGER_MS, tls);
  tls.once('close', () => clearTimeout(timer));
  p.finish(why, null, true);
}

/** Starts the handshake on `raw`; `done` is called once, with the secure socket or why it failed. */
export function serverHandshake(raw: Socket, tls: ResolvedTls, done: HandshakeDone): void {
  const server = tls.server;
  const pending = pendingFor(server);
  const key = keyOf(raw);
  let finished = false;
  const finish = (err: Error | null, sock: TLSSocket | null, closing = false): void => {
    if (finished) return;
    finished = true;
    pending.delete(key);
    raw.off('close', onClose);
    // Node leaves a timed-out handshake's socket open.
    if (err !== null && !closing) raw.destroy();
    done(err, sock);
  };
  const onClose = (): void => finish(new Error('connection closed during the TLS handshake'), null);
  // The TLSSocket reports the socket's errors; this only keeps an unheard one from throwing.
  raw.on('error', ignore);
  raw.once('close', onClose);
  pending.set(key, { verify: tls.verify, finish });
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

function destroyTls(tls: TLSSocket): void {
  tls.destroy();
}

function ignore(): void {}
