/**
 * Child process for sqlite-durability.test.ts: appends to stream S, one
 * message per transaction, and prints each seq after its commit returned —
 * what the hub would answer with a PubAck. It never stops on its own: the
 * parent SIGKILLs it mid-stream.
 * argv: <dir> <full|normal>
 */
import { writeSync } from 'node:fs';
import { openSqliteStore } from '../../src/store/index.js';

const [dir, sync] = process.argv.slice(2) as [string, 'full' | 'normal'];
const store = openSqliteStore(dir, { sync });
if (store.getStream('S') === undefined) store.createStream('S', {}, 0n);
const payload = Buffer.alloc(512, 7);
for (let i = 0; ; i++) {
  const { seq } = store.transaction(() => {
    // Several writes per unit, as a publish with limits enforcement would do.
    const r = store.append('S', { subject: `s.${i % 7}`, payload, timeNs: BigInt(Date.now()) * 1_000_000n, msgId: `${process.pid}-${i}` }, 120_000_000_000n);
    if (store.subjectCount('S', `s.${i % 7}`) > 1000) store.removeOldest('S', `s.${i % 7}`);
    return r;
  });
  // A blocking write to fd 1, not process.stdout: this loop never yields to the event loop, so once
  // stdout's socket is full for a moment (a busy parent) process.stdout queues every later line in
  // memory and the parent, waiting for enough lines to kill it, waits forever (seen in a stress run).
  writeSync(1, `${seq}\n`);
}
