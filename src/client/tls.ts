/**
 * The client's TLS: its options, and the handshake over the socket a dialer
 * opened, after INFO (nats-server's default flow) or before it.
 *
 *   default         TCP ─► INFO {tls_required} ─► TLS handshake on the same
 *                   socket ─► CONNECT …
 *   handshakeFirst  TCP ─► TLS handshake ─► INFO ─► CONNECT …
 *                   (nats.js `tlsFirst`, nats-server `handshake_first`)
 *
 * Certificates and keys are read once, when connect() resolves its options,
 * so a missing file is a ConfigError at once rather than a failure at each
 * reconnect. The option's types live in platform.ts (the browser build reads
 * them too); this file is Node's side.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { ConfigError } from '../errors.js';
import type { DialTarget } from '../transport.js';
import { whenReady } from './dialer.js';
import type { PemSource, ResolvedTls, TlsOptions } from './platform.js';

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

function readPem(name: string, source: PemSource): string | Buffer {
  if (Buffer.isBuffer(source)) return source;
  if (typeof source !== 'string' || source.length === 0) throw new ConfigError(`option ${name} must be PEM text or a file path`);
  if (PEM.test(source)) return source;
  try {
    return readFileSync(source);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`option ${name}: cannot read ${JSON.stringify(source)}${code === undefined ? '' : ` (${code})`}`, { cause: err });
  }
}

function pick(name: string, pem: PemSource | undefined, file: string | undefined): string | Buffer | undefined {
  if (pem !== undefined && file !== undefined) throw new ConfigError(`options tls.${name} and tls.${name}File exclude each other`);
  if (file !== undefined) return readPem(`tls.${name}File`, file);
  return pem === undefined ? undefined : readPem(`tls.${name}`, pem);
}

/** Validates the tls option and reads its files; null when it is not given. */
export function resolveTls(tls: TlsOptions | undefined): ResolvedTls | null {
  if (tls === undefined) return null;
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) throw new ConfigError('option tls must be an object');
  const secure: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized ?? true };
  if (tls.ca !== undefined && tls.caFile !== undefined) throw new ConfigError('options tls.ca and tls.caFile exclude each other');
  if (Array.isArray(tls.ca)) secure.ca = tls.ca.map((c, i) => readPem(`tls.ca[${i}]`, c));
  else {
    const ca = pick('ca', tls.ca, tls.caFile);
    if (ca !== undefined) secure.ca = ca;
  }
  const cert = pick('cert', tls.cert, tls.certFile);
  const key = pick('key', tls.key, tls.keyFile);
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError('options tls.cert and tls.key go together (a client certificate needs its key)');
  if (cert !== undefined) {
    secure.cert = cert;
    secure.key = key;
  }
  return { secure, handshakeFirst: tls.handshakeFirst === true };
}

/** node:tls options for one server: the host checked against its certificate, SNI when it is a name. */
function forTarget(tls: ResolvedTls | null, target: DialTarget): ConnectionOptions {
  const o: ConnectionOptions = { ...(tls?.secure ?? {}) };
  if (target.host !== undefined) {
    o.host = target.host;
    // SNI carries names only (RFC 6066 §3); an IP is still checked against the certificate's IP SANs.
    if (isIP(target.host) === 0) o.servername = target.host;
  }
  return o;
}

/** Runs the TLS handshake over an open socket: after INFO said tls_required, or first thing (handshakeFirst). */
export function upgradeTls(socket: Duplex, tls: ResolvedTls | null, target: DialTarget, signal: AbortSignal): Promise<Duplex> {
  return whenReady(tlsConnect({ ...forTarget(tls, target), socket }), 'secureConnect', signal);
}
