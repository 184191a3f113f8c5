/**
 * bcrypt compares in worker threads. bcryptjs is plain JavaScript: its async
 * compare still runs on the calling thread, in slices of up to 100 ms, so on
 * the hub's event loop one log-in froze every other client for that long
 * (measured: a PING round trip of another client went from 0.16 ms to 135 ms
 * while 8 bcrypt users logged in). In a worker it costs the event loop only
 * a message each way.
 *
 * The pool holds at most `size` workers, made on first use and unref'd, so
 * an idle pool keeps no process alive; BcryptGate (secrets.ts) never runs
 * more compares at once than that, so a free worker is always there.
 */
import { Worker } from 'node:worker_threads';
import type { BcryptAnswer, BcryptJob } from './bcrypt-worker.js';

interface Slot {
  worker: Worker;
  /** The job it runs: its id and how to answer it. */
  job: { id: number; resolve: (ok: boolean) => void } | null;
}

const WORKER_URL = new URL('./bcrypt-worker.js', import.meta.url);

export class BcryptPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly size: number) {}

  /** Whether `offered` matches the bcrypt `hash`; false for anything that goes wrong. */
  compare(offered: string, hash: string): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const slot = this.idle();
    if (slot === null) return Promise.resolve(false);
    const id = this.nextId++;
    return new Promise<boolean>((resolve) => {
      slot.job = { id, resolve };
      slot.worker.ref();
      slot.worker.postMessage({ id, offered, hash } satisfies BcryptJob);
    });
  }

  /** Stops the workers; compares under way answer false. */
  close(): void {
    this.closed = true;
    for (const slot of this.slots.splice(0)) {
      this.finish(slot, false);
      void slot.worker.terminate();
    }
  }

  private idle(): Slot | null {
    for (const slot of this.slots) if (slot.job === null) return slot;
    if (this.slots.length >= this.size) return null;
    const worker = new Worker(WORKER_URL);
    const slot: Slot = { worker, job: null };
    worker.unref();
    worker.on('message', (answer: BcryptAnswer) => {
      if (slot.job?.id === answer.id) this.finish(slot, answer.ok);
    });
    // A worker that dies refuses what it was checking and leaves the pool; the next compare makes another.
    const drop = (): void => {
      this.finish(slot, false);
      const i = this.slots.indexOf(slot);
      if (i !== -1) this.slots.splice(i, 1);
    };
    worker.on('error', drop);
    worker.on('exit', drop);
    this.slots.push(slot);
    return slot;
  }

  private finish(slot: Slot, ok: boolean): void {
    const job = slot.job;
    if (job === null) return;
    slot.job = null;
    // Idle again: it must not keep the process alive.
    slot.worker.unref();
    job.resolve(ok);
  }
}
