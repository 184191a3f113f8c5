// The browser bundle: esbuild over tsc's output of src/browser.ts, into
// dist/browser/netemitter.js (ESM, minified, with a source map) and the
// chunks it loads lazily, beside it. Used by build.mjs (after tsc) and
// size.mjs.
//
// Node on the browser path: Buffer comes from the buffer package and
// `process`/timers from src/client/browser-globals.ts (both through
// `inject`), node:events is the events package; any other node: import is
// a build error (esbuild cannot resolve it for platform 'browser'), and the
// output is checked for `node:` imports and `require(` afterwards.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = join(root, 'dist/browser');
export const ENTRY_FILE = 'netemitter.js';
/** The core chunk's budget, min+gzip (issue #17). */
export const CORE_BUDGET = 25 * 1024;

/** Builds the bundle; returns esbuild's metafile. Throws with esbuild's messages when it fails. */
export async function bundleBrowser() {
  rmSync(OUT_DIR, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { netemitter: 'dist/src/browser.js' },
    outdir: OUT_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    // Error classes take their name from new.target.name: keep it, so err.name is 'PermissionError' in a page too.
    keepNames: true,
    sourcemap: true,
    chunkNames: '[name]-[hash]',
    inject: ['dist/src/client/browser-globals.js'],
    alias: { 'node:events': 'events' },
    // The validator's ajv kit loads ajv with require() at the first compile on Node; a page gets it bundled.
    plugins: [swapFile('dist/src/schema/ajv-kit.js', 'dist/src/schema/ajv-kit-browser.js')],
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  const problems = checkNodeFree();
  if (problems.length > 0) throw new Error(`the browser bundle still needs Node:\n  ${problems.join('\n  ')}`);
  return result.metafile;
}

/** An esbuild plugin that bundles `replacement` wherever `file` (both relative to the root) is imported. */
function swapFile(file, replacement) {
  const target = join(root, file);
  const to = join(root, replacement);
  return {
    name: 'swap-file',
    setup(b) {
      b.onResolve({ filter: /\.js$/ }, (args) => (args.resolveDir !== '' && join(args.resolveDir, args.path) === target ? { path: to } : undefined));
    },
  };
}

/** Lines naming each `node:` import or `require(` left in the bundle's files. */
export function checkNodeFree(dir = OUT_DIR) {
  const problems = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.js')) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*|import\s*)["'](node:[^"']+)["']/g)) problems.push(`${name}: imports ${m[1]}`);
    // Not a quoted require: ajv keeps `require("ajv/dist/runtime/…")` as text for its standalone code, never called.
    if (/(?<![`'"])\brequire\s*\(/.test(text)) problems.push(`${name}: calls require()`);
  }
  return problems;
}

/**
 * Sizes of the bundle from its files: the core (the entry and the chunks it
 * imports statically: what connect() and on/emit/request/handle load) and
 * the total (every chunk, lazy ones included), minified and gzipped.
 */
export function bundleSizes(dir = OUT_DIR) {
  const files = readdirSync(dir).filter((n) => n.endsWith('.js'));
  const size = (name) => {
    const bytes = readFileSync(join(dir, name));
    return { min: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const core = new Set();
  const visit = (name) => {
    if (core.has(name)) return;
    core.add(name);
    const text = readFileSync(join(dir, name), 'utf8');
    // Static imports only (`import … from "./x.js"` / `import "./x.js"`); import("./x.js") is lazy.
    for (const m of text.matchAll(/(?<![\w$.])import\s*(?:[\w${},\s*]+?\s*from\s*)?["']\.\/([^"']+)["']/g)) visit(m[1]);
  };
  visit(ENTRY_FILE);
  const sum = (names) => names.map(size).reduce((a, b) => ({ min: a.min + b.min, gzip: a.gzip + b.gzip }), { min: 0, gzip: 0 });
  return {
    core: { files: [...core], ...sum([...core]) },
    total: { files, ...sum(files) },
    chunks: files.map((name) => ({ name, core: core.has(name), ...size(name) })),
  };
}

export function kb(n) {
  return `${(n / 1024).toFixed(1)} KB`;
}

export function relativeOut(p) {
  return relative(root, p);
}
