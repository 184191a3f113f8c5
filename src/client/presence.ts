/**
 * `bus.presence`: who is connected, and the changes (issue #18). This is the
 * facade the bus holds; the work (the list, the watch, nats-server's
 * sources) is presence-watch.ts, loaded on first use, so the browser bundle
 * keeps it out of what connect() loads. The listeners live here, so on(),
 * once() and off() stay synchronous:
 *
 *   on('join', fn) ─► listeners ─► (load) ─► watch.listenersChanged() ─► SUB events, list, replay
 *   list(), update(), ready() ─► (load) ─► watch
 */
import type { PresenceMeta } from '../protocol/extensions.js';
import type { Member, PresenceEvent } from '../protocol/presence.js';
import { ConfigError } from '../errors.js';
import type { PresenceHost, PresenceListener, PresenceListeners, PresenceListOptions } from './presence-types.js';
import type { PresenceWatch } from './presence-watch.js';

const NO_MEMBERS: ReadonlyMap<string, Member> = new Map();

export class Presence {
  private readonly listeners: PresenceListeners = { join: new Map(), leave: new Map(), update: new Map() };
  private watch: Promise<PresenceWatch> | null = null;
  private loaded: PresenceWatch | null = null;

  constructor(
    private readonly host: PresenceHost,
    /** The bus's options: `presence` is what the next CONNECT (a reconnect) carries. */
    private readonly opts: { presence: PresenceMeta | undefined; timeout: number },
  ) {}

  /** Who is connected now; `filter` is a subject pattern matched against connection names. */
  async list(filter?: string, opts?: PresenceListOptions): Promise<Member[]> {
    return (await this.load()).list(filter, opts);
  }

  /**
   * Replaces this connection's metadata: the hub announces an `update`, and a
   * reconnect carries the new one. A netemitter hub only (else PresenceError).
   */
  async update(meta: PresenceMeta): Promise<void> {
    return (await this.load()).update(meta);
  }

  /** Resolves once the watch has applied its first snapshot (at once while nobody listens). */
  async ready(): Promise<void> {
    if (this.total() === 0) return;
    return (await this.load()).ready();
  }

  /** The members the watch sees now, keyed `server/id` (empty while nobody listens). */
  get members(): ReadonlyMap<string, Member> {
    return this.loaded?.members ?? NO_MEMBERS;
  }

  on(event: PresenceEvent, fn: PresenceListener): this {
    return this.add(event, fn, false);
  }

  once(event: PresenceEvent, fn: PresenceListener): this {
    return this.add(event, fn, true);
  }

  off(event: PresenceEvent, fn: PresenceListener): this {
    if (this.of(event)?.delete(fn) === true) this.loaded?.listenersChanged();
    return this;
  }

  listenerCount(event: PresenceEvent): number {
    return this.of(event)?.size ?? 0;
  }

  private add(event: PresenceEvent, fn: PresenceListener, once: boolean): this {
    const set = this.of(event);
    if (set === undefined) throw new ConfigError(`presence event must be 'join', 'leave' or 'update', got ${JSON.stringify(event)}`);
    if (typeof fn !== 'function') throw new ConfigError('a presence listener must be a function');
    set.set(fn, once);
    // Loaded: at once. Loading: once it is (it then reads the listeners as they are).
    if (this.loaded !== null) this.loaded.listenersChanged();
    else void this.load().then((w) => w.listenersChanged(), () => {});
    return this;
  }

  /** The listeners of an event name as a caller gave it (own keys only: not 'constructor' or '__proto__'). */
  private of(event: string): Map<PresenceListener, boolean> | undefined {
    return Object.hasOwn(this.listeners, event) ? this.listeners[event as PresenceEvent] : undefined;
  }

  private total(): number {
    return this.listeners.join.size + this.listeners.leave.size + this.listeners.update.size;
  }

  private load(): Promise<PresenceWatch> {
    this.watch ??= import('./presence-watch.js').then(
      (m) => (this.loaded = new m.PresenceWatch(this.listeners, this.host, this.opts)),
      (err: unknown) => {
        // A chunk that failed to load (a page offline): the next call tries again.
        this.watch = null;
        const e = err instanceof Error ? err : new Error(String(err));
        this.host.reportError(e);
        throw e;
      },
    );
    return this.watch;
  }
}
