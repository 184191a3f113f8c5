/**
 * Schema migrations for the SQLite store. The version is `PRAGMA user_version`
 * (0 = empty file); migration i takes the schema from version i to i + 1.
 * Append only: a released migration is never edited, a change is a new entry.
 */
import type Database from 'better-sqlite3';
import { StoreSchemaError } from './errors.js';

export const migrations: readonly string[] = [
  // 1: first release.
  `
  CREATE TABLE streams (
    name       TEXT PRIMARY KEY,
    config     TEXT NOT NULL,
    created    INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    last_time  INTEGER NOT NULL DEFAULT 0,
    msgs       INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL DEFAULT 0
  ) STRICT;

  CREATE TABLE messages (
    stream   TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    subject  TEXT NOT NULL,
    headers  BLOB,
    payload  BLOB NOT NULL,
    time     INTEGER NOT NULL,
    msg_id   TEXT,
    size     INTEGER NOT NULL,
    PRIMARY KEY (stream, seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX messages_by_subject ON messages (stream, subject, seq);
  CREATE INDEX messages_by_time ON messages (stream, time);

  CREATE TABLE dedup (
    stream  TEXT NOT NULL,
    msg_id  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    PRIMARY KEY (stream, msg_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX dedup_by_time ON dedup (stream, time);

  CREATE TABLE consumers (
    stream              TEXT NOT NULL,
    name                TEXT NOT NULL,
    config              TEXT NOT NULL,
    created             INTEGER NOT NULL,
    delivered_cseq      INTEGER NOT NULL DEFAULT 0,
    delivered_sseq      INTEGER NOT NULL DEFAULT 0,
    ack_floor_cseq      INTEGER NOT NULL DEFAULT 0,
    ack_floor_sseq      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream, name)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE pending (
    stream      TEXT NOT NULL,
    consumer    TEXT NOT NULL,
    stream_seq  INTEGER NOT NULL,
    cseq        INTEGER NOT NULL,
    deliveries  INTEGER NOT NULL,
    deadline    INTEGER NOT NULL,
    PRIMARY KEY (stream, consumer, stream_seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX pending_by_deadline ON pending (stream, consumer, deadline, stream_seq);
  `,
  // 2: max_age finds the oldest messages in seq order (times grow with seqs), so an index on time only
  // cost every append a third B-tree insert.
  `DROP INDEX IF EXISTS messages_by_time;`,
  // 3: streams get an integer id, and a message's key is one integer, id × 2^48 + seq: a rowid table
  // takes an append at the right edge of one B-tree (keyed by (stream name, seq), an append cost a
  // quarter more). The subject index follows: (subject, key).
  `
  CREATE TABLE streams_v3 (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    config     TEXT NOT NULL,
    created    INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    last_time  INTEGER NOT NULL DEFAULT 0,
    msgs       INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  INSERT INTO streams_v3 (name, config, created, last_seq, last_time, msgs, bytes)
    SELECT name, config, created, last_seq, last_time, msgs, bytes FROM streams ORDER BY name;

  CREATE TABLE messages_v3 (
    id       INTEGER PRIMARY KEY,
    subject  TEXT NOT NULL,
    headers  BLOB,
    payload  BLOB NOT NULL,
    time     INTEGER NOT NULL,
    msg_id   TEXT,
    size     INTEGER NOT NULL
  ) STRICT;
  INSERT INTO messages_v3 (id, subject, headers, payload, time, msg_id, size)
    SELECT (s.id << 48) + m.seq, m.subject, m.headers, m.payload, m.time, m.msg_id, m.size
    FROM messages m JOIN streams_v3 s ON s.name = m.stream ORDER BY s.id, m.seq;

  DROP TABLE messages;
  DROP TABLE streams;
  ALTER TABLE streams_v3 RENAME TO streams;
  ALTER TABLE messages_v3 RENAME TO messages;
  CREATE INDEX messages_by_subject ON messages (subject, id);
  `,
];

export const SCHEMA_VERSION = migrations.length;

/**
 * Applies the missing migrations, each in its own transaction with the
 * version bump, so a crash mid-way leaves a consistent older version.
 * Refuses a database from a newer release rather than guess at its schema.
 */
export function migrate(db: Database.Database, list: readonly string[] = migrations): number {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > list.length) {
    throw new StoreSchemaError(`database schema version ${current} is newer than this netemitter supports (${list.length}): upgrade netemitter`);
  }
  for (let v = current; v < list.length; v++) {
    const step = db.transaction(() => {
      db.exec(list[v]!);
      db.pragma(`user_version = ${v + 1}`);
    });
    try {
      step();
    } catch (err) {
      throw new StoreSchemaError(`schema migration ${v} → ${v + 1} failed`, { cause: err });
    }
  }
  return list.length;
}
