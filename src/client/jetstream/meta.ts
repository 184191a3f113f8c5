/**
 * The meta of a durable event: its position, parsed from the ack subject the
 * server delivered it with, and the acknowledgements it can send.
 *
 *   $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp ns>.<pending>
 *   $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.…   (v2, 11+ tokens)
 */
import type { MsgHeaders } from '../../protocol/headers.js';
import type { EventMeta } from '../event-meta.js';
import { JsHeader, nanos } from './types.js';

/** The meta of a durable event: where it is in the stream, and how to settle it by hand. */
export interface DurableMeta extends EventMeta {
  readonly stream: string;
  readonly consumer: string;
  /** Stream sequence of the event. */
  readonly seq: number;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /** When the event was stored. */
  readonly timestamp: Date;
  /** Events still pending for the consumer after this one. */
  readonly pending: number;
  /** Acknowledge now (the handler's result is then ignored). */
  ack(): void;
  /** Ask for redelivery, after `delay` ms (default: at once). */
  nak(delay?: number): void;
  /** Never redeliver (the hub dead-letters it). */
  term(reason?: string): void;
  /** Still working on it: restarts the ack timer. */
  working(): void;
}

/** An event as it arrived on the pull inbox. */
export interface Delivery {
  /** performance.now() when it arrived: one that waited in the queue past ack_wait has been redelivered already. */
  readonly at: number;
  readonly subject: string;
  readonly ackSubject: string;
  readonly headers: MsgHeaders | undefined;
  readonly data: Buffer;
}

/** What a Meta needs from its listener. */
export interface Settler {
  settle(ackSubject: string, body: Buffer, confirm: boolean): void;
  readonly confirmAcks: boolean;
  readonly termTakesReason: boolean;
}

const ACK = Buffer.from('+ACK');
const WPI = Buffer.from('+WPI');

/** Parses `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (or the 12-token v2 form). */
export function ackInfo(ack: string): { stream: string; consumer: string; delivered: number; seq: number; ts: Date; pending: number } {
  const t = ack.split('.');
  const at = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (at === -1) return { stream: '', consumer: '', delivered: 1, seq: 0, ts: new Date(0), pending: 0 };
  let ts = new Date(0);
  try {
    ts = new Date(Number(BigInt(t[at + 5]!) / 1_000_000n));
  } catch {
    // keep the epoch
  }
  return { stream: t[at]!, consumer: t[at + 1]!, delivered: Number(t[at + 2]), seq: Number(t[at + 3]), ts, pending: Number(t[at + 6]) };
}

export class Meta implements DurableMeta {
  readonly subject: string;
  readonly reply = undefined;
  readonly headers: MsgHeaders | undefined;
  readonly data: Buffer;
  readonly stream: string;
  readonly consumer: string;
  readonly seq: number;
  readonly deliveryCount: number;
  readonly timestamp: Date;
  readonly pending: number;
  settled = false;
  readonly #owner: Settler;
  readonly #ack: string;

  constructor(owner: Settler, d: Delivery) {
    this.#owner = owner;
    this.#ack = d.ackSubject;
    this.subject = d.subject;
    this.headers = d.headers;
    this.data = d.data;
    const i = ackInfo(d.ackSubject);
    this.stream = i.stream;
    this.consumer = i.consumer;
    this.seq = i.seq;
    this.deliveryCount = i.delivered;
    this.timestamp = i.ts;
    this.pending = i.pending;
  }

  get redelivered(): boolean {
    return this.deliveryCount > 1;
  }

  /** The stream's deduplication id, if the publisher set one. */
  get msgId(): string | undefined {
    return this.headers?.get(JsHeader.MSG_ID);
  }

  respond(): void {
    throw new TypeError(`a durable event on ${JSON.stringify(this.subject)} has no reply subject`);
  }

  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.#owner.settle(this.#ack, ACK, this.#owner.confirmAcks);
  }

  nak(delay?: number): void {
    if (this.settled) return;
    this.settled = true;
    const body = delay === undefined || delay <= 0 ? '-NAK' : `-NAK ${JSON.stringify({ delay: nanos(delay) })}`;
    this.#owner.settle(this.#ack, Buffer.from(body), false);
  }

  term(reason?: string): void {
    if (this.settled) return;
    this.settled = true;
    // Servers before 2.10 ignore a `+TERM` followed by anything: the reason goes only to those that read it.
    const r = reason === undefined || !this.#owner.termTakesReason ? '' : ` ${reason.replace(/[\r\n]+/g, ' ')}`;
    this.#owner.settle(this.#ack, Buffer.from(`+TERM${r}`), false);
  }

  working(): void {
    if (!this.settled) this.#owner.settle(this.#ack, WPI, false);
  }
}
