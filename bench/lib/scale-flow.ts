/**
 * One measured flow of the scale bench against a running server: subscriber
 * and publisher processes connect, the server's RSS is read, they subscribe (timed, then
 * RSS again, after every subscriber's flush answered), publisher processes
 * publish, and the subscribers count deliveries to the number the harness
 * computed beforehand. Flow control as in workloads.ts: each publisher
 * process stays at most `window` messages ahead of its share of what the
 * subscribers have received, and a flow that makes no progress for stallMs
 * is an error. Throughput is counted at the subscribers, from each process's
 * 10% mark to the last delivery.
 */
import { procStats, sleep } from './proc.js';
import { WorkerHandle, untilDoneOrStalled, within } from './worker-handle.js';
import type { RunningServer } from './peers.js';
import type { ScaleJob } from './scale-subjects.js';
import type { Job, PubResult } from './jobs.js';

export type SubJob = Extract<ScaleJob, { role: 'scale-sub' }>;
export type PubJob = Extract<ScaleJob, { role: 'scale-pub' }>;

export interface FlowResult {
  /** Deliveries per second at the subscribers. */
  deliveredPerSec: number;
  expected: number;
  /** From the first SUB sent to the last subscriber's flush answered. */
  subscribeMs: number;
  /** Server RSS with the subscribers connected, subscribed, and after the flow. */
  rssBefore: number;
  rssSubscribed: number;
  rssAfter: number;
}

export const READY_MS = 60_000;
/** A million SUBs through a busy machine. */
const SUBSCRIBE_MS = 600_000;

/** A scale-sub's result: deliveries, its 10% mark, the times of that mark and of the last delivery. */
type SubDone = Record<'delivered' | 'warm' | 'tWarm' | 'tEnd', number>;

/** Starts workers for jobs, stops them all when `fn` ends. */
export async function withWorkers<T>(fn: (spawn: (j: Job) => WorkerHandle) => Promise<T>, profDir?: string): Promise<T> {
  const workers: WorkerHandle[] = [];
  try {
    return await fn((j) => {
      const w = new WorkerHandle(j, profDir);
      workers.push(w);
      return w;
    });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

export function runFlow(server: RunningServer, subJobs: SubJob[], pubJobs: PubJob[], stallMs: number): Promise<FlowResult> {
  return withWorkers(async (spawn) => {
    // Publishers start with the subscribers (a process start is a good part of a small point) and wait for `go`.
    const subs = subJobs.map(spawn);
    const pubs = pubJobs.map(spawn);
    await within(Promise.all([...subs, ...pubs].map((s) => s.ready)), READY_MS, 'clients connected');
    const rssBefore = procStats(server.pid).rss;
    const subscribed = Promise.all(subs.map((s) => new Promise<Record<string, number>>((r) => (s.onInfo = r))));
    const endedEarly = Promise.all(subs.map((s) => s.done)).then(() => {
      throw new Error('the subscribers ended before subscribing');
    });
    endedEarly.catch(() => {});
    for (const s of subs) s.send({ type: 'go' });
    const infos = await within(Promise.race([subscribed, endedEarly]), SUBSCRIBE_MS, 'subscriptions');
    const rssSubscribed = procStats(server.pid).rss;
    const subscribeMs = (Math.max(...infos.map((i) => i.tEnd!)) - Math.min(...infos.map((i) => i.tStart!))) / 1e6;

    const expected = subJobs.reduce((a, j) => a + j.expect, 0);
    const acked = pubJobs.map(() => 0);
    let lastProgress = Date.now();
    for (const s of subs) {
      s.onProgress = () => {
        lastProgress = Date.now();
        const frac = subs.reduce((a, x) => a + x.progress, 0) / expected;
        pubJobs.forEach((j, i) => {
          const a = Math.floor(frac * j.count);
          if (a > acked[i]!) {
            acked[i] = a;
            pubs[i]!.send({ type: 'credit', acked: a });
          }
        });
      };
    }
    for (const p of pubs) p.send({ type: 'go' });
    const all = Promise.all(subs.map((s) => s.done)) as Promise<SubDone[]>;
    const stalled = await untilDoneOrStalled(all, () => lastProgress, stallMs);
    const rssAfter = procStats(server.pid).rss;
    if (stalled) for (const s of subs) s.send({ type: 'stop' });
    const results = await within(all, 10_000, 'subscriber results');
    await within(Promise.all(pubs.map((p) => p.done)) as Promise<PubResult[]>, stalled ? 2000 : 30_000, 'publisher results').catch(() => null);
    const delivered = results.reduce((a, r) => a + r.delivered, 0);
    if (delivered !== expected) throw new Error(`${stalled ? `stalled for ${stallMs / 1000} s: ` : ''}delivered ${delivered} of ${expected}`);
    // A process that had nothing to receive (a few subscriptions spread over many connections) has no marks.
    const timed = results.filter((r) => Number.isFinite(r.tWarm) && Number.isFinite(r.tEnd));
    const counted = timed.reduce((a, r) => a + r.delivered - r.warm, 0);
    const seconds = (Math.max(...timed.map((r) => r.tEnd)) - Math.min(...timed.map((r) => r.tWarm))) / 1e9;
    return { deliveredPerSec: counted / seconds, expected, subscribeMs, rssBefore, rssSubscribed, rssAfter };
  });
}

/** Latency probes: `subJobs` on one subject, one lat-pub; every probe's measured samples merged. */
export function runLatency(
  subJobs: Extract<ScaleJob, { role: 'scale-lat-sub' }>[],
  pub: Extract<Job, { role: 'lat-pub' }>,
): Promise<Record<string, number>[]> {
  return withWorkers(async (spawn) => {
    const subs = subJobs.map(spawn);
    await within(Promise.all(subs.map((s) => s.ready)), READY_MS, 'latency probes ready');
    const complete = Promise.all(subs.map((s) => new Promise<void>((r) => (s.onProgress = () => r()))));
    const p = spawn(pub);
    await within(p.ready, READY_MS, 'latency publisher ready');
    p.send({ type: 'go' });
    await within(p.done, pub.warmupMs + pub.durationMs + 60_000, 'latency publisher');
    // Every probe reports once it has all its samples; a lost message shows as a short count below.
    await Promise.race([complete, sleep(10_000)]);
    for (const s of subs) s.send({ type: 'stop' });
    const hs = (await within(Promise.all(subs.map((s) => s.done)), 10_000, 'latency results')) as Record<string, number>[];
    const got = hs.reduce((a, h) => a + (h.count ?? 0), 0);
    const want = subJobs.reduce((a, j) => a + j.expect, 0);
    if (got !== want) throw new Error(`latency: ${got} of ${want} samples`);
    return hs.map(({ count: _, ...h }) => h);
  });
}
