/**
 * The browser bundle (dist/browser/netemitter.js, built by scripts/build.mjs)
 * without a browser: its files hold no Node import, and loaded in Node with
 * the ws package as globalThis.WebSocket (what a page has) it talks to the
 * server over ws://: events, request/reply, a KV bucket (a lazily loaded
 * chunk), and the browser platform's refusals (nats:// URLs, the tls option,
 * the object store). Chromium runs the same bundle in test/browser/.
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { skipInProcess, startServer, type TestServer } from '../helpers/target.js';
import { rejection, within } from './helpers/wait.js';

type BrowserModule = typeof import('../../src/browser.js');
type BrowserBus = Awaited<ReturnType<BrowserModule['connect']>>;

/** dist/test/client/ → dist/browser/ */
const BUNDLE_DIR = fileURLToPath(new URL('../../browser/', import.meta.url));
const ENTRY = join(BUNDLE_DIR, 'netemitter.js');

describe('the browser bundle', () => {
  it('is built: an ESM entry with a source map, and its chunks beside it', () => {
    assert.ok(existsSync(ENTRY), `${ENTRY} is missing: scripts/build.mjs builds it after tsc`);
    assert.ok(existsSync(`${ENTRY}.map`), 'the entry has a source map');
    const files = readdirSync(BUNDLE_DIR).filter((f) => f.endsWith('.js'));
    assert.ok(files.length > 1, `lazily loaded chunks beside the entry, got ${files.join(', ')}`);
  });

  it('holds no node: import and no require() in any of its files', () => {
    for (const name of readdirSync(BUNDLE_DIR).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(join(BUNDLE_DIR, name), 'utf8');
      assert.doesNotMatch(text, /["']node:[a-z_/]+["']/, `${name} names a node: module`);
      // Quoted is no call: ajv (the validator chunk) keeps `require("ajv/dist/runtime/…")` as text for its standalone code.
      assert.doesNotMatch(text, /(?<![`'"])\brequire\s*\(/, `${name} calls require()`);
      // Static imports only of its own chunks (relative paths), nothing a browser would have to resolve.
      for (const m of text.matchAll(/\bimport\s*(?:[\w${},\s*]+?\s*from\s*)?["']([^"']+)["']/g)) {
        assert.ok(m[1]!.startsWith('./'), `${name} imports ${m[1]}`);
      }
    }
  });
});

describe('the browser bundle in Node, over ws://', { skip: skipInProcess('WebSocket runs over a socket') }, () => {
  let server: TestServer;
  let mod: BrowserModule;
  const buses: BrowserBus[] = [];
  const hadWebSocket = 'WebSocket' in globalThis;

  before(async () => {
    server = await startServer({ websocket: true, jetstream: true });
    // What a page has; Node 20 has no global WebSocket (22 has, and the bundle uses either).
    if (!hadWebSocket) (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
    mod = (await import(pathToFileURL(ENTRY).href)) as BrowserModule;
  });

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close().catch(() => undefined))));
    if (!hadWebSocket) delete (globalThis as { WebSocket?: unknown }).WebSocket;
    await server?.stop();
  });

  async function bus(): Promise<BrowserBus> {
    const b = await mod.connect(server.wsUrl!);
    buses.push(b);
    return b;
  }

  it('exports connect, Bus, the error classes and ErrorCode', () => {
    assert.equal(typeof mod.connect, 'function');
    assert.equal(typeof mod.Bus, 'function');
    assert.equal(mod.ErrorCode.CONFIG, 'ERR_NETEMITTER_CONFIG');
    assert.ok(new mod.ConfigError('x') instanceof mod.NetEmitterError);
    // Minified, the classes keep their names: err.name is what users match on.
    assert.equal(new mod.ConfigError('x').name, 'ConfigError');
    assert.equal(new mod.TimeoutError('x').name, 'TimeoutError');
    assert.equal(mod.Bus.name, 'Bus');
    assert.equal(typeof mod.ERROR_HEADER, 'string');
  });

  it('emits, listens, requests and handles over ws://', async () => {
    const a = await bus();
    const b = await bus();
    assert.ok(a instanceof mod.Bus);
    const got: unknown[] = [];
    const three = new Promise<void>((resolve) => {
      b.on('bundle.ev', (v: unknown) => {
        got.push(v);
        if (got.length === 3) resolve();
      });
    });
    b.handle('bundle.echo', (v: { s: string }) => ({ echoed: v.s, bytes: new TextEncoder().encode(v.s).length }));
    await b.flush();
    a.emit('bundle.ev', { n: 1 });
    a.emit('bundle.ev', 'two ünïcödé');
    a.emit('bundle.ev', new Uint8Array([0, 255, 7]));
    await within(three, 5_000, 'three events');
    assert.deepEqual(got[0], { n: 1 });
    assert.equal(got[1], 'two ünïcödé');
    assert.deepEqual([...(got[2] as Uint8Array)], [0, 255, 7]);
    assert.deepEqual(await a.request('bundle.echo', { s: 'héllo' }), { echoed: 'héllo', bytes: 6 });
    const noOne = await rejection(a.request('bundle.nobody', 1, { timeout: 2000 }));
    assert.equal((noOne as { code?: string }).code, mod.ErrorCode.NO_RESPONDERS);
  });

  it('sends a 20 MB burst whole and in order (backpressure by polling bufferedAmount, as in a browser)', async () => {
    const a = await bus();
    const b = await bus();
    const size = 64 * 1024;
    const count = (20 * 1024 * 1024) / size;
    let received = 0;
    let outOfOrder = -1;
    const all = new Promise<void>((resolve) => {
      b.on(
        'bundle.burst',
        (u: Uint8Array) => {
          const n = new DataView(u.buffer, u.byteOffset, u.byteLength).getUint32(0);
          if (n !== received && outOfOrder === -1) outOfOrder = received;
          if (u.byteLength !== size && outOfOrder === -1) outOfOrder = received;
          if (++received === count) resolve();
        },
        { raw: true },
      );
    });
    await b.flush();
    for (let i = 0; i < count; i++) {
      const u = new Uint8Array(size).fill(0x62);
      new DataView(u.buffer).setUint32(0, i);
      a.emit('bundle.burst', u);
    }
    await a.flush();
    await within(all, 30_000, `${count} events`);
    assert.equal(outOfOrder, -1, `event ${outOfOrder} arrived out of order or cut`);
  });

  it('opens a KV bucket (a chunk loaded on first use)', async () => {
    const a = await bus();
    const kv = await a.kv('bundlecfg');
    await kv.put('k', { v: 1 });
    assert.deepEqual((await kv.get('k'))?.value, { v: 1 });
  });

  it('refuses what a browser cannot do, with a ConfigError that says why', async () => {
    const nats = await rejection(mod.connect(server.url));
    assert.ok(nats instanceof mod.ConfigError);
    assert.match(nats.message, /^cannot connect to nats:\/\/127\.0\.0\.1:\d+: a browser reaches servers over WebSocket only: use a ws:\/\/ or wss:\/\/ URL$/);
    const tls = await rejection(mod.connect({ servers: server.wsUrl!, tls: {} } as never));
    assert.ok(tls instanceof mod.ConfigError);
    assert.equal(tls.message, 'the tls option does not apply in a browser: the browser does TLS for wss:// URLs');
    const a = await bus();
    const objects = await rejection(a.objects('bundleobj'));
    assert.ok(objects instanceof mod.ConfigError);
    assert.match(objects.message, /object store is not available in the browser build/);
  });
});
