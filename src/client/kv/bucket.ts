/**
 * A key-value bucket: `await bus.kv('config')`. Each call is one stream
 * operation in the NATS KV layout (types.ts), so the bucket is shared with
 * nats.js, nats.go and the nats CLI:
 *
 *   get      direct get {last_by_subj: $KV.<b>.<key>}   (STREAM.MSG.GET without allow_direct)
 *   put      publish $KV.<b>.<key>                        → revision = the stream sequence
 *   create   put with Nats-Expected-Last-Subject-Sequence: 0 (or the revision of a delete marker)
 *   update   put with Nats-Expected-Last-Subject-Sequence: <revision>
 *   keys / history / watch   an ordered push consumer on $KV.<b>.<filter>
 */
import { encodePayload } from '../codec.js';
import { BucketNotFoundError, JetStreamApiError, KeyExistsError, WrongRevisionError } from '../../errors.js';
import type { JetStreamClient, JsHost, PublishOptions } from '../jetstream/api.js';
import type { Consumers, Streams } from '../jetstream/manage.js';
import { getStored } from '../jetstream/direct.js';
import { nanos, millis, type StreamConfig, type StreamInfo } from '../jetstream/types.js';
import { checkBucket, checkFilter, checkKey, keySubject, toEntry } from './keys.js';
import { collect, KvWatch, type WatchSource } from './watch.js';
import {
  KV_OPERATION_HEADER,
  KV_STREAM_PREFIX,
  KV_SUBJECT_PREFIX,
  KvDefaults,
  KvOperation,
  type KvEntry,
  type KvOptions,
  type KvStatus,
  type WatchOptions,
} from './types.js';

/** JetStream's error numbers the bucket turns into its own errors. */
const WRONG_LAST_SEQUENCE = 10071;
const ROLLUP_HEADER = 'Nats-Rollup';
/** nats-server's duplicate window, unless the TTL is shorter. */
const DUPLICATE_WINDOW_MS = 120_000;

/** @internal What a bucket needs from the bus. */
export interface KvDeps {
  host: JsHost;
  js: JetStreamClient;
  streams: Streams;
  consumers: Consumers;
}

function checkPositive(name: string, v: unknown, allowZero = false): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new TypeError(`kv option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(v)}`);
  }
}

/** The stream config of a bucket, as nats.js and nats.go make it. */
export function bucketConfig(bucket: string, o: KvOptions): StreamConfig {
  checkPositive('history', o.history);
  if (o.history !== undefined && o.history > KvDefaults.maxHistory) throw new TypeError(`kv option history must be at most ${KvDefaults.maxHistory}, got ${o.history}`);
  checkPositive('ttl', o.ttl, true);
  checkPositive('maxValueSize', o.maxValueSize);
  checkPositive('maxBytes', o.maxBytes);
  checkPositive('replicas', o.replicas);
  if (o.storage !== undefined && o.storage !== 'file' && o.storage !== 'memory') throw new TypeError(`kv option storage must be 'file' or 'memory', got ${JSON.stringify(o.storage)}`);
  const ttl = o.ttl ?? 0;
  const c: StreamConfig = {
    name: `${KV_STREAM_PREFIX}${bucket}`,
    subjects: [`${KV_SUBJECT_PREFIX}.${bucket}.>`],
    retention: 'limits',
    storage: o.storage ?? 'file',
    discard: 'new',
    max_msgs_per_subject: o.history ?? KvDefaults.history,
    max_msgs: -1,
    max_bytes: o.maxBytes ?? -1,
    max_msg_size: o.maxValueSize ?? -1,
    max_age: nanos(ttl),
    duplicate_window: nanos(ttl > 0 && ttl < DUPLICATE_WINDOW_MS ? ttl : DUPLICATE_WINDOW_MS),
    num_replicas: o.replicas ?? 1,
    allow_rollup_hdrs: true,
    deny_delete: true,
    deny_purge: false,
    allow_direct: true,
  };
  if (o.description !== undefined) c.description = o.description;
  return c;
}

/** The revision the server says a key is at, from "wrong last sequence: 5". */
function actualRevision(err: JetStreamApiError): number | undefined {
  const m = /last sequence: (\d+)/.exec(err.description);
  return m === null ? undefined : Number(m[1]);
}

function isWrongRevision(err: unknown): err is JetStreamApiError {
  return err instanceof JetStreamApiError && err.errCode === WRONG_LAST_SEQUENCE;
}

export class KvBucket {
  readonly bucket: string;
  /** The stream behind the bucket: KV_<bucket>. */
  readonly stream: string;
  readonly #deps: KvDeps;
  #direct: boolean;

  /** Creates the bucket unless it exists (or binds only, with `create: false`). */
  static async open(deps: KvDeps, bucket: string, opts: KvOptions = {}): Promise<KvBucket> {
    checkBucket(bucket);
    const config = bucketConfig(bucket, opts);
    const info = await deps.streams.bind(config, opts.create !== false);
    if (info === null) throw new BucketNotFoundError(bucket);
    return new KvBucket(deps, bucket, info);
  }

  private constructor(deps: KvDeps, bucket: string, info: StreamInfo) {
    this.#deps = deps;
    this.bucket = bucket;
    this.stream = info.config.name;
    this.#direct = info.config.allow_direct === true;
  }

  private subject(key: string): string {
    return keySubject(this.bucket, checkKey(key));
  }

  private get source(): WatchSource {
    return { host: this.#deps.host, consumers: this.#deps.consumers, bucket: this.bucket, stream: this.stream };
  }

  /** The key's current value, or null when it has none (never written, deleted, purged, expired). */
  async get(key: string, opts: { revision?: number } = {}): Promise<KvEntry | null> {
    const subject = this.subject(key);
    checkPositive('revision', opts.revision);
    const e = await this.read(subject, opts.revision);
    return e === null || e.operation !== KvOperation.PUT ? null : e;
  }

  /** The last entry of a key, delete markers included. */
  private async read(subject: string, revision?: number): Promise<KvEntry | null> {
    const query = revision === undefined ? { lastBySubject: subject } : { seq: revision };
    const m = await getStored(this.#deps.js, this.stream, query, this.#direct, () => (this.#direct = false));
    if (m === null || m.subject !== subject) return null;
    return toEntry(this.bucket, m.subject, m.seq, m.time, m.headers, m.data);
  }

  private async write(subject: string, data: Buffer, headers: Record<string, string>, expect: number | undefined, timeout?: number): Promise<number> {
    const o: PublishOptions = { headers };
    if (expect !== undefined) o.expect = { lastSubjectSequence: expect };
    if (timeout !== undefined) o.timeout = timeout;
    const ack = await this.#deps.js.publish(subject, data, o);
    return ack.seq;
  }

  /** Stores a value; resolves with its revision. */
  async put(key: string, value: unknown, opts: { timeout?: number } = {}): Promise<number> {
    const subject = this.subject(key);
    return this.write(subject, encodePayload(value, subject), {}, undefined, opts.timeout);
  }

  /** Stores a value only if the key has none; KeyExistsError otherwise. */
  async create(key: string, value: unknown): Promise<number> {
    const subject = this.subject(key);
    const data = encodePayload(value, subject);
    try {
      return await this.write(subject, data, {}, 0);
    } catch (err) {
      if (!isWrongRevision(err)) throw err;
    }
    // A deleted or purged key has a marker as its last revision: it counts as having no value.
    const last = await this.read(subject);
    if (last === null || last.operation === KvOperation.PUT) throw new KeyExistsError(key, last?.revision ?? 0);
    try {
      return await this.write(subject, data, {}, last.revision);
    } catch (err) {
      if (isWrongRevision(err)) throw new KeyExistsError(key, actualRevision(err) ?? 0);
      throw err;
    }
  }

  /** Stores a value only if the key is still at `revision`; WrongRevisionError otherwise. */
  async update(key: string, value: unknown, revision: number): Promise<number> {
    const subject = this.subject(key);
    checkPositive('revision', revision);
    if (revision === undefined) throw new TypeError('update() needs the revision the key must be at');
    try {
      return await this.write(subject, encodePayload(value, subject), {}, revision);
    } catch (err) {
      if (isWrongRevision(err)) throw new WrongRevisionError(key, revision, actualRevision(err));
      throw err;
    }
  }

  /** Marks the key deleted (its history stays, up to the bucket's `history`). */
  async delete(key: string, opts: { revision?: number } = {}): Promise<void> {
    await this.marker(key, KvOperation.DEL, opts.revision);
  }

  /** Deletes the key and every revision of it before this marker. */
  async purge(key: string, opts: { revision?: number } = {}): Promise<void> {
    await this.marker(key, KvOperation.PURGE, opts.revision);
  }

  private async marker(key: string, op: KvOperation, revision: number | undefined): Promise<void> {
    const subject = this.subject(key);
    checkPositive('revision', revision);
    const h: Record<string, string> = { [KV_OPERATION_HEADER]: op };
    if (op === KvOperation.PURGE) h[ROLLUP_HEADER] = 'sub';
    try {
      await this.write(subject, Buffer.alloc(0), h, revision);
    } catch (err) {
      if (isWrongRevision(err) && revision !== undefined) throw new WrongRevisionError(key, revision, actualRevision(err));
      throw err;
    }
  }

  /** Keys that have a value, matching `filter` ('*' one token, '>' the rest). */
  async keys(filter = '>'): Promise<string[]> {
    const entries = await collect(this.source, keySubject(this.bucket, checkFilter(filter)), 'last_per_subject', true);
    return entries.filter((e) => e.operation === KvOperation.PUT).map((e) => e.key);
  }

  /** Every stored revision of the keys matching `filter`, oldest first, delete markers included. */
  async history(filter = '>'): Promise<KvEntry[]> {
    return collect(this.source, keySubject(this.bucket, checkFilter(filter)), 'all', false);
  }

  /**
   * Watches the keys matching `filter`: their current values first (see
   * WatchOptions), then `ready`, then every change. Stop it with stop(), or
   * by leaving a for-await loop.
   */
  watch(filter = '>', opts: WatchOptions = {}): KvWatch {
    const subject = keySubject(this.bucket, checkFilter(filter));
    const policy = opts.initial === false ? 'new' : opts.history === true ? 'all' : 'last_per_subject';
    return new KvWatch(this.source, subject, policy, { ignoreDeletes: opts.ignoreDeletes, highWaterMark: opts.highWaterMark, heartbeat: opts.heartbeat });
  }

  /** The bucket's settings and size. */
  async status(): Promise<KvStatus> {
    const info = await this.#deps.streams.info(this.stream);
    const c = info.config;
    return {
      bucket: this.bucket,
      values: info.state.messages,
      bytes: info.state.bytes,
      history: c.max_msgs_per_subject ?? 1,
      ttl: millis(c.max_age ?? 0),
      storage: c.storage,
      description: c.description,
      stream: this.stream,
    };
  }

  /** Deletes the bucket and everything in it. */
  async destroy(): Promise<boolean> {
    return this.#deps.streams.delete(this.stream);
  }
}

/** The names of the buckets on the server (streams named KV_…). */
export async function bucketNames(streams: Streams): Promise<string[]> {
  return (await streams.names()).filter((n) => n.startsWith(KV_STREAM_PREFIX)).map((n) => n.slice(KV_STREAM_PREFIX.length)).sort();
}
