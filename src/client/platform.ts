/**
 * The client's platform seam: what differs between Node and a browser. The
 * bus, the connection and everything above them are the same code in both;
 * only how a server is reached (dialers), how the tls option is read (files)
 * and the NATS-level TLS upgrade come from here.
 *
 *   connect() from 'netemitter'          nodePlatform (node.ts): TCP, Unix
 *                                        sockets, pipes, ws:// and wss:// (ws)
 *   connect() from 'netemitter/browser'  the browser's (browser.ts): ws:// and
 *                                        wss:// through the page's WebSocket
 *
 * This file has no runtime imports, so the browser build can include it.
 */
import type { ConnectionOptions } from 'node:tls';
import type { ByteStream, DialTarget, Dialer } from '../transport.js';
import type { KvDeps } from './kv/bucket.js';
import type { ObjectStore } from './objects/store.js';
import type { ObjectStoreOptions } from './objects/types.js';

/** PEM text (a string holding `-----BEGIN`), PEM bytes, or a file path (any other string). */
export type PemSource = string | Buffer;

export interface TlsOptions {
  /** CA certificate(s) that verify the server: PEM or a file path. Default: Node's trusted CAs. */
  ca?: PemSource | PemSource[];
  /** The client certificate for mutual TLS: PEM or a file path. */
  cert?: PemSource;
  /** The client certificate's private key: PEM or a file path. */
  key?: PemSource;
  /** File paths, as nats.js names them (`caFile` …); each excludes its PEM twin. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Verify the server's certificate. Default true. */
  rejectUnauthorized?: boolean;
  /** The TLS handshake before the server's INFO (a server configured for it). Default false. */
  handshakeFirst?: boolean;
}

export interface ResolvedTls {
  /** What node:tls gets (ca, cert, key, rejectUnauthorized); the same settings apply to wss:// in Node. */
  readonly secure: ConnectionOptions;
  readonly handshakeFirst: boolean;
}

export interface ClientPlatform {
  /** 'node' or 'browser', for messages. */
  readonly name: string;
  /**
   * The dialer for a server, or a message saying why this platform cannot
   * reach it (a nats:// URL in a browser), which becomes a ConfigError.
   * `tls` is the resolved tls option, for dialers that do TLS themselves (wss://).
   */
  dialerFor(target: DialTarget, tls: ResolvedTls | null): Dialer | string;
  /** Validates the tls option and reads its files; null when it is not given. Throws a ConfigError. */
  resolveTls(tls: TlsOptions | undefined): ResolvedTls | null;
  /**
   * The NATS-level TLS upgrade over a dialed stream (after INFO said
   * tls_required, or first with handshakeFirst); null where the platform
   * has none (a browser: there TLS is wss://, below the protocol).
   */
  readonly upgradeTls: ((stream: ByteStream, tls: ResolvedTls | null, target: DialTarget, signal: AbortSignal) => Promise<ByteStream>) | null;
  /**
   * Opens an object store (bus.objects()), or a message saying why this
   * platform has none: it hashes with node:crypto and reads with node:stream.
   */
  readonly openObjectStore: ((deps: KvDeps, bucket: string, opts: ObjectStoreOptions | undefined) => Promise<ObjectStore>) | string;
}
