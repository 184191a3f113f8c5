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

const PLAIN_HTTP_BODY = 'Client sent an HTTP request to an HTTPS server.\n';
const PLAIN_HTTP_ANSWER =
  'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n' +
  `Content-Length: ${PLAIN_HTTP_BODY.length}\r\n\r\n${PLAIN_HTTP_BODY}`;

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
    secure.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ERR_SSL_HTTP_REQUEST' && raw.writable) {
        // Plain HTTP to the HTTPS port: say so in plain HTTP, as nats-server (Go's net/http) does.
        raw.end(PLAIN_HTTP_ANSWER);
        const linger = setTimeout(destroySocket, tls.timeout, raw);
        raw.once('close', () => {
          clearTimeout(linger);
          secure.destroy();
        });
        return;
      }
      // A bad ClientHello, a reset: cut off (after the handshake the HTTP server handles errors).
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

function destroySocket(s: Socket): void {
  s.destroy();
}
