/**
 * What only the SQLite store does: data outlives the process, the schema
 * migrates from an empty file, and a SIGKILL loses no committed transaction.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DB_FILE, SCHEMA_VERSION, StoreErrorCode, StoreSchemaError, openSqliteStore, openStore } from '../../src/store/index.js';
import { migrate, migrations } from '../../src/store/migrations.js';

const root = mkdtempSync(join(tmpdir(), 'netemitter-durable-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = () => join(root, String(n++));
const T0 = 1_700_000_000_000_000_000n;

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return Number(db.pragma('user_version', { simple: true }));
  } finally {
    db.close();
  }
}

describe('sqlite store on disk', () => {
  it('opens dir/netemitter.db in WAL mode, creating the directory', () => {
    const d = join(dir(), 'nested', 'deeper');
    const store = openSqliteStore(d);
    try {
      assert.ok(existsSync(join(d, DB_FILE)));
      assert.equal(store.database.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(Number(store.database.pragma('synchronous', { simple: true })), 2, 'full is the default');
    } finally {
      store.close();
    }
    const normal = openSqliteStore(d, { sync: 'normal' });
    assert.equal(Number(normal.database.pragma('synchronous', { simple: true })), 1);
    normal.close();
  });

  it('keeps streams, messages, dedup and consumer state across reopen', () => {
    const d = dir();
    let store = openStore({ dir: d });
    store.createStream('S', { name: 'S', subjects: ['s.>'] }, T0);
    store.append('S', { subject: 's.a', headers: Buffer.from('NATS/1.0\r\nA: 1\r\n\r\n'), payload: Buffer.from('one'), timeNs: T0, msgId: 'm1' }, 60_000_000_000n);
    store.append('S', { subject: 's.b', payload: Buffer.from('two'), timeNs: T0 + 1n });
    store.deleteMessage('S', 2);
    store.createConsumer('S', 'w', { durable_name: 'w' }, T0);
    store.recordDelivery('S', 'w', 1, 12345);
    const state = store.streamState('S');
    const consumer = store.getConsumer('S', 'w');
    store.close();

    store = openStore({ dir: d });
    try {
      assert.deepEqual(store.streamState('S'), state);
      assert.deepEqual(store.getConsumer('S', 'w'), consumer);
      assert.deepEqual(store.getStream('S')?.config, { name: 'S', subjects: ['s.>'] });
      const m = store.getMessage('S', 1)!;
      assert.equal(Buffer.from(m.headers).toString(), 'NATS/1.0\r\nA: 1\r\n\r\n');
      assert.equal(Buffer.from(m.payload).toString(), 'one');
      assert.equal(m.timeNs, T0);
      assert.deepEqual(store.pendingAcks('S', 'w'), [{ streamSeq: 1, consumerSeq: 1, deliveries: 1, deadlineMs: 12345 }]);
      assert.deepEqual(store.append('S', { subject: 's.a', payload: Buffer.from('x'), timeNs: T0 + 2n, msgId: 'm1' }, 60_000_000_000n), { seq: 1, duplicate: true });
      assert.equal(store.append('S', { subject: 's.c', payload: Buffer.from('x'), timeNs: T0 + 3n }).seq, 3, 'the deleted seq 2 is not reused');
    } finally {
      store.close();
    }
  });

  it('writes the stream counters with each commit, also around a rolled-back savepoint', () => {
    const d = dir();
    let store = openStore({ dir: d });
    store.createStream('S', {}, T0);
    const add = (subject: string): number => store.append('S', { subject, payload: Buffer.from('x'), timeNs: T0 }).seq;
    store.transaction(() => {
      add('a');
      add('b');
      assert.throws(() => store.transaction(() => {
        add('c');
        store.deleteMessage('S', 1);
        throw new Error('inner');
      }));
      add('d');
    });
    assert.throws(() => store.transaction(() => {
      add('e');
      throw new Error('outer');
    }));
    const state = store.streamState('S');
    assert.deepEqual([state.messages, state.lastSeq], [3, 3]);
    store.close();
    store = openStore({ dir: d });
    try {
      assert.deepEqual(store.streamState('S'), state);
    } finally {
      store.close();
    }
  });

  it('migrates an empty file to the current version, and reopening is a no-op', () => {
    const d = dir();
    openSqliteStore(d).close();
    assert.equal(userVersion(join(d, DB_FILE)), SCHEMA_VERSION);
    assert.equal(SCHEMA_VERSION, migrations.length);
    const store = openSqliteStore(d);
    store.createStream('S', {}, T0);
    store.close();
    openSqliteStore(d).close();
    const again = openSqliteStore(d);
    assert.equal(again.listStreams().length, 1);
    again.close(); // an open store holds the file exclusively
    assert.equal(userVersion(join(d, DB_FILE)), SCHEMA_VERSION);
  });

  it('runs only the missing migrations, in order, each with its version bump', () => {
    const db = new Database(':memory:');
    const list = ['CREATE TABLE a (x INTEGER)', 'ALTER TABLE a ADD COLUMN y INTEGER', 'CREATE TABLE b (z INTEGER)'];
    assert.equal(migrate(db, list.slice(0, 1)), 1);
    assert.equal(migrate(db, list), 3);
    assert.equal(migrate(db, list), 3, 'idempotent');
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all(), [{ name: 'a' }, { name: 'b' }]);
    db.close();
  });

  it('a failed migration leaves the previous version intact', () => {
    const db = new Database(':memory:');
    const list = ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (z INTEGER); THIS IS NOT SQL'];
    assert.throws(() => migrate(db, list), (e: unknown) => e instanceof StoreSchemaError && e.cause instanceof Error);
    assert.equal(Number(db.pragma('user_version', { simple: true })), 1);
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), [{ name: 'a' }]);
    db.close();
  });

  it('refuses a database from a newer release', () => {
    const d = dir();
    openSqliteStore(d).close();
    const db = new Database(join(d, DB_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openSqliteStore(d), (e: unknown) => e instanceof StoreSchemaError && e.code === StoreErrorCode.STORE_SCHEMA);
  });

  it('rejects a bad spec', () => {
    assert.throws(() => openStore({ dir: '' }), /expected 'memory' or \{ dir \}/);
    assert.throws(() => openStore({ dir: dir(), sync: 'off' as 'full' }), /sync must be/);
  });

  for (const sync of ['full', 'normal'] as const) {
    it(`a SIGKILL mid-stream loses no committed append (sync ${sync})`, async () => {
      const d = dir();
      const child = join(fileURLToPath(new URL('.', import.meta.url)), 'crash-child.js');
      let total = 0;
      for (let round = 0; round < 3; round++) {
        const committed = await runAndKill(child, d, sync, 150 + round * 100);
        assert.ok(committed.length >= 150, `child reported ${committed.length} commits`);
        const store = openSqliteStore(d, { sync });
        try {
          for (const seq of committed) assert.ok(store.getMessage('S', seq) !== undefined || seqRemovedByLimit(store, seq), `seq ${seq} lost`);
          const st = store.streamState('S');
          assert.ok(st.lastSeq >= committed.at(-1)!, `last seq ${st.lastSeq} < reported ${committed.at(-1)}`);
          // The kill may land after a commit but before its line was printed: at most that one more.
          assert.ok(st.lastSeq <= committed.at(-1)! + 1);
          assert.equal(committed[0], total + 1, 'each run continues the sequence');
          total = st.lastSeq;
        } finally {
          store.close();
        }
      }
    });
  }
});

// The child trims each subject to 1000 messages; nothing of that size is reached here, but stay honest.
function seqRemovedByLimit(store: ReturnType<typeof openSqliteStore>, seq: number): boolean {
  return seq < store.streamState('S').firstSeq;
}

/** Runs the child until it has reported `atLeast` commits, SIGKILLs it, and returns every seq it reported. */
function runAndKill(script: string, d: string, sync: string, atLeast: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const cp = spawn(process.execPath, [script, d, sync], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed = false;
    cp.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!killed && out.split('\n').length > atLeast) {
        killed = true;
        cp.kill('SIGKILL');
      }
    });
    cp.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    cp.on('error', reject);
    cp.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited without being killed: ${err}`));
      // A line cut by the kill is not a report.
      const lines = out.split('\n');
      lines.pop();
      resolve(lines.map(Number));
    });
  });
}
