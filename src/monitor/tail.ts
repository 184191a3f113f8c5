/**
 * The dashboard's live tail: one router Observer per open page with a tail
 * filter. It costs the publish path a match in the observers' index and, per
 * matching message, a permission look-up and a counter; only the messages it
 * sends (at most `rate` per second) are copied and encoded.
 *
 * A message matching the filter, which the viewer may see, is sent when all
 * hold, else counted as skipped (reported once per interval):
 *   - the tail is not paused;
 *   - this interval's budget (rate × interval) is not spent;
 *   - the response has room (the page reads): nothing queues for a slow page.
 */
import type { ServerResponse } from 'node:http';
import { fromWire } from '../protocol/bytes.js';
import { decodeHeaders } from '../protocol/headers.js';
import type { Observer } from '../server/router.js';
import type { Message } from '../server/types.js';
import { OPEN_VIEWER, type MonitorViewer } from './route.js';

/**
 * Bytes a response may hold unsent before the tail skips (and snapshots wait):
 * a page that reads keeps it near zero; one that stalls costs at most this
 * plus one event.
 */
export const LIVE_BACKLOG_BOUND = 64 * 1024;

/** Subjects whose permission answer a tail remembers, before it starts over. */
const ALLOWED_CACHE = 1024;

export interface TailOptions {
  /** Wire subject filter, wildcards allowed. */
  filter: string;
  paused: boolean;
  viewer: MonitorViewer;
  /** Messages per interval. */
  budget: number;
  maxPayload: number;
}

/** The SSE stream a tail writes to. */
export interface TailSink {
  readonly res: ServerResponse;
  /** Whether the response can take more now. */
  roomy(): boolean;
}

export class Tail implements Observer {
  readonly subject: string;
  readonly queue = undefined;
  private readonly sink: TailSink;
  private readonly paused: boolean;
  private readonly viewer: MonitorViewer;
  private readonly budget: number;
  private readonly maxPayload: number;
  private readonly allowed = new Map<string, boolean>();
  /** A viewer that may see everything (no auth, a token, a user without permissions) needs no look-up per message. */
  private readonly seesAll: boolean;
  /** Sent in this interval. */
  private sent = 0;
  /** Skipped since the last `skipped` event. */
  skipped = 0;

  constructor(sink: TailSink, o: TailOptions) {
    this.sink = sink;
    this.subject = o.filter;
    this.paused = o.paused;
    this.viewer = o.viewer;
    this.seesAll = o.viewer.maySubscribe === OPEN_VIEWER.maySubscribe;
    this.budget = o.budget;
    this.maxPayload = o.maxPayload;
  }

  observe(msg: Message): void {
    if (!this.seesAll && !this.mayShow(msg.subject)) return;
    if (this.paused || this.sent >= this.budget || !this.sink.roomy()) {
      this.skipped++;
      return;
    }
    this.sent++;
    this.sink.res.write(`event: msg\ndata: ${JSON.stringify(tailEvent(msg, this.maxPayload))}\n\n`);
  }

  /** A new interval: a fresh budget; returns the skipped count to report (and forgets it). */
  interval(): number {
    this.sent = 0;
    const n = this.skipped;
    this.skipped = 0;
    return n;
  }

  private mayShow(subject: string): boolean {
    const hit = this.allowed.get(subject);
    if (hit !== undefined) return hit;
    const ok = this.viewer.maySubscribe(subject);
    if (this.allowed.size >= ALLOWED_CACHE) this.allowed.clear();
    this.allowed.set(subject, ok);
    return ok;
  }
}

export interface TailEvent {
  subject: string;
  reply: string | null;
  headers: [string, string][] | null;
  size: number;
  payload: string;
  truncated: boolean;
  time: number;
}

/** A message as the page gets it: headers decoded, the body in base64, cut to `maxPayload` bytes. */
export function tailEvent(msg: Message, maxPayload: number): TailEvent {
  const p = msg.payload;
  const hl = msg.headerLength;
  const body = Buffer.from(p.buffer, p.byteOffset + hl, p.length - hl);
  return {
    subject: fromWire(msg.subject),
    reply: msg.reply === undefined ? null : fromWire(msg.reply),
    headers: hl > 0 ? headerPairs(Buffer.from(p.buffer, p.byteOffset, hl)) : null,
    size: body.length,
    payload: body.subarray(0, maxPayload).toString('base64'),
    truncated: body.length > maxPayload,
    time: Date.now(),
  };
}

/** Header lines as [name, value] pairs, in order, a repeated name once per value. */
export function headerPairs(block: Buffer): [string, string][] {
  const h = decodeHeaders(block);
  const out: [string, string][] = [];
  for (const k of h.keys()) for (const v of h.values(k)) out.push([k, v]);
  return out;
}
