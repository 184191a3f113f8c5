/**
 * The harness side of a worker process (bench/worker.ts): spawn it with its
 * job, wait for `ready` and `done`, forward messages, stop it.
 */
import { join } from 'node:path';
import { start, type Proc } from './proc.js';
import { DIST_BENCH } from './peers.js';
import type { FromWorker, Job, ToWorker } from './jobs.js';

type Done = Extract<FromWorker, { type: 'done' }>['result'];
type Ready = Extract<FromWorker, { type: 'ready' }>;

export class WorkerHandle {
  readonly proc: Proc;
  readonly ready: Promise<Ready>;
  readonly done: Promise<Done>;
  /** Last progress reported (messages received by its slowest connection). */
  progress = 0;
  onProgress: ((n: number) => void) | null = null;
  /** A job's `info` messages (figures measured between ready and done). */
  onInfo: ((info: Record<string, number>) => void) | null = null;
  private settleReady!: { resolve: (r: Ready) => void; reject: (e: Error) => void };
  private settleDone!: { resolve: (r: Done) => void; reject: (e: Error) => void };

  /** `cpuProfDir`: run under `node --cpu-prof`, writing the profile there (the worker exits cleanly on stop). */
  constructor(job: Job, cpuProfDir?: string) {
    const flags = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`];
    this.proc = start(process.execPath, [...flags, join(DIST_BENCH, 'worker.js'), JSON.stringify(job)], { ipc: true });
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.done = new Promise((resolve, reject) => (this.settleDone = { resolve, reject }));
    // Callers may never await one of them; a rejection is still reported through the other.
    this.ready.catch(() => {});
    this.done.catch(() => {});
    this.proc.child.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          this.settleReady.resolve(m);
          break;
        case 'progress':
          this.progress = m.n;
          this.onProgress?.(m.n);
          break;
        case 'info':
          this.onInfo?.(m.info);
          break;
        case 'done':
          this.settleDone.resolve(m.result);
          break;
        case 'error': {
          const err = new Error(`${job.role} worker failed: ${m.message}`);
          this.settleReady.reject(err);
          this.settleDone.reject(err);
          break;
        }
      }
    });
    void this.proc.exited.then((code) => {
      const err = new Error(`${job.role} worker exited (${code}) early: ${this.proc.output().trim().slice(-2000)}`);
      this.settleReady.reject(err);
      this.settleDone.reject(err);
    });
  }

  send(m: ToWorker): void {
    // A worker may exit between the check and the write: its exit is reported through ready/done, not as an EPIPE here.
    if (this.proc.child.connected) this.proc.child.send(m, () => {});
  }

  /** Asks the worker to report and exit; kills it if it does not within `ms`. */
  async stop(ms = 5000): Promise<void> {
    this.send({ type: 'stop' });
    const t = setTimeout(() => this.proc.child.kill('SIGKILL'), ms);
    await this.proc.exited;
    clearTimeout(t);
  }
}

/** Rejects after `ms` with a message naming what was awaited. */
/**
 * Waits for `all` (the subscribers' results), or until `lastProgress()` (the
 * time of the last progress report) is more than `stallMs` ago, checked every
 * 250 ms. Resolves true when it stalled, false when `all` settled first;
 * rejects with `all`'s error.
 */
export function untilDoneOrStalled(all: Promise<unknown>, lastProgress: () => number, stallMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const watch = setInterval(() => {
      if (Date.now() - lastProgress() > stallMs) {
        clearInterval(watch);
        resolve(true);
      }
    }, 250);
    all.then(
      () => {
        clearInterval(watch);
        resolve(false);
      },
      (err: unknown) => {
        clearInterval(watch);
        reject(err as Error);
      },
    );
  });
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}
