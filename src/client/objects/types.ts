/**
 * The object store's shapes. The store is a stream laid out as the NATS
 * object store (ADR-20), so nats.js, nats.go and the nats CLI read what it
 * writes and the reverse:
 *
 *   stream   OBJ_<bucket>   subjects ["$O.<bucket>.C.>", "$O.<bucket>.M.>"], allow_rollup_hdrs, allow_direct
 *   chunks   $O.<bucket>.C.<nuid>                one message per chunk (128 KiB), in order
 *   meta     $O.<bucket>.M.<base64url(name)>    JSON (ObjectMeta), Nats-Rollup: sub, written last
 *
 * A new version gets a new nuid; once its meta is stored the old chunks are
 * purged. A delete writes a meta with `deleted: true` and purges the chunks.
 */
import type { StorageType } from '../jetstream/types.js';

export const ObjectDefaults = {
  /** Bytes per chunk (capped by the server's max_payload), as the official clients. */
  chunkSize: 128 * 1024,
  /** Chunks published and not yet acknowledged, per put. */
  maxInFlight: 4,
} as const;

export const OBJ_STREAM_PREFIX = 'OBJ_';
export const OBJ_SUBJECT_PREFIX = '$O';
/** How the digest is written: the algorithm, then the base64url (padded) bytes. */
export const DIGEST_PREFIX = 'SHA-256=';

export interface ObjectStoreOptions {
  description?: string;
  /** ms an object lives (the stream's max_age); 0 or unset: forever. */
  ttl?: number;
  /** 'file' (default) or 'memory'. */
  storage?: StorageType;
  /** Most bytes the store holds; unset: no limit. */
  maxBytes?: number;
  /** Copies in a cluster. Default 1. */
  replicas?: number;
  /** false: bind to an existing store only (BucketNotFoundError if there is none). Default true. */
  create?: boolean;
}

export interface PutObjectOptions {
  description?: string;
  /** Headers kept in the object's metadata. */
  headers?: Record<string, string | string[]>;
  /** Bytes per chunk; capped by the server's max_payload. Default 128 KiB. */
  chunkSize?: number;
  /** Chunks published and not yet acknowledged: memory held is about chunkSize × this. Default 4. */
  maxInFlight?: number;
}

/** An object's metadata. */
export interface ObjectInfo {
  readonly bucket: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly headers: Record<string, string[]> | undefined;
  /** Bytes. */
  readonly size: number;
  readonly chunks: number;
  /** `SHA-256=<base64url>` of the content. */
  readonly digest: string;
  /** When this version was stored. */
  readonly mtime: Date;
  /** Names the version's chunks: $O.<bucket>.C.<nuid>. */
  readonly nuid: string;
  /** Stream sequence of the metadata record. */
  readonly revision: number;
  readonly deleted: boolean;
}

/** @internal The metadata record as stored (JSON), nats.js's and nats.go's field names. */
export interface ObjectMeta {
  name: string;
  description?: string;
  headers?: Record<string, string[]>;
  options?: { max_chunk_size?: number; link?: unknown };
  metadata?: Record<string, string>;
  bucket: string;
  nuid: string;
  size: number;
  chunks: number;
  mtime: string;
  digest: string;
  deleted?: boolean;
}
