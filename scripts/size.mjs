#!/usr/bin/env node
// The browser bundle's sizes as a Markdown table (for docs/performance.md):
// each file of dist/browser/, whether connect() loads it (core) or it is a
// lazily loaded chunk, minified and min+gzip; then the core and the total.
// Reads the last build's output: run `npm run build` first.
// Usage: node scripts/size.mjs (npm run size)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleSizes, CORE_BUDGET, ENTRY_FILE, kb, OUT_DIR } from './browser-bundle.mjs';

if (!existsSync(join(OUT_DIR, ENTRY_FILE))) {
  console.error('size: dist/browser/netemitter.js is not built: run npm run build');
  process.exit(1);
}
const sizes = bundleSizes();
const rows = [...sizes.chunks].sort((a, b) => Number(b.core) - Number(a.core) || b.gzip - a.gzip);
const lines = [
  '| file | loaded | minified | min+gzip |',
  '| --- | --- | ---: | ---: |',
  ...rows.map((c) => `| ${c.name} | ${c.name === ENTRY_FILE ? 'entry' : c.core ? 'with the entry' : 'lazily'} | ${kb(c.min)} | ${kb(c.gzip)} |`),
  `| **core** (connect, on/emit, request/handle) | | ${kb(sizes.core.min)} | **${kb(sizes.core.gzip)}** |`,
  `| **total** | | ${kb(sizes.total.min)} | **${kb(sizes.total.gzip)}** |`,
];
console.log(lines.join('\n'));
if (sizes.core.gzip > CORE_BUDGET) console.log(`\nThe core is over its budget of ${kb(CORE_BUDGET)} min+gzip.`);
