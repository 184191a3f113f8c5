#!/usr/bin/env node
// Runs the built suite (scripts/test.mjs) several times beside CPU-burning
// processes, the way a busy CI machine runs it, and reports each run's
// failures. A test that fails in any run is a race to find, not to retry.
// Usage: node scripts/stress.mjs [--runs N] [--burners K] [dir-under-dist/test ...]
// (npm run test:stress -- --runs 10 builds first).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const USAGE = 'usage: node scripts/stress.mjs [--runs N] [--burners K] [dir-under-dist/test ...]';

function fail(message) {
  console.error(`stress: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string', default: '10' }, burners: { type: 'string', default: '1' }, help: { type: 'boolean', short: 'h' } },
  });
} catch (err) {
  fail(err.message);
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name, min) => {
  const text = parsed.values[name];
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min) fail(`--${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`);
  return n;
};
const runs = count('runs', 1);
const burnerCount = count('burners', 0);

const children = new Set();
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function killAll() {
  for (const c of children) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const s of ['SIGINT', 'SIGTERM']) {
  process.on(s, () => {
    killAll();
    process.exit(130);
  });
}

const burners = Array.from({ length: burnerCount }, () => track(spawn(process.execPath, ['-e', 'for(;;);'], { stdio: 'ignore' })));

/** One run of the suite; resolves with its exit code, its tally and the names of the tests that failed. */
function runOnce() {
  return new Promise((resolve) => {
    const child = track(spawn(process.execPath, ['scripts/test.mjs', ...parsed.positionals], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const failed = [];
    const tally = {};
    const output = [];
    let rest = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      output.push(chunk);
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        // TAP: a failing test is "not ok N - name" at any depth; suites that fail because of it are listed too.
        const m = /^\s*not ok \d+ - (.*)$/.exec(line);
        if (m) failed.push(m[1]);
        const t = /^# (tests|pass|fail|duration_ms) (\S+)$/.exec(line);
        if (t) tally[t[1]] = Number(t[2]);
      }
    });
    child.on('exit', (code, signal) => resolve({ code: signal ? 1 : code ?? 1, tally, failed, output: output.join('') }));
  });
}

const started = Date.now();
let green = 0;
let logs;
for (let i = 1; i <= runs; i++) {
  const { code, tally, failed, output } = await runOnce();
  const seconds = ((tally.duration_ms ?? 0) / 1000).toFixed(0);
  if (code === 0) green++;
  console.log(`run ${i}/${runs}: ${code === 0 ? 'green' : 'RED'}, ${tally.pass ?? '?'}/${tally.tests ?? '?'} passed in ${seconds} s`);
  for (const name of failed) console.log(`  not ok: ${name}`);
  if (code !== 0) {
    // The whole TAP output of a red run, for the error and its stack.
    logs ??= mkdtempSync(join(tmpdir(), 'netemitter-stress-'));
    const file = join(logs, `run-${i}.tap`);
    writeFileSync(file, output);
    console.log(`  output: ${file}`);
  }
}
for (const b of burners) b.kill('SIGKILL');
const minutes = ((Date.now() - started) / 60000).toFixed(1);
console.log(`${green} of ${runs} runs green beside ${burnerCount} CPU burner${burnerCount === 1 ? '' : 's'}, ${minutes} min`);
process.exit(green === runs ? 0 : 1);
