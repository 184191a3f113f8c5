/**
 * An ordered push consumer, as the official clients build KV watch/keys/
 * history and object reads on: an ephemeral consumer that pushes every
 * message of a filter, in stream order, once, to an inbox of ours.
 *
 *   SUB <inbox>  ──►  CONSUMER.CREATE <stream>  {deliver_subject: <inbox>, ack_policy: none,
 *                      flow_control, idle_heartbeat, mem_storage, max_deliver: 1, filter_subject}
 *        │
 *        ├─ message   reply $JS.ACK.<stream>.<consumer>.1.<sseq>.<dseq>.<ts>.<pending>
 *        │            dseq must be the last one + 1, else a message was lost: recreate
 *        ├─ 100 FlowControl Request (reply set)  ──► empty reply, unless the owner holds delivery
 *        ├─ 100 Idle Heartbeat  Nats-Last-Consumer ≠ our last dseq ──► recreate
 *        │                      Nats-Consumer-Stalled: <subj> ──► empty publish there
 *        └─ nothing for 2 heartbeats, or a reconnect ──► recreate
 *
 * Recreating means a new inbox and a new consumer starting at the stream
 * sequence after the last one delivered, so the owner never sees a gap nor a
 * repeat. The owner holds delivery (`hold`) while it cannot take more: the
 * flow-control reply waits, and the server stops after its window.
 */
import type { MsgHeaders } from '../../protocol/headers.js';
import { JS_ACK_PREFIX } from '../../protocol/jetstream.js';
import type { JsHost } from './api.js';
import { onLifecycle } from './lifecycle.js';
import { ClosedError } from '../../errors.js';
import type { Consumers } from './manage.js';
import { nanos, type ConsumerConfig, type ConsumerInfo } from './types.js';

export const OrderedDefaults = {
  /** ms between the server's idle heartbeats; two missed ones mean the consumer is gone. */
  heartbeat: 5_000,
  /** ms before trying again after a failed (re)creation, doubling up to maxRetryDelay. */
  retryDelay: 250,
  maxRetryDelay: 10_000,
} as const;

/** A message as the ordered consumer delivers it. */
export interface OrderedMsg {
  readonly subject: string;
  readonly headers: MsgHeaders | undefined;
  readonly data: Buffer;
  /** Stream sequence. */
  readonly seq: number;
  /** Messages left for the consumer after this one. */
  readonly pending: number;
  readonly time: Date;
}

export interface OrderedOptions {
  stream: string;
  filter: string;
  deliverPolicy: 'all' | 'last_per_subject' | 'new';
  /** Deliver headers only (Nats-Msg-Size tells the size left out). */
  headersOnly?: boolean;
  /** ms between idle heartbeats. */
  heartbeat?: number;
  /** Keep trying after a failed (re)creation (a watch) instead of failing at once (a one-shot read). */
  retry?: boolean;
}

/** What the ordered consumer tells its owner. */
export interface OrderedHandler {
  message(m: OrderedMsg): void;
  /** A consumer was created: what it had pending then, and what it had pushed already. */
  created(info: ConsumerInfo, first: boolean): void;
  /** A creation failed; `retrying` says whether the consumer tries again. */
  failed(err: Error, retrying: boolean): void;
}

const EMPTY = Buffer.alloc(0);

/** `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (or the v2 form with domain and account hash). */
function ackTokens(reply: string): { sseq: number; dseq: number; ts: Date; pending: number } | null {
  if (!reply.startsWith(`${JS_ACK_PREFIX}.`)) return null;
  const t = reply.split('.');
  const at = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (at === -1) return null;
  let ts = new Date(0);
  try {
    ts = new Date(Number(BigInt(t[at + 5]!) / 1_000_000n));
  } catch {
    // keep the epoch
  }
  return { sseq: Number(t[at + 3]), dseq: Number(t[at + 4]), ts, pending: Number(t[at + 6]) };
}

export class OrderedConsumer {
  private readonly host: JsHost;
  private readonly consumers: Consumers;
  private readonly opts: OrderedOptions;
  private readonly handler: OrderedHandler;
  private inbox = '';
  private sid: string | null = null;
  private name: string | null = null;
  /** Bumped at each creation: a late reply or message of an older consumer is ignored. */
  private generation = 0;
  private lastDseq = 0;
  /** Stream sequence of the last message delivered to the owner (0: none yet). */
  private lastSseq = 0;
  private everCreated = false;
  private stopped = false;
  private held = false;
  private pendingFc: string | null = null;
  /** The watchdog fired while delivery was held: recreate once it is released. */
  private staleWhileHeld = false;
  private watchdog: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private offReconnect: (() => void) | null = null;

  constructor(host: JsHost, consumers: Consumers, opts: OrderedOptions, handler: OrderedHandler) {
    this.host = host;
    this.consumers = consumers;
    this.opts = opts;
    this.handler = handler;
  }

  private get heartbeat(): number {
    return this.opts.heartbeat ?? OrderedDefaults.heartbeat;
  }

  start(): void {
    this.offReconnect = onLifecycle(this.host, 'reconnect', () => this.recreate());
    this.create();
  }

  /** While true, flow-control replies wait: the server pauses once its window is full. */
  set hold(on: boolean) {
    this.held = on;
    if (!on && this.staleWhileHeld) {
      this.staleWhileHeld = false;
      this.recreate();
      return;
    }
    if (!on && this.pendingFc !== null) {
      const fc = this.pendingFc;
      this.pendingFc = null;
      this.reply(fc);
    }
  }

  get hold(): boolean {
    return this.held;
  }

  private config(): ConsumerConfig {
    const c: ConsumerConfig = {
      deliver_subject: this.inbox,
      ack_policy: 'none',
      max_deliver: 1,
      flow_control: true,
      idle_heartbeat: nanos(this.heartbeat),
      mem_storage: true,
      num_replicas: 1,
      filter_subject: this.opts.filter,
      deliver_policy: this.opts.deliverPolicy,
    };
    if (this.opts.headersOnly === true) c.headers_only = true;
    if (this.lastSseq > 0) {
      c.deliver_policy = 'by_start_sequence';
      c.opt_start_seq = this.lastSseq + 1;
    }
    return c;
  }

  private create(): void {
    if (this.stopped) return;
    this.retryTimer = null;
    this.dropConsumer();
    const generation = ++this.generation;
    this.inbox = this.host.newInbox();
    this.lastDseq = 0;
    this.pendingFc = null;
    this.staleWhileHeld = false;
    try {
      this.sid = this.host.rawSubscribe(this.inbox, (s, r, h, d) => {
        if (generation === this.generation) this.deliver(r, s, h, d);
      });
    } catch (err) {
      return this.createFailed(err as Error);
    }
    this.armWatchdog();
    this.consumers.create(this.opts.stream, this.config(), '').then(
      (info) => {
        if (this.stopped || generation !== this.generation) {
          void this.consumers.delete(this.opts.stream, info.name).catch(() => {});
          return;
        }
        this.name = info.name;
        this.failures = 0;
        // A consumer of new messages only: should it be recreated before one arrives, start after what it saw.
        if (this.lastSseq === 0 && this.opts.deliverPolicy === 'new') this.lastSseq = info.delivered.stream_seq;
        const first = !this.everCreated;
        this.everCreated = true;
        this.handler.created(info, first);
      },
      (err: unknown) => {
        if (generation === this.generation) this.createFailed(err as Error);
      },
    );
  }

  private createFailed(err: Error): void {
    if (this.stopped) return;
    this.clearWatchdog();
    const retrying = this.opts.retry === true && !this.host.isClosed;
    this.handler.failed(err, retrying);
    if (!retrying || this.stopped) return;
    const delay = Math.min(OrderedDefaults.maxRetryDelay, OrderedDefaults.retryDelay * 2 ** Math.min(this.failures++, 16));
    this.retryTimer = setTimeout(() => this.create(), delay);
    this.retryTimer.unref();
  }

  /** Starts over after the last message delivered. */
  private recreate(): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.create();
  }

  private deliver(reply: string | undefined, subject: string, headers: MsgHeaders | undefined, data: Buffer): void {
    if (this.stopped) return;
    this.armWatchdog();
    const code = headers?.code ?? 0;
    if (code === 100) {
      if (reply !== undefined && reply !== '') {
        // FlowControl Request
        if (this.held) this.pendingFc = reply;
        else this.reply(reply);
        return;
      }
      // Idle Heartbeat
      const last = headers!.get('Nats-Last-Consumer');
      if (last !== undefined && Number(last) !== this.lastDseq) return this.recreate();
      const stalled = headers!.get('Nats-Consumer-Stalled');
      if (stalled !== undefined && stalled !== '') {
        if (this.held) this.pendingFc = stalled;
        else this.reply(stalled);
      }
      return;
    }
    if (code !== 0) return this.recreate(); // 409 Consumer Deleted and the like
    const t = reply === undefined ? null : ackTokens(reply);
    if (t === null) return;
    if (t.dseq !== this.lastDseq + 1) return this.recreate();
    this.lastDseq = t.dseq;
    this.lastSseq = t.sseq;
    this.handler.message({ subject, headers, data, seq: t.sseq, pending: t.pending, time: t.ts });
  }

  private reply(subject: string): void {
    try {
      this.host.rawPublish(subject, undefined, null, EMPTY);
    } catch {
      // the connection is gone: the consumer is recreated on reconnect
    }
  }

  private armWatchdog(): void {
    this.clearWatchdog();
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      // A new consumer now would push a second flow-control window at a reader that takes nothing:
      // wait until the owner wants more (a reconnect recreates it anyway).
      if (this.held) this.staleWhileHeld = true;
      else this.recreate();
    }, this.heartbeat * 2 + 1_000);
    this.watchdog.unref();
  }

  private clearWatchdog(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private dropConsumer(): void {
    if (this.sid !== null && !this.host.isClosed) this.host.rawUnsubscribe(this.sid);
    this.sid = null;
    const name = this.name;
    this.name = null;
    // Best effort: the server also removes an ephemeral consumer whose deliver subject lost interest.
    if (name !== null && this.host.isConnected) void this.consumers.delete(this.opts.stream, name).catch(() => {});
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.generation++;
    this.offReconnect?.();
    this.clearWatchdog();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.dropConsumer();
  }
}


/**
 * Reads what a filter holds now (every message, or the last per subject)
 * and stops: the messages up to the one with nothing pending after it.
 */
export function readAll(host: JsHost, consumers: Consumers, opts: Omit<OrderedOptions, 'retry'>): Promise<OrderedMsg[]> {
  return new Promise((resolve, reject) => {
    if (host.isClosed) return reject(new ClosedError());
    const out: OrderedMsg[] = [];
    let done = false;
    const end = (err?: Error): void => {
      if (done) return;
      done = true;
      offClose();
      c.stop();
      if (err === undefined) resolve(out);
      else reject(err);
    };
    const onClose = (): void => end(new Error(`stream ${opts.stream}: the connection closed before the messages were all read`));
    const c = new OrderedConsumer(host, consumers, { ...opts, retry: false }, {
      message(m) {
        out.push(m);
        if (m.pending === 0) end();
      },
      created(info, first) {
        if (first && info.num_pending === 0 && info.delivered.consumer_seq <= out.length) end();
      },
      failed: (err) => end(err),
    });
    const offClose = onLifecycle(host, 'close', onClose);
    c.start();
  });
}
