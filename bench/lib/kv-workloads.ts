/**
 * The workloads of `npm run bench:kv` (bench/kv.ts): key-value buckets and
 * object stores through the official clients (@nats-io/kv, @nats-io/obj on
 * @nats-io/transport-node), the same client for every server.
 *
 * Each workload opens its own connections (closed when it ends, or when the
 * harness gives up on it), so one that fails or hangs leaves nothing behind
 * that could skew the next. Each checks what it measured (every get found
 * its value, every watcher saw every update, every object came back whole)
 * and throws otherwise: a figure is only reported for work that was done.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';

export interface KvBenchOptions {
  /** Operations one at a time (put, get). */
  serial: number;
  /** Operations with `inflight` outstanding (put, get). */
  window: number;
  inflight: number;
  /** Bytes per value. */
  valueSize: number;
  /** Distinct keys the puts cycle through and the gets read. */
  keys: number;
  /** Updates in the watch fan-out, each to every watcher. */
  updates: number;
  watchers: number;
  /** Bytes per object, and objects per run (put, then get). */
  objectSize: number;
  objects: number;
}

/** Opens a connection that the harness closes after the workload. */
export type Connector = () => Promise<NatsConnection>;

export interface KvWorkload {
  readonly id: string;
  label(o: KvBenchOptions): string;
  /** What the figure counts, per second. */
  readonly unit: string;
  /** The figure (per second; higher is better). */
  run(open: Connector, o: KvBenchOptions): Promise<number>;
}

const WARMUP = 200;

/** Starts a connection set for one workload; `close()` ends them all. */
export function connections(url: string): { open: Connector; close: () => Promise<void> } {
  const open = new Set<NatsConnection>();
  let closed = false;
  return {
    async open() {
      const nc = await connect({ servers: url, maxReconnectAttempts: 0 });
      // A workload given up on may still be connecting: what it gets then is closed at once.
      if (closed) {
        await nc.close().catch(() => {});
        throw new Error('the workload was given up on');
      }
      open.add(nc);
      return nc;
    },
    async close() {
      closed = true;
      await Promise.all([...open].map((nc) => nc.close().catch(() => {})));
      open.clear();
    },
  };
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Runs `op(i)` for i in [0, n), `inflight` at a time; rejects with the first failure. */
async function windowed(n: number, inflight: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inflight, n) }, lane));
}

async function bucket(open: Connector, name: string): Promise<KV> {
  return new Kvm(await open()).create(name, { history: 1 });
}

const key = (o: KvBenchOptions, i: number): string => `k.${i % o.keys}`;

/** Every key the gets read, written (unmeasured) unless a put workload already did. */
async function filled(open: Connector, o: KvBenchOptions): Promise<KV> {
  const kv = await bucket(open, 'bench');
  const value = new Uint8Array(o.valueSize).fill(118);
  if ((await kv.status()).values < o.keys) await windowed(o.keys, o.inflight, (i) => kv.put(key(o, i), value));
  return kv;
}

async function checkedGet(kv: KV, k: string, size: number): Promise<void> {
  const e = await kv.get(k);
  if (e === null || e.value.length !== size) throw new Error(`get ${k}: ${e === null ? 'no entry' : `${e.value.length} bytes, expected ${size}`}`);
}

const putSerial: KvWorkload = {
  id: 'put',
  label: () => 'KV put, awaited one at a time',
  unit: 'puts/s',
  async run(open, o) {
    const kv = await bucket(open, 'bench');
    const value = new Uint8Array(o.valueSize).fill(112);
    for (let i = 0; i < WARMUP; i++) await kv.put(key(o, i), value);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.serial; i++) await kv.put(key(o, i), value);
    return o.serial / seconds(t0);
  },
};

const putWindow: KvWorkload = {
  id: 'put-window',
  label: (o) => `KV put, ${o.inflight} in flight`,
  unit: 'puts/s',
  async run(open, o) {
    const kv = await bucket(open, 'bench');
    const value = new Uint8Array(o.valueSize).fill(119);
    await windowed(WARMUP, o.inflight, (i) => kv.put(key(o, i), value));
    const t0 = process.hrtime.bigint();
    await windowed(o.window, o.inflight, (i) => kv.put(key(o, i), value));
    return o.window / seconds(t0);
  },
};

const getSerial: KvWorkload = {
  id: 'get',
  label: () => 'KV get, one at a time',
  unit: 'gets/s',
  async run(open, o) {
    const kv = await filled(open, o);
    for (let i = 0; i < WARMUP; i++) await checkedGet(kv, key(o, i), o.valueSize);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.serial; i++) await checkedGet(kv, key(o, i), o.valueSize);
    return o.serial / seconds(t0);
  },
};

const getWindow: KvWorkload = {
  id: 'get-window',
  label: (o) => `KV get, ${o.inflight} in flight`,
  unit: 'gets/s',
  async run(open, o) {
    const kv = await filled(open, o);
    await windowed(WARMUP, o.inflight, (i) => checkedGet(kv, key(o, i), o.valueSize));
    const t0 = process.hrtime.bigint();
    await windowed(o.window, o.inflight, (i) => checkedGet(kv, key(o, i), o.valueSize));
    return o.window / seconds(t0);
  },
};

/**
 * `watchers` clients, each on its own connection, watch the bucket for
 * updates only; one writer puts `updates` values (100 in flight). The clock
 * runs from the first put until the last watcher has seen the last update.
 * Each update has a key of its own: with history 1, a newer value of a key
 * replaces the older one in the stream, and a watcher that had not been
 * sent the older one yet never sees it (it gets the latest values, not
 * every step), so "every update" would not be well defined.
 */
const watchFanOut: KvWorkload = {
  id: 'watch',
  label: (o) => `KV watch: ${o.updates.toLocaleString('en-US')} updates to ${o.watchers} watchers`,
  unit: 'updates/s',
  async run(open, o) {
    const writer = await bucket(open, 'fanout');
    // Each watcher's loop, wrapped: an async function returning the bare promise would wait for it.
    const watchers = await Promise.all(
      Array.from({ length: o.watchers }, async () => {
        const kv = await new Kvm(await open()).open('fanout');
        const iter = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
        const all = (async (): Promise<void> => {
          let n = 0;
          for await (const e of iter) {
            if (e.operation === 'PUT' && ++n === o.updates) return iter.stop();
          }
          throw new Error(`a watcher's updates ended after ${n} of ${o.updates}`);
        })();
        return { all };
      }),
    );
    const value = new Uint8Array(o.valueSize).fill(102);
    const t0 = process.hrtime.bigint();
    await Promise.all([windowed(o.updates, o.inflight, (i) => writer.put(`w.${i}`, value)), ...watchers.map((w) => w.all)]);
    return o.updates / seconds(t0);
  },
};

/** 5242880 → "5 MiB", 200000 → "195.3 KiB". */
function mib(n: number): string {
  if (n >= 1 << 20) return `${+(n / (1 << 20)).toFixed(1)} MiB`;
  return `${+(n / 1024).toFixed(1)} KiB`;
}

function objectBytes(o: KvBenchOptions): Uint8Array {
  const data = new Uint8Array(o.objectSize);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
  return data;
}

const objectPut: KvWorkload = {
  id: 'obj-put',
  label: (o) => `object put, ${mib(o.objectSize)}`,
  unit: 'MB/s',
  async run(open, o) {
    const os = await new Objm(await open()).create('bench-put');
    const data = objectBytes(o);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.objects; i++) {
      const info = await os.putBlob({ name: `o${i}` }, data);
      if (info.size !== data.length) throw new Error(`object put o${i}: stored ${info.size} bytes of ${data.length}`);
    }
    return (o.objects * o.objectSize) / 1e6 / seconds(t0);
  },
};

const objectGet: KvWorkload = {
  id: 'obj-get',
  label: (o) => `object get, ${mib(o.objectSize)}`,
  unit: 'MB/s',
  async run(open, o) {
    const os = await new Objm(await open()).create('bench-get');
    const data = objectBytes(o);
    await os.putBlob({ name: 'src' }, data);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.objects; i++) {
      const got = await os.getBlob('src');
      if (got === null || Buffer.compare(got, data) !== 0) throw new Error(`object get: ${got === null ? 'not found' : `${got.length} bytes, not the ${data.length} put`}`);
    }
    return (o.objects * o.objectSize) / 1e6 / seconds(t0);
  },
};

export const KV_WORKLOADS: readonly KvWorkload[] = [putSerial, putWindow, getSerial, getWindow, watchFanOut, objectPut, objectGet];
