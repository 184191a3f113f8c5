/**
 * The crash experiment behind crash.test.ts, kept apart from the test so the
 * same rounds can be pointed at another server process (e.g. a nats-server
 * child, to check the harness itself).
 *
 * One round:
 *
 *   spawn server on dir ──► verify what earlier rounds promised ──► publish ║ consume+ackAck ──► SIGKILL at a random time
 *
 * and, after the last round, one more start that verifies and drains the stream.
 *
 * The promises checked, over a work-queue stream (an acked message is deleted):
 *   P1  every message whose PubAck arrived is still stored, payload intact, unless
 *       an ack for it was sent (then it may be gone);
 *   P2  a message whose ackAck was confirmed is never delivered again, and is gone;
 *   P3  a seq is never PubAck-ed twice (a reused seq means a lost message).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, RetentionPolicy, jetstream, jetstreamManager, type Consumer, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { drain, ns } from '../helpers/jetstream.js';
import { within } from '../helpers/client.js';

export const STREAM = 'CRASH';
export const CONSUMER = 'worker';
const SUBJECT = 'crash.x';
/** Long enough that a message being acked is never redelivered meanwhile; short enough to drain quickly. */
const ACK_WAIT_MS = 2_000;
const START_TIMEOUT_MS = 10_000;
const KILL_TIMEOUT_MS = 5_000;
const CALL_TIMEOUT_MS = 3_000;
/** No client call outlives its round, whatever the client does once the connection is gone. */
const STEP_MS = CALL_TIMEOUT_MS + 1_000;

export interface CrashChild {
  readonly url: string;
  readonly pid: number;
  /** SIGKILL, resolving once the process is gone. Safe to call twice. */
  kill(): Promise<void>;
}

export type SpawnChild = (dir: string) => Promise<CrashChild>;

/** Children not yet reaped, killed if the test process exits early. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Spawns `command args…` and waits for a line of stdout or stderr that
 * `urlFrom` turns into the server's URL. Kills the child if it does not come
 * up within the bound.
 */
export function spawnServerChild(command: string, args: string[], urlFrom: (line: string) => string | null): Promise<CrashChild> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const gone = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  }).then(() => {
    live.delete(child);
  });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await within(gone, KILL_TIMEOUT_MS, `SIGKILLed child ${child.pid} to exit`);
  };
  return new Promise<CrashChild>((resolve, reject) => {
    let out = '';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void kill().finally(() => reject(new Error(`${why}:\n${out.slice(-2_000)}`)));
    };
    const timer = setTimeout(() => fail(`server child did not start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (settled) return;
      for (const line of out.split('\n')) {
        const url = urlFrom(line);
        if (url !== null) {
          settled = true;
          clearTimeout(timer);
          resolve({ url, pid: child.pid!, kill });
          return;
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => fail(`server child could not be spawned: ${err.message}`));
    child.once('exit', (code, signal) => fail(`server child exited during startup (${code ?? signal})`));
  });
}

export interface CrashOptions {
  rounds: number;
  /** Each round runs for a random time in [minRunMs, maxRunMs] before the SIGKILL. */
  minRunMs: number;
  maxRunMs: number;
  /** Concurrent publishers per round. */
  publishers: number;
  /** Publishes per round at most, to bound the verification work on a fast server. */
  maxPublishesPerRound: number;
  /** Share of deliveries acked (the rest is left to ack_wait, to be redelivered later, maybe after a crash). */
  ackShare: number;
  random?: () => number;
}

export interface CrashReport {
  /** Time each round ran before its SIGKILL, ms. */
  runTimes: number[];
  /** Seqs whose PubAck arrived. */
  published: number;
  /** Seqs an ack was sent for, confirmed or not. */
  ackSent: number;
  /** Seqs whose ackAck was confirmed. */
  confirmed: number;
  /** Confirmed during the rounds, before the final drain. */
  confirmedBeforeDrain: number;
  /** Messages left in the stream after the final drain. */
  leftInStream: number;
  violations: string[];
}

interface Ledger {
  /** seq → payload, for every PubAck received. */
  published: Map<number, string>;
  ackSent: Set<number>;
  confirmed: Set<number>;
  violations: string[];
}

interface Session {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
  consumer: Consumer;
}

async function open(url: string, create: boolean): Promise<Session> {
  const nc = await connect({ servers: url, reconnect: false, timeout: CALL_TIMEOUT_MS });
  try {
    const jsm = await jetstreamManager(nc, { timeout: CALL_TIMEOUT_MS });
    if (create) {
      await jsm.streams.add({ name: STREAM, subjects: ['crash.>'], retention: RetentionPolicy.Workqueue });
      await jsm.consumers.add(STREAM, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: ns(ACK_WAIT_MS) });
    }
    const js = jetstream(nc, { timeout: CALL_TIMEOUT_MS });
    return { nc, jsm, js, consumer: await js.consumers.get(STREAM, CONSUMER) };
  } catch (err) {
    await nc.close().catch(() => {});
    throw err;
  }
}

/** P1 and P2 on what is stored now. */
async function verifyStored(s: Session, ledger: Ledger, when: string): Promise<void> {
  for (const [seq, payload] of ledger.published) {
    const m = await s.jsm.streams.getMessage(STREAM, { seq });
    if (ledger.confirmed.has(seq)) {
      if (m !== null) ledger.violations.push(`${when}: seq ${seq} is still stored after its ackAck was confirmed`);
    } else if (!ledger.ackSent.has(seq)) {
      if (m === null) ledger.violations.push(`${when}: PubAck-ed seq ${seq} (${payload}) is lost`);
      else if (m.string() !== payload) ledger.violations.push(`${when}: seq ${seq} holds ${m.string()}, PubAck was for ${payload}`);
    }
  }
}

/**
 * One fetch of up to `max` messages, read whole (bounded by STEP_MS) before
 * any is handled: nats.js fails a fetch with "heartbeats missed" when its
 * iterator is still being read two heartbeats (2 × 500 ms here) after the
 * pull ended, and an ackAck per message on a busy machine takes that long.
 */
async function readBatch(consumer: Consumer, max: number): Promise<JsMsg[]> {
  return drain(await within(consumer.fetch({ max_messages: max, expires: 1_000 }), STEP_MS, 'fetch'), STEP_MS);
}

/** Checks one delivery against the ledger (P2), and acks it (or not). */
async function handle(ledger: Ledger, seq: number, payload: string, ack: boolean, ackAck: () => Promise<boolean>, when: string): Promise<void> {
  if (ledger.confirmed.has(seq)) ledger.violations.push(`${when}: seq ${seq} delivered again after its ackAck was confirmed`);
  const expected = ledger.published.get(seq);
  if (expected !== undefined && expected !== payload) ledger.violations.push(`${when}: seq ${seq} delivered as ${payload}, PubAck was for ${expected}`);
  if (!ack) return;
  ledger.ackSent.add(seq);
  // A kill may make ackAck reject or resolve false: then the ack is "sent, outcome unknown".
  if (await ackAck().catch(() => false)) ledger.confirmed.add(seq);
}

/** Runs the rounds and the final verification; never leaves a child running. */
export async function runCrashRounds(spawnChild: SpawnChild, dir: string, opts: CrashOptions): Promise<CrashReport> {
  const random = opts.random ?? Math.random;
  const ledger: Ledger = { published: new Map(), ackSent: new Set(), confirmed: new Set(), violations: [] };
  const runTimes: number[] = [];

  for (let round = 0; round < opts.rounds; round++) {
    const child = await spawnChild(dir);
    let s: Session | undefined;
    try {
      s = await open(child.url, round === 0);
      await verifyStored(s, ledger, `after restart ${round}`);
      const session = s;
      let stop = false;
      let counter = 0;

      const publisher = async (): Promise<void> => {
        while (!stop && counter < opts.maxPublishesPerRound) {
          const payload = `r${round}-${counter++}`;
          let seq: number;
          try {
            seq = (await within(session.js.publish(SUBJECT, payload), STEP_MS, 'publish')).seq;
          } catch {
            return; // the kill (or a timeout around it): this publish promised nothing
          }
          if (ledger.published.has(seq)) ledger.violations.push(`round ${round}: seq ${seq} PubAck-ed twice (${ledger.published.get(seq)}, ${payload})`);
          ledger.published.set(seq, payload);
        }
      };
      const consumer = async (): Promise<void> => {
        while (!stop) {
          try {
            const got = await readBatch(session.consumer, 10);
            for (const m of got) {
              // After the kill, each ackAck would wait out its timeout: what is left of the batch is not handled.
              if (stop) break;
              await handle(ledger, m.seq, m.string(), random() < opts.ackShare, () => m.ackAck({ timeout: CALL_TIMEOUT_MS }), `round ${round}`);
            }
          } catch {
            return;
          }
        }
      };

      const work = Promise.all([...Array.from({ length: opts.publishers }, publisher), consumer()]);
      const runFor = Math.round(opts.minRunMs + random() * (opts.maxRunMs - opts.minRunMs));
      runTimes.push(runFor);
      await sleep(runFor);
      await child.kill();
      stop = true;
      await within(work, 15_000, `round ${round}: publishers and consumer to notice the kill`);
    } finally {
      await child.kill();
      await s?.nc.close().catch(() => {});
    }
  }

  const confirmedBeforeDrain = ledger.confirmed.size;
  const child = await spawnChild(dir);
  let leftInStream = -1;
  let s: Session | undefined;
  try {
    s = await open(child.url, false);
    await verifyStored(s, ledger, 'after the last restart');
    // Drain: everything still stored must come (back) to the consumer, never a confirmed one.
    const deadline = Date.now() + ACK_WAIT_MS * 2 + 10_000;
    while (Date.now() < deadline) {
      const got = await readBatch(s.consumer, 100);
      for (const m of got) await handle(ledger, m.seq, m.string(), true, () => m.ackAck({ timeout: CALL_TIMEOUT_MS }), 'drain');
      if ((await s.jsm.streams.info(STREAM)).state.messages === 0) break;
    }
    await verifyStored(s, ledger, 'after the drain');
    leftInStream = (await s.jsm.streams.info(STREAM)).state.messages;
    const ci = await s.consumer.info();
    if (ci.num_ack_pending !== 0) ledger.violations.push(`after the drain: num_ack_pending ${ci.num_ack_pending}`);
  } finally {
    await child.kill();
    await s?.nc.close().catch(() => {});
  }

  for (const seq of ledger.published.keys()) {
    if (!ledger.ackSent.has(seq)) ledger.violations.push(`PubAck-ed seq ${seq} was never delivered and acked`);
  }
  return {
    runTimes,
    published: ledger.published.size,
    ackSent: ledger.ackSent.size,
    confirmed: ledger.confirmed.size,
    confirmedBeforeDrain,
    leftInStream,
    violations: ledger.violations,
  };
}
