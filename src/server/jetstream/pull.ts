/**
 * A pull request (CONSUMER.MSG.NEXT, or the request part of +NXT): its body,
 * the consumer's limits on it, and its expiry and heartbeat timers. The
 * consumer serves it in the turn (consumer.ts fill).
 */
import { JsHeader } from '../../protocol/jetstream.js';
import type { ConsumerRuntime, PullRequest } from './consumer.js';
import { nsToMs, timerDelay } from './time.js';
import type { Json } from './config.js';

export interface StatusSender {
  sendStatus(reply: string, code: number, description: string, headers?: Record<string, string | number>): void;
}

interface PullBody {
  batch: number;
  expiresNs: number;
  maxBytes: number;
  noWait: boolean;
  hbNs: number;
}

/** The body: empty (one message), a bare count, or JSON. Undefined when it is none of them. */
function parsePullBody(body: Buffer): PullBody | undefined {
  const text = body.toString('utf8').trim();
  const p: PullBody = { batch: 1, expiresNs: 0, maxBytes: 0, noWait: false, hbNs: 0 };
  if (text === '') return p;
  if (/^\d+$/.test(text)) {
    p.batch = Number(text);
    return p;
  }
  let r: Json;
  try {
    r = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  if (r === null || typeof r !== 'object') return undefined;
  p.batch = typeof r.batch === 'number' && r.batch > 0 ? Math.floor(r.batch) : 1;
  p.expiresNs = typeof r.expires === 'number' && r.expires > 0 ? r.expires : 0;
  p.maxBytes = typeof r.max_bytes === 'number' && r.max_bytes > 0 ? Math.floor(r.max_bytes) : 0;
  p.noWait = r.no_wait === true;
  p.hbNs = typeof r.idle_heartbeat === 'number' && r.idle_heartbeat > 0 ? r.idle_heartbeat : 0;
  return p;
}

/** Checks a pull against the consumer's limits and queues it (or answers it with a status). */
export function pull(out: StatusSender, c: ConsumerRuntime, reply: string, body: Buffer): void {
  if (c.deleted) return;
  const p = parsePullBody(body);
  if (p === undefined) {
    out.sendStatus(reply, 400, 'Bad Request');
    return;
  }
  const cfg = c.config;
  if (cfg.max_batch !== undefined && p.batch > cfg.max_batch) {
    out.sendStatus(reply, 409, `Exceeded MaxRequestBatch of ${cfg.max_batch}`);
    return;
  }
  if (cfg.max_expires !== undefined && p.expiresNs > cfg.max_expires) {
    out.sendStatus(reply, 409, `Exceeded MaxRequestExpires of ${goDuration(cfg.max_expires)}`);
    return;
  }
  if (cfg.max_bytes !== undefined && p.maxBytes > cfg.max_bytes) {
    out.sendStatus(reply, 409, `Exceeded MaxRequestMaxBytes of ${cfg.max_bytes}`);
    return;
  }
  if (p.hbNs > 0 && p.expiresNs > 0 && p.hbNs * 2 > p.expiresNs) {
    out.sendStatus(reply, 400, 'Bad Request - heartbeat value too large');
    return;
  }
  if (cfg.deliver_subject !== undefined) {
    out.sendStatus(reply, 409, 'Consumer is push based');
    return;
  }
  if (c.waiting.length >= (cfg.max_waiting ?? 0)) {
    out.sendStatus(reply, 409, 'Exceeded MaxWaiting');
    return;
  }
  const req: PullRequest = {
    reply,
    remaining: p.batch,
    bytesLeft: p.maxBytes,
    maxBytes: p.maxBytes,
    noWait: p.noWait,
    delivered: 0,
    lastSent: Date.now(),
    expiresTimer: null,
    heartbeatTimer: null,
  };
  if (!p.noWait && p.expiresNs > 0) {
    req.expiresTimer = setTimeout(() => {
      req.expiresTimer = null;
      if (!c.waiting.includes(req)) return;
      out.sendStatus(reply, 408, 'Request Timeout', c.pendingHeaders(req));
      c.finish(req);
    }, timerDelay(nsToMs(p.expiresNs)));
    req.expiresTimer.unref();
  }
  if (!p.noWait && p.hbNs > 0) {
    const hbMs = timerDelay(nsToMs(p.hbNs));
    req.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      // Skipped only when a message went out within the last half interval: timers fire a little
      // early or late, and a client counts two missed heartbeats as a lost pull.
      if (now - req.lastSent < hbMs / 2) return;
      req.lastSent = now;
      const rec = c.stream.store.getConsumer(c.stream.name, c.name);
      out.sendStatus(reply, 100, 'Idle Heartbeat', {
        [JsHeader.LAST_CONSUMER]: rec?.delivered.consumerSeq ?? 0,
        [JsHeader.LAST_STREAM]: rec?.delivered.streamSeq ?? 0,
      });
    }, hbMs);
    req.heartbeatTimer.unref();
  }
  c.addRequest(req);
}

/** Nanoseconds as a Go duration string (1s, 1.5s, 250ms), as nats-server prints them. */
export function goDuration(ns: number): string {
  if (ns >= 1e9) return `${ns / 1e9}s`;
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  return `${ns / 1e3}µs`;
}
