#!/usr/bin/env node
// Runs the built test files (dist/test/**/*.test.js) with node's test runner.
// Listing the files explicitly keeps helpers and fixtures out of the run,
// which node 20's directory matching would otherwise pick up.
// Usage: node scripts/test.mjs [dir-or-file-under-dist/test ...] [-- extra node --test flags]
// (a file is named as built: browser/bus.test.js)
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const dirs = (sep === -1 ? argv : argv.slice(0, sep)).map((d) => join('dist/test', d));
const extra = sep === -1 ? [] : argv.slice(sep + 1);

function walk(dir, out) {
  if (dir.endsWith('.test.js') && statSync(dir).isFile()) return [...out, dir];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = (dirs.length ? dirs : ['dist/test']).flatMap((d) => walk(d, []));
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ') || 'dist/test'}: run the build first`);
  process.exit(1);
}
console.log(`running ${files.length} test files: ${files.map((f) => relative('dist/test', f)).join(' ')}`);
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...extra, ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
