/**
 * Users and permissions for a page as for a Node process: a page that
 * connects as a user over the WebSocket listener is refused what that user
 * may not do, with the same errors the Node client gets over TCP (the same
 * class, code, message and fields): a PermissionError for a denied emit,
 * subscription or request, an AuthorizationError from connect() for a wrong
 * password. One suite, both targets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { connect, type Bus } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/target.js';
import { rejection, within } from '../helpers/client.js';
import { launch, SKIP_BROWSER, WAIT_MS } from './browser.js';
import { closePage, failuresInPage, openClientPage, PageClient, seenInPage, servePages, type ClientPage, type Failure, type PageServer, type PageWindow } from './pages.js';

declare const window: PageWindow;

const TEST_MS = 60_000;

/** An error as the page records it (window.fail): name, code, message and its own plain fields. */
function asFailure(err: Error): Failure {
  const f: Failure = { name: err.name, code: (err as { code?: string }).code, message: err.message };
  for (const [k, v] of Object.entries(err)) if (!(k in f) && (typeof v !== 'object' || v === null)) f[k] = v;
  return f;
}

/** The same error, with the server's URL (nats://… in Node, ws://… in the page) as a placeholder. */
function sansServer(f: Failure, url: string): Failure {
  const out: Failure = { ...f, message: f.message.replaceAll(url, '<server>') };
  if (out.server !== undefined) out.server = String(out.server).replaceAll(url, '<server>');
  return out;
}

describe('a user in a page is refused as in Node', { skip: SKIP_BROWSER }, () => {
  let server: TestServer;
  let pages: PageServer;
  let browser: Browser;
  let w: ClientPage;
  let node: Bus;
  let wsUrl: string;

  before(async () => {
    server = await startServer({
      websocket: true,
      authorization: {
        users: [
          { user: 'admin', password: 'admin-pass' },
          {
            user: 'agent',
            password: 'agent-pass',
            permissions: { publish: ['ticket.>', '_INBOX.>'], subscribe: ['ticket.>', '_INBOX.>'] },
          },
        ],
      },
    });
    // How the bus spells the server it is on, in its errors.
    wsUrl = new URL(server.wsUrl!).href;
    pages = await servePages();
    node = await connect({ servers: server.url, user: 'agent', pass: 'agent-pass', name: 'node agent' });
    browser = await launch();
    w = await openClientPage(browser, pages, PageClient.NETEMITTER);
    await w.page.evaluate(async (ws) => {
      window.bus = await window.netemitter.connect({ servers: ws, user: 'agent', pass: 'agent-pass', name: 'page agent' });
      window.bus.status.on('error', (err: unknown) => void window.fail(err));
    }, server.wsUrl!);
  });

  after(async () => {
    await w?.page.evaluate(() => window.bus?.close()).catch(() => {});
    await closePage(w);
    await browser?.close();
    await node?.close();
    await pages?.close();
    await server?.stop();
  });

  it('what the user may do works: the page and Node exchange ticket events', { timeout: TEST_MS }, async () => {
    await w.page.evaluate(async () => {
      window.bus.on('ticket.created', (payload: unknown, meta: { subject: string }) => window.seen.push({ subject: meta.subject, payload, by: 'page' }));
      await window.bus.flush();
    });
    node.emit('ticket.created', { id: 'T-1' });
    assert.deepEqual(await seenInPage(w.page, 1), [{ subject: 'ticket.created', payload: { id: 'T-1' }, by: 'page' }]);
    assert.deepEqual(await w.page.evaluate(() => window.failures), []);
  });

  it('an emit to a denied subject: the same PermissionError on bus.status in the page and in Node', { timeout: TEST_MS }, async () => {
    const inNode = new Promise<Error>((resolve) => node.status.once('error', resolve));
    node.emit('admin.reset', { all: true });
    const expected = asFailure(await within(inNode, WAIT_MS, "Node's PermissionError"));
    assert.equal(expected.name, 'PermissionError');
    assert.equal(expected.subject, 'admin.reset');
    assert.equal(expected.operation, 'publish');

    await w.page.evaluate(() => window.bus.emit('admin.reset', { all: true }));
    const [inPage] = await failuresInPage(w.page, 1);
    assert.deepEqual(inPage, expected);
    // The connection stays up: the page still emits what it may.
    const back = new Promise<unknown>((resolve) => node.once('ticket.after', resolve));
    await node.flush();
    await w.page.evaluate(() => window.bus.emit('ticket.after', 'still connected'));
    assert.equal(await within(back, WAIT_MS, 'an event after the denial'), 'still connected');
  });

  it('a denied subscription: the same PermissionError', { timeout: TEST_MS }, async () => {
    const before = await w.page.evaluate(() => window.failures.length);
    const inNode = new Promise<Error>((resolve) => node.status.once('error', resolve));
    node.on('admin.>', () => {});
    const expected = asFailure(await within(inNode, WAIT_MS, "Node's PermissionError"));
    assert.equal(expected.name, 'PermissionError');
    assert.equal(expected.operation, 'subscribe');

    await w.page.evaluate(() => void window.bus.on('admin.>', () => {}));
    const failures = await failuresInPage(w.page, before + 1);
    assert.deepEqual(failures[before], expected);
  });

  it('a request to a denied subject rejects with the same PermissionError', { timeout: TEST_MS }, async () => {
    const expected = asFailure(await rejection(node.request('admin.stats', {}, { timeout: WAIT_MS })));
    assert.equal(expected.name, 'PermissionError');
    const inPage = await w.page.evaluate(async (ms) => {
      try {
        await window.bus.request('admin.stats', {}, { timeout: ms });
        return null;
      } catch (err) {
        return window.fail(err);
      }
    }, WAIT_MS);
    assert.deepEqual(inPage, expected);
  });

  it('a wrong password: connect() rejects with the same AuthorizationError', { timeout: TEST_MS }, async () => {
    const err = await rejection(connect({ servers: server.url, user: 'agent', pass: 'wrong', reconnect: false }));
    const expected = sansServer(asFailure(err), server.url);
    assert.equal(expected.name, 'AuthorizationError', String(err));
    const inPage = await w.page.evaluate(async (ws) => {
      try {
        const bus = await window.netemitter.connect({ servers: ws, user: 'agent', pass: 'wrong', reconnect: false });
        await bus.close();
        return null;
      } catch (e) {
        return window.fail(e);
      }
    }, server.wsUrl!);
    assert.ok(inPage !== null, 'connect() with a wrong password resolved in the page');
    assert.deepEqual(sansServer(inPage, wsUrl), expected);
    assert.deepEqual(w.errors, []);
  });
});
