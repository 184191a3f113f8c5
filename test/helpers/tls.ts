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
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
