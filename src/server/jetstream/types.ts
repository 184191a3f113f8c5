/**
 * Shapes shared inside the JetStream layer, so that its modules depend on
 * these and never on each other in a circle: the turn's units of work, what a
 * stream needs of its consumers, and what the API handlers need of the layer.
 */
import type { Store } from '../../store/index.js';
import type { JsHost } from './host.js';

/** Something to send once the turn's transaction has committed. */
export type AfterCommit = () => void;

/** One unit of queued work: runs inside the turn's transaction, answers after it. */
export interface Op {
  readonly store: Store;
  run(after: AfterCommit[]): void;
  /** The op threw (a store failure): its changes are rolled back; tell whoever waits. */
  fail(err: unknown): void;
}

/** A consumer with deliveries to make in the turn (inside the transaction). */
export interface Fillable {
  fill(after: AfterCommit[]): void;
}

/** What a stream asks of its consumers (interest retention, the ack floor). */
export interface StreamConsumer {
  /** Whether the consumer would deliver a message on this subject. */
  wants(subject: string): boolean;
  /** Highest stream seq settled with everything below. */
  ackFloor(): number;
}

/** The layer as its parts see it: routing out, answers, and the turn. */
export interface JsContext {
  readonly host: JsHost;
  readonly counters: { total: number; errors: number };
  /** Sends a JSON reply (an API response or a PubAck with an error). */
  reply(subject: string, body: object): void;
  /** Asks the turn to let the consumer deliver. */
  markDirty(c: Fillable): void;
  /** Queues work for the turn's transaction. */
  enqueue(op: Op): void;
}
