/**
 * The browser export: package.json maps `netemitter/browser` to the bundle
 * (types first, then the `browser` and `default` conditions), `files` ships
 * dist/browser, `npm pack --dry-run` lists the bundle, its source map and
 * every lazily loaded chunk beside it, and the export resolves (here through
 * the package's self-reference; install.test.ts resolves it from an
 * installed tarball and a git install).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './run.js';

/** dist/test/packaging/ → the repository. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, Record<string, string>>;
  files: string[];
};
const PACK_MS = 60_000;

describe('the browser export', () => {
  it('package.json exports ./browser: types first, then browser and default, all under dist/', () => {
    const entry = PKG.exports['./browser'];
    assert.ok(entry !== undefined, 'no "./browser" in exports');
    assert.deepEqual(Object.keys(entry), ['types', 'browser', 'default'], 'types must come first (TypeScript reads the first match)');
    assert.equal(entry.types, './dist/src/browser.d.ts');
    assert.equal(entry.browser, './dist/browser/netemitter.js');
    assert.equal(entry.default, './dist/browser/netemitter.js');
    assert.ok(PKG.files.includes('dist/browser'), 'files does not ship dist/browser');
  });

  it('resolves to the built bundle, whose types declare connect', () => {
    const resolved = fileURLToPath(import.meta.resolve('netemitter/browser'));
    assert.equal(resolved, join(ROOT, 'dist', 'browser', 'netemitter.js'));
    assert.ok(existsSync(resolved), `${resolved} is not built`);
    const types = readFileSync(join(ROOT, 'dist', 'src', 'browser.d.ts'), 'utf8');
    assert.match(types, /export declare function connect\b/);
  });

  it('npm pack --dry-run lists the bundle, its source map and every chunk beside it', { timeout: PACK_MS + 10_000 }, async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], { cwd: ROOT, timeoutMs: PACK_MS });
    const [report] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const files = new Set(report.files.map((f) => f.path));
    const built = readdirSync(join(ROOT, 'dist', 'browser')).map((f) => `dist/browser/${f}`);
    assert.ok(built.includes('dist/browser/netemitter.js') && built.includes('dist/browser/netemitter.js.map'));
    assert.ok(built.length > 2, `lazily loaded chunks beside the entry, got ${built.join(', ')}`);
    const missing = built.filter((f) => !files.has(f));
    assert.deepEqual(missing, [], 'files of dist/browser the tarball does not hold');
    assert.ok(files.has('dist/src/browser.d.ts'), 'the types of the browser entry are not in the tarball');
  });
});
