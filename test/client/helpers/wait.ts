/**
 * Bounded waits for the client suite. Every wait has a deadline and says
 * what it was waiting for when it runs out; none asserts how fast anything
 * happened.
 */
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bus, EventMeta, ListenOptions } from '../../../src/index.js';
import { within, rejection } from '../../helpers/client.js';

// The suites share these two with the conformance helpers.
export { within, rejection };

/** Generous default: waits end early when the thing happens, so this only bounds a failing test. */
export const WAIT_MS = 5_000;

/** Polls `check` until it returns true, or rejects after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = WAIT_MS, pollMs = 10): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`${what}: still false after ${ms} ms`);
    await sleep(pollMs);
  }
}

/** The arguments of the next `event` on an emitter (bus.status, a hub), within `ms`. */
export function next<A extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, ms = WAIT_MS): Promise<A> {
  let fn: ((...args: unknown[]) => void) | undefined;
  const p = new Promise<A>((resolve) => {
    fn = (...args: unknown[]) => resolve(args as A);
    emitter.once(event, fn);
  });
  return within(p, ms, `event ${JSON.stringify(event)}`).finally(() => emitter.off(event, fn!));
}


export interface Received<T = unknown> {
  readonly payload: T;
  readonly meta: EventMeta;
}

/** What a bus listener received, in order, with a bounded wait for the n-th item. */
export class Inbox<T = unknown> {
  readonly items: Received<T>[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  /** The listener to pass to bus.on(). */
  readonly listener = (payload: T, meta: EventMeta): void => {
    this.items.push({ payload, meta });
    this.waiters = this.waiters.filter((w) => {
      if (this.items.length < w.n) return true;
      w.resolve();
      return false;
    });
  };

  get payloads(): T[] {
    return this.items.map((r) => r.payload);
  }

  get length(): number {
    return this.items.length;
  }

  /** Resolves with the items once at least n arrived. */
  async atLeast(n: number, what = 'events', ms = WAIT_MS): Promise<Received<T>[]> {
    if (this.items.length < n) {
      const p = new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
      await within(p, ms, what).catch(() => {
        throw new Error(`${what}: ${this.items.length} of ${n} after ${ms} ms`);
      });
    }
    return this.items;
  }
}

/** Listens on a subject and returns what arrives. */
export function inbox<T = unknown>(bus: Bus, subject: string, opts?: ListenOptions): Inbox<T> {
  const box = new Inbox<T>();
  bus.on(subject, box.listener as (p: unknown, m: EventMeta) => void, opts);
  return box;
}

/**
 * A delivery barrier on one server: once the sender's flush() returns, the
 * server has routed what it sent, ahead of anything the receivers send
 * later; the receivers' flush() then returns after those events were
 * dispatched. After it, "not received" means "not delivered".
 */
export async function barrier(sender: Pick<Bus, 'flush'>, ...receivers: Pick<Bus, 'flush'>[]): Promise<void> {
  await sender.flush();
  for (const r of receivers) await r.flush();
}
