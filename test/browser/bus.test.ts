/**
 * The client in the browser: the bundle (dist/browser/netemitter.js) in a
 * real page (Chromium) over the server's WebSocket listener, and Node
 * workers on the same bus over TCP (`connect(server.url)`). The page is one
 * more process on the bus: its listeners get the workers' events (exact
 * subjects, wildcards, a queue group shared with Node), its emits reach
 * them, and request/reply works both ways. One suite, both targets
 * (NETEMITTER_TARGET=nats-server runs it against nats-server's listener).
 *
 * Every wait is for something the page recorded (window.seen) or a message,
 * bounded; nothing sleeps.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { connect, RemoteError, type Bus } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/target.js';
import { rejection, within } from '../helpers/client.js';
import { launch, SKIP_BROWSER, WAIT_MS } from './browser.js';
import { closePage, openClientPage, PageClient, servePages, type ClientPage, type PageServer, type PageWindow, type Seen } from './pages.js';

declare const window: PageWindow;

const TEST_MS = 60_000;

/** Seen events in a stable order (the order between two listeners of one message is not the point). */
const sorted = (seen: Seen[]): Seen[] => [...seen].sort((a, b) => `${a.by} ${a.subject}`.localeCompare(`${b.by} ${b.subject}`));

describe('the bundle in a page, on the bus with Node workers', { skip: SKIP_BROWSER }, () => {
  let server: TestServer;
  let pages: PageServer;
  let browser: Browser;
  let w: ClientPage;
  let worker: Bus;
  const sockets: string[] = [];

  before(async () => {
    server = await startServer({ websocket: true });
    pages = await servePages();
    worker = await connect({ servers: server.url, name: 'node worker' });
    browser = await launch();
    w = await openClientPage(browser, pages, PageClient.NETEMITTER);
    w.page.on('websocket', (ws) => sockets.push(ws.url()));
  });

  after(async () => {
    await w?.page.evaluate(() => window.bus?.close()).catch(() => {});
    await closePage(w);
    await browser?.close();
    await worker?.close();
    await pages?.close();
    await server?.stop();
  });

  it('loads from this machine only, with no console error, and connects over the WebSocket listener', { timeout: TEST_MS }, async () => {
    const exported = await w.page.evaluate(() => Object.keys(window.netemitter).sort());
    for (const name of ['connect', 'Bus', 'ErrorCode', 'PermissionError', 'AuthorizationError', 'ConfigError', 'TimeoutError']) {
      assert.ok(exported.includes(name), `the bundle exports ${name} (it has ${exported.join(', ')})`);
    }
    const connected = await w.page.evaluate(async (ws) => {
      window.bus = await window.netemitter.connect({ servers: ws, name: 'browser tab' });
      return window.bus.server;
    }, server.wsUrl!);
    // The bus and the browser both spell the URL with its path, `/`.
    const url = new URL(server.wsUrl!).href;
    assert.equal(connected, url);
    assert.deepEqual(sockets, [url]);
    assert.deepEqual(w.offsite, []);
    assert.deepEqual(w.errors, []);
  });

  it("the page's listeners get the worker's emits: an exact subject and both wildcards", { timeout: TEST_MS }, async () => {
    await w.page.evaluate(async () => {
      const record = (by: string) => (payload: unknown, meta: { subject: string }) => window.seen.push({ subject: meta.subject, payload, by });
      window.bus.on('ticket.updated', record('exact'));
      window.bus.on('ticket.*', record('star'));
      window.bus.on('ticket.>', record('gt'));
      window.bus.on('test.done', record('done'));
      // flush(): its PONG comes after the SUBs, so the server has them all.
      await window.bus.flush();
    });
    worker.emit('ticket.updated', { id: 'T-1', changes: { priority: 'urgent' } });
    worker.emit('ticket.created', { id: 'T-2' });
    worker.emit('ticket.note.added', { id: 'T-3', text: 'hi' });
    worker.emit('tickets', 'not matched by any listener');
    // The page gets events in order on its one connection: once `test.done` is in, the rest is too.
    worker.emit('test.done', null);
    await worker.flush();
    await w.page.waitForFunction(() => window.seen.some((s) => s.by === 'done'), undefined, { timeout: WAIT_MS });
    const seen = await w.page.evaluate(() => window.seen.splice(0));
    assert.deepEqual(
      sorted(seen),
      sorted([
        { by: 'exact', subject: 'ticket.updated', payload: { id: 'T-1', changes: { priority: 'urgent' } } },
        { by: 'star', subject: 'ticket.updated', payload: { id: 'T-1', changes: { priority: 'urgent' } } },
        { by: 'star', subject: 'ticket.created', payload: { id: 'T-2' } },
        { by: 'gt', subject: 'ticket.updated', payload: { id: 'T-1', changes: { priority: 'urgent' } } },
        { by: 'gt', subject: 'ticket.created', payload: { id: 'T-2' } },
        { by: 'gt', subject: 'ticket.note.added', payload: { id: 'T-3', text: 'hi' } },
        { by: 'done', subject: 'test.done', payload: null },
      ]),
    );
  });

  it("the page's emits reach the worker's listener", { timeout: TEST_MS }, async () => {
    const got: { subject: string; payload: unknown }[] = [];
    const all = new Promise<void>((resolve) =>
      worker.on('page.>', (payload, meta) => {
        got.push({ subject: meta.subject, payload });
        if (got.length === 2) resolve();
      }),
    );
    await worker.flush();
    await w.page.evaluate(async () => {
      window.bus.emit('page.clicked', { button: 'save' });
      window.bus.emit('page.text', 'a string stays a string');
      await window.bus.flush();
    });
    await within(all, WAIT_MS, "the page's two events");
    assert.deepEqual(got, [
      { subject: 'page.clicked', payload: { button: 'save' } },
      { subject: 'page.text', payload: 'a string stays a string' },
    ]);
  });

  it('the page and the worker share a queue group: each job goes to one of them', { timeout: TEST_MS }, async () => {
    const JOBS = 40;
    const inNode: number[] = [];
    let nodeDone!: () => void;
    const nodeSawDone = new Promise<void>((resolve) => (nodeDone = resolve));
    worker.on('jobs.run', (job: { n: number }) => void inNode.push(job.n), { queue: 'workers' });
    worker.on('jobs.done', () => nodeDone());
    await worker.flush();
    await w.page.evaluate(async () => {
      window.bus.on('jobs.run', (job: unknown) => window.seen.push({ subject: 'jobs.run', payload: job, by: 'queue' }), { queue: 'workers' });
      window.bus.on('jobs.done', () => window.seen.push({ subject: 'jobs.done', payload: null, by: 'done' }));
      await window.bus.flush();
    });
    for (let n = 0; n < JOBS; n++) worker.emit('jobs.run', { n });
    // Not in the group: both get it, after every job (each connection's messages arrive in order).
    worker.emit('jobs.done', null);
    await worker.flush();
    await within(nodeSawDone, WAIT_MS, 'jobs.done in Node');
    await w.page.waitForFunction(() => window.seen.some((s) => s.by === 'done'), undefined, { timeout: WAIT_MS });
    const inPage = (await w.page.evaluate(() => window.seen.splice(0)))
      .filter((s) => s.by === 'queue')
      .map((s) => (s.payload as { n: number }).n);
    assert.deepEqual(
      [...inNode, ...inPage].sort((a, b) => a - b),
      Array.from({ length: JOBS }, (_, n) => n),
      'every job exactly once',
    );
    // 2^-39 odds that a fair split gives one side nothing.
    assert.ok(inNode.length > 0 && inPage.length > 0, `jobs in Node: ${inNode.length}, in the page: ${inPage.length}`);
  });

  it("a request from the page gets the worker's reply, and its RemoteError", { timeout: TEST_MS }, async () => {
    worker.handle('ticket.get', (req: { id: string }) => {
      if (req.id === 'T-404') throw Object.assign(new Error('unknown ticket T-404'), { status: 404 });
      return { id: req.id, status: 'open', from: 'node' };
    });
    await worker.flush();
    const out = await w.page.evaluate(async () => {
      const reply = await window.bus.request('ticket.get', { id: 'T-1' });
      const err = await window.bus.request('ticket.get', { id: 'T-404' }).then(
        () => null,
        (e: unknown) => window.fail(e),
      );
      return { reply, err };
    });
    assert.deepEqual(out.reply, { id: 'T-1', status: 'open', from: 'node' });
    assert.equal(out.err?.name, 'RemoteError');
    assert.equal(out.err?.message, 'unknown ticket T-404');
    assert.equal(out.err?.status, 404);
  });

  it("the page handles the worker's request", { timeout: TEST_MS }, async () => {
    await w.page.evaluate(async () => {
      window.bus.handle('page.sum', (req: { a: number; b: number }, meta: { subject: string }) => {
        if (req.a < 0) throw Object.assign(new Error('no negatives in the page'), { status: 422 });
        return { sum: req.a + req.b, subject: meta.subject, from: 'page' };
      });
      await window.bus.flush();
    });
    assert.deepEqual(await worker.request('page.sum', { a: 2, b: 40 }, { timeout: WAIT_MS }), { sum: 42, subject: 'page.sum', from: 'page' });
    const err = await rejection(worker.request('page.sum', { a: -1, b: 0 }, { timeout: WAIT_MS }));
    assert.ok(err instanceof RemoteError, String(err));
    assert.equal(err.message, 'no negatives in the page');
    assert.equal(err.status, 422);
    assert.deepEqual(w.errors, []);
  });
});
