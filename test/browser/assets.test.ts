/**
 * The dashboard's files over HTTP, without a browser: the page with its
 * security headers, every file it loads (and every module those import)
 * served from the package with the right type, caching by ETag, and nothing
 * else under /assets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHub, type Hub } from '../../src/index.js';

describe('dashboard files', () => {
  let hub: Hub;
  let base: string;
  const get = (path: string, init?: RequestInit) => fetch(base + path, { ...init, signal: AbortSignal.timeout(5_000) });

  before(async () => {
    hub = createHub({ port: 0, host: '127.0.0.1', httpPort: 0 });
    await hub.listen();
    base = hub.monitorAddress!.url;
  });

  after(() => hub.close({ grace: 0 }));

  it('serves the page with a CSP that allows no inline script, and no framing', async () => {
    const res = await get('/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    const html = await res.text();
    // No inline script or style for the CSP to block: every script has a src.
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(html, /\sstyle=|<style/);
  });

  it('serves every file the page loads, and every module those import', async () => {
    const html = await (await get('/')).text();
    const queue = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(queue.includes('assets/app.js') && queue.includes('assets/uPlot.iife.min.js'), queue.join(' '));
    const seen = new Set<string>();
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await get(`/${path}`);
      assert.equal(res.status, 200, path);
      const body = await res.text();
      if (path.endsWith('.js')) {
        assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8', path);
        for (const m of body.matchAll(/^import [^;]*? from '\.\/([^']+)';/gm)) queue.push(`assets/${m[1]}`);
      } else if (path.endsWith('.css')) {
        assert.equal(res.headers.get('content-type'), 'text/css; charset=utf-8', path);
      }
    }
    assert.ok(seen.has('assets/tail.js') && seen.has('assets/dom.js'), [...seen].join(' '));
  });

  it('serves uPlot from its npm package', async () => {
    const file = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');
    const res = await get('/assets/uPlot.iife.min.js');
    assert.equal(await res.text(), readFileSync(file, 'utf8'));
  });

  it('answers 304 to a request with the current ETag, and HEAD without a body', async () => {
    const first = await get('/assets/app.css');
    const etag = first.headers.get('etag');
    assert.ok(etag !== null && /^"[\w-]+"$/.test(etag), String(etag));
    assert.equal(first.headers.get('cache-control'), 'no-cache');
    await first.arrayBuffer();
    const again = await get('/assets/app.css', { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
    const head = await get('/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers.get('content-length')) > 0);
    assert.equal(await head.text(), '');
  });

  it('has nothing else under /assets', async () => {
    for (const path of ['/assets/nope.js', '/assets/', '/assets/index.html', '/assets/%2e%2e/package.json', '/assets/ui/app.js']) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      await res.arrayBuffer();
    }
  });
});
