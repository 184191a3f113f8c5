/**
 * A worker thread that checks bcrypt passwords, so that the ~100 ms of CPU
 * each compare takes never runs on the hub's event loop (where it would
 * stall every other client for that long). See bcrypt-pool.ts.
 */
import { parentPort } from 'node:worker_threads';
import { compareSync } from 'bcryptjs';

export interface BcryptJob {
  id: number;
  offered: string;
  hash: string;
}

export interface BcryptAnswer {
  id: number;
  ok: boolean;
}

parentPort?.on('message', (job: BcryptJob) => {
  let ok = false;
  try {
    ok = compareSync(job.offered, job.hash);
  } catch {
    // A hash bcryptjs cannot read: a refusal.
  }
  parentPort!.postMessage({ id: job.id, ok } satisfies BcryptAnswer);
});
