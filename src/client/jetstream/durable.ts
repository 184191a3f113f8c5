/**
 * A durable listener: `bus.on(subject, handler, { durable: 'billing' })`.
 *
 * It binds a durable pull consumer (created or updated on the stream that
 * stores the subject), then keeps one pull request open on its own inbox:
 *
 *   bind ──► SUB <inbox>.*  ──► PUB $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable> <inbox>.<id>
 *              ▲                      {"batch":n,"expires":ns,"idle_heartbeat":ns}
 *              │                          │
 *              │     events (reply $JS.ACK.…) ──► queue ──► handler ──► +ACK | -NAK {"delay":ns} | +TERM
 *              │     <inbox>.<id> statuses: 100 heartbeat, 408 expired, 409 … ──► pull again
 *              └──── 409 Consumer Deleted, 503 (no consumer): bind again, with backoff
 *
 * One pull is outstanding at a time; the next one leaves when it ends (its
 * batch delivered, or a 408/409 status), the handlers having drained the
 * queue to half a batch. A pull id in the reply subject tells a status of
 * the current pull from a late one. Missing heartbeats or a reconnect mean
 * the pull is lost: a new one is issued.
 */
import type { MsgHeaders } from '../../protocol/headers.js';
import { JS_ACK_PREFIX } from '../../protocol/jetstream.js';
import { decodePayload } from '../codec.js';
import { DurableListenerError, JetStreamApiError, TerminateError } from '../../errors.js';
import type { JetStreamClient, JsHost } from './api.js';
import type { Consumers } from './manage.js';
import { Meta, type Delivery, type DurableMeta, type Settler } from './meta.js';
import { JsApi, nanos, type ConsumerConfig } from './types.js';
import { DurableDefaults, type DurableOptions, type StopMode } from './durable-options.js';

export type { DurableMeta };
// The options live apart so on() checks them without loading this module (the browser bundle loads it lazily).
export { DurableDefaults, checkDurableOptions } from './durable-options.js';
export type { DurableOptions, NakDelay, StopMode } from './durable-options.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandler = (payload: any, meta: DurableMeta) => unknown;

export class DurableListener implements Settler {
  readonly subject: string;
  readonly fn: AnyHandler;
  readonly opts: DurableOptions;
  /** Settles once: bound, or the first failure to bind (the listener keeps retrying). */
  readonly ready: Promise<void>;
  private readonly host: JsHost;
  private readonly js: JetStreamClient;
  private readonly consumers: Consumers;
  private stream: string | undefined;
  private readonly inbox: string;
  private sid: string | null = null;
  private state: 'binding' | 'bound' | 'stopped' = 'binding';
  private mode: StopMode | null = null;
  private pullSeq = 0;
  private current: { id: string; left: number; at: number; got: number } | null = null;
  private pullTimer: NodeJS.Timeout | null = null;
  private readonly queue: Delivery[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private failures = 0;
  /** The consumer's ack_wait in ms, as the server reported it. */
  private ackWait = Infinity;
  private settleReady: ((err?: Error) => void) | null;
  private readonly onReconnect = (): void => {
    // The pull died with the old connection; the subscription was restored.
    this.current = null;
    this.pull();
  };

  constructor(host: JsHost, js: JetStreamClient, consumers: Consumers, subject: string, fn: AnyHandler, opts: DurableOptions) {
    this.host = host;
    this.js = js;
    this.consumers = consumers;
    this.subject = subject;
    this.fn = fn;
    this.opts = opts;
    this.inbox = host.newInbox();
    let settle!: (err?: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.ready.catch(() => {}); // also reported on bus.status; awaiting it is optional
    this.settleReady = settle;
    host.status.on('reconnect', this.onReconnect);
    void this.bind();
  }

  /** A getter, so that checks after an await are not narrowed away. */
  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  get durable(): string {
    return this.opts.durable;
  }

  private get batch(): number {
    return this.opts.batch ?? DurableDefaults.batch;
  }

  /** The consumer config this listener asks for (created or updated on bind). */
  consumerConfig(): ConsumerConfig {
    const o = this.opts;
    const c: ConsumerConfig = { durable_name: o.durable, ack_policy: 'explicit', filter_subject: this.subject };
    if (o.deliverPolicy !== undefined) c.deliver_policy = o.deliverPolicy;
    if (o.ackWait !== undefined) c.ack_wait = nanos(o.ackWait);
    if (o.maxDeliver !== undefined) c.max_deliver = o.maxDeliver;
    if (o.backoff !== undefined) c.backoff = o.backoff.map(nanos);
    if (o.maxAckPending !== undefined) c.max_ack_pending = o.maxAckPending;
    if (o.deadLetter !== undefined) c.metadata = { dead_letter_subject: o.deadLetter };
    return c;
  }

  // ── binding ─────────────────────────────────────────────────────────────

  private async bind(): Promise<void> {
    this.retryTimer = null;
    if (this.stopped) return;
    try {
      const stream = this.opts.stream ?? (await this.js.findStream(this.subject));
      if (this.stopped) return;
      const info = await this.consumers.create(stream, this.consumerConfig(), '');
      if (this.stopped) return;
      this.ackWait = typeof info.config.ack_wait === 'number' && info.config.ack_wait > 0 ? info.config.ack_wait / 1e6 : Infinity;
      this.stream = stream;
      this.sid ??= this.host.rawSubscribe(`${this.inbox}.*`, (s, r, h, d) => this.deliver(s, r, h, d));
      this.state = 'bound';
      this.failures = 0;
      this.settleReady?.();
      this.settleReady = null;
      this.current = null;
      this.pull();
    } catch (err) {
      this.failed(err);
    }
  }

  /** Reports the failure and binds again later (the stream may be created, the server may come back). */
  private failed(err: unknown): void {
    if (this.state === 'stopped') return;
    this.state = 'binding';
    this.current = null;
    this.clearWatchdog();
    const e = new DurableListenerError(this.subject, this.opts.durable, err);
    this.settleReady?.(e);
    this.settleReady = null;
    this.host.reportError(e);
    const delay = Math.min(DurableDefaults.rebindMaxDelay, DurableDefaults.rebindInitialDelay * 2 ** Math.min(this.failures++, 16));
    this.retryTimer = setTimeout(() => void this.bind(), delay);
    this.retryTimer.unref();
  }

  // ── pulling ─────────────────────────────────────────────────────────────

  private get heartbeat(): number {
    return Math.max(500, Math.min(DurableDefaults.maxIdleHeartbeat, Math.floor((this.opts.expires ?? DurableDefaults.expires) / 2)));
  }

  private pull(): void {
    if (this.state !== 'bound' || this.current !== null || !this.host.isConnected) return;
    const have = this.queue.length + this.running;
    if (have > Math.floor(this.batch / 2)) return;
    const n = this.batch - have;
    const id = (++this.pullSeq).toString(36);
    this.current = { id, left: n, at: performance.now(), got: 0 };
    const expires = this.opts.expires ?? DurableDefaults.expires;
    const body = JSON.stringify({ batch: n, expires: nanos(expires), idle_heartbeat: nanos(this.heartbeat) });
    try {
      this.host.rawPublish(`${this.js.prefix}.${JsApi.CONSUMER_MSG_NEXT}.${this.stream!}.${this.opts.durable}`, `${this.inbox}.${id}`, null, Buffer.from(body));
    } catch (err) {
      this.current = null;
      return this.failed(err);
    }
    this.armWatchdog();
  }

  /** Two missed heartbeats: the pull is gone (server restarted, request dropped); ask again. */
  private armWatchdog(): void {
    this.clearWatchdog();
    if (this.current === null) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      this.current = null;
      this.pull();
    }, this.heartbeat * 2 + 1000);
    this.watchdog.unref();
  }

  private clearWatchdog(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private deliver(subject: string, reply: string | undefined, headers: MsgHeaders | undefined, data: Buffer): void {
    if (subject.startsWith(this.inbox) && subject.charCodeAt(this.inbox.length) === 46 /* . */) {
      return this.status(subject.slice(this.inbox.length + 1), headers);
    }
    if (reply === undefined || !reply.startsWith(`${JS_ACK_PREFIX}.`)) return; // not a stream event
    if (this.current !== null) {
      this.current.got++;
      if (--this.current.left <= 0) this.current = null;
      this.armWatchdog();
    }
    const d: Delivery = { at: performance.now(), subject, ackSubject: reply, headers, data };
    if (this.mode === 'off') return this.nakNow(d);
    if (this.mode === 'close') return;
    this.queue.push(d);
    this.pump();
    this.pull();
  }

  /** A status message on the current pull's reply subject (ADR-37). */
  private status(id: string, headers: MsgHeaders | undefined): void {
    if (this.current === null || id !== this.current.id || this.state !== 'bound') return; // a late status of an old pull
    const code = headers?.code ?? 0;
    const why = (headers?.description ?? '').toLowerCase();
    if (code === 100) return this.armWatchdog();
    const ended = this.current;
    this.current = null;
    this.clearWatchdog();
    if (code === 408 || code === 404 || (code === 409 && !why.includes('consumer deleted') && !why.includes('exceeded max') && !why.includes('push based'))) {
      // A pull that ends at once and empty (interest expired, leadership change…) must not become a busy loop.
      if (ended.got === 0 && performance.now() - ended.at < DurableDefaults.minPullInterval) {
        this.pullTimer ??= setTimeout(() => {
          this.pullTimer = null;
          this.pull();
        }, DurableDefaults.minPullInterval);
        this.pullTimer.unref();
        return;
      }
      return this.pull();
    }
    const desc = headers?.description || 'no description';
    if (code === 503) return this.failed(new JetStreamApiError(503, 0, `consumer ${this.opts.durable} of stream ${this.stream!} is not available`));
    this.failed(new JetStreamApiError(code, 0, `the pull request ended with status ${code} ${desc}`));
  }

  // ── handling ────────────────────────────────────────────────────────────

  private pump(): void {
    const max = this.opts.concurrency ?? DurableDefaults.concurrency;
    while (this.running < max && this.queue.length > 0 && this.mode !== 'off' && this.mode !== 'close') {
      const d = this.queue.shift()!;
      // Its ack timer ran out while it waited here: the server has redelivered it (to us or
      // another listener). Handling this copy too would only duplicate the work.
      if (performance.now() - d.at > this.ackWait) continue;
      this.run(d);
    }
    if (this.running === 0 && (this.queue.length === 0 || this.mode === 'close')) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private run(d: Delivery): void {
    this.running++;
    const meta = new Meta(this, d);
    const value = this.opts.raw === true ? d.data : decodePayload(d.data);
    const p = (async () => this.fn(value, meta))().then(
      () => {
        if (!meta.settled) meta.ack();
      },
      (err: unknown) => {
        if (err instanceof TerminateError) {
          if (!meta.settled) meta.term(err.reason);
          return;
        }
        if (!meta.settled) meta.nak(this.nakDelay(meta.deliveryCount));
        this.host.listenerFailed(this.subject, err);
      },
    );
    const done = p.finally(() => {
      this.running--;
      this.pump();
      this.pull();
    });
    this.host.track(done);
  }

  private nakDelay(deliveryCount: number): number {
    const n = this.opts.nakDelay;
    if (typeof n === 'function') return Math.max(0, n(deliveryCount));
    const initial = n?.initialDelay ?? DurableDefaults.nakInitialDelay;
    const max = n?.maxDelay ?? DurableDefaults.nakMaxDelay;
    return Math.min(max, initial * 2 ** Math.min(Math.max(0, deliveryCount - 1), 30));
  }

  /** @internal Sends an acknowledgement; `+ACK` is confirmed by the server when ackAck is on. */
  settle(ackSubject: string, body: Buffer, confirm: boolean): void {
    if (this.host.isClosed) return; // the server redelivers after ack_wait
    try {
      if (!confirm) return this.host.rawPublish(ackSubject, undefined, null, body);
      const p = this.host.rawRequest(ackSubject, null, body, this.js.timeout).then(
        () => {},
        (err: unknown) => this.host.reportError(new DurableListenerError(this.subject, this.opts.durable, new Error(`acknowledgement not confirmed: ${(err as Error).message}`, { cause: err }))),
      );
      this.host.track(p);
    } catch (err) {
      this.host.reportError(new DurableListenerError(this.subject, this.opts.durable, err));
    }
  }

  /** Whether the server understands `+TERM <reason>` (nats-server 2.10 and later, the hub). */
  get termTakesReason(): boolean {
    const m = /^(\d+)\.(\d+)/.exec(this.host.info?.version ?? '');
    return m !== null && (Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 10));
  }

  get confirmAcks(): boolean {
    return this.opts.ackAck !== false;
  }

  private nakNow(d: Delivery): void {
    this.settle(d.ackSubject, Buffer.from('-NAK'), false);
  }

  // ── stopping ────────────────────────────────────────────────────────────

  /** Stops pulling. off: unsubscribes and hands queued events back; drain: handles them; close: drops them. */
  stop(mode: StopMode): void {
    if (this.mode !== null && !(this.mode === 'drain' && mode === 'close')) return;
    this.mode = mode;
    this.state = 'stopped';
    this.current = null;
    this.host.status.off('reconnect', this.onReconnect);
    this.clearWatchdog();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.pullTimer !== null) clearTimeout(this.pullTimer);
    this.pullTimer = null;
    this.settleReady?.(new DurableListenerError(this.subject, this.opts.durable, new Error('removed before it was bound')));
    this.settleReady = null;
    if (mode === 'off') {
      if (this.sid !== null && !this.host.isClosed) this.host.rawUnsubscribe(this.sid);
      for (const d of this.queue.splice(0)) this.nakNow(d);
    }
    if (mode === 'close') this.queue.length = 0;
    this.pump();
  }

  get isIdle(): boolean {
    return this.running === 0 && (this.queue.length === 0 || this.mode === 'close' || this.mode === 'off');
  }

  /** Resolves once no handler runs and nothing is queued. */
  idle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
