#!/usr/bin/env node
// The one build every path uses (`npm run build`, the bench scripts, `prepare`):
// tsc, a copy of the dashboard's static files (src/monitor/ui), then the run bit
// on each file of package.json's "bin". tsc writes its output 0644, so without
// this a linked or globally installed `netemitter` fails with "Permission
// denied" after any rebuild.
// Then the browser bundle (browser-bundle.mjs): dist/browser/netemitter.js
// and its lazy chunks, with its sizes printed.
// Usage: node scripts/build.mjs (from the package root; it does not clean dist:
// `npm run build` does that in its prebuild).
import { chmodSync, cpSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleBrowser, bundleSizes, CORE_BUDGET, kb } from './browser-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  console.error('build: typescript is not installed (it is a devDependency: run npm install without --omit=dev)');
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (result.error) {
  console.error(`build: could not run tsc: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) process.exit(result.status ?? 1);

// The dashboard's page is plain JS, CSS and HTML that tsc does not see: copy it
// next to the compiled src/monitor/dashboard.js, which serves it from there.
cpSync(new URL('../src/monitor/ui', import.meta.url), new URL('../dist/src/monitor/ui', import.meta.url), { recursive: true });

// The tickets example's web page (examples/tickets/web: HTML, CSS, plain JS
// modules) next to the compiled run.js, which serves it with --web.
cpSync(new URL('../examples/tickets/web', import.meta.url), new URL('../dist/examples/tickets/web', import.meta.url), { recursive: true });

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const bins = typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
for (const [name, file] of Object.entries(bins)) {
  const path = new URL(`../${file}`, import.meta.url);
  let mode;
  try {
    mode = statSync(path).mode;
  } catch {
    console.error(`build: the "${name}" bin, ${file}, was not built (is it under a directory tsc compiles?)`);
    process.exit(1);
  }
  // Execute wherever it can be read: 0644 becomes 0755.
  chmodSync(path, (mode & 0o7777) | ((mode & 0o444) >> 2));
}

try {
  await bundleBrowser();
} catch (err) {
  console.error(`build: the browser bundle failed: ${err.message}`);
  for (const e of err.errors ?? []) console.error(`  ${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text}`);
  process.exit(1);
}
const sizes = bundleSizes();
const over = sizes.core.gzip > CORE_BUDGET ? ` (over the ${kb(CORE_BUDGET)} budget)` : '';
console.log(`build: dist/browser/netemitter.js: core ${kb(sizes.core.gzip)} min+gzip${over}, total ${kb(sizes.total.gzip)} min+gzip in ${sizes.total.files.length} files`);
