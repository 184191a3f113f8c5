/**
 * One store per directory (src/store/lock.ts): a second open is refused at
 * once with the holder's pid, the pid file lives exactly as long as the
 * store is open, and a pid file left behind decides nothing. A holder in
 * another process, SIGKILLed, is in test/cli/serve.test.ts.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PID_FILE, StoreErrorCode, StoreInUseError, openSqliteStore, openStore } from '../../src/store/index.js';

const root = mkdtempSync(join(tmpdir(), 'netemitter-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = (): string => join(root, String(n++));

describe('store directory lock', () => {
  it('a second store on an open directory is refused, naming the holder; after close it opens', () => {
    const d = dir();
    const first = openStore({ dir: d });
    try {
      assert.throws(
        () => openStore({ dir: d }),
        (e: unknown) =>
          e instanceof StoreInUseError &&
          e.code === StoreErrorCode.STORE_IN_USE &&
          e.pid === process.pid &&
          e.dir === d &&
          e.message === `store: ${d} is in use by another store in this process (pid ${process.pid})`,
      );
      assert.throws(() => openSqliteStore(d), StoreInUseError);
      // The refused opens left the holder's lock and data alone.
      first.createStream('S', { name: 'S' }, 1n);
      assert.equal(readFileSync(join(d, PID_FILE), 'utf8'), `${process.pid}\n`);
    } finally {
      first.close();
    }
    assert.equal(existsSync(join(d, PID_FILE)), false, 'close removes the pid file');
    const again = openStore({ dir: d });
    try {
      assert.deepEqual(again.listStreams().map((s) => s.name), ['S']);
    } finally {
      again.close();
    }
  });

  it('a pid file left by a killed hub does not keep the directory from opening, and is taken over', () => {
    for (const left of [String(process.ppid), '999999999', 'garbage', '']) {
      const d = dir();
      mkdirSync(d);
      writeFileSync(join(d, PID_FILE), `${left}\n`);
      const store = openStore({ dir: d });
      try {
        assert.equal(readFileSync(join(d, PID_FILE), 'utf8'), `${process.pid}\n`, `left: ${JSON.stringify(left)}`);
      } finally {
        store.close();
      }
    }
  });
});
