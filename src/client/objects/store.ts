/**
 * An object store: `await bus.objects('files')`, for payloads too large for
 * one message. put() streams the content in chunks (a bounded number of
 * publishes in flight), hashing as it goes, then writes the metadata; get()
 * returns the content as a Readable. Layout in types.ts.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BucketNotFoundError, ObjectStoreError } from '../../errors.js';
import type { PubAck } from '../jetstream/types.js';
import { nanos, type StreamConfig, type StreamInfo } from '../jetstream/types.js';
import { getStored } from '../jetstream/direct.js';
import { readAll } from '../jetstream/ordered.js';
import type { KvDeps } from '../kv/bucket.js';
import { checkBucket } from '../kv/keys.js';
import { randomToken } from '../token.js';
import { base64urlPadded, digestOf, objectReader } from './reader.js';
import {
  OBJ_STREAM_PREFIX,
  OBJ_SUBJECT_PREFIX,
  ObjectDefaults,
  type ObjectInfo,
  type ObjectMeta,
  type ObjectStoreOptions,
  type PutObjectOptions,
} from './types.js';

const ROLLUP = { 'Nats-Rollup': 'sub' } as const;

/** What put() takes: bytes, text (UTF-8), or a stream / async iterable of chunks. */
export type ObjectSource = Uint8Array | string | Readable | AsyncIterable<Uint8Array | string>;

export function storeConfig(bucket: string, o: ObjectStoreOptions): StreamConfig {
  for (const k of ['ttl', 'maxBytes', 'replicas'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < (k === 'ttl' ? 0 : 1))) throw new TypeError(`object store option ${k} must be a ${k === 'ttl' ? 'non-negative' : 'positive'} integer, got ${String(v)}`);
  }
  if (o.storage !== undefined && o.storage !== 'file' && o.storage !== 'memory') throw new TypeError(`object store option storage must be 'file' or 'memory', got ${JSON.stringify(o.storage)}`);
  const c: StreamConfig = {
    name: `${OBJ_STREAM_PREFIX}${bucket}`,
    subjects: [`${OBJ_SUBJECT_PREFIX}.${bucket}.C.>`, `${OBJ_SUBJECT_PREFIX}.${bucket}.M.>`],
    retention: 'limits',
    storage: o.storage ?? 'file',
    discard: 'new',
    max_age: nanos(o.ttl ?? 0),
    max_bytes: o.maxBytes ?? -1,
    num_replicas: o.replicas ?? 1,
    allow_rollup_hdrs: true,
    allow_direct: true,
  };
  if (o.description !== undefined) c.description = o.description;
  return c;
}

function checkObjectName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`an object name is a non-empty string, got ${JSON.stringify(name)}`);
  return name;
}

function toInfo(meta: ObjectMeta, revision: number): ObjectInfo {
  return {
    bucket: meta.bucket,
    name: meta.name,
    description: meta.description === '' ? undefined : meta.description,
    headers: meta.headers,
    size: meta.size,
    chunks: meta.chunks,
    digest: meta.digest,
    mtime: new Date(meta.mtime),
    nuid: meta.nuid,
    revision,
    deleted: meta.deleted === true,
  };
}

function parseMeta(data: Buffer, where: string): ObjectMeta {
  let m: unknown;
  try {
    m = JSON.parse(data.toString('utf8'));
  } catch {
    throw new ObjectStoreError(`the metadata record at ${where} is not JSON`);
  }
  const o = m as Partial<ObjectMeta> | null;
  if (o === null || typeof o !== 'object' || typeof o.name !== 'string' || typeof o.nuid !== 'string') {
    throw new ObjectStoreError(`the metadata record at ${where} is not an object's`);
  }
  return { ...o, size: Number(o.size ?? 0), chunks: Number(o.chunks ?? 0), digest: String(o.digest ?? ''), mtime: String(o.mtime ?? ''), bucket: String(o.bucket ?? '') } as ObjectMeta;
}

/** Content as chunks of bytes, whatever form it came in. */
async function* bytesOf(source: ObjectSource): AsyncGenerator<Buffer> {
  if (typeof source === 'string') yield Buffer.from(source, 'utf8');
  else if (source instanceof Uint8Array) yield Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  else if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) {
    for await (const c of source as AsyncIterable<unknown>) {
      if (typeof c === 'string') yield Buffer.from(c, 'utf8');
      else if (c instanceof Uint8Array) yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      else throw new TypeError('an object\'s stream must yield bytes or strings');
    }
  } else throw new TypeError('put() takes a Uint8Array, a string, or a Readable / async iterable of bytes');
}

export class ObjectStore {
  readonly bucket: string;
  /** The stream behind the store: OBJ_<bucket>. */
  readonly stream: string;
  readonly #deps: KvDeps;
  #direct: boolean;

  static async open(deps: KvDeps, bucket: string, opts: ObjectStoreOptions = {}): Promise<ObjectStore> {
    checkBucket(bucket, 'object store');
    const config = storeConfig(bucket, opts);
    const info = await deps.streams.bind(config, opts.create !== false);
    if (info === null) throw new BucketNotFoundError(bucket);
    return new ObjectStore(deps, bucket, info);
  }

  private constructor(deps: KvDeps, bucket: string, info: StreamInfo) {
    this.#deps = deps;
    this.bucket = bucket;
    this.stream = info.config.name;
    this.#direct = info.config.allow_direct === true;
  }

  /**
   * The name's UTF-8 bytes in base64url, padded, as nats.go (and so the nats
   * CLI) writes it. nats.js uses btoa on the string: the same for ASCII names,
   * Latin-1 bytes for U+0080…U+00FF, and an exception beyond.
   */
  private metaSubject(name: string): string {
    return `${OBJ_SUBJECT_PREFIX}.${this.bucket}.M.${base64urlPadded(Buffer.from(name, 'utf8'))}`;
  }

  private chunkSubject(nuid: string): string {
    return `${OBJ_SUBJECT_PREFIX}.${this.bucket}.C.${nuid}`;
  }

  /** The metadata record, deleted ones included. */
  private async meta(name: string): Promise<{ meta: ObjectMeta; revision: number } | null> {
    const subject = this.metaSubject(checkObjectName(name));
    const m = await getStored(this.#deps.js, this.stream, { lastBySubject: subject }, this.#direct, () => (this.#direct = false));
    if (m === null || m.subject !== subject) return null;
    return { meta: parseMeta(m.data, subject), revision: m.seq };
  }

  /** An object's metadata, or null when there is none (or it was deleted). */
  async info(name: string): Promise<ObjectInfo | null> {
    const r = await this.meta(name);
    return r === null || r.meta.deleted === true ? null : toInfo(r.meta, r.revision);
  }

  /**
   * Stores an object (replacing any of that name) from bytes, text, or a
   * stream; resolves with its metadata once the metadata is stored.
   */
  async put(name: string, source: ObjectSource, opts: PutObjectOptions = {}): Promise<ObjectInfo> {
    checkObjectName(name);
    const max = this.#deps.host.info?.max_payload ?? ObjectDefaults.chunkSize;
    const want = opts.chunkSize ?? ObjectDefaults.chunkSize;
    if (!Number.isInteger(want) || want < 1) throw new TypeError(`put option chunkSize must be a positive integer, got ${String(want)}`);
    const chunkSize = Math.min(want, max);
    const window = opts.maxInFlight ?? ObjectDefaults.maxInFlight;
    if (!Number.isInteger(window) || window < 1) throw new TypeError(`put option maxInFlight must be a positive integer, got ${String(window)}`);
    const old = await this.meta(name);
    const nuid = randomToken(22);
    const chunkSubject = this.chunkSubject(nuid);
    const hash = createHash('sha256');
    const js = this.#deps.js;
    let size = 0;
    let chunks = 0;
    const inFlight: Promise<PubAck>[] = [];
    const send = async (chunk: Buffer): Promise<void> => {
      hash.update(chunk);
      size += chunk.length;
      chunks++;
      const p = js.publish(chunkSubject, chunk);
      p.catch(() => {}); // awaited below, in order
      inFlight.push(p);
      if (inFlight.length >= window) await inFlight.shift();
    };
    try {
      let parts: Buffer[] = [];
      let have = 0;
      for await (const b of bytesOf(source)) {
        parts.push(b);
        have += b.length;
        while (have >= chunkSize) {
          const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
          await send(all.subarray(0, chunkSize));
          const rest = all.subarray(chunkSize);
          parts = rest.length === 0 ? [] : [rest];
          have = rest.length;
        }
      }
      if (have > 0) await send(parts.length === 1 ? parts[0]! : Buffer.concat(parts, have));
      for (const p of inFlight.splice(0)) await p;
    } catch (err) {
      await Promise.allSettled(inFlight);
      await this.#deps.streams.purge(this.stream, { filter: chunkSubject }).catch(() => {});
      throw err;
    }
    const meta: ObjectMeta = {
      name,
      description: opts.description ?? '',
      options: { max_chunk_size: chunkSize },
      bucket: this.bucket,
      nuid,
      size,
      chunks,
      mtime: new Date().toISOString(),
      digest: digestOf(hash.digest()),
      deleted: false,
    };
    if (opts.headers !== undefined) {
      meta.headers = Object.fromEntries(Object.entries(opts.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : [String(v)]]));
    }
    const ack = await js.publish(this.metaSubject(name), Buffer.from(JSON.stringify(meta)), { headers: ROLLUP });
    // The new version is live: the old one's chunks can go.
    if (old !== null && old.meta.nuid !== nuid) await this.#deps.streams.purge(this.stream, { filter: this.chunkSubject(old.meta.nuid) }).catch(() => {});
    return toInfo(meta, ack.seq);
  }

  /** The object's content as a Readable, with its metadata; null when there is no such object. */
  async get(name: string): Promise<{ info: ObjectInfo; data: Readable } | null> {
    const info = await this.info(name);
    if (info === null) return null;
    return { info, data: objectReader(this.#deps.host, this.#deps.consumers, this.stream, this.chunkSubject(info.nuid), info) };
  }

  /** The whole content in one Buffer (for small objects); null when there is no such object. */
  async getBytes(name: string): Promise<Buffer | null> {
    const r = await this.get(name);
    if (r === null) return null;
    const parts: Buffer[] = [];
    for await (const c of r.data) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  /** Every object's metadata (deleted ones left out). */
  async list(): Promise<ObjectInfo[]> {
    const msgs = await readAll(this.#deps.host, this.#deps.consumers, {
      stream: this.stream,
      filter: `${OBJ_SUBJECT_PREFIX}.${this.bucket}.M.>`,
      deliverPolicy: 'last_per_subject',
    });
    return msgs.map((m) => toInfo(parseMeta(m.data, m.subject), m.seq)).filter((i) => !i.deleted);
  }

  /** Deletes an object: a deleted marker as its metadata, and its chunks purged. False when there was none. */
  async delete(name: string): Promise<boolean> {
    const r = await this.meta(name);
    if (r === null || r.meta.deleted === true) return false;
    const meta: ObjectMeta = { ...r.meta, deleted: true, size: 0, chunks: 0, digest: '', mtime: new Date().toISOString() };
    await this.#deps.js.publish(this.metaSubject(r.meta.name), Buffer.from(JSON.stringify(meta)), { headers: ROLLUP });
    await this.#deps.streams.purge(this.stream, { filter: this.chunkSubject(r.meta.nuid) });
    return true;
  }

  /** Deletes the store and everything in it. */
  async destroy(): Promise<boolean> {
    return this.#deps.streams.delete(this.stream);
  }
}

/** The names of the object stores on the server (streams named OBJ_…). */
export async function storeNames(deps: Pick<KvDeps, 'streams'>): Promise<string[]> {
  return (await deps.streams.names()).filter((n) => n.startsWith(OBJ_STREAM_PREFIX)).map((n) => n.slice(OBJ_STREAM_PREFIX.length)).sort();
}
