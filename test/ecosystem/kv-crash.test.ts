/**
 * KV puts survive SIGKILL (hub only).
 *
 * A child process runs our hub on a SQLite store (test/jetstream/crash-child.ts).
 * The official @nats-io/kv client puts into a bucket, several puts in flight,
 * while one writer steps a counter with update() at its last revision; the
 * child is SIGKILLed at a random moment and restarted on the same directory,
 * several times (kv-crash-harness.ts). Then every put that got its ack is
 * there with its revision, no revision was acked twice, and the counter is
 * never behind its last acked update.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipUnlessHub } from '../helpers/target.js';
import { spawnServerChild } from '../jetstream/crash-harness.js';
import { runKvCrashRounds } from './kv-crash-harness.js';

const CHILD = fileURLToPath(new URL('../jetstream/crash-child.js', import.meta.url));
const URL_LINE = /^nats:\/\/127\.0\.0\.1:\d+$/;

describe('KV durability under SIGKILL', () => {
  const root = mkdtempSync(join(tmpdir(), 'netemitter-kv-crash-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it(
    'keeps every acknowledged put at its revision across 4 kills',
    { skip: skipUnlessHub('SIGKILLs a child hub on its SQLite store'), timeout: 120_000 },
    async (t) => {
      const report = await runKvCrashRounds(
        (dir) => spawnServerChild(process.execPath, [CHILD, dir], (line) => (URL_LINE.test(line.trim()) ? line.trim() : null)),
        join(root, 'store'),
        { rounds: 4, minRunMs: 300, maxRunMs: 1_200, putters: 4, maxPutsPerRound: 300 },
      );
      const summary = JSON.stringify({ ...report, violations: report.violations.length });
      t.diagnostic(summary);
      assert.deepEqual(report.violations.slice(0, 20), [], summary);
      // Not vacuous: the kills landed while real work was going on.
      assert.ok(report.acked >= 20, `only ${report.acked} acked puts: ${summary}`);
      assert.ok(report.counterSteps >= 5, `only ${report.counterSteps} acked counter updates: ${summary}`);
    },
  );
});
