/**
 * The bus's hub subscriptions and the local listeners behind them.
 *
 *   subs       sid ──► Sub          every subscription: dispatch by sid
 *   bySubject  subject\0queue ──► Sub   event listeners, one Sub per (subject, queue)
 *   handlers   subject ──► Sub      request handlers, one per subject
 *
 * One hub subscription per (subject, queue) whatever the number of local
 * listeners: the SUB goes out with the first listener and the UNSUB with the
 * last.
 */
import type { AnyListener, Entry, ListenOptions, Sub, SubKind } from './bus-types.js';

/** @internal What the registry writes to: the connection. */
export interface SubscriptionWire {
  writeLine(line: string): void;
}

function subKey(subject: string, queue: string | undefined): string {
  return queue === undefined ? subject : `${subject}\u0000${queue}`;
}

function subLine(sub: Sub): string {
  return sub.queue === undefined ? `SUB ${sub.subject} ${sub.sid}\r\n` : `SUB ${sub.subject} ${sub.queue} ${sub.sid}\r\n`;
}

export class Registry {
  readonly subs = new Map<string, Sub>();
  readonly handlers = new Map<string, Sub>();
  maxListeners = 10;
  private readonly bySubject = new Map<string, Sub>();
  private nextSid = 1;
  private readonly wire: SubscriptionWire;
  /** Whether an UNSUB still has to be sent (not while draining: every UNSUB is out already). */
  private readonly unsubOnWire: () => boolean;

  constructor(wire: SubscriptionWire, unsubOnWire: () => boolean) {
    this.wire = wire;
    this.unsubOnWire = unsubOnWire;
  }

  // ── hub subscriptions ───────────────────────────────────────────────────

  subscribe(subject: string, queue: string | undefined, kind: SubKind): Sub {
    const sid = String(this.nextSid++);
    const sub: Sub = { sid, subject, queue, kind, listeners: [], handler: null, deliver: null };
    this.subs.set(sid, sub);
    this.wire.writeLine(subLine(sub));
    return sub;
  }

  unsubscribe(sub: Sub): void {
    if (!this.subs.delete(sub.sid)) return;
    if (this.unsubOnWire()) this.wire.writeLine(`UNSUB ${sub.sid}\r\n`);
  }

  /** Restores every subscription after a reconnect. */
  subscriptionLines(): string {
    let lines = '';
    for (const sub of this.subs.values()) lines += subLine(sub);
    return lines;
  }

  /** drain(): UNSUB everything but the request inbox, which still awaits replies. */
  unsubscribeAllButInbox(): void {
    for (const sub of this.subs.values()) if (sub.kind !== 'inbox') this.wire.writeLine(`UNSUB ${sub.sid}\r\n`);
  }

  /** drain(), once the server has confirmed the UNSUBs: forget them. */
  forgetAllButInbox(): void {
    for (const sub of [...this.subs.values()]) if (sub.kind !== 'inbox') this.subs.delete(sub.sid);
    this.bySubject.clear();
    this.handlers.clear();
  }

  // ── event listeners ─────────────────────────────────────────────────────

  /** Adds a plain listener (the caller has checked the subject). */
  addListener(subject: string, fn: AnyListener, once: boolean, prepend: boolean, opts: ListenOptions): void {
    const queue = opts.queue;
    if (queue !== undefined && (typeof queue !== 'string' || queue.length === 0 || /\s/.test(queue))) {
      throw new TypeError(`invalid queue group ${JSON.stringify(queue)}`);
    }
    const key = subKey(subject, queue);
    let sub = this.bySubject.get(key);
    if (sub === undefined) {
      sub = this.subscribe(subject, queue, 'events');
      this.bySubject.set(key, sub);
    }
    const entry: Entry = { fn, once, raw: opts.raw === true };
    if (prepend) sub.listeners.unshift(entry);
    else sub.listeners.push(entry);
    if (this.maxListeners > 0 && sub.listeners.length === this.maxListeners + 1) {
      process.emitWarning(
        `Possible netemitter listener leak: ${sub.listeners.length} listeners for ${JSON.stringify(subject)}. Use bus.setMaxListeners() to raise the limit.`,
        'MaxListenersExceededWarning',
      );
    }
  }

  /** Removes the last instance of the listener (plain listeners, then each queue group's); whether one was found. */
  removeListener(subject: string, listener: unknown): boolean {
    const subs = this.eventSubs(subject);
    for (let s = subs.length - 1; s >= 0; s--) {
      const sub = subs[s]!;
      for (let i = sub.listeners.length - 1; i >= 0; i--) {
        if (sub.listeners[i]!.fn === listener) {
          sub.listeners.splice(i, 1);
          if (sub.listeners.length === 0) this.dropEventSub(sub);
          return true;
        }
      }
    }
    return false;
  }

  removeAllListeners(subject: string | undefined): void {
    for (const sub of [...this.bySubject.values()]) {
      if (subject === undefined || sub.subject === subject) {
        sub.listeners = [];
        this.dropEventSub(sub);
      }
    }
  }

  listenerCount(subject: string, listener: AnyListener | undefined): number {
    let n = 0;
    for (const sub of this.eventSubs(subject)) {
      for (const e of sub.listeners) if (listener === undefined || e.fn === listener) n++;
    }
    return n;
  }

  /** Plain listeners, then each queue group's. */
  listeners(subject: string): AnyListener[] {
    return this.eventSubs(subject).flatMap((s) => s.listeners.map((e) => e.fn));
  }

  /** Subjects with at least one plain listener. */
  subjects(): string[] {
    return [...this.bySubject.values()].map((s) => s.subject);
  }

  /** Unsubscribes an event subscription left with no listener. */
  dropEventSub(sub: Sub): void {
    if (sub.listeners.length > 0) return;
    this.bySubject.delete(subKey(sub.subject, sub.queue));
    this.unsubscribe(sub);
  }

  private eventSubs(subject: string): Sub[] {
    const out: Sub[] = [];
    for (const sub of this.bySubject.values()) if (sub.subject === subject) out.push(sub);
    return out;
  }
}
