/**
 * The requester's side of request/reply: one inbox subscription per bus
 * (`<inboxPrefix>.<random>.*`, made with the first request), a token per
 * request, and the pending requests they map to.
 *
 *   PUB orders.get _INBOX.k3J….7 12   ──►   reply on _INBOX.k3J….7 ─► pending['7']
 *
 * A request settles once: with its reply, at its timeout, at once when the
 * server says nobody listens (503), denies the publish, or refuses the
 * payload (a netemitter hub's 400 with Netemitter-Schema-Error), or at close().
 */
import type { MsgHeaders } from '../protocol/headers.js';
import { ClosedError, NoRespondersError, PermissionOperation, RemoteError, SchemaViolationError, TimeoutError, type PermissionError } from '../errors.js';
import { SCHEMA_ERROR_HEADER, SCHEMA_VIOLATION_STATUS } from '../protocol/schemas.js';
import { decodePayload } from './codec.js';
import { randomToken } from './token.js';
import type { RawReply } from './jetstream/api.js';
import type { Sub } from './bus-types.js';
import type { Registry } from './registry.js';
import { ERROR_HEADER, ERROR_CODE_HEADER } from './responder.js';

/** @internal What requests are sent through: the connection. */
export interface RequestWire {
  readonly isClosed: boolean;
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): boolean;
}

interface PendingRequest {
  readonly subject: string;
  /** Resolve with the reply undecoded ({ headers, data }), for the JetStream layer. */
  readonly raw: boolean;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class Requests {
  /** Requests still waiting for their reply: drain() waits for them. */
  readonly outstanding = new Set<Promise<unknown>>();
  private inbox: Sub | null = null;
  private inboxPrefix = '';
  private nextToken = 1;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly wire: RequestWire;
  private readonly registry: Registry;
  private readonly prefix: string;

  constructor(wire: RequestWire, registry: Registry, inboxPrefix: string) {
    this.wire = wire;
    this.registry = registry;
    this.prefix = inboxPrefix;
  }

  send(subject: string, headers: Buffer | null, payload: Buffer, timeout: number, raw: boolean): Promise<unknown> {
    if (this.wire.isClosed) return Promise.reject(new ClosedError());
    if (this.inbox === null) {
      this.inboxPrefix = `${this.prefix}.${randomToken(22)}`;
      this.inbox = this.registry.subscribe(`${this.inboxPrefix}.*`, undefined, 'inbox');
    }
    const token = (this.nextToken++).toString(36);
    const reply = `${this.inboxPrefix}.${token}`;
    const p = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new TimeoutError(`request to ${JSON.stringify(subject)} got no reply within ${timeout} ms`));
      }, timeout);
      this.pending.set(token, { subject, raw, resolve, reject, timer });
      try {
        this.wire.publish(subject, reply, headers, payload);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(err as Error);
      }
    });
    this.outstanding.add(p);
    const forget = (): void => {
      this.outstanding.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  /** A message on the inbox. */
  reply(subject: string, headers: MsgHeaders | undefined, data: Buffer): void {
    const token = subject.slice(this.inboxPrefix.length + 1);
    const req = this.pending.get(token);
    if (req === undefined) return; // late reply after a timeout
    this.pending.delete(token);
    clearTimeout(req.timer);
    if (headers !== undefined) {
      if (headers.code === 503 && data.length === 0) return req.reject(new NoRespondersError(req.subject));
      if (headers.code === SCHEMA_VIOLATION_STATUS) {
        const reason = headers.get(SCHEMA_ERROR_HEADER);
        if (reason !== undefined) return req.reject(new SchemaViolationError(req.subject, reason));
      }
      if (req.raw) return req.resolve({ headers, data } satisfies RawReply);
      const failure = headers.get(ERROR_HEADER);
      if (failure !== undefined) return req.reject(new RemoteError(failure, Number(headers.get(ERROR_CODE_HEADER) ?? 500) || 500));
    }
    req.resolve(req.raw ? ({ headers, data } satisfies RawReply) : decodePayload(data));
  }

  /**
   * nats-server answers a denied PUB with one -ERR, in order: it fails the
   * oldest request to that subject, at once rather than at its timeout. A
   * denied inbox fails every pending request.
   */
  permissionDenied(err: PermissionError): void {
    const inboxDenied = err.operation === PermissionOperation.SUBSCRIBE && this.inbox !== null && err.subject === this.inbox.subject;
    if (err.operation === PermissionOperation.SUBSCRIBE && !inboxDenied) return;
    for (const [token, req] of this.pending) {
      if (!inboxDenied && req.subject !== err.subject) continue;
      this.pending.delete(token);
      clearTimeout(req.timer);
      req.reject(err);
      if (!inboxDenied) return;
    }
  }

  /** close(): every pending request rejects with ClosedError. */
  rejectAll(): void {
    for (const [token, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ClosedError('the connection closed before the reply arrived'));
      this.pending.delete(token);
    }
  }
}
