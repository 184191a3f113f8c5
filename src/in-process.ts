/**
 * The hubs of this process that clients may reach without a socket, by
 * `inprocess://<server id>` URL (the hub's `url` when it has no listener):
 * the hub registers a dialer here while it runs, and the Node client's
 * platform dials through it. Neither side imports the other: the hub
 * module is not loaded by a client that only dials, nor the client by a hub
 * that nobody connects to in-process.
 */
import { ConnectionError } from './errors.js';
import type { DialTarget, Dialer } from './transport.js';

export const INPROCESS_SCHEME = 'inprocess';

const hubs = new Map<string, Dialer>();

/** The URL that reaches the hub registered under `name`. */
export function inProcessUrl(name: string): string {
  return `${INPROCESS_SCHEME}://${name}`;
}

/** Makes a hub reachable by its in-process URL; returns what undoes it. */
export function registerInProcess(name: string, dial: Dialer): () => void {
  hubs.set(name, dial);
  return () => {
    if (hubs.get(name) === dial) hubs.delete(name);
  };
}

/** The Node client's dialer for inprocess:// URLs. */
export function dialInProcess(target: DialTarget, signal: AbortSignal): ReturnType<Dialer> {
  const name = target.inprocess ?? '';
  const dial = hubs.get(name);
  if (dial === undefined) {
    return Promise.reject(
      new ConnectionError(`no hub runs at ${inProcessUrl(name)} in this process (it is closed, not started, or in another process: an inprocess:// URL works only in the hub's own process)`),
    );
  }
  return dial(target, signal);
}
