/**
 * The transport seam: what the hub and the client need of a connection's
 * byte stream, whatever carries it. The hub serves any Duplex with a Peer
 * record (TCP, TLS, a Unix socket, a pipe; WebSocket and in-process pairs
 * later); the client dials through a Dialer chosen by the URL's scheme.
 */
import type { Duplex } from 'node:stream';

/** Whether a path names a Windows named pipe (`\\.\pipe\name`) rather than a Unix socket. */
export function isWindowsPipe(path: string): boolean {
  return /^[\\/]{2}[.?][\\/]pipe[\\/]/i.test(path);
}

/** How a connection reached the hub. */
export const TransportKind = {
  TCP: 'tcp',
  UNIX: 'unix',
  PIPE: 'pipe',
} as const;
export type TransportKind = (typeof TransportKind)[keyof typeof TransportKind];

/** The TLS state of a connection, once its handshake is done. */
export interface PeerTls {
  /** TLS version, e.g. 'TLSv1.3'. */
  readonly protocol: string | null;
  /** Negotiated cipher name. */
  readonly cipher: string | null;
  /** Whether the client presented a certificate that the hub's CA verified. */
  readonly authorized: boolean;
  /** The verified client certificate's subject (RFC 2253-like `CN=…,O=…`), when there is one. */
  readonly subject: string | undefined;
}

/** Who is on the other end of a connection: what auth hooks and hub events see. */
export interface Peer {
  /** Remote IP address (IPv4-mapped IPv6 addresses unwrapped), or the socket path for Unix sockets and pipes. */
  readonly address: string;
  /** Remote port; undefined for Unix sockets and pipes. */
  readonly port: number | undefined;
  /** The listener the connection came through. */
  readonly listener: { readonly kind: TransportKind; readonly url: string };
  /** The TLS state, or null for a plaintext connection. */
  readonly tls: PeerTls | null;
}

// ── the client side: dialers ──────────────────────────────────────────────

/** What a dialer connects to: a host and port, or a Unix socket path / Windows pipe. */
export interface DialTarget {
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
}

/**
 * Opens one byte stream to a server: resolves once it is connected (for TLS
 * dialed handshake-first, once the handshake is done), rejects when it cannot
 * be. An aborted `signal` (the client's connect timeout, or close()) must
 * destroy what was opened and reject. The client needs nothing else of a
 * transport: a WebSocket dialer plugs in the same way.
 */
export type Dialer = (target: DialTarget, signal: AbortSignal) => Promise<Duplex>;
