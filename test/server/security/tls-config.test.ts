/**
 * TLS settings: a throwaway CA and certificates made with openssl in a temp
 * directory (no key is committed), real handshakes on 127.0.0.1 with the
 * context the hub will use, every config mistake as a one-line ConfigError,
 * and a reload with new files.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { resolveTls, TlsDefaults, type ResolvedTls } from '../../../src/server/security/tls-config.js';
import { serverHandshake } from '../../../src/server/security/handshake.js';
import { ConfigError } from '../../../src/errors.js';

const OPENSSL = '/usr/bin/openssl';
let dir: string;
const f = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A P-256 key and a certificate for `cn` signed by the CA. */
function issue(name: string, cn: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(f(`${name}.ext`), ext);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netemitter-tls-'));
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=netemitter test CA');
  issue('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('server2', 'reloaded', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', 'alice', 'extendedKeyUsage=clientAuth\n');
  // A client certificate from another CA.
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca2.key', '-out', 'ca2.pem', '-days', '1', '-subj', '/CN=another CA');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'stranger.key', '-out', 'stranger.csr', '-subj', '/CN=mallory');
  writeFileSync(f('stranger.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl('x509', '-req', '-in', 'stranger.csr', '-CA', 'ca2.pem', '-CAkey', 'ca2.key', '-CAcreateserial', '-out', 'stranger.pem', '-days', '1', '-extfile', 'stranger.ext');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes256', '-pass', 'pass:secret', '-out', 'encrypted.key');
  writeFileSync(f('garbage.pem'), 'not a pem at all\n');
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  serverCN: string | undefined;
  peerAuthorized: boolean;
  peerCN: string | undefined;
  error: Error | undefined;
}

/**
 * A plaintext listener that sends a line (INFO's place), then upgrades the
 * socket as the hub may: through `resolved.server` ('server'), or with a
 * TLSSocket made from `resolved.context` ('socket'). Returns what the client
 * saw and what the server saw.
 */
async function handshake(resolved: ResolvedTls, client: tls.ConnectionOptions, how: 'server' | 'socket' = 'server'): Promise<Seen> {
  const server = net.createServer();
  const sockets = new Set<net.Socket>();
  const serverSide = new Promise<{ authorized: boolean; cn: string | undefined }>((resolve) => {
    const secured = (t: tls.TLSSocket): void => {
      const cert = t.getPeerCertificate();
      resolve({ authorized: t.authorized, cn: cert && cert.subject ? String(cert.subject.CN) : undefined });
      t.end();
    };
    const refused = (): void => resolve({ authorized: false, cn: undefined });
    server.once('connection', (sock) => {
      sockets.add(sock);
      sock.once('close', refused);
      sock.write('INFO {}\r\n', () => {
        if (how === 'server') {
          // The hub's own path: `server` runs the handshake, the hub refuses an unauthorized certificate.
          serverHandshake(sock, resolved, (err, t) => (err === null && t !== null ? secured(t) : refused()));
          return;
        }
        const t = new tls.TLSSocket(sock, { isServer: true, secureContext: resolved.context, requestCert: resolved.verify, rejectUnauthorized: resolved.verify });
        t.once('secure', () => secured(t));
        t.once('error', refused);
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const raw = net.connect(port, '127.0.0.1');
  try {
    await once(raw, 'data');
    const c = tls.connect({ socket: raw, servername: 'localhost', ca: readFileSync(f('ca.pem')), ...client });
    let serverCN: string | undefined;
    let error: Error | undefined;
    try {
      await once(c, 'secureConnect');
      serverCN = String(c.getPeerCertificate().subject.CN);
      // TLS 1.3 reports a refused client certificate after the handshake: wait for the end either way.
      c.resume();
      await Promise.race([once(c, 'end'), once(c, 'close')]);
    } catch (err) {
      error = err as Error;
    } finally {
      c.destroy();
    }
    const seen = await serverSide;
    return { serverCN, peerAuthorized: seen.authorized, peerCN: seen.cn, error };
  } finally {
    raw.destroy();
    for (const s of sockets) s.destroy();
    server.close();
  }
}

function message(opts: unknown): string {
  try {
    resolveTls(opts as Parameters<typeof resolveTls>[0]);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(!err.message.includes('\n'), 'one line');
    assert.ok(!err.message.includes('PRIVATE KEY'), 'never the key');
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('resolveTls', () => {
  it('is null without options; defaults as nats-server (2 s handshake, no client certificates, INFO first)', () => {
    assert.equal(resolveTls(undefined), null);
    const r = resolveTls({ cert: f('server.pem'), key: f('server.key') })!;
    assert.equal(r.timeout, 2000);
    assert.equal(TlsDefaults.timeout, 2000);
    assert.equal(r.verify, false);
    assert.equal(r.handshakeFirst, false);
    const s = resolveTls({ cert: f('server.pem'), key: f('server.key'), verify: true, handshakeFirst: true, timeout: 500 })!;
    assert.deepEqual([s.verify, s.handshakeFirst, s.timeout], [true, true, 500]);
  });

  it('serves a handshake from file paths, through `server` and through `context`', async () => {
    const r = resolveTls({ cert: f('server.pem'), key: f('server.key') })!;
    for (const how of ['server', 'socket'] as const) {
      const seen = await handshake(r, {}, how);
      assert.equal(seen.error, undefined, how);
      assert.equal(seen.serverCN, 'localhost', how);
    }
  });

  it('takes PEM Buffers and PEM text too', async () => {
    const r = resolveTls({ cert: readFileSync(f('server.pem')), key: readFileSync(f('server.key')).toString() })!;
    assert.equal((await handshake(r, {})).serverCN, 'localhost');
  });

  it('mutual TLS through `server` and serverHandshake: a client certificate from the CA is required and verified', async () => {
    const r = resolveTls({ cert: f('server.pem'), key: f('server.key'), ca: f('ca.pem'), verify: true })!;
    const good = await handshake(r, { cert: readFileSync(f('client.pem')), key: readFileSync(f('client.key')) });
    assert.equal(good.error, undefined);
    assert.equal(good.peerAuthorized, true);
    assert.equal(good.peerCN, 'alice');
    const none = await handshake(r, {});
    assert.equal(none.peerAuthorized, false);
    assert.equal(none.peerCN, undefined);
    const stranger = await handshake(r, { cert: readFileSync(f('stranger.pem')), key: readFileSync(f('stranger.key')) });
    assert.equal(stranger.peerAuthorized, false);
    assert.equal(stranger.peerCN, undefined, 'refused before the hub sees it');
  });

  it('a bare TLSSocket on `context` checks no client certificate: why `server` exists', async () => {
    // Pins Node's behaviour (20.x): the check lives in tls.Server's
    // connection listener. If this ever fails, Node has changed, and the
    // TLSSocket route may be safe after all.
    const r = resolveTls({ cert: f('server.pem'), key: f('server.key'), ca: f('ca.pem'), verify: true })!;
    const stranger = await handshake(r, { cert: readFileSync(f('stranger.pem')), key: readFileSync(f('stranger.key')) }, 'socket');
    assert.equal(stranger.peerCN, 'mallory', 'accepted, although another CA signed it');
    assert.equal(stranger.peerAuthorized, false, 'and `authorized` is false even so');
    const good = await handshake(r, { cert: readFileSync(f('client.pem')), key: readFileSync(f('client.key')) }, 'socket');
    assert.equal(good.peerAuthorized, false, 'for a good one too');
    assert.equal((await handshake(r, {}, 'socket')).peerCN, undefined, 'only a missing certificate is refused');
  });

  it('verify without ca is allowed (Node\'s roots: our test CA is not among them)', async () => {
    const r = resolveTls({ cert: f('server.pem'), key: f('server.key'), verify: true })!;
    const seen = await handshake(r, { cert: readFileSync(f('client.pem')), key: readFileSync(f('client.key')) });
    assert.equal(seen.peerAuthorized, false);
    assert.equal(seen.peerCN, undefined);
  });
});

describe('resolveTls: config that cannot work', () => {
  it('a file that is missing or unreadable, named', () => {
    assert.equal(message({ cert: f('nope.pem'), key: f('server.key') }), `tls.cert: cannot read ${f('nope.pem')} (ENOENT)`);
    assert.equal(message({ cert: f('server.pem'), key: dir }), `tls.key: cannot read ${dir} (EISDIR)`);
    assert.equal(message({ cert: f('server.pem'), key: f('server.key'), ca: f('nope-ca.pem') }), `tls.ca: cannot read ${f('nope-ca.pem')} (ENOENT)`);
  });

  it('a key that does not match its certificate', () => {
    assert.equal(message({ cert: f('server.pem'), key: f('other.key') }), `tls.key: ${f('other.key')} does not match the certificate ${f('server.pem')}`);
    assert.equal(message({ cert: readFileSync(f('server.pem')), key: readFileSync(f('client.key')) }), 'tls.key: the PEM given does not match the certificate the PEM given');
  });

  it('a PEM that does not parse', () => {
    assert.equal(message({ cert: f('garbage.pem'), key: f('server.key') }), `tls.cert: ${f('garbage.pem')} is not a PEM certificate`);
    assert.equal(message({ cert: f('server.key'), key: f('server.key') }), `tls.cert: ${f('server.key')} is not a PEM certificate`);
    assert.equal(message({ cert: f('server.pem'), key: f('garbage.pem') }), `tls.key: ${f('garbage.pem')} is not a PEM private key`);
    assert.equal(message({ cert: f('server.pem'), key: f('server.pem') }), `tls.key: ${f('server.pem')} is not a PEM private key`);
    assert.equal(message({ cert: f('server.pem'), key: f('encrypted.key') }), `tls.key: ${f('encrypted.key')} is encrypted: give the key unencrypted`);
    assert.equal(message({ cert: f('server.pem'), key: f('server.key'), ca: f('garbage.pem') }), `tls.ca: ${f('garbage.pem')} holds no PEM certificate`);
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    assert.equal(message({ cert: f('server.pem'), key: f('server.key'), ca: Buffer.from(broken) }), 'tls.ca: the PEM given holds a certificate that does not parse');
  });

  it('options of the wrong shape', () => {
    assert.equal(message({ key: f('server.key') }), 'tls.cert: missing (the server certificate, with tls.key)');
    assert.equal(message({ cert: f('server.pem') }), "tls.key: missing (the certificate's private key, with tls.cert)");
    assert.equal(message({ cert: 5, key: f('server.key') }), "tls.cert: expected a PEM file's path or the PEM as a Buffer");
    assert.equal(message({ cert: f('server.pem'), key: f('server.key'), timeout: 0 }), 'tls.timeout: expected a positive integer of milliseconds');
    assert.equal(message({ cert: f('server.pem'), key: f('server.key'), verify: 'yes' }), 'tls.verify: expected true or false');
    assert.equal(message({ cert: f('server.pem'), key: f('server.key'), cafile: 'x' }), 'tls: unknown key "cafile" (expected cert, key, ca, verify, handshakeFirst, timeout)');
    assert.equal(message('cert.pem'), 'tls: expected an object with cert and key');
  });
});

describe('reload', () => {
  it('re-reads the files: new connections get the new certificate', async () => {
    copyFileSync(f('server.pem'), f('live.pem'));
    copyFileSync(f('server.key'), f('live.key'));
    const r = resolveTls({ cert: f('live.pem'), key: f('live.key') })!;
    const before = r.context;
    assert.equal((await handshake(r, {})).serverCN, 'localhost', 'server');
    assert.equal((await handshake(r, {}, 'socket')).serverCN, 'localhost', 'context');
    copyFileSync(f('server2.pem'), f('live.pem'));
    copyFileSync(f('server2.key'), f('live.key'));
    assert.equal(r.context, before, 'nothing changes until reload');
    r.reload();
    assert.notEqual(r.context, before);
    assert.equal((await handshake(r, {})).serverCN, 'reloaded', 'server');
    assert.equal((await handshake(r, {}, 'socket')).serverCN, 'reloaded', 'context');
  });

  it('keeps the old context when the new files are bad', async () => {
    copyFileSync(f('server.pem'), f('live2.pem'));
    copyFileSync(f('server.key'), f('live2.key'));
    const r = resolveTls({ cert: f('live2.pem'), key: f('live2.key') })!;
    const before = r.context;
    copyFileSync(f('server2.pem'), f('live2.pem')); // the key is still server's: a mismatch
    assert.throws(() => r.reload(), (err: unknown) => err instanceof ConfigError && err.message === `tls.key: ${f('live2.key')} does not match the certificate ${f('live2.pem')}`);
    assert.equal(r.context, before);
    rmSync(f('live2.key'));
    assert.throws(() => r.reload(), /cannot read .*live2\.key \(ENOENT\)/);
    assert.equal(r.context, before);
    assert.equal((await handshake(r, {})).serverCN, 'localhost');
    assert.equal((await handshake(r, {}, 'socket')).serverCN, 'localhost');
  });
});
