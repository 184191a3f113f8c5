/**
 * Node's globals on the client's path, for the browser bundle: esbuild's
 * `inject` (scripts/build.mjs) makes every bundled module's free `Buffer`,
 * `process`, `setTimeout` and `setInterval` these exports. Node never loads
 * this file. What each stands in for:
 *
 *   Buffer        the buffer package, plus latin1Slice/latin1Write, which
 *                 Node's Buffer has and protocol/bytes.ts uses on the hot path
 *   process       nextTick (the write queue's one flush per turn) and
 *                 emitWarning (a failed listener nobody hears) only
 *   setTimeout,   a browser's timers are numbers; the client unrefs its
 *   setInterval   heartbeat and retry timers (Node: so they do not hold the
 *                 process open), so a number gets ref/unref as no-ops
 */
import { Buffer } from 'buffer';

interface Latin1 {
  latin1Slice(this: Buffer, start?: number, end?: number): string;
  latin1Write(this: Buffer, s: string, offset?: number, length?: number): number;
}
const proto = Buffer.prototype as unknown as Partial<Latin1>;
proto.latin1Slice ??= function latin1Slice(this: Buffer, start?: number, end?: number): string {
  return this.toString('latin1', start, end);
};
proto.latin1Write ??= function latin1Write(this: Buffer, s: string, offset?: number, length?: number): number {
  return this.write(s, offset ?? 0, length ?? this.length - (offset ?? 0), 'latin1');
};

export { Buffer };

export const process = {
  nextTick(fn: (...args: unknown[]) => void, ...args: unknown[]): void {
    queueMicrotask(() => fn(...args));
  },
  emitWarning(warning: string | Error): void {
    console.warn(warning);
  },
};

/** A browser's timer id with the Timeout methods the client calls; clearTimeout() takes it (it converts to the id). */
class BrowserTimer {
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

type TimerFn = (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => unknown;
const nativeSetTimeout = globalThis.setTimeout as unknown as TimerFn;
const nativeSetInterval = globalThis.setInterval as unknown as TimerFn;

/** Where timers are objects already (the bundle run in Node or Deno), they are returned as they are. */
function wrap(handle: unknown): unknown {
  return typeof handle === 'number' ? new BrowserTimer(handle) : handle;
}

export function setTimeout(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): unknown {
  return wrap(nativeSetTimeout(fn, ms, ...args));
}

export function setInterval(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): unknown {
  return wrap(nativeSetInterval(fn, ms, ...args));
}
