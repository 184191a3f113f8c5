/**
 * The crash rounds of crash.test.ts pointed at a nats-server child instead
 * of our hub: a check of the harness itself, not part of the suite.
 *
 *   node dist/test/jetstream/crash-reference-main.js [SIGKILL|SIGTERM] [rounds]
 *
 * With SIGTERM (a graceful stop) the report should be clean; with SIGKILL
 * nats-server 2.9.10 loses confirmed acks (see NOTES.md), which shows the
 * harness can fail. Prints the report as JSON. NATS_SERVER_BIN overrides
 * /usr/sbin/nats-server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCrashRounds, spawnServerChild, type CrashChild } from './crash-harness.js';

const signal = process.argv[2] ?? 'SIGKILL';
const rounds = Number(process.argv[3] ?? 4);
if (signal !== 'SIGKILL' && signal !== 'SIGTERM') throw new Error(`signal must be SIGKILL or SIGTERM, got ${signal}`);
const bin = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const root = mkdtempSync(join(tmpdir(), 'netemitter-crash-ref-'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function spawnNatsServer(dir: string): Promise<CrashChild> {
  const conf = join(root, 'nats-server.conf');
  writeFileSync(conf, `port: -1\nhost: 127.0.0.1\njetstream { store_dir: ${JSON.stringify(dir)} }\n`);
  const child = await spawnServerChild(bin, ['-c', conf], (line) => {
    const m = /Listening for client connections on (\S+:\d+)/.exec(line);
    return m === null ? null : `nats://${m[1]}`;
  });
  if (signal === 'SIGKILL') return child;
  return {
    url: child.url,
    pid: child.pid,
    kill: async () => {
      if (alive(child.pid)) {
        process.kill(child.pid, 'SIGTERM');
        for (let i = 0; i < 200 && alive(child.pid); i++) await sleep(25);
      }
      await child.kill();
    },
  };
}

try {
  const report = await runCrashRounds(spawnNatsServer, join(root, 'store'), {
    rounds,
    minRunMs: 300,
    maxRunMs: 1_200,
    publishers: 2,
    maxPublishesPerRound: 400,
    ackShare: 0.8,
  });
  const kinds: Record<string, number> = {};
  for (const v of report.violations) {
    const k = v.replace(/\d+/g, 'N').replace(/\(.*\)/, '');
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  console.log(JSON.stringify({ signal, ...report, violations: report.violations.length, kinds }, null, 2));
} finally {
  rmSync(root, { recursive: true, force: true });
}
