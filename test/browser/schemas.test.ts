/**
 * `validate: 'local'` in a real page (Chromium) over the server's WebSocket
 * listener: the validator chunk loads only when asked for, an event that
 * breaks the hub's schema throws in the page and never reaches a Node
 * listener, and a page whose Content-Security-Policy forbids eval (ajv
 * compiles schemas with `new Function`) gets a clear error from connect().
 * On nats-server nothing is checked, and the same page code runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { connect, type SchemaRule } from '../../src/index.js';
import { isHub, skipInProcess } from '../helpers/target.js';
import { serveStatic, type StaticServer } from '../../examples/tickets/static.js';
import { barrier, inbox } from '../client/helpers/wait.js';
import { startSchemaServer, type SchemaServer } from '../client/schemas-server.js';
import { launch, openPage, SKIP_BROWSER, WAIT_MS, type WatchedPage } from './browser.js';
import { BUNDLE_DIR, type PageWindow } from './pages.js';

declare const window: PageWindow;
declare const document: { body: { dataset: Record<string, string> } };

const TEST_MS = 60_000;
const RULES: SchemaRule[] = [{ subjects: ['orders.>'], schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } }];

const PAGE_JS = `import * as netemitter from '/netemitter.js';
window.netemitter = netemitter;
window.failures = [];
window.fail = (err) => {
  const f = { name: err?.name ?? typeof err, code: err?.code, message: err?.message ?? String(err) };
  for (const k of Object.keys(err ?? {})) if (!(k in f) && typeof err[k] !== 'object') f[k] = err[k];
  window.failures.push(f);
  return f;
};
document.body.dataset.ready = 'yes';
`;

/** The bundle and a test page, under `csp`. */
function servePage(csp: string): Promise<StaticServer> {
  return serveStatic({
    dirs: [BUNDLE_DIR],
    entries: {
      '/index.html': { text: '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>schemas</title></head>\n<body><script type="module" src="/page.js"></script></body></html>\n', type: 'text/html; charset=utf-8' },
      '/page.js': { text: PAGE_JS, type: 'text/javascript; charset=utf-8' },
    },
    headers: { 'Content-Security-Policy': csp },
  });
}

describe("validate: 'local' in a page", { skip: SKIP_BROWSER || skipInProcess('a page reaches the server over WebSocket') }, () => {
  let server: SchemaServer;
  let evalPages: StaticServer;
  let strictPages: StaticServer;
  let browser: Browser;

  before(async () => {
    server = await startSchemaServer(RULES, { websocket: true });
    // ajv compiles with new Function: a page that uses validate: 'local' allows eval.
    evalPages = await servePage("default-src 'self'; script-src 'self' 'unsafe-eval'; connect-src 'self' ws://127.0.0.1:*");
    strictPages = await servePage("default-src 'self'; connect-src 'self' ws://127.0.0.1:*");
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await evalPages?.close();
    await strictPages?.close();
    await server?.stop();
  });

  async function open(pages: StaticServer): Promise<WatchedPage & { requested: string[] }> {
    const w = await openPage(browser);
    const requested: string[] = [];
    w.page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await w.page.goto(`${pages.url}/index.html`);
    await w.page.waitForFunction(() => document.body.dataset.ready === 'yes', undefined, { timeout: WAIT_MS });
    return { ...w, requested };
  }

  const validatorChunk = (paths: string[]): string[] => paths.filter((p) => /\/validator-[\w-]+\.js$/.test(p));

  it('loads the validator only when asked, refuses a bad event in the page, lets a good one through', { timeout: TEST_MS }, async () => {
    const node = await connect({ servers: server.url });
    const w = await open(evalPages);
    try {
      const got = inbox(node, 'orders.>');
      await node.flush();
      await w.page.evaluate(async (ws) => {
        const plain = await window.netemitter.connect({ servers: ws });
        await plain.schemas.list();
        await plain.close();
      }, server.wsUrl!);
      assert.deepEqual(validatorChunk(w.requested), [], 'no validator without validate: local');

      const verdict = await w.page.evaluate(async (ws) => {
        window.bus = await window.netemitter.connect({ servers: ws, validate: 'local' });
        try {
          window.bus.emit('orders.created', { id: 7 });
        } catch (err) {
          window.fail(err);
        }
        window.bus.emit('orders.created', { id: '8' });
        await window.bus.flush();
        return window.failures;
      }, server.wsUrl!);
      if (isHub()) {
        assert.equal(validatorChunk(w.requested).length, 1, 'the validator chunk, loaded by connect()');
        assert.deepEqual(
          verdict.map((f) => [f.name, f.code, f.subject, f.schema]),
          [['SchemaViolationError', 'ERR_NETEMITTER_SCHEMA_VIOLATION', 'orders.created', 'inline#1']],
        );
        assert.match(String(verdict[0]!.reason), /id/);
      } else {
        // nats-server has no schemas: nothing to compile, nothing to load, nothing refused.
        assert.deepEqual(validatorChunk(w.requested), []);
        assert.deepEqual(verdict, []);
      }
      await barrier(node);
      assert.deepEqual(got.payloads, isHub() ? [{ id: '8' }] : [{ id: 7 }, { id: '8' }]);
      await w.page.evaluate(() => window.bus.close());
      assert.deepEqual(w.errors, []);
    } finally {
      await w.page.context().close();
      await node.close();
    }
  });

  it("under a Content-Security-Policy without 'unsafe-eval', connect() says why it cannot validate", { timeout: TEST_MS }, async () => {
    const w = await open(strictPages);
    try {
      const failures = await w.page.evaluate(async (ws) => {
        try {
          window.bus = await window.netemitter.connect({ servers: ws, validate: 'local' });
          await window.bus.close();
        } catch (err) {
          window.fail(err);
        }
        return window.failures;
      }, server.wsUrl!);
      if (isHub()) {
        assert.equal(failures.length, 1, JSON.stringify(failures));
        assert.equal(failures[0]!.name, 'SchemaCompileError');
        assert.equal(failures[0]!.schema, 'inline#1');
        assert.match(failures[0]!.message, /unsafe-eval/);
      } else assert.deepEqual(failures, []);
    } finally {
      await w.page.context().close();
    }
  });
});
