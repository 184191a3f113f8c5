/**
 * The durable listeners of a bus (`on(subject, fn, { durable })`), kept apart
 * from the plain ones: each reads a stream through its own consumer, so the
 * bus only adds, finds, counts and stops them.
 */
import { checkDurableOptions, DurableListener, type DurableOptions, type StopMode } from './jetstream/durable.js';
import type { JetStreamClient, JsHost } from './jetstream/api.js';
import type { Consumers } from './jetstream/manage.js';
import type { AnyListener, ListenOptions } from './bus-types.js';

export class Durables {
  private readonly list: DurableListener[] = [];

  /** Adds a durable listener unless the same one is there already; throws on options a durable cannot take. */
  add(host: JsHost, js: () => JetStreamClient, consumers: () => Consumers, subject: string, fn: AnyListener, unsupported: boolean, opts: DurableOptions): void {
    if (unsupported) throw new TypeError('a durable listener cannot be once() or prepended: use on()');
    if ('queue' in opts && (opts as ListenOptions).queue !== undefined) {
      throw new TypeError('a durable listener takes no queue group: listeners sharing the durable name already share its events');
    }
    checkDurableOptions(opts);
    // One consumer has one filter: a second subject would keep rewriting it.
    const other = this.list.find((d) => d.durable === opts.durable && d.subject !== subject && (d.opts.stream ?? '') === (opts.stream ?? ''));
    if (other !== undefined) {
      throw new TypeError(`durable ${JSON.stringify(opts.durable)} already listens on ${JSON.stringify(other.subject)}: one durable consumer filters one subject`);
    }
    if (this.list.some((d) => d.durable === opts.durable && d.fn === fn && d.subject === subject)) return;
    this.list.push(new DurableListener(host, js(), consumers(), subject, fn, opts));
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
        d.stop('off');
        return true;
      }
    }
    return false;
  }

  removeAll(subject: string | undefined): void {
    for (const d of [...this.list]) {
      if (subject === undefined || d.subject === subject) {
        this.list.splice(this.list.indexOf(d), 1);
        d.stop('off');
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
    for (const d of this.list) d.stop(mode);
  }

  /** close(): stops and forgets them all. */
  closeAll(): void {
    for (const d of this.list.splice(0)) d.stop('close');
  }

  get busy(): boolean {
    return this.list.some((d) => !d.isIdle);
  }

  async idle(): Promise<void> {
    await Promise.all(this.list.map((d) => d.idle()));
  }

  clear(): void {
    this.list.length = 0;
  }
}
