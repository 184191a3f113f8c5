/**
 * Watching a bucket: `kv.watch(filter, opts)`. The current value of each
 * matching key first (or every revision, or none), then `ready`, then every
 * change as it is stored, on an ordered push consumer (ordered.ts).
 *
 * Two ways to read it, like a Node stream:
 *   - events: `watch.on('put' | 'delete' | 'change', (entry) => …)`, `on('ready')`;
 *   - an async iterator: `for await (const entry of watch)`.
 * Entries wait in a bounded queue for the iterator (and while nobody reads
 * at all); past `highWaterMark` the server is paused through flow control,
 * so a slow reader never grows memory without bound. Once a change
 * listener is added and no iterator runs, the queue goes to the listeners.
 *
 * keys() and history() read the same way until the initial values end.
 */
import { EventEmitter } from 'node:events';
import { ClosedError, WatchError } from '../../errors.js';
import type { JsHost } from '../jetstream/api.js';
import type { Consumers } from '../jetstream/manage.js';
import { onLifecycle } from '../jetstream/lifecycle.js';
import { OrderedConsumer, type OrderedMsg, type OrderedOptions } from '../jetstream/ordered.js';
import type { ConsumerInfo } from '../jetstream/types.js';
import { toEntry } from './keys.js';
import { KvDefaults, KvOperation, type KvEntry } from './types.js';

export interface KvWatchEvents {
  /** Every entry (PUT, DEL, PURGE). */
  change: [entry: KvEntry];
  put: [entry: KvEntry];
  /** A DEL or PURGE entry. */
  delete: [entry: KvEntry];
  /** The initial values have all been delivered; updates follow. */
  ready: [];
  /** The consumer behind the watch failed; the watch keeps trying. */
  error: [err: Error];
}

/** @internal What a watch reads: the bucket's stream and a filter subject. */
export interface WatchSource {
  host: JsHost;
  consumers: Consumers;
  bucket: string;
  stream: string;
}

type Policy = OrderedOptions['deliverPolicy'];

const DATA_EVENTS = new Set<string | symbol>(['change', 'put', 'delete']);

/**
 * The listener methods spelled out beside Node's EventEmitter's, for a
 * browser TypeScript project without Node's types (docs/browser.md).
 */
export interface KvWatch {
  on<K extends keyof KvWatchEvents>(event: K, listener: (...args: KvWatchEvents[K]) => void): this;
  once<K extends keyof KvWatchEvents>(event: K, listener: (...args: KvWatchEvents[K]) => void): this;
  off<K extends keyof KvWatchEvents>(event: K, listener: (...args: KvWatchEvents[K]) => void): this;
}

export class KvWatch extends EventEmitter<KvWatchEvents> implements AsyncIterable<KvEntry> {
  /** Resolves once the initial values have been delivered (at once for updates only). */
  readonly ready: Promise<void>;
  private readonly bucket: string;
  private readonly consumer: OrderedConsumer;
  private readonly ignoreDeletes: boolean;
  private readonly highWaterMark: number;
  private readonly host: JsHost;
  private readonly queue: KvEntry[] = [];
  private waiter: ((r: IteratorResult<KvEntry>) => void) | null = null;
  private iterating = false;
  private isReady = false;
  private received = 0;
  private stopped = false;
  private resolveReady!: () => void;
  private offClose: (() => void) | null = null;

  /** @internal bucket.watch() makes it. */
  constructor(src: WatchSource, filterSubject: string, policy: Policy, opts: { ignoreDeletes?: boolean; highWaterMark?: number; headersOnly?: boolean; retry?: boolean; heartbeat?: number }) {
    super();
    if (src.host.isClosed) throw new ClosedError();
    this.bucket = src.bucket;
    this.host = src.host;
    this.ignoreDeletes = opts.ignoreDeletes === true;
    const hwm = opts.highWaterMark ?? KvDefaults.watchHighWaterMark;
    if (!Number.isInteger(hwm) || hwm < 1) throw new TypeError(`watch option highWaterMark must be a positive integer, got ${String(hwm)}`);
    this.highWaterMark = hwm;
    const hb = opts.heartbeat;
    if (hb !== undefined && (!Number.isInteger(hb) || hb < 100)) throw new TypeError(`watch option heartbeat must be an integer of at least 100 ms, got ${String(hb)}`);
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    (this as EventEmitter).on('newListener', (name: string | symbol) => {
      // A listener added after entries queued up for nobody: they go to it.
      if (DATA_EVENTS.has(name) && !this.iterating && this.queue.length > 0) queueMicrotask(() => this.flushToListeners());
    });
    this.consumer = new OrderedConsumer(
      src.host,
      src.consumers,
      { stream: src.stream, filter: filterSubject, deliverPolicy: policy, headersOnly: opts.headersOnly, retry: opts.retry !== false, heartbeat: hb },
      {
        message: (m) => this.message(m),
        created: (info, first) => this.created(info, first),
        failed: (err, retrying) => this.failed(err, retrying),
      },
    );
    this.offClose = onLifecycle(src.host, 'close', () => this.stop());
    this.consumer.start();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Entries waiting for the iterator. */
  get buffered(): number {
    return this.queue.length;
  }

  private created(info: ConsumerInfo, first: boolean): void {
    if (!first || this.isReady) return;
    if (info.num_pending === 0 && info.delivered.consumer_seq <= this.received) this.signalReady();
  }

  private message(m: OrderedMsg): void {
    this.received++;
    const e = toEntry(this.bucket, m.subject, m.seq, m.time, m.headers, m.data, this.isReady ? undefined : m.pending);
    if (!(this.ignoreDeletes && e.operation !== KvOperation.PUT)) this.push(e);
    if (!this.isReady && m.pending === 0) this.signalReady();
  }

  private signalReady(): void {
    this.isReady = true;
    this.resolveReady();
    this.emit('ready');
  }

  private hasListeners(): boolean {
    return this.listenerCount('change') + this.listenerCount('put') + this.listenerCount('delete') > 0;
  }

  private push(e: KvEntry): void {
    const listening = this.hasListeners();
    if (listening) this.emitEntry(e);
    if (!this.iterating && listening) return;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: e, done: false });
      return;
    }
    this.queue.push(e);
    if (this.queue.length >= this.highWaterMark) this.consumer.hold = true;
  }

  private emitEntry(e: KvEntry): void {
    this.emit('change', e);
    this.emit(e.operation === KvOperation.PUT ? 'put' : 'delete', e);
  }

  private flushToListeners(): void {
    if (this.iterating || !this.hasListeners()) return;
    for (const e of this.queue.splice(0)) this.emitEntry(e);
    this.consumer.hold = false;
  }

  private failed(err: Error, retrying: boolean): void {
    const e = new WatchError(`watch on bucket ${this.bucket}: ${err.message}`, { cause: err });
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else this.host.reportError(e);
    if (!retrying) this.stop();
  }

  [Symbol.asyncIterator](): AsyncIterator<KvEntry> {
    this.iterating = true;
    return {
      next: () => this.next(),
      return: () => {
        this.stop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private next(): Promise<IteratorResult<KvEntry>> {
    const e = this.queue.shift();
    if (e !== undefined) {
      if (this.queue.length < this.highWaterMark / 2) this.consumer.hold = false;
      return Promise.resolve({ value: e, done: false });
    }
    if (this.stopped) return Promise.resolve({ value: undefined, done: true });
    this.consumer.hold = false;
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Stops watching: the consumer is deleted and the iterator ends (after the entries already queued). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.offClose?.();
    this.consumer.stop();
    const w = this.waiter;
    this.waiter = null;
    w?.({ value: undefined, done: true });
  }
}

/**
 * Reads the initial values of a filter and stops: what keys() and history()
 * return. Fails on the first error instead of retrying.
 */
export function collect(src: WatchSource, filterSubject: string, policy: Policy, headersOnly: boolean): Promise<KvEntry[]> {
  return new Promise((resolve, reject) => {
    const out: KvEntry[] = [];
    if (src.host.isClosed) return reject(new ClosedError());
    const w = new KvWatch(src, filterSubject, policy, { headersOnly, retry: false, highWaterMark: Number.MAX_SAFE_INTEGER });
    // The bus closed before the end: the watch stopped without a ready.
    const onClose = (): void => reject(new WatchError(`bucket ${src.bucket}: the connection closed before the entries were all read`));
    const end = (err?: Error): void => {
      offClose();
      w.stop();
      if (err === undefined) resolve(out);
      else reject(err);
    };
    w.on('change', (e) => void out.push(e));
    w.once('error', (err) => end(err));
    w.once('ready', () => end());
    const offClose = onLifecycle(src.host, 'close', onClose);
    // It failed before the listeners were on (the bus was closing): nothing more will come.
    if (w.isStopped) end(new WatchError(`bucket ${src.bucket}: the read could not start`));
  });
}
