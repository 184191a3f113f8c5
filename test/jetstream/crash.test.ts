/**
 * The hub's durability promise under SIGKILL (hub only).
 *
 * A child process runs our hub on a SQLite store (crash-child.ts). Clients
 * publish (awaiting PubAcks) and consume with ackAck at the same time; the
 * child is SIGKILLed at a random moment, restarted on the same directory,
 * several times (crash-harness.ts). Then: every PubAck-ed message survived
 * (or was acked), no message whose ackAck was confirmed came back, and no
 * seq was handed out twice.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipUnlessHub } from '../helpers/target.js';
import { runCrashRounds, spawnServerChild } from './crash-harness.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const URL_LINE = /^nats:\/\/127\.0\.0\.1:\d+$/;

describe('durability under SIGKILL', () => {
  const root = mkdtempSync(join(tmpdir(), 'netemitter-js-crash-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it(
    'keeps every PubAck-ed message and never redelivers a confirmed ack across 4 kills',
    { skip: skipUnlessHub('SIGKILLs a child hub on its SQLite store'), timeout: 120_000 },
    async () => {
      const report = await runCrashRounds(
        (dir) => spawnServerChild(process.execPath, [CHILD, dir], (line) => (URL_LINE.test(line.trim()) ? line.trim() : null)),
        join(root, 'store'),
        { rounds: 4, minRunMs: 300, maxRunMs: 1_200, publishers: 2, maxPublishesPerRound: 400, ackShare: 0.8 },
      );
      const summary = JSON.stringify({ ...report, violations: report.violations.length });
      assert.deepEqual(report.violations.slice(0, 20), [], summary);
      // Not vacuous: the kills landed while real work was going on.
      assert.ok(report.published >= 20, `only ${report.published} PubAcks: ${summary}`);
      assert.ok(report.confirmedBeforeDrain >= 5, `only ${report.confirmedBeforeDrain} acks confirmed before the drain: ${summary}`);
      assert.equal(report.leftInStream, 0, summary);
    },
  );
});
