/**
 * wss:// from a page: the server's WebSocket listener with TLS (the hub's
 * certificate; nats-server's `tls { }` inside `websocket { }`), and the
 * browser doing TLS. Chromium trusts the test certificate only when told to
 * (by its public key's hash, `--ignore-certificate-errors-spki-list`): then
 * the page connects and exchanges events with Node over TLS; without it,
 * connect() in the page rejects with a ConnectionError. One suite, both
 * targets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { connect, type Bus } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/target.js';
import { makeCerts } from '../helpers/tls.js';
import { launch, SKIP_BROWSER } from './browser.js';
import { closePage, openClientPage, PageClient, seenInPage, servePages, type ClientPage, type PageServer, type PageWindow } from './pages.js';

declare const window: PageWindow;

const TEST_MS = 60_000;

/** The base64 SHA-256 of a certificate's public key (SPKI): how Chromium's flag names a key to trust. */
function spkiHash(pem: Buffer): string {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

describe('wss:// from a page', { skip: SKIP_BROWSER }, () => {
  let server: TestServer;
  let pages: PageServer;
  const browsers: Browser[] = [];
  const opened: ClientPage[] = [];
  let node: Bus;
  let trust: string;

  before(async () => {
    const certs = await makeCerts();
    trust = `--ignore-certificate-errors-spki-list=${spkiHash(certs.server.cert.pem)}`;
    server = await startServer({ websocket: true, tls: { cert: certs.server.cert.path, key: certs.server.key.path } });
    pages = await servePages();
    node = await connect({ servers: server.url, tls: { ca: certs.ca.path }, name: 'node over TLS' });
  });

  after(async () => {
    for (const w of opened) await closePage(w);
    for (const b of browsers) await b.close();
    await node?.close();
    await pages?.close();
    await server?.stop();
  });

  async function pageIn(args: string[]): Promise<ClientPage> {
    const browser = await launch(args);
    browsers.push(browser);
    const w = await openClientPage(browser, pages, PageClient.NETEMITTER);
    opened.push(w);
    return w;
  }

  it('the listener speaks wss://', () => {
    assert.match(server.wsUrl!, /^wss:\/\/127\.0\.0\.1:\d+$/);
  });

  it('with the certificate trusted, the page connects and exchanges events with Node', { timeout: TEST_MS }, async () => {
    const w = await pageIn([trust]);
    await w.page.evaluate(async (url) => {
      window.bus = await window.netemitter.connect({ servers: url, name: 'page over TLS' });
      window.bus.on('secure.>', (payload: unknown, meta: { subject: string }) => void window.seen.push({ subject: meta.subject, payload, by: 'page' }));
      await window.bus.flush();
    }, server.wsUrl!);
    const back = new Promise<unknown>((resolve) => node.once('secure.reply', resolve));
    await node.flush();
    node.emit('secure.hello', { over: 'tls' });
    assert.deepEqual(await seenInPage(w.page, 1), [{ subject: 'secure.hello', payload: { over: 'tls' }, by: 'page' }]);
    await w.page.evaluate(() => window.bus.emit('secure.reply', 'from the page'));
    assert.equal(await back, 'from the page');
    await w.page.evaluate(() => window.bus.close());
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.offsite, []);
  });

  it('with the certificate not trusted, connect() in the page rejects with a ConnectionError', { timeout: TEST_MS }, async () => {
    const w = await pageIn([]);
    const failure = await w.page.evaluate(async (url) => {
      try {
        const bus = await window.netemitter.connect({ servers: url, reconnect: false, timeout: 5000 });
        await bus.close();
        return null;
      } catch (err) {
        return window.fail(err);
      }
    }, server.wsUrl!);
    assert.ok(failure !== null, 'the page connected to a server whose certificate it does not trust');
    assert.equal(failure.name, 'ConnectionError');
    assert.match(failure.message, new RegExp(server.wsUrl!.replaceAll('.', '\\.')));
  });
});
