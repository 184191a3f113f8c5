/**
 * `node dist/bench/store.js`: the SQLite store alone, what a persisted publish
 * costs it. One append per transaction (a commit each: what a lone publish
 * pays) and 10,000 appends in one transaction (what a busy turn pays per
 * event), for sync normal and full, on a fresh directory each time.
 *
 *   --commits N   appends in the one-per-transaction run (default 3000; 300 with sync full)
 *   --batch N     appends in the batched run (default 10000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore, SyncMode } from '../src/store/index.js';
import { table, fixed } from './lib/stats.js';

const { values } = parseArgs({ options: { commits: { type: 'string' }, batch: { type: 'string', default: '10000' } } });
const batch = Number(values.batch);
const rows: string[][] = [['sync', 'µs per one-append commit', 'µs per append, batched']];
const payload = Buffer.alloc(128, 120);

for (const sync of [SyncMode.NORMAL, SyncMode.FULL]) {
  const commits = values.commits !== undefined ? Number(values.commits) : sync === SyncMode.FULL ? 300 : 3000;
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-store-bench-'));
  try {
    const store = openStore({ dir, sync });
    store.createStream('S', {}, 1n);
    let t = 1n;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < commits; i++) store.transaction(() => store.append('S', { subject: 'bench.durable', payload, timeNs: t++ }));
    const single = Number(process.hrtime.bigint() - t0) / 1e3 / commits;
    t0 = process.hrtime.bigint();
    store.transaction(() => {
      for (let i = 0; i < batch; i++) store.append('S', { subject: 'bench.durable', payload, timeNs: t++ });
    });
    const batched = Number(process.hrtime.bigint() - t0) / 1e3 / batch;
    store.close();
    rows.push([sync, fixed(single), fixed(batched)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(table(rows) + '\n');
