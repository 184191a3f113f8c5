/**
 * `node dist/bench/store.js`: the SQLite store alone, what a persisted publish
 * costs it, for sync normal and full, each run on a fresh directory:
 *
 *   one-append commits   one append per transaction: what a lone publish pays
 *   batched              appends in transactions of --slice (the hub's
 *                        maxCommitBatch), commits and WAL checkpoints included:
 *                        what a busy hub pays per event
 *
 * Options: HELP below (`node dist/bench/store.js --help`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore, SyncMode, type Store } from '../src/store/index.js';
import { table, fixed } from './lib/stats.js';
import { parseCommandLine, positiveInt } from './lib/args.js';

const HELP = `usage: node dist/bench/store.js [options]

  --commits N   appends in the one-per-transaction run (default 3000; 300 with sync full)
  --batch N     appends in the batched run (default 100000)
  --slice N     appends per transaction in the batched run (default 256)
`;

const { commits: commitsOpt, batch, slice } = parseCommandLine('bench:store', HELP, () => {
  const { values } = parseArgs({
    options: { commits: { type: 'string' }, batch: { type: 'string' }, slice: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) return null;
  return {
    commits: values.commits === undefined ? undefined : positiveInt(values.commits, 'commits', 0),
    batch: positiveInt(values.batch, 'batch', 100_000),
    slice: positiveInt(values.slice, 'slice', 256),
  };
});
const rows: string[][] = [['sync', 'µs per one-append commit', `µs per append, ${slice} per commit`]];
const payload = Buffer.alloc(128, 120);

/** µs per append: `count` appends to a fresh store, `per` to a transaction. */
function measure(sync: SyncMode, count: number, per: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-store-bench-'));
  let store: Store | undefined;
  try {
    store = openStore({ dir, sync });
    const s = store;
    s.createStream('S', {}, 1n);
    let t = 1n;
    const t0 = process.hrtime.bigint();
    for (let done = 0; done < count; done += per) {
      const n = Math.min(per, count - done);
      s.transaction(() => {
        for (let i = 0; i < n; i++) s.append('S', { subject: 'bench.durable', payload, timeNs: t++ });
      });
    }
    return Number(process.hrtime.bigint() - t0) / 1e3 / count;
  } finally {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const sync of [SyncMode.NORMAL, SyncMode.FULL]) {
  const commits = commitsOpt ?? (sync === SyncMode.FULL ? 300 : 3000);
  rows.push([sync, fixed(measure(sync, commits, 1)), fixed(measure(sync, batch, slice))]);
}
process.stdout.write(table(rows) + '\n');
