/**
 * What the JetStream layer needs from the hub: routing in and out, nothing
 * else. Subjects here are wire strings (one char per byte), as the hub keeps
 * them; stream subjects stored in the Store are user strings (UTF-8).
 */
import type { Logger } from '../options.js';

export interface JsHost {
  readonly logger: Logger;
  /** Routes a message from inside the hub, as if published (streams may capture it unless `capture` is false). */
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer, capture?: boolean): void;
  /**
   * Delivers to the subscribers of `target` a message shown as `subject`
   * (a pull consumer's delivery: the stored subject, to the pull inbox).
   * Returns how many subscriptions got it.
   */
  deliverTo(target: string, subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): number;
  /**
   * Sends the hub's answer to a reply subject (a PubAck, an API response, an
   * ackAck): delivered like a publish, never captured by a stream, and matched
   * without the subject cache (a reply subject is used once). Returns how many
   * subscriptions got it.
   */
  reply(subject: string, payload: Buffer, headers?: Buffer | null): number;
  /** Whether any subscription matches the subject. */
  hasInterest(subject: string): boolean;
  /** Writes every connection's queued output now (instead of at the end of the turn). */
  flush(): void;
}
