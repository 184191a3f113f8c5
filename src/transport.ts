/**
 * The transport seam: what the hub and the client need of a connection's
 * byte stream, whatever carries it. The hub serves any Duplex with a Peer
 * record (TCP, TLS, a Unix socket, a pipe, a WebSocket, an in-process
 * pair); the client dials through a Dialer chosen by the URL's scheme and
 * needs only a ByteStream of what it dialed, which a Node Duplex is and a
 * browser's WebSocket is made into. This file has no runtime imports: the
 * browser build includes it.
 */
/** Whether a path names a Windows named pipe (`\\.\pipe\name`) rather than a Unix socket. */
export function isWindowsPipe(path: string): boolean {
  return /^[\\/]{2}[.?][\\/]pipe[\\/]/i.test(path);
}

/** How a connection reached the hub. */
export const TransportKind = {
  TCP: 'tcp',
  UNIX: 'unix',
  PIPE: 'pipe',
  /** A WebSocket (ws:// or wss://), its messages carrying the protocol's bytes. */
  WEBSOCKET: 'websocket',
  /** hub.connect() or an inprocess:// URL: a pair of streams in the hub's own process, no socket. */
  INPROCESS: 'inprocess',
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
  /** Remote IP address (IPv4-mapped IPv6 addresses unwrapped), the socket path for Unix sockets and pipes, '' in-process. */
  readonly address: string;
  /** Remote port; undefined for Unix sockets and pipes. */
  readonly port: number | undefined;
  /** The listener the connection came through. */
  readonly listener: { readonly kind: TransportKind; readonly url: string };
  /** The TLS state, or null for a plaintext connection. */
  readonly tls: PeerTls | null;
}

// ── the client side: dialers ──────────────────────────────────────────────

/** A WebSocket server's address beyond host and port. */
export interface WebSocketTarget {
  /** wss:// (TLS under the WebSocket) rather than ws://. */
  readonly secure: boolean;
  /** The request path, '/' when the URL had none. */
  readonly path: string;
}

/** What a dialer connects to: a host and port, a Unix socket path / Windows pipe, a WebSocket URL, or a hub of this process. */
export interface DialTarget {
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  /** An inprocess:// URL's hub (its server id): reached without a socket, in the hub's own process. */
  readonly inprocess?: string;
  /** Set for ws:// and wss:// URLs (host and port are then the HTTP server's). */
  readonly websocket?: WebSocketTarget;
}

/**
 * What the client needs of a dialed byte stream: a subset of Node's Duplex,
 * so a socket is one as it is, and a browser's WebSocket is one through a
 * small adapter. Events: 'data' (Uint8Array chunks), 'drain', 'error',
 * 'close' (once, after which nothing else is emitted).
 */
export interface ByteStream {
  write(chunk: Uint8Array | string): boolean;
  /** Flushes what is written, then closes. */
  end(): void;
  destroy(err?: Error): void;
  /** Batch the writes between them into one (Node streams); absent, the client joins a batch into one chunk. */
  cork?(): void;
  uncork?(): void;
  /** Bytes written but not yet handed to the network. */
  readonly writableLength: number;
  /** write() returned false and 'drain' has not fired since. */
  readonly writableNeedDrain: boolean;
  on(event: 'data', fn: (chunk: Buffer) => void): this;
  on(event: 'drain' | 'close', fn: () => void): this;
  on(event: 'error', fn: (err: Error) => void): this;
  once(event: 'close', fn: () => void): this;
  off(event: 'data', fn: (chunk: Buffer) => void): this;
  off(event: 'drain' | 'close', fn: () => void): this;
  off(event: 'error', fn: (err: Error) => void): this;
}

/**
 * Opens one byte stream to a server: resolves once it is connected (for TLS
 * dialed handshake-first, once the handshake is done), rejects when it cannot
 * be. An aborted `signal` (the client's connect timeout, or close()) must
 * destroy what was opened and reject. The client needs nothing else of a
 * transport: a WebSocket dialer plugs in the same way.
 */
export type Dialer = (target: DialTarget, signal: AbortSignal) => Promise<ByteStream>;
