/**
 * The commit turn. One transaction per turn of the event loop: appends, acks
 * and deliveries queued during a turn are applied together, committed once,
 * and only then answered (PubAck, ackAck) or sent. That is the durability
 * promise (nothing is confirmed before it is committed) and the group commit
 * that makes it cheap (one fsync for many messages). A turn with more than
 * MIN_SLICE ops is committed in slices, two halves or more (at most
 * maxCommitBatch ops each), and each slice's answers leave before the next
 * slice is applied: otherwise a client with many publishes in flight waits for
 * the whole turn, and the hub then waits for the client, in lockstep.
 */
import type { Store } from '../../store/index.js';
import type { Logger } from '../options.js';
import type { AfterCommit, Fillable, Op } from './types.js';

export const DEFAULT_MAX_COMMIT_BATCH = 512;
/** A turn with more ops than this is committed in slices (see runNow). */
const MIN_SLICE = 64;
/** Delivery rounds per transaction: a consumer that made another dirty (a dead letter) gets served in the same turn. */
const FILL_ROUNDS = 4;

export interface TurnHost {
  readonly logger: Logger;
  /** Writes every connection's queued output now. */
  flush(): void;
}

/** Told each commit's duration in nanoseconds (the store's commit latency, for /metrics). */
export type CommitObserver = (ns: bigint) => void;

export class Turn {
  /**
   * Set while something watches commit latency (the monitor). Without one the
   * commit reads no clock.
   */
  observer: CommitObserver | null = null;
  /** The store whose transaction wraps the turn; ops on another store get their own. */
  private readonly store: Store;
  private readonly host: TurnHost;
  private readonly maxCommitBatch: number;
  private ops: Op[] = [];
  private readonly dirty = new Set<Fillable>();
  private scheduled = false;
  private closed = false;

  /** Runs before each commit (the streams drop what they read ahead: API calls may have removed messages since). */
  private readonly beforeCommit: () => void;

  constructor(store: Store, host: TurnHost, maxCommitBatch: number, beforeCommit: () => void = () => {}) {
    this.beforeCommit = beforeCommit;
    this.store = store;
    this.host = host;
    this.maxCommitBatch = maxCommitBatch;
  }

  enqueue(op: Op): void {
    this.ops.push(op);
    this.schedule();
  }

  /** Adds a consumer to the deliveries of the turn (inside a running turn: this one). */
  markDirty(c: Fillable): void {
    this.dirty.add(c);
    this.schedule();
  }

  /** Runs what is queued, then refuses more. */
  close(): void {
    if (this.closed) return;
    this.runNow();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    // After every read of this turn of the event loop: one commit for all of them.
    // (Running a lone publish's turn at nextTick instead measured no faster.)
    setImmediate(runTurn, this);
  }

  /**
   * Applies everything queued: up to MIN_SLICE ops in one transaction, more in
   * two halves or more (at most maxCommitBatch each), answering and writing
   * the answers out after each. Ops queued meanwhile wait for the next turn.
   */
  runNow(): void {
    this.scheduled = false;
    const all = this.ops;
    this.ops = [];
    // Two halves at least, so the client works on the first half's answers while the hub stores the second.
    const max = Math.min(this.maxCommitBatch, Math.max(MIN_SLICE, Math.ceil(all.length / 2)));
    for (let i = 0; ; ) {
      if (this.closed || (i >= all.length && this.dirty.size === 0)) break;
      this.commit(all.length <= max ? all : all.slice(i, i + max));
      i += max;
      // The answers go now, not after the next poll for input: the client works on them while the hub
      // stores the next slice, or waits for more.
      this.host.flush();
      if (i >= all.length) break;
    }
    if (this.dirty.size > 0) this.schedule();
  }

  /** One transaction: the ops, then deliveries; then the answers. */
  private commit(ops: Op[]): void {
    let after: AfterCommit[] = [];
    this.beforeCommit();
    const observer = this.observer;
    const start = observer === null ? 0n : process.hrtime.bigint();
    try {
      this.store.transaction(() => {
        // Refusals (a failed expectation, a full stream) are answers, not throws. A throw is a store
        // failure: it rolls the whole turn back and every op of the turn is told (below). A memory
        // stream's op gets its own transaction, since this one does not cover its store.
        for (const op of ops) {
          if (op.store === this.store) op.run(after);
          else op.store.transaction(() => op.run(after));
        }
        for (let rounds = 0; this.dirty.size > 0 && rounds < FILL_ROUNDS; rounds++) {
          const list = [...this.dirty];
          this.dirty.clear();
          for (const c of list) c.fill(after);
        }
      });
      if (observer !== null) observer(process.hrtime.bigint() - start);
    } catch (err) {
      // Nothing of this turn is durable, so nothing is confirmed.
      this.host.logger.error({ err }, 'JetStream turn failed and was rolled back');
      after = ops.map((op) => () => op.fail(err));
    }
    for (const a of after) {
      try {
        a();
      } catch (err) {
        this.host.logger.error({ err }, 'JetStream send failed');
      }
    }
  }
}

function runTurn(t: Turn): void {
  t.runNow();
}
