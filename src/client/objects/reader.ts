/**
 * An object's content as a Readable: its chunks from an ordered push
 * consumer, hashed as they pass. The Readable's backpressure holds the
 * consumer's flow control, so a slow reader keeps at most the server's
 * flow-control window in memory, whatever the object's size. At the last
 * chunk the size and SHA-256 digest are checked: a mismatch fails the stream
 * with DigestMismatchError instead of ending it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DigestMismatchError, ObjectStoreError } from '../../errors.js';
import type { JsHost } from '../jetstream/api.js';
import type { Consumers } from '../jetstream/manage.js';
import { OrderedConsumer } from '../jetstream/ordered.js';
import { DIGEST_PREFIX, type ObjectInfo } from './types.js';

/** base64url with padding, as nats.js and nats.go write digests and meta subjects. */
export function base64urlPadded(b: Buffer): string {
  return b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export function digestOf(hash: Buffer): string {
  return `${DIGEST_PREFIX}${base64urlPadded(hash)}`;
}

/** Digests compare by bytes: another client may write them unpadded or in standard base64. */
function sameDigest(expected: string, hash: Buffer): boolean {
  if (!expected.startsWith(DIGEST_PREFIX)) return false;
  const b64 = expected.slice(DIGEST_PREFIX.length).replace(/-/g, '+').replace(/_/g, '/');
  return Buffer.from(b64, 'base64').equals(hash);
}

export function objectReader(host: JsHost, consumers: Consumers, stream: string, chunkSubject: string, info: ObjectInfo): Readable {
  const hash = createHash('sha256');
  let size = 0;
  let chunks = 0;
  let consumer: OrderedConsumer | null = null;
  const finish = (r: Readable): void => {
    consumer?.stop();
    const d = hash.digest();
    if (size !== info.size || !sameDigest(info.digest, d)) {
      r.destroy(new DigestMismatchError(info.name, `${info.digest} (${info.size} bytes)`, `${digestOf(d)} (${size} bytes)`));
    } else r.push(null);
  };
  const readable = new Readable({
    read() {
      if (consumer === null) {
        if (info.chunks === 0) return finish(this);
        consumer = new OrderedConsumer(host, consumers, { stream, filter: chunkSubject, deliverPolicy: 'all', retry: false }, {
          message: (m) => {
            if (readable.destroyed) return;
            chunks++;
            size += m.data.length;
            hash.update(m.data);
            const more = readable.push(m.data);
            if (chunks >= info.chunks || m.pending === 0) return finish(readable);
            if (!more) consumer!.hold = true;
          },
          created: (ci, first) => {
            // The chunks are gone (a newer version purged them, or the TTL did): say so, not "corrupt".
            if (first && ci.num_pending === 0 && ci.delivered.consumer_seq === 0 && chunks === 0) readable.destroy(new ObjectStoreError(`object ${JSON.stringify(info.name)}: its chunks are no longer stored`));
          },
          failed: (err) => readable.destroy(new ObjectStoreError(`object ${JSON.stringify(info.name)}: ${err.message}`, { cause: err })),
        });
        consumer.start();
        return;
      }
      consumer.hold = false;
    },
    destroy(err, callback) {
      consumer?.stop();
      callback(err);
    },
  });
  return readable;
}
