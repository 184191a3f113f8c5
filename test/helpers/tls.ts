/**
 * Throwaway TLS material for tests, made with openssl at test time so that no
 * private key is ever committed. One set per process (memoized), in a temp
 * directory removed when the process exits.
 *
 *   ca ──┬── server      CN=localhost, SAN DNS:localhost, IP:127.0.0.1
 *        └── client      CN=alice
 *   otherCa ── untrustedClient   CN=mallory (chains to a CA the server does not trust)
 *   wrongKey             a key that matches no certificate (config-error tests)
 *
 * EC P-256 keys: generating them takes milliseconds, RSA would take seconds.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** A PEM file: its path (for config files and `caFile`-style options) and its bytes. */
export interface PemFile {
  readonly path: string;
  readonly pem: Buffer;
}

export interface CertPair {
  readonly cert: PemFile;
  readonly key: PemFile;
}

export interface TestCerts {
  readonly dir: string;
  /** The CA the servers and clients trust. */
  readonly ca: PemFile;
  /** The server's certificate (localhost, 127.0.0.1), signed by `ca`. */
  readonly server: CertPair;
  /** A client certificate (CN=alice), signed by `ca`. */
  readonly client: CertPair;
  /** A second CA that nothing trusts. */
  readonly otherCa: PemFile;
  /** A client certificate (CN=mallory) signed by `otherCa`: refused under verify. */
  readonly untrustedClient: CertPair;
  /** A private key that does not match `server.cert`. */
  readonly wrongKey: PemFile;
}

const OPENSSL = process.env.OPENSSL_BIN ?? 'openssl';
const OPENSSL_TIMEOUT_MS = 10_000;
const DAYS = '2';
const RAW_TIMEOUT_MS = 2_000;

let pending: Promise<TestCerts> | null = null;

/** The process's certificate set, generated on first call. */
export function makeCerts(): Promise<TestCerts> {
  return (pending ??= generate());
}

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(OPENSSL, args, { cwd, timeout: OPENSSL_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err === null) {
        resolve();
        return;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new Error(`makeCerts: openssl not found (${OPENSSL}); install it or set OPENSSL_BIN`));
        return;
      }
      reject(new Error(`makeCerts: openssl ${args[0]} failed: ${String(stderr).trim() || err.message}`));
    });
  });
}

function newKey(dir: string, name: string): Promise<void> {
  return openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}-key.pem`], dir);
}

async function newCa(dir: string, name: string, cn: string): Promise<void> {
  await newKey(dir, name);
  await openssl(
    ['req', '-x509', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${cn}`, '-days', DAYS, '-sha256', '-out', `${name}.pem`],
    dir,
  );
}

/** A leaf certificate for `name`, signed by the CA `ca`, with the X.509 extensions in `ext`. */
async function newLeaf(dir: string, name: string, cn: string, ca: string, ext: string): Promise<void> {
  await newKey(dir, name);
  await openssl(['req', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(
    [
      'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial',
      '-days', DAYS, '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`,
    ],
    dir,
  );
}

const SERVER_EXT = [
  'basicConstraints=CA:FALSE',
  'keyUsage=digitalSignature,keyEncipherment',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=DNS:localhost,IP:127.0.0.1',
  '',
].join('\n');

const CLIENT_EXT = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', ''].join('\n');

async function generate(): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-certs-'));
  // Synchronous on purpose: 'exit' handlers cannot wait.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

  // The two CAs are independent; each CA's leaves share its serial file, so they go one after the other.
  await Promise.all([
    (async () => {
      await newCa(dir, 'ca', 'netemitter test CA');
      await newLeaf(dir, 'server', 'localhost', 'ca', SERVER_EXT);
      await newLeaf(dir, 'client', 'alice', 'ca', CLIENT_EXT);
    })(),
    (async () => {
      await newCa(dir, 'other-ca', 'netemitter untrusted CA');
      await newLeaf(dir, 'untrusted-client', 'mallory', 'other-ca', CLIENT_EXT);
    })(),
    newKey(dir, 'wrong'),
  ]);

  const file = async (name: string): Promise<PemFile> => {
    const path = join(dir, name);
    return { path, pem: await readFile(path) };
  };
  const pair = async (name: string): Promise<CertPair> => ({ cert: await file(`${name}.pem`), key: await file(`${name}-key.pem`) });

  return {
    dir,
    ca: await file('ca.pem'),
    server: await pair('server'),
    client: await pair('client'),
    otherCa: await file('other-ca.pem'),
    untrustedClient: await pair('untrusted-client'),
    wrongKey: await file('wrong-key.pem'),
  };
}

/**
 * A raw protocol client over nats-server's default TLS flow: read the
 * plaintext INFO line, then upgrade the same socket and speak the protocol
 * inside TLS. For wire-exact checks that test/helpers/raw.ts cannot make
 * (it never upgrades). Every wait is bounded.
 */
export class RawTlsClient {
  readonly info: Record<string, unknown>;
  private readonly socket: TLSSocket;
  private buf = '';
  private closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(socket: TLSSocket, info: Record<string, unknown>) {
    this.socket = socket;
    this.info = info;
    socket.setEncoding('latin1');
    socket.on('data', (s: string) => {
      this.buf += s;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    // A reset after the server closes is normal here: 'close' reports it.
    socket.on('error', () => {});
  }

  /** Connects, reads INFO, completes the TLS handshake (trusting `ca`, presenting `cert`/`key` if given). */
  static connect(
    server: { host: string; port: number },
    tls: { ca: Buffer; cert?: Buffer; key?: Buffer },
    timeoutMs = RAW_TIMEOUT_MS,
  ): Promise<RawTlsClient> {
    return new Promise((resolve, reject) => {
      const plain = netConnect({ host: server.host, port: server.port, noDelay: true });
      let head = Buffer.alloc(0);
      let settled = false;
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        plain.destroy();
        reject(new Error(`raw TLS connect to ${server.host}:${server.port}: ${why}`));
      };
      const timer = setTimeout(() => fail(`no INFO and handshake within ${timeoutMs} ms`), timeoutMs);
      plain.on('error', (err) => fail(err.message));
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const lf = head.indexOf('\r\n');
        if (lf === -1) return;
        plain.off('data', onData);
        const line = head.subarray(0, lf).toString('latin1');
        if (!line.startsWith('INFO ')) {
          fail(`the first line is not INFO: ${JSON.stringify(line.slice(0, 80))}`);
          return;
        }
        const info = JSON.parse(line.slice(5)) as Record<string, unknown>;
        const secure = tlsConnect({ socket: plain, servername: 'localhost', ca: tls.ca, cert: tls.cert, key: tls.key }, () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(new RawTlsClient(secure, info));
        });
        secure.once('error', (err) => fail(err.message));
      };
      plain.on('data', onData);
    });
  }

  /** Everything received inside TLS. */
  text(): string {
    return this.buf;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(data: string): void {
    if (!this.closed) this.socket.write(Buffer.from(data, 'latin1'));
  }

  /** Waits until the received text contains `s`; rejects on timeout or on a close without it. */
  until(s: string, timeoutMs = RAW_TIMEOUT_MS): Promise<string> {
    return this.wait(() => this.buf.includes(s), timeoutMs, `${JSON.stringify(s)}`);
  }

  /** Resolves true when the server closes the connection within timeoutMs. */
  async waitClosed(timeoutMs = RAW_TIMEOUT_MS): Promise<boolean> {
    try {
      await this.wait(() => this.closed, timeoutMs, 'close');
    } catch {
      // Timed out: report false.
    }
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const gone = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.destroy();
    await gone;
  }

  private wait(pred: () => boolean, timeoutMs: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred()) {
          done();
          resolve(this.buf);
        } else if (this.closed) {
          done();
          reject(new Error(`closed while waiting for ${what}; received ${JSON.stringify(this.buf)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms; received ${JSON.stringify(this.buf)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
