/**
 * The client side of the durable-publishers curve (durable-conns.ts): in one
 * worker process, `conns` nats.js connections, each publishing one event with
 * @nats-io/jetstream's `js.publish` and awaiting its PubAck before the next,
 * as an API process does that records one event per request.
 *
 *   go ──warm-up──┬──────── measured window ────────┬── stop: each connection
 *                 t0    PubAcks counted + timed     t1  finishes its publish
 *
 * A PubAck counts in the window it arrives in. Every PubAck, the warm-up's
 * included, is counted in `total`, so the harness can check the stream holds
 * exactly that many.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { DurableResult, Job } from './jobs.js';

type DurableJob = Extract<Job, { role: 'durable-pub' }>;

const Phase = { WARMUP: 0, MEASURE: 1, STOP: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export interface DurableRun {
  /** Runs the warm-up and the measured window, then resolves with what was counted. */
  measure(): Promise<DurableResult>;
  close(): Promise<void>;
}

const now = (): number => Number(process.hrtime.bigint());

/** Opens the job's connections (before `go`, so connecting is never measured). */
export async function publishDurably(j: DurableJob): Promise<DurableRun> {
  const conns: NatsConnection[] = [];
  for (let i = 0; i < j.conns; i++) conns.push(await connect({ servers: j.url, reconnect: false, name: `durable-${i}` }));
  const payload = new Uint8Array(j.size).fill(0x61);
  let phase: Phase = Phase.WARMUP;
  let acks = 0;
  let total = 0;
  const latencies: number[] = [];

  async function publisher(nc: NatsConnection): Promise<void> {
    const js = jetstream(nc);
    while (phase !== Phase.STOP) {
      const t = now();
      await js.publish(j.subject, payload);
      total++;
      if (phase === Phase.MEASURE) {
        acks++;
        latencies.push(Math.round((now() - t) / 100) / 10);
      }
    }
  }

  return {
    async measure() {
      const loops = conns.map(publisher);
      // A publisher that fails (a timeout, a refused PubAck) ends the run: its error is the worker's.
      const failed = Promise.all(loops).then(() => new Promise<never>(() => {}));
      const sleep = (ms: number): Promise<void> => Promise.race([new Promise<void>((r) => setTimeout(r, ms)), failed]);
      await sleep(j.warmupMs);
      phase = Phase.MEASURE;
      const t0 = now();
      await sleep(j.durationMs);
      phase = Phase.STOP;
      const elapsedNs = now() - t0;
      await Promise.all(loops);
      return { acks, total, elapsedNs, latencies };
    },
    async close() {
      await Promise.allSettled(conns.map((nc) => nc.close()));
    },
  };
}
