/**
 * HTTPS for the monitoring listener with the hub's own TLS settings
 * (ResolvedTls): a plain TCP listener whose sockets are upgraded with the
 * hub's current SecureContext, read at each connection, so a reloadTls()
 * reaches the monitor too, then handed to the HTTP server.
 *
 * Client certificates: the monitor asks for one only when the hub verifies
 * them (tls.verify) and has no authorization, because the certificate is
 * then the only thing keeping strangers out, as on the NATS port; the
 * hub's handshake (handshake.ts) checks it. With authorization the
 * credentials guard the monitor, and browsers, curl and Prometheus are not
 * asked for a certificate they seldom have.
 */
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { TLSSocket } from 'node:tls';
import { serverHandshake } from '../server/security/handshake.js';
import type { ResolvedTls } from '../server/security/tls-config.js';

export interface SecureListener {
  readonly server: TcpServer;
  /** Destroys every socket, in its handshake or served. */
  destroyAll(): void;
}

export function secureListener(http: HttpServer, tls: ResolvedTls, requireClientCert: boolean): SecureListener {
  const sockets = new Set<Socket>();
  const server = createTcpServer(function onSocket(raw: Socket) {
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    if (requireClientCert) {
      serverHandshake(raw, tls, (err, secure) => {
        if (err === null && secure !== null) http.emit('connection', secure);
      });
      return;
    }
    const secure = new TLSSocket(raw, { isServer: true, secureContext: tls.context });
    // A bare TLSSocket has no handshake timeout of its own: the hub's TLS timeout bounds it.
    const timer = setTimeout(destroySocket, tls.timeout, secure);
    secure.once('secure', () => {
      clearTimeout(timer);
      http.emit('connection', secure);
    });
    // Plain HTTP, a bad ClientHello: the socket is cut off (the HTTP server handles errors after the handshake).
    secure.on('error', () => {
      clearTimeout(timer);
      secure.destroy();
    });
  });
  return {
    server,
    destroyAll: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

function destroySocket(s: TLSSocket): void {
  s.destroy();
}
