/**
 * What only the SQLite store does: data outlives the process, the schema
 * migrates from an empty file, and a SIGKILL loses no committed transaction.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DB_FILE, MAX_STREAMS, SCHEMA_VERSION, StoreErrorCode, StoreSchemaError, TooManyStreamsError, openSqliteStore, openStore, type Store } from '../../src/store/index.js';
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

/** Opens the store in d again, runs fn on it, closes it. */
function reopened(d: string, fn: (store: Store) => void, sync?: 'full' | 'normal'): void {
  const store = openStore({ dir: d, ...(sync === undefined ? {} : { sync }) });
  try {
    fn(store);
  } finally {
    store.close();
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
    const store = openStore({ dir: d });
    store.createStream('S', { name: 'S', subjects: ['s.>'] }, T0);
    store.append('S', { subject: 's.a', headers: Buffer.from('NATS/1.0\r\nA: 1\r\n\r\n'), payload: Buffer.from('one'), timeNs: T0, msgId: 'm1' }, 60_000_000_000n);
    store.append('S', { subject: 's.b', payload: Buffer.from('two'), timeNs: T0 + 1n });
    store.deleteMessage('S', 2);
    store.createConsumer('S', 'w', { durable_name: 'w' }, T0);
    store.recordDelivery('S', 'w', 1, 12345);
    const state = store.streamState('S');
    const consumer = store.getConsumer('S', 'w');
    store.close();

    reopened(d, (s) => {
      assert.deepEqual(s.streamState('S'), state);
      assert.deepEqual(s.getConsumer('S', 'w'), consumer);
      assert.deepEqual(s.getStream('S')?.config, { name: 'S', subjects: ['s.>'] });
      const m = s.getMessage('S', 1)!;
      assert.equal(Buffer.from(m.headers).toString(), 'NATS/1.0\r\nA: 1\r\n\r\n');
      assert.equal(Buffer.from(m.payload).toString(), 'one');
      assert.equal(m.timeNs, T0);
      assert.deepEqual(s.pendingAcks('S', 'w'), [{ streamSeq: 1, consumerSeq: 1, deliveries: 1, deadlineMs: 12345 }]);
      assert.deepEqual(s.append('S', { subject: 's.a', payload: Buffer.from('x'), timeNs: T0 + 2n, msgId: 'm1' }, 60_000_000_000n), { seq: 1, duplicate: true });
      assert.equal(s.append('S', { subject: 's.c', payload: Buffer.from('x'), timeNs: T0 + 3n }).seq, 3, 'the deleted seq 2 is not reused');
    });
  });

  it('inserts appends in groups: reads see them, a rolled-back savepoint drops its own, the commit keeps the rest', () => {
    const d = dir();
    const store = openStore({ dir: d, sync: 'normal' });
    store.createStream('S', {}, T0);
    const add = (i: number): number => store.append('S', { subject: `s.${i % 3}`, payload: Buffer.from(`m${i}`), timeNs: T0 + BigInt(i) }).seq;
    store.transaction(() => {
      for (let i = 1; i <= 100; i++) {
        assert.equal(add(i), i);
        if (i % 7 === 0) assert.equal(Buffer.from(store.getMessage('S', i)!.payload).toString(), `m${i}`, 'a read sees what was just appended');
      }
      assert.equal(store.countMessages('S', 1), 100);
      assert.throws(() => store.transaction(() => {
        for (let i = 101; i <= 140; i++) add(i);
        throw new Error('inner');
      }));
      for (let i = 101; i <= 110; i++) assert.equal(add(i), i, 'the rolled-back seqs are taken again');
    });
    assert.throws(() => store.transaction(() => {
      for (let i = 111; i <= 150; i++) add(i);
      throw new Error('outer');
    }));
    store.close();
    reopened(d, (s) => {
      const all = s.loadMessages('S', 1);
      assert.deepEqual(all.map((m) => m.seq), Array.from({ length: 110 }, (_, i) => i + 1));
      assert.deepEqual(all.map((m) => Buffer.from(m.payload).toString()), Array.from({ length: 110 }, (_, i) => `m${i + 1}`));
      assert.equal(s.streamState('S').lastSeq, 110);
    }, 'normal');
  });

  it('counts appends its streams row does not count yet when it reopens', () => {
    const d = dir();
    const store = openStore({ dir: d });
    store.createStream('S', {}, T0);
    for (let i = 0; i < 1500; i++) store.append('S', { subject: `s.${i % 7}`, payload: Buffer.from(`m${i}`), timeNs: T0 + BigInt(i) });
    const state = store.streamState('S');
    store.close();
    const raw = new Database(join(d, DB_FILE), { readonly: true });
    const row = raw.prepare("SELECT last_seq, msgs FROM streams WHERE name = 'S'").get() as { last_seq: number; msgs: number };
    raw.close();
    assert.ok(row.last_seq < 1500 && row.msgs < 1500, `the row lags (last_seq ${row.last_seq}), so the reopen below has appends to count`);
    reopened(d, (s) => {
      assert.deepEqual(s.streamState('S'), state);
      assert.equal(s.append('S', { subject: 's.x', payload: Buffer.from('next'), timeNs: T0 + 2000n }).seq, 1501);
    });
  });

  it('writes the stream counters it must with each commit, also around a rolled-back savepoint', () => {
    const d = dir();
    const store = openStore({ dir: d });
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
    reopened(d, (s) => {
      assert.deepEqual(s.streamState('S'), state);
    });
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

  it('migration 3 re-keys the messages of a version-2 database and keeps everything', () => {
    const d = dir();
    mkdirSync(d);
    const v2 = new Database(join(d, DB_FILE));
    migrate(v2, migrations.slice(0, 2));
    v2.exec(`INSERT INTO streams (name, config, created, last_seq, last_time, msgs, bytes) VALUES
      ('B', '{"name":"B"}', 1, 7, 70, 2, 100), ('A', '{"name":"A"}', 2, 3, 30, 2, 80);`);
    const ins = v2.prepare('INSERT INTO messages (stream, seq, subject, headers, payload, time, msg_id, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    ins.run('A', 1, 'a.x', null, Buffer.from('a1'), 10, null, 40);
    ins.run('A', 3, 'a.y', Buffer.from('NATS/1.0\r\nK: v\r\n\r\n'), Buffer.from('a3'), 30, 'id-3', 40);
    ins.run('B', 5, 'b.x', null, Buffer.from('b5'), 50, null, 50);
    ins.run('B', 7, 'b.x', null, Buffer.from('b7'), 70, null, 50);
    v2.close();

    const store = openSqliteStore(d);
    try {
      assert.deepEqual(store.listStreams().map((s) => s.name), ['A', 'B']);
      const a = store.streamState('A');
      assert.deepEqual([a.messages, a.bytes, a.firstSeq, a.lastSeq, a.numSubjects], [2, 80, 1, 3, 2]);
      const b = store.streamState('B');
      assert.deepEqual([b.messages, b.bytes, b.firstSeq, b.lastSeq, b.numSubjects], [2, 100, 5, 7, 1]);
      const m = store.getMessage('A', 3)!;
      assert.deepEqual([m.subject, Buffer.from(m.headers).toString(), Buffer.from(m.payload).toString(), m.msgId, m.timeNs], ['a.y', 'NATS/1.0\r\nK: v\r\n\r\n', 'a3', 'id-3', 30n]);
      assert.equal(store.getMessage('A', 5), undefined, "B's seq 5 is not A's");
      assert.deepEqual(store.loadMessages('B', 1).map((x) => x.seq), [5, 7]);
      assert.equal(store.getLastMessage('B', 'b.x')?.seq, 7);
      assert.equal(store.append('A', { subject: 'a.z', payload: Buffer.from('a4'), timeNs: 40n }).seq, 4);
      assert.equal(store.append('B', { subject: 'b.x', payload: Buffer.from('b8'), timeNs: 80n }).seq, 8);
      assert.deepEqual(store.loadMessages('A', 1).map((x) => x.seq), [1, 3, 4]);
    } finally {
      store.close();
    }
    assert.equal(userVersion(join(d, DB_FILE)), SCHEMA_VERSION);
  });

  it(`holds up to ${MAX_STREAMS} streams, and reuses the id of a deleted one without its messages`, () => {
    const store = openSqliteStore(dir(), { sync: 'normal' });
    try {
      store.transaction(() => {
        for (let i = 1; i <= MAX_STREAMS; i++) store.createStream(`S${i}`, {}, T0);
      });
      store.append('S1', { subject: 'a', payload: Buffer.from('first'), timeNs: T0 });
      store.append(`S${MAX_STREAMS}`, { subject: 'a', payload: Buffer.from('last'), timeNs: T0 });
      assert.throws(() => store.createStream('X', {}, T0), (e: unknown) => e instanceof TooManyStreamsError && e.code === StoreErrorCode.TOO_MANY_STREAMS);
      store.deleteStream('S1');
      store.createStream('X', {}, T0);
      assert.equal(store.streamState('X').messages, 0, 'a reused id starts empty');
      assert.equal(store.getMessage('X', 1), undefined);
      assert.equal(store.append('X', { subject: 'a', payload: Buffer.from('x'), timeNs: T0 }).seq, 1);
      assert.equal(Buffer.from(store.getMessage(`S${MAX_STREAMS}`, 1)!.payload).toString(), 'last');
      assert.throws(() => store.createStream('Y', {}, T0), TooManyStreamsError);
    } finally {
      store.close();
    }
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
