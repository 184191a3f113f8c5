/**
 * The hub's TLS settings, checked and turned into a SecureContext once (and
 * again on reload). Every mistake that would otherwise surface as a cryptic
 * OpenSSL error on the first client's handshake, or not at all (Node accepts
 * a CA bundle holding no certificate), is a one-line ConfigError at start:
 * a file that cannot be read, a PEM that does not parse, a key that does not
 * match its certificate. Messages name files, never their contents.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext, createServer, type SecureContext, type Server } from 'node:tls';
import { ConfigError } from '../../errors.js';
import type { TlsOptions } from './types.js';

export const TlsDefaults = {
  /** nats-server's TLS_TIMEOUT. */
  timeout: 2000,
} as const;

export interface ResolvedTls {
  /**
   * What `new tls.TLSSocket(sock, { isServer: true, secureContext, requestCert: verify, rejectUnauthorized: verify })`
   * uses. Read it for each new connection: reload() replaces it, and
   * connections already open keep the one they started with.
   *
   * Beware: a TLSSocket made that way never checks a client certificate
   * (Node does that in tls.Server's connection listener, not in TLSSocket):
   * with `verify`, a certificate from any CA is accepted and `authorized`
   * stays false. Use `server` for mutual TLS.
   */
  readonly context: SecureContext;
  /**
   * A tls.Server that never listens, made from the same files, with
   * requestCert/rejectUnauthorized = verify and handshakeTimeout = timeout:
   * `server.emit('connection', socket)` runs the handshake on a socket the
   * hub accepted (after a plaintext INFO, or at once for handshakeFirst),
   * then emits 'secureConnection' (tlsSocket, `authorized` set, a refused
   * client certificate already destroyed) or 'tlsClientError' (err, tlsSocket).
   * Made on first use; reload() updates it.
   */
  readonly server: Server;
  /** Require and verify a client certificate. */
  readonly verify: boolean;
  /** TLS before INFO. */
  readonly handshakeFirst: boolean;
  /** Milliseconds the handshake may take. */
  readonly timeout: number;
  /** Re-reads the files; throws ConfigError and keeps the old context when the new one is bad. */
  reload(): void;
}

const TLS_KEYS = ['cert', 'key', 'ca', 'verify', 'handshakeFirst', 'timeout'];
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** A PEM source: a file's path, a Buffer, or (for convenience) PEM text, told apart by its armour. */
type Source = string | Buffer;

function isPemText(s: string): boolean {
  return s.trimStart().startsWith('-----BEGIN');
}

/** How a message names a source: the file, or "the PEM given" (never the PEM itself: it may be a key). */
function label(source: Source): string {
  return typeof source === 'string' && !isPemText(source) ? source : 'the PEM given';
}

function read(source: Source, option: string): Buffer {
  if (Buffer.isBuffer(source)) return source;
  if (isPemText(source)) return Buffer.from(source);
  try {
    return readFileSync(source);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`tls.${option}: cannot read ${source} (${code})`, { cause: err });
  }
}

function checkSource(v: unknown, option: string): Source {
  if (Buffer.isBuffer(v) || (typeof v === 'string' && v.length > 0)) return v;
  throw new ConfigError(`tls.${option}: expected a PEM file's path or the PEM as a Buffer`);
}

interface Pem {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/** The files read and checked, and the context made from them. */
function load(cert: Source, key: Source, ca: Source | undefined): { context: SecureContext; pem: Pem } {
  const certPem = read(cert, 'cert');
  const keyPem = read(key, 'key');
  const caPem = ca === undefined ? undefined : read(ca, 'ca');

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (err) {
    throw new ConfigError(`tls.cert: ${label(cert)} is not a PEM certificate`, { cause: err });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    // OpenSSL 3 reports a missing passphrase as "interrupted or cancelled": tell by the armour instead.
    const text = keyPem.toString('latin1');
    const encrypted = text.includes('ENCRYPTED PRIVATE KEY') || text.includes('Proc-Type: 4,ENCRYPTED');
    throw new ConfigError(`tls.key: ${label(key)} ${encrypted ? 'is encrypted: give the key unencrypted' : 'is not a PEM private key'}`, { cause: err });
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new ConfigError(`tls.key: ${label(key)} does not match the certificate ${label(cert)}`);
  if (caPem !== undefined) {
    // Node silently ignores what it cannot parse in `ca`, which would leave
    // mutual TLS refusing every client with no hint why.
    const blocks = caPem.toString('latin1').match(CERTIFICATE_BLOCK) ?? [];
    if (blocks.length === 0) throw new ConfigError(`tls.ca: ${label(ca!)} holds no PEM certificate`);
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch (err) {
        throw new ConfigError(`tls.ca: ${label(ca!)} holds a certificate that does not parse`, { cause: err });
      }
    }
  }
  try {
    const context = createSecureContext({ cert: certPem, key: keyPem, ...(caPem !== undefined && { ca: caPem }) });
    return { context, pem: { cert: certPem, key: keyPem, ca: caPem } };
  } catch (err) {
    // What the checks above did not foresee; OpenSSL's text names no secret.
    throw new ConfigError(`tls: ${(err as Error).message}`, { cause: err });
  }
}

class Resolved implements ResolvedTls {
  readonly verify: boolean;
  readonly handshakeFirst: boolean;
  readonly timeout: number;
  private current: { context: SecureContext; pem: Pem };
  private tlsServer: Server | undefined;

  constructor(
    private readonly cert: Source,
    private readonly key: Source,
    private readonly ca: Source | undefined,
    opts: { verify: boolean; handshakeFirst: boolean; timeout: number },
  ) {
    this.verify = opts.verify;
    this.handshakeFirst = opts.handshakeFirst;
    this.timeout = opts.timeout;
    this.current = load(cert, key, ca);
  }

  get context(): SecureContext {
    return this.current.context;
  }

  get server(): Server {
    this.tlsServer ??= createServer({
      ...serverCredentials(this.current.pem),
      requestCert: this.verify,
      // Checked by the hub after the handshake (handshake.ts), never here:
      // Node's own refusal destroys the socket, which resets it when the
      // client has already sent CONNECT, so the client sees either an
      // alert or a reset, by timing. The hub closes every refusal cleanly.
      rejectUnauthorized: false,
      handshakeTimeout: this.timeout,
    });
    return this.tlsServer;
  }

  reload(): void {
    const next = load(this.cert, this.key, this.ca);
    // Checked above, so this does not throw; connections already open keep their context.
    this.tlsServer?.setSecureContext(serverCredentials(next.pem));
    this.current = next;
  }
}

function serverCredentials(pem: Pem): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return { cert: pem.cert, key: pem.key, ...(pem.ca !== undefined && { ca: pem.ca }) };
}

function flag(v: unknown, option: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ConfigError(`tls.${option}: expected true or false`);
  return v;
}

/** null without TLS options; throws ConfigError for options that cannot work. */
export function resolveTls(opts: TlsOptions | undefined): ResolvedTls | null {
  if (opts === undefined) return null;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new ConfigError('tls: expected an object with cert and key');
  for (const k of Object.keys(opts)) {
    if (!TLS_KEYS.includes(k) && (opts as unknown as Record<string, unknown>)[k] !== undefined) {
      throw new ConfigError(`tls: unknown key ${JSON.stringify(k)} (expected ${TLS_KEYS.join(', ')})`);
    }
  }
  if (opts.cert === undefined) throw new ConfigError('tls.cert: missing (the server certificate, with tls.key)');
  if (opts.key === undefined) throw new ConfigError('tls.key: missing (the certificate\'s private key, with tls.cert)');
  const timeout = opts.timeout ?? TlsDefaults.timeout;
  if (!Number.isSafeInteger(timeout) || timeout <= 0) throw new ConfigError('tls.timeout: expected a positive integer of milliseconds');
  return new Resolved(checkSource(opts.cert, 'cert'), checkSource(opts.key, 'key'), opts.ca === undefined ? undefined : checkSource(opts.ca, 'ca'), {
    verify: flag(opts.verify, 'verify'),
    handshakeFirst: flag(opts.handshakeFirst, 'handshakeFirst'),
    timeout,
  });
}
