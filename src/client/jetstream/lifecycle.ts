/**
 * The bus's reconnect and close, for any number of watches and readers: one
 * listener per bus on `bus.status`, fanning out to a set, so a thousand
 * watches neither trip EventEmitter's leak warning nor slow every emit down
 * with a thousand listeners of their own.
 */
import type { JsHost } from './api.js';

type Event = 'reconnect' | 'close';

const hubs = new WeakMap<JsHost, Record<Event, Set<() => void>>>();

function hubOf(host: JsHost): Record<Event, Set<() => void>> {
  let h = hubs.get(host);
  if (h === undefined) {
    const sets: Record<Event, Set<() => void>> = { reconnect: new Set(), close: new Set() };
    host.status.on('reconnect', () => {
      for (const f of [...sets.reconnect]) f();
    });
    host.status.on('close', () => {
      for (const f of [...sets.close]) f();
    });
    hubs.set(host, (h = sets));
  }
  return h;
}

/** Calls `fn` on each reconnect (or at close) of the bus until the returned function is called. */
export function onLifecycle(host: JsHost, event: Event, fn: () => void): () => void {
  const set = hubOf(host)[event];
  set.add(fn);
  return () => set.delete(fn);
}
