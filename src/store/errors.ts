/**
 * Store errors. They extend NetEmitterError; the codes are stable and will be
 * listed in docs/api.md with the JetStream API work, where each maps to a
 * JetStream `err_code` (stream not found 10059, consumer not found 10014, …).
 */
import { NetEmitterError } from '../errors.js';

export const StoreErrorCode = {
  STREAM_NOT_FOUND: 'ERR_NETEMITTER_STREAM_NOT_FOUND',
  STREAM_EXISTS: 'ERR_NETEMITTER_STREAM_EXISTS',
  CONSUMER_NOT_FOUND: 'ERR_NETEMITTER_CONSUMER_NOT_FOUND',
  CONSUMER_EXISTS: 'ERR_NETEMITTER_CONSUMER_EXISTS',
  STORE_CLOSED: 'ERR_NETEMITTER_STORE_CLOSED',
  STORE_SCHEMA: 'ERR_NETEMITTER_STORE_SCHEMA',
  TOO_MANY_STREAMS: 'ERR_NETEMITTER_TOO_MANY_STREAMS',
  STORE_OPEN: 'ERR_NETEMITTER_STORE_OPEN',
  STORE_IN_USE: 'ERR_NETEMITTER_STORE_IN_USE',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StreamNotFoundError extends NetEmitterError {
  readonly stream: string;
  constructor(stream: string) {
    super(StoreErrorCode.STREAM_NOT_FOUND, `stream not found: ${JSON.stringify(stream)}`);
    this.stream = stream;
  }
}

export class StreamExistsError extends NetEmitterError {
  readonly stream: string;
  constructor(stream: string) {
    super(StoreErrorCode.STREAM_EXISTS, `stream already exists: ${JSON.stringify(stream)}`);
    this.stream = stream;
  }
}

export class ConsumerNotFoundError extends NetEmitterError {
  readonly stream: string;
  readonly consumer: string;
  constructor(stream: string, consumer: string) {
    super(StoreErrorCode.CONSUMER_NOT_FOUND, `consumer not found: ${JSON.stringify(consumer)} on stream ${JSON.stringify(stream)}`);
    this.stream = stream;
    this.consumer = consumer;
  }
}

export class ConsumerExistsError extends NetEmitterError {
  readonly stream: string;
  readonly consumer: string;
  constructor(stream: string, consumer: string) {
    super(StoreErrorCode.CONSUMER_EXISTS, `consumer already exists: ${JSON.stringify(consumer)} on stream ${JSON.stringify(stream)}`);
    this.stream = stream;
    this.consumer = consumer;
  }
}

/** The store holds as many streams as it can (SqliteStore: MAX_STREAMS). */
export class TooManyStreamsError extends NetEmitterError {
  readonly max: number;
  constructor(max: number) {
    super(StoreErrorCode.TOO_MANY_STREAMS, `the store holds its maximum of ${max} streams`);
    this.max = max;
  }
}

export class StoreClosedError extends NetEmitterError {
  constructor() {
    super(StoreErrorCode.STORE_CLOSED, 'the store is closed');
  }
}

/** The database was written by a newer netemitter (its schema version is unknown here), or a migration failed. */
export class StoreSchemaError extends NetEmitterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(StoreErrorCode.STORE_SCHEMA, message, options);
  }
}

/**
 * The store directory cannot be used: not a directory, permission denied, a
 * file that is not a database. A start-up failure (the CLI exits 1), not an
 * invalid option.
 */
export class StoreOpenError extends NetEmitterError {
  readonly dir: string;
  constructor(dir: string, why: string, options?: { cause?: unknown }) {
    super(StoreErrorCode.STORE_OPEN, `store: cannot use ${dir}: ${why}`, options);
    this.dir = dir;
  }
}


/**
 * The directory's database is open in another process, or in another store
 * of this one (see lock.ts). `pid` is the holder's, when it is known.
 */
export class StoreInUseError extends NetEmitterError {
  readonly dir: string;
  readonly pid: number | undefined;
  constructor(dir: string, pid: number | undefined) {
    const who =
      pid === undefined ? 'another process' : pid === process.pid ? `another store in this process (pid ${pid})` : `another netemitter process (pid ${pid})`;
    super(StoreErrorCode.STORE_IN_USE, `store: ${dir} is in use by ${who}`);
    this.dir = dir;
    this.pid = pid;
  }
}
