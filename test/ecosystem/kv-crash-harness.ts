/**
 * The experiment behind kv-crash.test.ts: KV puts from the official
 * @nats-io/kv client into a server child that is SIGKILLed at a random
 * moment, restarted on the same directory, several times. It reuses the
 * child handling of test/jetstream/crash-harness.ts.
 *
 *   spawn ──► verify what earlier rounds were promised ──► putters ║ CAS writer ──► SIGKILL at a random time
 *
 * and one more start at the end that verifies again. The promises checked:
 *   K1  every put whose ack arrived is stored: get(key) is that value at that revision
 *       (each such key is put exactly once, so nothing may replace it);
 *   K2  a revision is never acked twice;
 *   K3  the CAS counter (update() with the last revision, one at a time) is at the
 *       last acked revision with its value, or exactly one step further (an update
 *       that was stored but whose ack the kill swallowed); never behind.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { within } from '../helpers/client.js';
import type { SpawnChild } from '../jetstream/crash-harness.js';

export const BUCKET = 'crash';
const COUNTER = 'counter';
const CALL_TIMEOUT_MS = 3_000;
/** No client call outlives its round, whatever the client does once the connection is gone. */
const STEP_MS = CALL_TIMEOUT_MS + 1_000;

export interface KvCrashOptions {
  rounds: number;
  /** Each round runs for a random time in [minRunMs, maxRunMs] before the SIGKILL. */
  minRunMs: number;
  maxRunMs: number;
  /** Concurrent putters per round (each awaits its put before the next: several puts in flight in all). */
  putters: number;
  /** Puts per round at most, to bound the verification work on a fast server. */
  maxPutsPerRound: number;
  random?: () => number;
}

export interface KvCrashReport {
  runTimes: number[];
  /** Puts whose ack arrived. */
  acked: number;
  /** CAS updates whose ack arrived. */
  counterSteps: number;
  /** The counter's value at the end. */
  counter: number;
  violations: string[];
}

interface Ledger {
  /** key → what its one acked put promised. */
  puts: Map<string, { value: string; revision: number }>;
  /** revision → what it was acked for (K2). */
  revisions: Map<number, string>;
  /** The counter's last acked update. */
  counter: { revision: number; n: number };
  counterSteps: number;
  violations: string[];
}

interface Session {
  nc: NatsConnection;
  kv: KV;
}

/**
 * Opens the bucket. Verification reads with allow_direct off, i.e. through
 * STREAM.MSG.GET: this experiment is about what the store kept, and the
 * direct-get path has its own cases in kv.test.ts and message-get.test.ts.
 */
async function open(url: string, create: boolean): Promise<Session> {
  const nc = await connect({ servers: url, reconnect: false, timeout: CALL_TIMEOUT_MS });
  try {
    const kvm = new Kvm(jetstream(nc, { timeout: CALL_TIMEOUT_MS }));
    if (create) await kvm.create(BUCKET, { history: 1 });
    return { nc, kv: await kvm.open(BUCKET, { allow_direct: false }) };
  } catch (err) {
    await nc.close().catch(() => {});
    throw err;
  }
}

function ack(ledger: Ledger, revision: number, what: string): void {
  const before = ledger.revisions.get(revision);
  if (before !== undefined) ledger.violations.push(`revision ${revision} acked twice: ${before}, then ${what} (K2)`);
  ledger.revisions.set(revision, what);
}

/** K1 and K3 on what is stored now; returns the counter as stored, to go on from. */
async function verify(s: Session, ledger: Ledger, when: string): Promise<{ revision: number; n: number }> {
  for (const [key, want] of ledger.puts) {
    const e = await within(s.kv.get(key), STEP_MS, `${when}: get ${key}`);
    if (e === null) ledger.violations.push(`${when}: acked put of ${key} (revision ${want.revision}) is lost (K1)`);
    else if (e.revision !== want.revision || e.string() !== want.value || e.operation !== 'PUT') {
      ledger.violations.push(`${when}: ${key} is ${e.operation} ${e.string()} at ${e.revision}, acked ${want.value} at ${want.revision} (K1)`);
    }
  }
  const c = await within(s.kv.get(COUNTER), STEP_MS, `${when}: get ${COUNTER}`);
  const last = ledger.counter;
  if (c === null) {
    ledger.violations.push(`${when}: the counter is gone (K3)`);
    return last;
  }
  const stored = { revision: c.revision, n: Number(c.string()) };
  const ok = stored.revision === last.revision ? stored.n === last.n : stored.revision > last.revision && stored.n === last.n + 1;
  if (!ok) ledger.violations.push(`${when}: counter ${stored.n} at ${stored.revision}, last acked ${last.n} at ${last.revision} (K3)`);
  if (ok && stored.revision !== last.revision) {
    // The update stored without its ack is the counter from now on: later checks compare with it.
    ack(ledger, stored.revision, `${COUNTER}=${stored.n} (stored, ack lost)`);
    ledger.counter = stored;
  }
  return stored;
}

/** Runs the rounds and the final verification; never leaves a child running. */
export async function runKvCrashRounds(spawnChild: SpawnChild, dir: string, opts: KvCrashOptions): Promise<KvCrashReport> {
  const random = opts.random ?? Math.random;
  const ledger: Ledger = { puts: new Map(), revisions: new Map(), counter: { revision: 0, n: 0 }, counterSteps: 0, violations: [] };
  const runTimes: number[] = [];

  for (let round = 0; round < opts.rounds; round++) {
    const child = await spawnChild(dir);
    let s: Session | undefined;
    try {
      s = await open(child.url, round === 0);
      const kv = s.kv;
      let counter: { revision: number; n: number };
      if (round === 0) {
        counter = { revision: await within(kv.create(COUNTER, '0'), STEP_MS, 'create counter'), n: 0 };
        ack(ledger, counter.revision, `${COUNTER}=0`);
        ledger.counter = counter;
      } else {
        counter = await verify(s, ledger, `after restart ${round}`);
      }
      let stop = false;
      let made = 0;

      const putter = async (): Promise<void> => {
        while (!stop && made < opts.maxPutsPerRound) {
          const key = `r${round}.p${made++}`;
          const value = `v-${key}`;
          let revision: number;
          try {
            revision = await within(kv.put(key, value), STEP_MS, 'put');
          } catch {
            return; // the kill (or a timeout around it): this put promised nothing
          }
          ack(ledger, revision, key);
          ledger.puts.set(key, { value, revision });
        }
      };
      const casWriter = async (): Promise<void> => {
        while (!stop) {
          const n = counter.n + 1;
          try {
            counter = { revision: await within(kv.update(COUNTER, String(n), counter.revision), STEP_MS, 'update'), n };
          } catch {
            return;
          }
          ack(ledger, counter.revision, `${COUNTER}=${n}`);
          ledger.counter = counter;
          ledger.counterSteps++;
        }
      };

      const work = Promise.all([...Array.from({ length: opts.putters }, putter), casWriter()]);
      const runFor = Math.round(opts.minRunMs + random() * (opts.maxRunMs - opts.minRunMs));
      runTimes.push(runFor);
      await sleep(runFor);
      await child.kill();
      stop = true;
      await within(work, 15_000, `round ${round}: putters to notice the kill`);
    } finally {
      await child.kill();
      await s?.nc.close().catch(() => {});
    }
  }

  const child = await spawnChild(dir);
  let s: Session | undefined;
  let counter = ledger.counter;
  try {
    s = await open(child.url, false);
    counter = await verify(s, ledger, 'after the last restart');
  } finally {
    await child.kill();
    await s?.nc.close().catch(() => {});
  }
  return { runTimes, acked: ledger.puts.size, counterSteps: ledger.counterSteps, counter: counter.n, violations: ledger.violations };
}
