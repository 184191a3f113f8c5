/**
 * POST /api/publish and POST /api/request: the dashboard publishes into the
 * hub as a message from inside it (streams capture it like any publish), and
 * asks with an inbox of its own (LIVE-API.md). Each body is bounded by the
 * hub's maxPayload plus room for the JSON around it; the viewer must be
 * allowed to publish to the subject.
 *
 * A request's inbox is one wildcard subscription `_INBOX.<random>.*` of an
 * internal subscriber, made when the first request waits and dropped when
 * none does; each request takes a token under it. No responders arrive as
 * the router's 503 status, as for a client.
 */
import { randomBytes } from 'node:crypto';
import { toWire } from '../protocol/bytes.js';
import { decodeHeaders, encodeHeaders, type HeadersInit } from '../protocol/headers.js';
import { isValidLiteralSubject } from '../protocol/subject.js';
import type { InternalSubscriber } from '../server/internal-subscriber.js';
import type { Message, Subscription } from '../server/types.js';
import { routeMethods, sendJson, type Route, type RouteContext, type RouteTable } from './route.js';
import { headerPairs } from './tail.js';
import type { MonitorSource } from './types.js';

/** Room for the JSON around a payload of maxPayload bytes. */
export const BODY_OVERHEAD = 64 * 1024;
export const REQUEST_TIMEOUT = { default: 2_000, max: 30_000 } as const;

class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * The request's JSON body, at most `limit` bytes. Past it, the rest is
 * drained unkept and the answer is 413 with `Connection: close` (a close
 * with unread bytes would be a reset, which could cut the answer off).
 */
async function readJson(ctx: RouteContext, limit: number): Promise<Record<string, unknown>> {
  const req = ctx.req;
  const type = req.headers['content-type'] ?? '';
  // A cross-site form or no-CORS fetch cannot send this type, so a page elsewhere cannot publish through a browser.
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ApiError(400, 'Content-Type must be application/json');
  const tooLarge = (): ApiError => new ApiError(413, `body too large (at most ${limit} bytes)`);
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      reject(tooLarge());
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'body must be a JSON object');
  return body as Record<string, unknown>;
}

/** A message from a publish or request body, checked against the viewer and maxPayload. */
function message(ctx: RouteContext, body: Record<string, unknown>, reply: string | undefined): Message {
  const { subject, payload, headers } = body;
  if (typeof subject !== 'string' || !isValidLiteralSubject(toWire(subject))) throw new ApiError(400, `invalid subject: ${JSON.stringify(subject)}`);
  if (payload !== undefined && typeof payload !== 'string') throw new ApiError(400, 'payload must be a string');
  if (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers) || Object.values(headers).some((v) => typeof v !== 'string'))) {
    throw new ApiError(400, 'headers must be an object of strings');
  }
  let hdr: Buffer;
  try {
    hdr = encodeHeaders(headers as HeadersInit | undefined);
  } catch (err) {
    throw new ApiError(400, (err as Error).message);
  }
  const data = Buffer.from(payload ?? '', 'utf8');
  const max = ctx.src.options.maxPayload;
  if (hdr.length + data.length > max) throw new ApiError(400, `maximum payload exceeded (${hdr.length + data.length} > ${max})`);
  const wire = toWire(subject);
  if (!ctx.viewer.mayPublish(wire)) throw new ApiError(403, `Permissions Violation for Publish to "${subject}"`);
  return { subject: wire, reply, headerLength: hdr.length, payload: hdr.length === 0 ? data : Buffer.concat([hdr, data]) };
}

/** The listener lets GET and HEAD through to every route. */
function postOnly(ctx: RouteContext): void {
  if (ctx.req.method !== 'POST') {
    ctx.res.setHeader('Allow', 'POST');
    throw new ApiError(405, 'use POST');
  }
}

function bodyLimit(src: MonitorSource): number {
  return src.options.maxPayload + BODY_OVERHEAD;
}

function refuse(ctx: RouteContext, err: unknown): void {
  if (!(err instanceof ApiError)) throw err;
  if (ctx.res.headersSent) return;
  // The rest of an oversized body is not read: the connection goes with the answer.
  if (!ctx.req.readableEnded) ctx.res.setHeader('Connection', 'close');
  sendJson(ctx, { error: err.message }, err.status);
}

async function publish(ctx: RouteContext): Promise<void> {
  try {
    postOnly(ctx);
    const body = await readJson(ctx, bodyLimit(ctx.src));
    const { reply } = body;
    if (reply !== undefined && (typeof reply !== 'string' || !isValidLiteralSubject(toWire(reply)))) throw new ApiError(400, `invalid reply subject: ${JSON.stringify(reply)}`);
    const msg = message(ctx, body, reply === undefined ? undefined : toWire(reply));
    if (!ctx.src.healthy) throw new ApiError(503, 'the hub is shutting down');
    ctx.src.bus.publish(msg);
    sendJson(ctx, { ok: true });
  } catch (err) {
    refuse(ctx, err);
  }
}

interface Waiting {
  settle(msg: Message | null): void;
}

/** The requests waiting for a reply, under one inbox subscription. */
class Requests {
  private readonly waiting = new Map<string, Waiting>();
  private readonly prefix = `_INBOX.${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}.`;
  private inbox: { subscriber: InternalSubscriber; sub: Subscription } | null = null;
  private next = 0;

  async handle(ctx: RouteContext): Promise<void> {
    try {
      postOnly(ctx);
      const body = await readJson(ctx, bodyLimit(ctx.src));
      const t = body.timeout_ms ?? REQUEST_TIMEOUT.default;
      if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 1 || t > REQUEST_TIMEOUT.max) {
        throw new ApiError(400, `timeout_ms must be an integer from 1 to ${REQUEST_TIMEOUT.max}`);
      }
      const max = ctx.src.options.maxMonitorRequests;
      if (this.waiting.size >= max) throw new ApiError(429, `too many requests waiting (maxMonitorRequests ${max})`);
      const token = (this.next++).toString(36);
      const msg = message(ctx, body, this.prefix + token);
      if (!ctx.src.healthy) throw new ApiError(503, 'the hub is shutting down');
      const started = performance.now();
      const reply = await this.ask(ctx, token, msg, t);
      if (reply === undefined) return; // the page went away
      if (reply === null) throw new ApiError(504, 'timeout');
      const hl = reply.headerLength;
      const p = reply.payload;
      const head = hl > 0 ? Buffer.from(p.buffer, p.byteOffset, hl) : null;
      const data = Buffer.from(p.buffer, p.byteOffset + hl, p.length - hl);
      if (head !== null && data.length === 0 && decodeHeaders(head).code === 503) throw new ApiError(503, 'no responders');
      sendJson(ctx, {
        subject: body.subject,
        headers: head === null ? null : headerPairs(head),
        payload: data.toString('base64'),
        size: data.length,
        elapsed_ms: Math.round((performance.now() - started) * 10) / 10,
      });
    } catch (err) {
      refuse(ctx, err);
    }
  }

  /** The first reply (a copy), null on timeout, undefined when the page closed first. */
  private ask(ctx: RouteContext, token: string, msg: Message, timeout: number): Promise<Message | null | undefined> {
    const inbox = this.open(ctx.src);
    return new Promise((resolve) => {
      const done = (r: Message | null | undefined): void => {
        if (!this.waiting.delete(token)) return;
        clearTimeout(timer);
        ctx.res.off('close', gone);
        if (this.waiting.size === 0) this.shut();
        resolve(r);
      };
      const gone = (): void => done(undefined);
      const timer = setTimeout(done, timeout, null);
      ctx.res.once('close', gone);
      this.waiting.set(token, { settle: done });
      inbox.publish(msg);
    });
  }

  private open(src: MonitorSource): InternalSubscriber {
    if (this.inbox === null) {
      const subscriber = src.bus.subscriber((_sub, m) => this.replied(m), 'dashboard requests');
      this.inbox = { subscriber, sub: subscriber.subscribe(this.prefix + '*') };
    }
    return this.inbox.subscriber;
  }

  private shut(): void {
    this.inbox?.subscriber.close();
    this.inbox = null;
  }

  private replied(m: Message): void {
    const w = this.waiting.get(m.subject.slice(this.prefix.length));
    // The payload is a view of the sender's read: kept past this call, so copied.
    if (w !== undefined) w.settle({ subject: m.subject, reply: m.reply, headerLength: m.headerLength, payload: Buffer.from(m.payload) });
  }
}

/** The publish and request routes (POST). */
export function publishRoutes(): RouteTable {
  const requests = new Requests();
  const pub: Route = publish;
  const req: Route = (ctx) => requests.handle(ctx);
  routeMethods.set(pub, ['POST']);
  routeMethods.set(req, ['POST']);
  return { '/api/publish': pub, '/api/request': req };
}
