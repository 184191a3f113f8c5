/**
 * The durable store: one SQLite database, `<dir>/netemitter.db`, through
 * better-sqlite3 (synchronous, so a store call never yields mid-update).
 *
 *   streams   name, id ─┬─< messages  id × 2^48 + seq   payload, headers, time, msg_id, size
 *                       ├─< dedup     (stream, msg_id)     seq, time      ← Nats-Msg-Id window
 *                       └─< consumers (stream, name)       delivered / ack floor
 *                              └─< pending (stream, consumer, stream_seq)  deliveries, deadline
 *
 * A message's key is one integer, its stream's id × 2^48 + its seq: the
 * messages table is a rowid table, so an append goes to the right edge of one
 * B-tree, and a stream's messages are one key range, in seq order. (Keyed by
 * (stream name, seq), an append cost a quarter more: bench/store.ts.) So a
 * store holds at most MAX_STREAMS streams and a stream at most 2^48 - 1 seqs.
 *
 * `streams` also holds last_seq, last_time and the message and byte counters.
 * The store keeps them in memory, and a stream's row is written only when a
 * transaction removed messages from it, or when it has fallen ROW_LAG seqs
 * behind: reading a stream's counters (at start, after a rollback) adds up the
 * messages past the row's last_seq, which only appends can have put there.
 * Writing the row at every commit cost an UPDATE, and a third of the WAL of a
 * one-append commit. So stream state is O(1) except num_subjects (a scan of
 * the subject index).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  ConsumerExistsError, ConsumerNotFoundError, StoreClosedError, StreamExistsError, StreamNotFoundError, TooManyStreamsError,
} from './errors.js';
import { compileFilter, literalOf, matchesAll } from './filter.js';
import { claimPidFile, ensureDir, lockError, releasePidFile } from './lock.js';
import { migrate } from './migrations.js';
import {
  storedMessageSize,
  type AppendResult, type ConsumerRecord, type Delivery, type JsonObject, type LoadOptions, type NewMessage,
  type PendingAck, type PurgeOptions, type Store, type StoredMessage, type StreamRecord, type StreamState, type StreamTotals, type SubjectFilter,
} from './types.js';

export const SyncMode = {
  FULL: 'full',
  NORMAL: 'normal',
} as const;
export type SyncMode = (typeof SyncMode)[keyof typeof SyncMode];

export interface SqliteStoreOptions {
  /**
   * SQLite `PRAGMA synchronous` in WAL mode. Default 'full'.
   *
   * - 'full': the WAL is fsynced at every commit. A committed transaction
   *   survives a process crash *and* a power loss or kernel panic.
   * - 'normal': a commit is written to the WAL (in the OS page cache) but
   *   fsynced only at checkpoints. It survives a process crash (SIGKILL,
   *   OOM, uncaught exception); a power loss can drop the last transactions
   *   committed before it. The database is never corrupted either way.
   *
   * See docs/durability.md.
   */
  readonly sync?: SyncMode | undefined;
}

export const DB_FILE = 'netemitter.db';
/** WAL pages (4 KiB) between automatic checkpoints. */
const WAL_CHECKPOINT_PAGES = 10_000;

/** Opens (creating if needed) `dir/netemitter.db` and brings its schema up to date. */
export function openSqliteStore(dir: string, options: SqliteStoreOptions = {}): SqliteStore {
  ensureDir(dir);
  // No busy timeout: a database another process holds is refused at once (lock.ts), not after 5 s.
  const db = new Database(join(dir, DB_FILE), { timeout: 0 });
  let claimed = false;
  try {
    // One process owns the database (lock.ts): no shared-memory index or file locks per transaction.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL'); // the first read: takes the lock, or throws SQLITE_BUSY
    claimPidFile(dir);
    claimed = true;
    db.pragma(`synchronous = ${options.sync === SyncMode.NORMAL ? 'NORMAL' : 'FULL'}`);
    // Checkpoint every ~40 MB of WAL instead of ~4 MB: each checkpoint fsyncs, and fewer of them
    // made a one-append commit about 17% cheaper here (bench/store.ts, sync normal).
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    migrate(db);
    // Sequences fit a double; times in ns do not, so every integer comes back as bigint.
    db.defaultSafeIntegers(true);
    return new SqliteStore(db, dir);
  } catch (err) {
    if (claimed) releasePidFile(dir);
    db.close();
    throw lockError(dir, err);
  }
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v as bigint);
const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number));
const EMPTY = new Uint8Array(0);

/**
 * Stream ids: the 15 bits above the seq in a positive 64-bit key, less one
 * id, so that the key just past the last stream's range still fits.
 */
export const MAX_STREAMS = 2 ** 15 - 2;
/** Seqs per stream (the largest is SEQ_SPAN - 1). */
const SEQ_SPAN = 2 ** 48;

function toMessage(r: Row, base: bigint): StoredMessage {
  return {
    seq: Number((r.id as bigint) - base),
    subject: r.subject as string,
    headers: (r.headers as Buffer | null) ?? EMPTY,
    payload: r.payload as Buffer,
    timeNs: big(r.time),
    msgId: (r.msg_id as string | null) ?? undefined,
    size: num(r.size),
  };
}

function toStream(r: Row): StreamRecord {
  return { name: r.name as string, config: JSON.parse(r.config as string) as JsonObject, createdNs: big(r.created) };
}

function toConsumer(r: Row): ConsumerRecord {
  return {
    stream: r.stream as string,
    name: r.name as string,
    config: JSON.parse(r.config as string) as JsonObject,
    createdNs: big(r.created),
    delivered: { consumerSeq: num(r.delivered_cseq), streamSeq: num(r.delivered_sseq) },
    ackFloor: { consumerSeq: num(r.ack_floor_cseq), streamSeq: num(r.ack_floor_sseq) },
    numAckPending: num(r.num_pending),
    numRedelivered: num(r.num_redelivered),
  };
}

function toPending(r: Row): PendingAck {
  return { streamSeq: num(r.stream_seq), consumerSeq: num(r.cseq), deliveries: num(r.deliveries), deadlineMs: num(r.deadline) };
}

/**
 * Appends are inserted in groups of up to this many rows, one INSERT each:
 * binding a statement per row cost ~2 µs more per append. A group waits in
 * memory until it is full, a read of the messages comes, or the commit.
 */
const ROWS_PER_INSERT = 32;
const MESSAGE_COLUMNS = 7;

/** Appends a stream's `streams` row may lag behind its messages (see the top of this file). */
const ROW_LAG = 1024;

/** A stream's key range and counters while the store is open: its row in `streams`, plus what came since. */
interface Totals {
  /** The key of seq 0: id × 2^48. */
  readonly base: bigint;
  /** The key of the next stream's seq 0: every key of this one is below. */
  readonly end: bigint;
  lastSeq: number;
  lastTimeNs: bigint;
  messages: number;
  bytes: number;
  /** last_seq as the row has it. */
  rowSeq: number;
  /** Messages were removed since the row was written: it must be written before the commit. */
  removed: boolean;
}

const CONSUMER_SELECT = `SELECT c.*,
  (SELECT COUNT(*) FROM pending p WHERE p.stream = c.stream AND p.consumer = c.name) AS num_pending,
  (SELECT COUNT(*) FROM pending p WHERE p.stream = c.stream AND p.consumer = c.name AND p.deliveries > 1) AS num_redelivered
  FROM consumers c`;

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  /** The directory whose pid file close() removes; none for a database opened elsewhere. */
  readonly #dir: string | undefined;
  readonly #tx: (fn: () => unknown) => unknown;
  #closed = false;
  /** Counters by stream name, read from `streams` on first use. */
  readonly #totals = new Map<string, Totals>();
  /** Streams whose counters changed since their row was last written. */
  readonly #dirty = new Set<string>();
  /** Appended rows not inserted yet: MESSAGE_COLUMNS values each (see ROWS_PER_INSERT). */
  #rows: unknown[] = [];
  /** INSERT statements by how many rows they carry, prepared on first use. */
  readonly #inserts: Database.Statement[] = [];
  // Prepared once; `s.x` reads better than forty fields.
  readonly #s;

  constructor(db: Database.Database, dir?: string) {
    this.#db = db;
    this.#dir = dir;
    // One transaction function for every call: making one per call costs more than a small insert.
    this.#tx = db.transaction((fn: () => unknown) => {
      const r = fn();
      this.#insertRows();
      this.#flush();
      return r;
    });
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      insStream: p('INSERT INTO streams (id, name, config, created) VALUES (?, ?, ?, ?)'),
      maxStreamId: p('SELECT COALESCE(MAX(id), 0) AS m FROM streams'),
      // The smallest id free below MAX_STREAMS, once ids were handed out up to it.
      freeStreamId: p(`SELECT 1 AS id WHERE NOT EXISTS (SELECT 1 FROM streams WHERE id = 1)
        UNION ALL SELECT id + 1 FROM streams s WHERE id < ${MAX_STREAMS} AND NOT EXISTS (SELECT 1 FROM streams t WHERE t.id = s.id + 1)
        ORDER BY 1 LIMIT 1`),
      getStream: p('SELECT name, config, created FROM streams WHERE name = ?'),
      listStreams: p('SELECT name, config, created FROM streams ORDER BY name'),
      updStream: p('UPDATE streams SET config = ? WHERE name = ?'),
      delStream: p('DELETE FROM streams WHERE name = ?'),
      delStreamDedup: p('DELETE FROM dedup WHERE stream = ?'),
      delStreamConsumers: p('DELETE FROM consumers WHERE stream = ?'),
      delStreamPending: p('DELETE FROM pending WHERE stream = ?'),
      counters: p('SELECT id, last_seq, last_time, msgs, bytes FROM streams WHERE name = ?'),
      tail: p('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b, MAX(id) AS m FROM messages WHERE id > ? AND id < ?'),
      timeOf: p('SELECT time FROM messages WHERE id = ?'),
      first: p('SELECT id, time FROM messages WHERE id > ? AND id < ? ORDER BY id LIMIT 1'),
      numSubjects: p('SELECT COUNT(DISTINCT subject) AS n FROM messages WHERE id > ? AND id < ?'),
      consumerCount: p('SELECT COUNT(*) AS n FROM consumers WHERE stream = ?'),
      setCounters: p('UPDATE streams SET last_seq = ?, last_time = ?, msgs = ?, bytes = ? WHERE name = ?'),
      dedupGet: p('SELECT seq, time FROM dedup WHERE stream = ? AND msg_id = ?'),
      dedupPrune: p('DELETE FROM dedup WHERE stream = ? AND time < ?'),
      dedupPut: p('INSERT OR REPLACE INTO dedup (stream, msg_id, seq, time) VALUES (?, ?, ?, ?)'),
      getMsg: p('SELECT * FROM messages WHERE id = ?'),
      lastOnSubject: p('SELECT * FROM messages WHERE subject = ? AND id > ? AND id < ? ORDER BY id DESC LIMIT 1'),
      newestFirst: p('SELECT * FROM messages WHERE id > ? AND id < ? ORDER BY id DESC'),
      from: p('SELECT * FROM messages WHERE id >= ? AND id < ? ORDER BY id'),
      fromOnSubject: p('SELECT * FROM messages WHERE subject = ? AND id >= ? AND id < ? ORDER BY id'),
      firstFrom: p('SELECT * FROM messages WHERE id >= ? AND id < ? ORDER BY id LIMIT 1'),
      firstFromOnSubject: p('SELECT * FROM messages WHERE subject = ? AND id >= ? AND id < ? ORDER BY id LIMIT 1'),
      countFrom: p('SELECT COUNT(*) AS n FROM messages WHERE id >= ? AND id < ?'),
      countFromOnSubject: p('SELECT COUNT(*) AS n FROM messages WHERE subject = ? AND id >= ? AND id < ?'),
      subjectsFrom: p('SELECT subject FROM messages WHERE id >= ? AND id < ?'),
      delMsg: p('DELETE FROM messages WHERE id = ? RETURNING size'),
      // Between two keys, both excluded: [seq 0 of the stream, a seq) or the whole stream.
      rangeStats: p('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM messages WHERE id > ? AND id < ?'),
      rangeDel: p('DELETE FROM messages WHERE id > ? AND id < ?'),
      rangeStatsOnSubject: p('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM messages WHERE subject = ? AND id > ? AND id < ?'),
      rangeDelOnSubject: p('DELETE FROM messages WHERE subject = ? AND id > ? AND id < ?'),
      subjectsBelow: p('SELECT id, subject FROM messages WHERE id > ? AND id < ? ORDER BY id'),
      nthNewest: p('SELECT id FROM messages WHERE id > ? AND id < ? ORDER BY id DESC LIMIT 1 OFFSET ?'),
      nthNewestOnSubject: p('SELECT id FROM messages WHERE subject = ? AND id > ? AND id < ? ORDER BY id DESC LIMIT 1 OFFSET ?'),
      oldest: p('SELECT id FROM messages WHERE id > ? AND id < ? ORDER BY id LIMIT 1'),
      oldestOnSubject: p('SELECT id FROM messages WHERE subject = ? AND id > ? AND id < ? ORDER BY id LIMIT 1'),
      firstKept: p('SELECT id FROM messages WHERE id > ? AND id < ? AND time >= ? ORDER BY id LIMIT 1'),
      subjectCount: p('SELECT COUNT(*) AS n FROM messages WHERE subject = ? AND id > ? AND id < ?'),
      insConsumer: p('INSERT INTO consumers (stream, name, config, created, delivered_sseq, ack_floor_sseq) VALUES (?, ?, ?, ?, ?, ?)'),
      getConsumer: p(`${CONSUMER_SELECT} WHERE c.stream = ? AND c.name = ?`),
      listConsumers: p(`${CONSUMER_SELECT} WHERE c.stream = ? ORDER BY c.name`),
      updConsumer: p('UPDATE consumers SET config = ? WHERE stream = ? AND name = ?'),
      delConsumer: p('DELETE FROM consumers WHERE stream = ? AND name = ?'),
      delConsumerPending: p('DELETE FROM pending WHERE stream = ? AND consumer = ?'),
      delivered: p('SELECT delivered_cseq FROM consumers WHERE stream = ? AND name = ?'),
      setDelivered: p('UPDATE consumers SET delivered_cseq = ?, delivered_sseq = MAX(delivered_sseq, ?) WHERE stream = ? AND name = ?'),
      upsertPending: p(`INSERT INTO pending (stream, consumer, stream_seq, cseq, deliveries, deadline) VALUES (?, ?, ?, ?, 1, ?)
        ON CONFLICT DO UPDATE SET cseq = excluded.cseq, deliveries = deliveries + 1, deadline = excluded.deadline
        RETURNING deliveries`),
      delPending: p('DELETE FROM pending WHERE stream = ? AND consumer = ? AND stream_seq = ?'),
      delPendingUpTo: p('DELETE FROM pending WHERE stream = ? AND consumer = ? AND stream_seq <= ?'),
      minPending: p('SELECT MIN(stream_seq) AS s, MIN(cseq) AS c FROM pending WHERE stream = ? AND consumer = ?'),
      floorToDelivered: p('UPDATE consumers SET ack_floor_cseq = delivered_cseq, ack_floor_sseq = delivered_sseq WHERE stream = ? AND name = ?'),
      floorRaise: p(`UPDATE consumers SET ack_floor_cseq = MAX(ack_floor_cseq, ?), ack_floor_sseq = MAX(ack_floor_sseq, ?)
        WHERE stream = ? AND name = ?`),
      setDeadline: p('UPDATE pending SET deadline = ? WHERE stream = ? AND consumer = ? AND stream_seq = ?'),
      listPending: p('SELECT * FROM pending WHERE stream = ? AND consumer = ? ORDER BY stream_seq'),
      nextDeadline: p('SELECT MIN(deadline) AS d FROM pending WHERE stream = ? AND consumer = ? AND deadline > ?'),
      duePending: p('SELECT * FROM pending WHERE stream = ? AND consumer = ? AND deadline <= ? ORDER BY deadline, stream_seq LIMIT ?'),
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The underlying connection, for tests and diagnostics. */
  get database(): Database.Database {
    return this.#db;
  }

  transaction<T>(fn: () => T): T {
    if (this.#closed) throw new StoreClosedError();
    // better-sqlite3 turns a nested call into a SAVEPOINT. If it rolls back, the counters are read
    // again from the rows, so the rows must first account for what the enclosing transaction did so far.
    if (this.#db.inTransaction) {
      this.#insertRows();
      this.#flush();
    }
    try {
      return this.#tx(fn) as T;
    } catch (err) {
      // What this (sub)transaction appended is rolled back: its rows, and what they added to the counters.
      this.#rows = [];
      this.#totals.clear();
      this.#dirty.clear();
      throw err;
    }
  }

  /**
   * Runs one call's statements atomically. Inside a caller's transaction it
   * adds no savepoint (a savepoint costs as much as a third of an append):
   * the call checks before it writes, and a failure while writing (I/O, a full
   * disk) is left to roll the caller's transaction back.
   */
  #atomic<T>(fn: () => T): T {
    if (this.#closed) throw new StoreClosedError();
    return this.#db.inTransaction ? fn() : this.transaction(fn);
  }

  /** A stream's key range and counters, or undefined when there is no such stream. */
  #find(name: string): Totals | undefined {
    let t = this.#totals.get(name);
    if (t === undefined) {
      const c = this.#s.counters.get(name) as Row | undefined;
      if (c === undefined) return undefined;
      const base = big(c.id) << 48n;
      const end = base + BigInt(SEQ_SPAN);
      const rowSeq = num(c.last_seq);
      t = { base, end, lastSeq: rowSeq, lastTimeNs: big(c.last_time), messages: num(c.msgs), bytes: num(c.bytes), rowSeq, removed: false };
      // Appends the row does not count yet.
      const tail = this.#s.tail.get(base + BigInt(rowSeq), end) as Row;
      if (tail.m !== null) {
        t.messages += num(tail.n);
        t.bytes += num(tail.b);
        t.lastSeq = Number((tail.m as bigint) - base);
        t.lastTimeNs = big((this.#s.timeOf.get(tail.m) as Row).time);
      }
      this.#totals.set(name, t);
    }
    return t;
  }

  /** As #find; throws StreamNotFoundError. */
  #counters(name: string): Totals {
    const t = this.#find(name);
    if (t === undefined) throw new StreamNotFoundError(name);
    return t;
  }

  /** The key of a seq of a stream (seqs past either end are clamped to it). */
  #key(t: Totals, seq: number): bigint {
    return t.base + BigInt(Math.min(Math.max(Math.trunc(seq), 0), SEQ_SPAN));
  }

  #shrink(name: string, messages: number, bytes: number): void {
    const t = this.#counters(name);
    t.messages -= messages;
    t.bytes -= bytes;
    t.removed = true;
    this.#dirty.add(name);
  }

  /** Inserts the appended rows still waiting; runs before any read of the messages, and before a commit. */
  #insertRows(): void {
    const rows = this.#rows;
    if (rows.length === 0) return;
    this.#rows = [];
    const n = rows.length / MESSAGE_COLUMNS;
    const stmt = (this.#inserts[n] ??= this.#db.prepare(
      `INSERT INTO messages (id, subject, headers, payload, time, msg_id, size) VALUES ${Array(n).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    ));
    stmt.run(rows);
  }

  /**
   * Writes the rows that must be written: after a removal (the row must then
   * count exactly what is left), or ROW_LAG appends behind. Runs inside the
   * transaction, before its commit.
   */
  #flush(): void {
    for (const name of this.#dirty) {
      const t = this.#totals.get(name);
      if (t === undefined || (!t.removed && t.lastSeq - t.rowSeq < ROW_LAG)) continue;
      this.#s.setCounters.run(t.lastSeq, t.lastTimeNs, t.messages, t.bytes, name);
      t.rowSeq = t.lastSeq;
      t.removed = false;
    }
    this.#dirty.clear();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // While the lock is still held, so the file removed cannot be a next holder's.
    if (this.#dir !== undefined) releasePidFile(this.#dir);
    this.#db.close();
  }

  // ── streams ──────────────────────────────────────────────────────────────

  createStream(name: string, config: JsonObject, createdNs: bigint): StreamRecord {
    return this.transaction(() => {
      if (this.#s.getStream.get(name) !== undefined) throw new StreamExistsError(name);
      let id = num((this.#s.maxStreamId.get() as Row).m) + 1;
      if (id > MAX_STREAMS) {
        // Ids of deleted streams are free again (their messages went with them).
        const free = this.#s.freeStreamId.get() as Row | undefined;
        if (free === undefined) throw new TooManyStreamsError(MAX_STREAMS);
        id = num(free.id);
      }
      this.#s.insStream.run(id, name, JSON.stringify(config), createdNs);
      return toStream(this.#s.getStream.get(name) as Row);
    });
  }

  updateStream(name: string, config: JsonObject): StreamRecord {
    if (this.#s.updStream.run(JSON.stringify(config), name).changes === 0) throw new StreamNotFoundError(name);
    return toStream(this.#s.getStream.get(name) as Row);
  }

  getStream(name: string): StreamRecord | undefined {
    const r = this.#s.getStream.get(name) as Row | undefined;
    return r === undefined ? undefined : toStream(r);
  }

  listStreams(): StreamRecord[] {
    return (this.#s.listStreams.all() as Row[]).map(toStream);
  }

  deleteStream(name: string): boolean {
    return this.transaction(() => {
      this.#insertRows();
      const t = this.#find(name);
      if (t === undefined) return false;
      this.#s.delStream.run(name);
      this.#totals.delete(name);
      this.#dirty.delete(name);
      this.#s.rangeDel.run(t.base, t.end);
      this.#s.delStreamDedup.run(name);
      this.#s.delStreamPending.run(name);
      this.#s.delStreamConsumers.run(name);
      return true;
    });
  }

  streamState(name: string): StreamState {
    return this.transaction(() => {
      this.#insertRows();
      const t = this.#counters(name);
      const first = this.#s.first.get(t.base, t.end) as Row | undefined;
      return {
        messages: t.messages,
        bytes: t.bytes,
        firstSeq: first === undefined ? t.lastSeq + 1 : Number((first.id as bigint) - t.base),
        firstTimeNs: first === undefined ? 0n : big(first.time),
        lastSeq: t.lastSeq,
        lastTimeNs: t.lastTimeNs,
        numSubjects: num((this.#s.numSubjects.get(t.base, t.end) as Row).n),
        consumerCount: num((this.#s.consumerCount.get(name) as Row).n),
      };
    });
  }

  streamTotals(name: string): StreamTotals {
    const t = this.#counters(name);
    return { messages: t.messages, bytes: t.bytes, lastSeq: t.lastSeq, lastTimeNs: t.lastTimeNs };
  }

  // ── messages ─────────────────────────────────────────────────────────────

  append(stream: string, msg: NewMessage, dedupWindowNs = 0n): AppendResult {
    return this.#atomic(() => {
      const t = this.#counters(stream);
      const dedup = msg.msgId !== undefined && msg.msgId !== '' && dedupWindowNs > 0n;
      if (dedup) {
        const cutoff = msg.timeNs - dedupWindowNs;
        this.#s.dedupPrune.run(stream, cutoff);
        const seen = this.#s.dedupGet.get(stream, msg.msgId) as Row | undefined;
        if (seen !== undefined) return { seq: num(seen.seq), duplicate: true };
      }
      const seq = t.lastSeq + 1;
      if (seq >= SEQ_SPAN) throw new RangeError(`stream ${JSON.stringify(stream)} has used all ${SEQ_SPAN - 1} of its seqs`);
      const headers = msg.headers !== undefined && msg.headers.length > 0 ? Buffer.from(msg.headers) : null;
      const size = storedMessageSize(msg.subject, msg.headers, msg.payload);
      // Copies of the caller's buffers: the row is inserted later (see ROWS_PER_INSERT).
      const rows = this.#rows;
      rows.push(t.base + BigInt(seq), msg.subject, headers, Buffer.from(msg.payload), msg.timeNs, msg.msgId ?? null, size);
      if (rows.length === ROWS_PER_INSERT * MESSAGE_COLUMNS) this.#insertRows();
      t.lastSeq = seq;
      t.lastTimeNs = msg.timeNs;
      t.messages++;
      t.bytes += size;
      this.#dirty.add(stream);
      if (dedup) this.#s.dedupPut.run(stream, msg.msgId, seq, msg.timeNs);
      return { seq, duplicate: false };
    });
  }

  findMsgId(stream: string, msgId: string, sinceNs: bigint): number | undefined {
    const seen = this.#s.dedupGet.get(stream, msgId) as Row | undefined;
    return seen !== undefined && big(seen.time) >= sinceNs ? num(seen.seq) : undefined;
  }

  getMessage(stream: string, seq: number): StoredMessage | undefined {
    this.#insertRows();
    const t = this.#find(stream);
    if (t === undefined || !Number.isInteger(seq) || seq < 1 || seq >= SEQ_SPAN) return undefined;
    const r = this.#s.getMsg.get(this.#key(t, seq)) as Row | undefined;
    return r === undefined ? undefined : toMessage(r, t.base);
  }

  getLastMessage(stream: string, filter: string): StoredMessage | undefined {
    this.#insertRows();
    const t = this.#find(stream);
    if (t === undefined) return undefined;
    const lit = literalOf(filter);
    if (lit !== undefined) {
      const r = this.#s.lastOnSubject.get(lit, t.base, t.end) as Row | undefined;
      return r === undefined ? undefined : toMessage(r, t.base);
    }
    const test = compileFilter(filter);
    for (const r of this.#s.newestFirst.iterate(t.base, t.end) as IterableIterator<Row>) {
      if (test(r.subject as string)) return toMessage(r, t.base);
    }
    return undefined;
  }

  nextMessage(stream: string, fromSeq: number, filter?: SubjectFilter): StoredMessage | undefined {
    // A consumer's next delivery, once per message delivered: one get() (a LIMIT 1 lookup) is far cheaper
    // than opening and closing an iterator. A wildcard filter takes the next message when it matches
    // (the usual case: a filter over most of the stream), and iterates only when it does not.
    this.#insertRows();
    const t = this.#find(stream);
    if (t === undefined) return undefined;
    const from = this.#key(t, fromSeq);
    const lit = literalOf(filter);
    const r = (lit !== undefined ? this.#s.firstFromOnSubject.get(lit, from, t.end) : this.#s.firstFrom.get(from, t.end)) as Row | undefined;
    if (r === undefined) return undefined;
    if (lit !== undefined || compileFilter(filter)(r.subject as string)) return toMessage(r, t.base);
    return this.loadMessages(stream, fromSeq, { filter, limit: 1 })[0];
  }

  loadMessages(stream: string, fromSeq: number, options: LoadOptions = {}): StoredMessage[] {
    this.#insertRows();
    const limit = options.limit ?? Infinity;
    const out: StoredMessage[] = [];
    const t = this.#find(stream);
    if (limit <= 0 || t === undefined) return out;
    const lit = literalOf(options.filter);
    const from = this.#key(t, fromSeq);
    const rows = (lit !== undefined ? this.#s.fromOnSubject.iterate(lit, from, t.end) : this.#s.from.iterate(from, t.end)) as IterableIterator<Row>;
    const test = compileFilter(lit !== undefined ? undefined : options.filter);
    for (const r of rows) {
      if (!test(r.subject as string)) continue;
      out.push(toMessage(r, t.base));
      if (out.length >= limit) break; // leaving the loop closes the statement
    }
    return out;
  }

  countMessages(stream: string, fromSeq: number, filter?: SubjectFilter): number {
    this.#insertRows();
    const t = this.#find(stream);
    if (t === undefined) return 0;
    const from = this.#key(t, fromSeq);
    if (matchesAll(filter)) return num((this.#s.countFrom.get(from, t.end) as Row).n);
    const lit = literalOf(filter);
    if (lit !== undefined) return num((this.#s.countFromOnSubject.get(lit, from, t.end) as Row).n);
    const test = compileFilter(filter);
    let n = 0;
    for (const r of this.#s.subjectsFrom.iterate(from, t.end) as IterableIterator<Row>) if (test(r.subject as string)) n++;
    return n;
  }

  deleteMessage(stream: string, seq: number): boolean {
    return this.#atomic(() => {
      this.#insertRows();
      const t = this.#find(stream);
      if (t === undefined || !Number.isInteger(seq) || seq < 1 || seq >= SEQ_SPAN) return false;
      const r = this.#s.delMsg.get(this.#key(t, seq)) as Row | undefined;
      if (r === undefined) return false;
      this.#shrink(stream, 1, num(r.size));
      return true;
    });
  }

  purge(stream: string, options: PurgeOptions = {}): number {
    return this.#atomic(() => {
      this.#insertRows();
      const t = this.#counters(stream);
      let upTo = this.#key(t, options.upTo ?? SEQ_SPAN);
      const keep = options.keep ?? 0;
      if (matchesAll(options.filter) || literalOf(options.filter) !== undefined) {
        const lit = literalOf(options.filter);
        if (keep > 0) {
          const nth = (lit === undefined ? this.#s.nthNewest.get(t.base, t.end, keep - 1) : this.#s.nthNewestOnSubject.get(lit, t.base, t.end, keep - 1)) as Row | undefined;
          if (nth === undefined) return 0;
          if ((nth.id as bigint) < upTo) upTo = nth.id as bigint;
        }
        const st = (lit === undefined ? this.#s.rangeStats.get(t.base, upTo) : this.#s.rangeStatsOnSubject.get(lit, t.base, upTo)) as Row;
        if (num(st.n) === 0) return 0;
        if (lit === undefined) this.#s.rangeDel.run(t.base, upTo);
        else this.#s.rangeDelOnSubject.run(lit, t.base, upTo);
        this.#shrink(stream, num(st.n), num(st.b));
        return num(st.n);
      }
      // A wildcard filter: SQLite cannot match it, so pick the seqs here.
      const test = compileFilter(options.filter);
      const seqs = (this.#s.subjectsBelow.all(t.base, upTo) as Row[]).filter((r) => test(r.subject as string)).map((r) => Number((r.id as bigint) - t.base));
      const victims = keep > 0 ? seqs.slice(0, Math.max(0, seqs.length - keep)) : seqs;
      for (const seq of victims) this.deleteMessage(stream, seq);
      return victims.length;
    });
  }

  // ── limits ───────────────────────────────────────────────────────────────

  removeOldest(stream: string, subject?: string): number {
    return this.#atomic(() => {
      this.#insertRows();
      const t = this.#find(stream);
      if (t === undefined) return 0;
      const r = (subject === undefined ? this.#s.oldest.get(t.base, t.end) : this.#s.oldestOnSubject.get(subject, t.base, t.end)) as Row | undefined;
      if (r === undefined) return 0;
      const seq = Number((r.id as bigint) - t.base);
      this.deleteMessage(stream, seq);
      return seq;
    });
  }

  removeOlderThan(stream: string, cutoffNs: bigint): number {
    return this.#atomic(() => {
      this.#insertRows();
      const t = this.#find(stream);
      if (t === undefined) return 0;
      // Times grow with seqs (the caller stamps them at append), so everything below the first
      // message young enough to keep is old: a walk from the front, no index on time.
      const kept = this.#s.firstKept.get(t.base, t.end, cutoffNs) as Row | undefined;
      const below = kept === undefined ? t.end : (kept.id as bigint);
      const st = this.#s.rangeStats.get(t.base, below) as Row;
      if (num(st.n) === 0) return 0;
      this.#s.rangeDel.run(t.base, below);
      this.#shrink(stream, num(st.n), num(st.b));
      return num(st.n);
    });
  }

  subjectCount(stream: string, subject: string): number {
    this.#insertRows();
    const t = this.#find(stream);
    return t === undefined ? 0 : num((this.#s.subjectCount.get(subject, t.base, t.end) as Row).n);
  }

  // ── consumers ────────────────────────────────────────────────────────────

  createConsumer(stream: string, name: string, config: JsonObject, createdNs: bigint, startSeq = 0): ConsumerRecord {
    return this.transaction(() => {
      if (this.#s.getStream.get(stream) === undefined) throw new StreamNotFoundError(stream);
      if (this.#s.getConsumer.get(stream, name) !== undefined) throw new ConsumerExistsError(stream, name);
      this.#s.insConsumer.run(stream, name, JSON.stringify(config), createdNs, startSeq, startSeq);
      return toConsumer(this.#s.getConsumer.get(stream, name) as Row);
    });
  }

  updateConsumer(stream: string, name: string, config: JsonObject): ConsumerRecord {
    if (this.#s.updConsumer.run(JSON.stringify(config), stream, name).changes === 0) throw new ConsumerNotFoundError(stream, name);
    return toConsumer(this.#s.getConsumer.get(stream, name) as Row);
  }

  getConsumer(stream: string, name: string): ConsumerRecord | undefined {
    const r = this.#s.getConsumer.get(stream, name) as Row | undefined;
    return r === undefined ? undefined : toConsumer(r);
  }

  listConsumers(stream: string): ConsumerRecord[] {
    return (this.#s.listConsumers.all(stream) as Row[]).map(toConsumer);
  }

  deleteConsumer(stream: string, name: string): boolean {
    return this.transaction(() => {
      if (this.#s.delConsumer.run(stream, name).changes === 0) return false;
      this.#s.delConsumerPending.run(stream, name);
      return true;
    });
  }

  recordDelivery(stream: string, consumer: string, streamSeq: number, deadlineMs: number): Delivery {
    return this.#atomic(() => {
      const d = this.#s.delivered.get(stream, consumer) as Row | undefined;
      if (d === undefined) throw new ConsumerNotFoundError(stream, consumer);
      const consumerSeq = num(d.delivered_cseq) + 1;
      this.#s.setDelivered.run(consumerSeq, streamSeq, stream, consumer);
      const r = this.#s.upsertPending.get(stream, consumer, streamSeq, consumerSeq, deadlineMs) as Row;
      return { consumerSeq, deliveries: num(r.deliveries) };
    });
  }

  recordSettledDeliveries(stream: string, consumer: string, count: number, lastStreamSeq: number): number {
    return this.#atomic(() => {
      const d = this.#s.delivered.get(stream, consumer) as Row | undefined;
      if (d === undefined) throw new ConsumerNotFoundError(stream, consumer);
      const consumerSeq = num(d.delivered_cseq) + count;
      this.#s.setDelivered.run(consumerSeq, lastStreamSeq, stream, consumer);
      this.#raiseFloor(stream, consumer);
      return consumerSeq;
    });
  }

  ack(stream: string, consumer: string, streamSeq: number): boolean {
    return this.#settle(stream, consumer, streamSeq);
  }

  term(stream: string, consumer: string, streamSeq: number): boolean {
    return this.#settle(stream, consumer, streamSeq);
  }

  ackUpTo(stream: string, consumer: string, streamSeq: number): number {
    return this.#atomic(() => {
      const n = this.#s.delPendingUpTo.run(stream, consumer, streamSeq).changes;
      if (n > 0) this.#raiseFloor(stream, consumer);
      return n;
    });
  }

  nak(stream: string, consumer: string, streamSeq: number, redeliverAtMs: number): boolean {
    return this.#s.setDeadline.run(redeliverAtMs, stream, consumer, streamSeq).changes > 0;
  }

  progress(stream: string, consumer: string, streamSeq: number, deadlineMs: number): boolean {
    return this.#s.setDeadline.run(deadlineMs, stream, consumer, streamSeq).changes > 0;
  }

  pendingAcks(stream: string, consumer: string): PendingAck[] {
    return (this.#s.listPending.all(stream, consumer) as Row[]).map(toPending);
  }

  dueAcks(stream: string, consumer: string, nowMs: number, limit = -1): PendingAck[] {
    return (this.#s.duePending.all(stream, consumer, nowMs, limit) as Row[]).map(toPending);
  }

  nextDeadline(stream: string, consumer: string, afterMs: number): number | undefined {
    const d = (this.#s.nextDeadline.get(stream, consumer, afterMs) as Row).d;
    return d === null || d === undefined ? undefined : num(d);
  }

  #settle(stream: string, consumer: string, streamSeq: number): boolean {
    return this.#atomic(() => {
      if (this.#s.delPending.run(stream, consumer, streamSeq).changes === 0) return false;
      this.#raiseFloor(stream, consumer);
      return true;
    });
  }

  /** Nothing pending: the floor is the last delivery. Else just below the oldest still pending. */
  #raiseFloor(stream: string, consumer: string): void {
    const m = this.#s.minPending.get(stream, consumer) as Row;
    if (m.s === null) this.#s.floorToDelivered.run(stream, consumer);
    else this.#s.floorRaise.run(num(m.c) - 1, num(m.s) - 1, stream, consumer);
  }
}
