/**
 * The durable listeners of a bus (`on(subject, fn, { durable })`), kept apart
 * from the plain ones: each reads a stream through its own consumer, so the
 * bus only adds, finds, counts and stops them.
 *
 * The listener's code (jetstream/durable.ts) loads with the first durable
 * listener (a dynamic import: the browser bundle keeps it out of what
 * connect() loads). on() checks the options at once; the listener starts
 * once the module is there, unless it was stopped meanwhile.
 */
import { checkDurableOptions, type DurableOptions, type StopMode } from './jetstream/durable-options.js';
import type { DurableListener } from './jetstream/durable.js';
import type { JetStreamClient, JsHost } from './jetstream/api.js';
import type { Consumers } from './jetstream/manage.js';

/** What a durable listener calls the server through (the bus loads it on first use). */
export type DurableApis = () => Promise<{ client: JetStreamClient; consumers: Consumers }>;
import type { AnyListener, ListenOptions } from './bus-types.js';

type DurableModule = typeof import('./jetstream/durable.js');
let durableModule: Promise<DurableModule> | null = null;

/** One durable listener: what on() gave, and the listener once it has started. */
interface Entry {
  readonly subject: string;
  readonly fn: AnyListener;
  readonly opts: DurableOptions;
  /** Settles as the listener's own `ready` does (bound, or its first failure to bind). */
  readonly ready: Promise<void>;
  listener: DurableListener | null;
  /** Stopped before it started: it never will. */
  stopped: boolean;
}

export class Durables {
  private readonly list: Entry[] = [];

  /** Adds a durable listener unless the same one is there already; throws on options a durable cannot take. */
  add(host: JsHost, apis: DurableApis, subject: string, fn: AnyListener, unsupported: boolean, opts: DurableOptions): void {
    if (unsupported) throw new TypeError('a durable listener cannot be once() or prepended: use on()');
    if ('queue' in opts && (opts as ListenOptions).queue !== undefined) {
      throw new TypeError('a durable listener takes no queue group: listeners sharing the durable name already share its events');
    }
    checkDurableOptions(opts);
    // One consumer has one filter: a second subject would keep rewriting it.
    const other = this.list.find((d) => d.opts.durable === opts.durable && d.subject !== subject && (d.opts.stream ?? '') === (opts.stream ?? ''));
    if (other !== undefined) {
      throw new TypeError(`durable ${JSON.stringify(opts.durable)} already listens on ${JSON.stringify(other.subject)}: one durable consumer filters one subject`);
    }
    if (this.list.some((d) => d.opts.durable === opts.durable && d.fn === fn && d.subject === subject)) return;
    durableModule ??= import('./jetstream/durable.js');
    const entry: Entry = {
      subject,
      fn,
      opts,
      listener: null,
      stopped: false,
      ready: Promise.all([durableModule, apis()]).then(([m, { client, consumers }]) => {
        if (entry.stopped) return;
        entry.listener = new m.DurableListener(host, client, consumers, subject, fn, opts);
        return entry.listener.ready;
      }),
    };
    entry.ready.catch(() => {}); // reported on bus.status; awaiting it (bus.ready()) is optional
    this.list.push(entry);
  }

  /** Resolves once every durable listener added so far has bound its consumer. */
  async ready(): Promise<void> {
    await Promise.all(this.list.map((d) => d.ready));
  }

  /** Removes and stops the last one with this subject and function; whether there was one. */
  remove(subject: string, fn: unknown): boolean {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const d = this.list[i]!;
      if (d.subject === subject && d.fn === fn) {
        this.list.splice(i, 1);
        stop(d, 'off');
        return true;
      }
    }
    return false;
  }

  removeAll(subject: string | undefined): void {
    for (const d of [...this.list]) {
      if (subject === undefined || d.subject === subject) {
        this.list.splice(this.list.indexOf(d), 1);
        stop(d, 'off');
      }
    }
  }

  count(subject: string, fn: AnyListener | undefined): number {
    let n = 0;
    for (const d of this.list) if (d.subject === subject && (fn === undefined || d.fn === fn)) n++;
    return n;
  }

  listeners(subject: string): AnyListener[] {
    return this.list.filter((d) => d.subject === subject).map((d) => d.fn as AnyListener);
  }

  subjects(): string[] {
    return this.list.map((d) => d.subject);
  }

  /** drain(): each stops asking for events; those delivered are still handled. */
  stopAll(mode: StopMode): void {
    for (const d of this.list) stop(d, mode);
  }

  /** close(): stops and forgets them all. */
  closeAll(): void {
    for (const d of this.list.splice(0)) stop(d, 'close');
  }

  get busy(): boolean {
    return this.list.some((d) => d.listener !== null && !d.listener.isIdle);
  }

  async idle(): Promise<void> {
    await Promise.all(this.list.map((d) => d.listener?.idle()));
  }

  clear(): void {
    this.list.length = 0;
  }
}

function stop(d: Entry, mode: StopMode): void {
  d.stopped = true;
  d.listener?.stop(mode);
}
