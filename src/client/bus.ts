/**
 * The bus: the hub (or a NATS cluster) as one EventEmitter shared by many
 * processes. `on()` subscribes, `emit()` publishes, `request()`/`handle()`
 * do request/reply. Lifecycle events live on `bus.status`, so a user's own
 * event named `error` or `close` is just another remote event.
 *
 * One hub subscription per (subject, queue) whatever the number of local
 * listeners: the SUB goes out with the first listener and the UNSUB with the
 * last. Messages are dispatched by subscription id, so a wildcard listener
 * and a literal one on the same subject each get the event once.
 */
import { ClientConnection, type ConnectionHandler, type StatusEmitter, type ServerInfo } from './connection.js';
import { resolveConnectOptions, type ConnectOptions, type ResolvedConnectOptions } from './options.js';
import { encodePayload, decodePayload } from './codec.js';
import { encodeHeaders, decodeHeaders, type HeadersInit, type MsgHeaders } from '../protocol/headers.js';
import { isValidSubject, isValidLiteralSubject } from '../protocol/subject.js';
import { randomToken } from './token.js';
import { ClosedError, InvalidSubjectError, NoRespondersError, NetEmitterError, PermissionOperation, RemoteError, TimeoutError, type PermissionError } from '../errors.js';
import { JetStreamClient, type JsHost, type PublishOptions, type RawDeliver, type RawReply } from './jetstream/api.js';
import { Consumers, Streams } from './jetstream/manage.js';
import { checkDurableOptions, DurableListener, type DurableMeta, type DurableOptions } from './jetstream/durable.js';
import type { PubAck } from './jetstream/types.js';

/** Header names a responder uses to report a failure (those of NATS services). */
export const ERROR_HEADER = 'Nats-Service-Error';
export const ERROR_CODE_HEADER = 'Nats-Service-Error-Code';

/** What a listener gets besides the payload. */
export interface EventMeta {
  /** The concrete subject (a wildcard listener sees the real one). */
  readonly subject: string;
  /** Reply subject, when the sender expects an answer. */
  readonly reply: string | undefined;
  readonly headers: MsgHeaders | undefined;
  /** The payload bytes as received. */
  readonly data: Buffer;
  /** Answers the sender (requires a reply subject). */
  respond(payload?: unknown, opts?: { headers?: HeadersInit }): void;
}

export interface ListenOptions {
  /** Join a queue group: each event goes to one listener of the group across all processes. */
  queue?: string;
  /** Receive the payload as the raw Buffer, undecoded. */
  raw?: boolean;
}

export interface EmitOptions {
  headers?: HeadersInit;
  /** Reply subject for whoever handles the event. */
  reply?: string;
}

export interface RequestOptions {
  /** Milliseconds to wait for the reply. Default: the connection's requestTimeout. */
  timeout?: number;
  headers?: HeadersInit;
}

export interface HandleOptions {
  /** Queue group for load balancing among responders; false for none. Default: option handlerQueue. */
  queue?: string | false;
}

/**
 * A map from event name to payload type; a function type marks a request/reply subject.
 * `any` values (not `unknown`) so that an `interface` satisfies it, not only a type alias.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = Record<string, any>;
type AnyFn = (...args: never[]) => unknown;
/** True for `any` only: an untyped bus (the default map) accepts any request and reply. */
type IsAny<T> = 0 extends 1 & T ? true : false;
/** Names that carry events (non-function entries). */
export type EventName<E> = { [K in keyof E]-?: E[K] extends AnyFn ? never : K }[keyof E] & string;
/** Names that carry requests (function entries: (request) => reply). */
export type RequestName<E> = { [K in keyof E]-?: E[K] extends AnyFn ? K : never }[keyof E] & string;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RequestOf<F> = IsAny<F> extends true ? any : F extends (req: infer A) => unknown ? A : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ReplyOf<F> = IsAny<F> extends true ? any : F extends (...args: never[]) => infer R ? Awaited<R> : never;
export type Listener<P> = (payload: P, meta: EventMeta) => unknown;
/** A durable listener: its meta tells the stream position and settles the event by hand if needed. */
export type DurableHandler<P> = (payload: P, meta: DurableMeta) => unknown;
export type Handler<F> = (request: RequestOf<F>, meta: EventMeta) => ReplyOf<F> | Promise<ReplyOf<F>>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyListener = (payload: any, meta: EventMeta) => unknown;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDurableHandler = (payload: any, meta: DurableMeta) => unknown;

interface Entry {
  readonly fn: AnyListener;
  readonly once: boolean;
  readonly raw: boolean;
}

/** `js`: a subscription of the durable-streams layer (a pull inbox), delivered to its callback. */
type SubKind = 'events' | 'handler' | 'inbox' | 'js';

interface Sub {
  readonly sid: string;
  readonly subject: string;
  readonly queue: string | undefined;
  readonly kind: SubKind;
  listeners: Entry[];
  handler: AnyListener | null;
  deliver: RawDeliver | null;
}

interface PendingRequest {
  readonly subject: string;
  /** Resolve with the reply undecoded ({ headers, data }), for the JetStream layer. */
  readonly raw: boolean;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** A listener that threw or rejected; reported on bus.status 'error'. */
export class ListenerError extends NetEmitterError {
  readonly subject: string;
  constructor(subject: string, cause: unknown) {
    super('ERR_NETEMITTER_LISTENER', `a listener for ${JSON.stringify(subject)} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.subject = subject;
  }
}

function subKey(subject: string, queue: string | undefined): string {
  return queue === undefined ? subject : `${subject}\u0000${queue}`;
}

function checkListenSubject(subject: string): void {
  if (typeof subject !== 'string' || !isValidSubject(subject)) throw new InvalidSubjectError(String(subject), 'expected tokens separated by dots, no spaces, `>` only last');
}

/** The last subject found valid: a stream of emits mostly repeats its subject. */
let lastValidSubject = '';

function checkEmitSubject(subject: string): void {
  if (subject === lastValidSubject) return;
  if (typeof subject !== 'string' || !isValidLiteralSubject(subject)) {
    throw new InvalidSubjectError(String(subject), 'expected tokens separated by dots, no spaces and no wildcards');
  }
  lastValidSubject = subject;
}

function errorStatus(err: unknown): number {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' && Number.isInteger(s) ? s : 500;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class Bus<E extends EventMap = Record<string, any>> implements ConnectionHandler, JsHost {
  /** Connection lifecycle: connect, disconnect, reconnecting, reconnect, ldm, update, error, close. */
  readonly status: StatusEmitter;
  private readonly conn: ClientConnection;
  private readonly opts: ResolvedConnectOptions;
  private readonly subs = new Map<string, Sub>();
  private readonly bySubject = new Map<string, Sub>();
  private readonly handlers = new Map<string, Sub>();
  private nextSid = 1;
  private inbox: Sub | null = null;
  private inboxPrefix = '';
  private nextToken = 1;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly requests = new Set<Promise<unknown>>();
  private maxListeners = 10;
  private drained: Promise<void> | null = null;
  private readonly durables: DurableListener[] = [];
  private jsClient: JetStreamClient | null = null;
  private streamsApi: Streams | null = null;
  private consumersApi: Consumers | null = null;

  constructor(opts: ResolvedConnectOptions) {
    this.opts = opts;
    this.conn = new ClientConnection(opts, this);
    this.status = this.conn.status;
  }

  /** @internal */
  open(): Promise<void> {
    return this.conn.open();
  }

  /** The server connected to now, or undefined while reconnecting. */
  get server(): string | undefined {
    return this.conn.server;
  }

  get isConnected(): boolean {
    return this.conn.isConnected;
  }

  get isClosed(): boolean {
    return this.conn.isClosed;
  }

  /** The INFO of the server connected to last. */
  get info(): ServerInfo | null {
    return this.conn.serverInfo;
  }

  // ── EventEmitter: listeners ─────────────────────────────────────────────

  /**
   * Listens to a subject. With `{ durable: name }` the listener reads the
   * stream that stores the subject through a durable consumer: events stored
   * while nobody listened are delivered, each is acknowledged when the
   * listener returns (or resolves) and redelivered when it throws.
   */
  on<K extends EventName<E>>(subject: K, listener: DurableHandler<E[K]>, opts: DurableOptions): this;
  on<K extends EventName<E>>(subject: K, listener: Listener<E[K]>, opts?: ListenOptions): this;
  on(subject: string, listener: AnyListener | AnyDurableHandler, opts?: ListenOptions | DurableOptions): this {
    return this.add(subject, listener as AnyListener, false, false, opts);
  }

  addListener<K extends EventName<E>>(subject: K, listener: DurableHandler<E[K]>, opts: DurableOptions): this;
  addListener<K extends EventName<E>>(subject: K, listener: Listener<E[K]>, opts?: ListenOptions): this;
  addListener(subject: string, listener: AnyListener | AnyDurableHandler, opts?: ListenOptions | DurableOptions): this {
    return this.add(subject, listener as AnyListener, false, false, opts);
  }

  once<K extends EventName<E>>(subject: K, listener: Listener<E[K]>, opts?: ListenOptions): this {
    return this.add(subject, listener as AnyListener, true, false, opts);
  }

  prependListener<K extends EventName<E>>(subject: K, listener: Listener<E[K]>, opts?: ListenOptions): this {
    return this.add(subject, listener as AnyListener, false, true, opts);
  }

  prependOnceListener<K extends EventName<E>>(subject: K, listener: Listener<E[K]>, opts?: ListenOptions): this {
    return this.add(subject, listener as AnyListener, true, true, opts);
  }

  private add(subject: string, fn: AnyListener, once: boolean, prepend: boolean, opts: ListenOptions | DurableOptions = {}): this {
    if (typeof fn !== 'function') throw new TypeError('the listener must be a function');
    checkListenSubject(subject);
    if (this.drained !== null || this.conn.isClosed) throw new ClosedError();
    if ('durable' in opts && opts.durable !== undefined) return this.addDurable(subject, fn, once || prepend, opts);
    const queue = (opts as ListenOptions).queue;
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
    return this;
  }

  private addDurable(subject: string, fn: AnyListener, unsupported: boolean, opts: DurableOptions): this {
    if (unsupported) throw new TypeError('a durable listener cannot be once() or prepended: use on()');
    if ('queue' in opts && (opts as ListenOptions).queue !== undefined) {
      throw new TypeError('a durable listener takes no queue group: listeners sharing the durable name already share its events');
    }
    checkDurableOptions(opts);
    // One consumer has one filter: a second subject would keep rewriting it.
    const other = this.durables.find((d) => d.durable === opts.durable && d.subject !== subject && (d.opts.stream ?? '') === (opts.stream ?? ''));
    if (other !== undefined) {
      throw new TypeError(`durable ${JSON.stringify(opts.durable)} already listens on ${JSON.stringify(other.subject)}: one durable consumer filters one subject`);
    }
    if (this.durables.some((d) => d.durable === opts.durable && d.fn === fn && d.subject === subject)) return this;
    this.durables.push(new DurableListener(this, this.jetstream, this.consumers, subject, fn, opts));
    return this;
  }

  /**
   * Resolves once every durable listener added so far has bound its consumer
   * and asked for events; rejects with the first DurableListenerError (the
   * listener keeps retrying: the error is also on bus.status).
   */
  async ready(): Promise<void> {
    await Promise.all(this.durables.map((d) => d.ready));
  }

  off<K extends EventName<E>>(subject: K, listener: Listener<E[K]> | DurableHandler<E[K]>): this {
    return this.removeListener(subject, listener);
  }

  /**
   * Removes the last instance of the listener in `listeners(subject)` order
   * (plain listeners, then each queue group's), as EventEmitter removes the
   * last one of its array.
   */
  removeListener<K extends EventName<E>>(subject: K, listener: Listener<E[K]> | DurableHandler<E[K]>): this {
    for (let i = this.durables.length - 1; i >= 0; i--) {
      const d = this.durables[i]!;
      if (d.subject === subject && d.fn === listener) {
        this.durables.splice(i, 1);
        d.stop('off');
        return this;
      }
    }
    const subs = this.eventSubs(subject);
    for (let s = subs.length - 1; s >= 0; s--) {
      const sub = subs[s]!;
      for (let i = sub.listeners.length - 1; i >= 0; i--) {
        if (sub.listeners[i]!.fn === listener) {
          sub.listeners.splice(i, 1);
          if (sub.listeners.length === 0) this.dropEventSub(sub);
          return this;
        }
      }
    }
    return this;
  }

  removeAllListeners(subject?: EventName<E>): this {
    for (const d of [...this.durables]) {
      if (subject === undefined || d.subject === subject) {
        this.durables.splice(this.durables.indexOf(d), 1);
        d.stop('off');
      }
    }
    for (const sub of [...this.bySubject.values()]) {
      if (subject === undefined || sub.subject === subject) {
        sub.listeners = [];
        this.dropEventSub(sub);
      }
    }
    return this;
  }

  listenerCount(subject: EventName<E>, listener?: AnyListener): number {
    let n = 0;
    for (const sub of this.eventSubs(subject)) {
      for (const e of sub.listeners) if (listener === undefined || e.fn === listener) n++;
    }
    for (const d of this.durables) if (d.subject === subject && (listener === undefined || d.fn === listener)) n++;
    return n;
  }

  /** Plain listeners, then each queue group's, then durable listeners. */
  listeners(subject: EventName<E>): AnyListener[] {
    const plain = this.eventSubs(subject).flatMap((s) => s.listeners.map((e) => e.fn));
    return plain.concat(this.durables.filter((d) => d.subject === subject).map((d) => d.fn as AnyListener));
  }

  rawListeners(subject: EventName<E>): AnyListener[] {
    return this.listeners(subject);
  }

  /** Subjects with at least one local listener. */
  eventNames(): string[] {
    return [...new Set([...[...this.bySubject.values()].map((s) => s.subject), ...this.durables.map((d) => d.subject)])];
  }

  setMaxListeners(n: number): this {
    this.maxListeners = n;
    return this;
  }

  getMaxListeners(): number {
    return this.maxListeners;
  }

  private eventSubs(subject: string): Sub[] {
    const out: Sub[] = [];
    for (const sub of this.bySubject.values()) if (sub.subject === subject) out.push(sub);
    return out;
  }

  private dropEventSub(sub: Sub): void {
    if (sub.listeners.length > 0) return;
    this.bySubject.delete(subKey(sub.subject, sub.queue));
    this.unsubscribe(sub);
  }

  // ── hub subscriptions ───────────────────────────────────────────────────

  private subscribe(subject: string, queue: string | undefined, kind: SubKind): Sub {
    const sid = String(this.nextSid++);
    const sub: Sub = { sid, subject, queue, kind, listeners: [], handler: null, deliver: null };
    this.subs.set(sid, sub);
    this.conn.writeLine(subLine(sub));
    return sub;
  }

  private unsubscribe(sub: Sub): void {
    if (!this.subs.delete(sub.sid)) return;
    // While draining, every UNSUB has been sent already.
    if (this.drained === null && !this.conn.isClosed) this.conn.writeLine(`UNSUB ${sub.sid}\r\n`);
  }

  /** @internal Restores every subscription after a reconnect (ConnectionHandler). */
  subscriptionLines(): string {
    let lines = '';
    for (const sub of this.subs.values()) lines += subLine(sub);
    return lines;
  }

  // ── emitting ────────────────────────────────────────────────────────────

  /**
   * Publishes an event. Returns true while the outgoing buffer is below its
   * high-water mark and false above it (like stream.write): await flush()
   * before emitting more. Throws BufferFullError past the hard bound, and
   * never drops an event silently.
   */
  emit<K extends EventName<E>>(subject: K, payload?: E[K], opts?: EmitOptions): boolean {
    checkEmitSubject(subject);
    const headers = opts?.headers === undefined ? null : encodeHeaders(opts.headers);
    return this.conn.publish(subject, opts?.reply, headers !== null && headers.length > 0 ? headers : null, encodePayload(payload, subject));
  }

  /** Resolves once the server has received everything emitted before this call. */
  flush(): Promise<void> {
    return this.conn.flush();
  }

  // ── request / reply ─────────────────────────────────────────────────────

  /**
   * Sends a request and resolves with the decoded reply. Rejects with
   * NoRespondersError at once when nobody handles the subject, TimeoutError
   * when no reply comes in time, RemoteError when the handler failed.
   */
  request<K extends RequestName<E>>(subject: K, payload?: RequestOf<E[K]>, opts: RequestOptions = {}): Promise<ReplyOf<E[K]>> {
    try {
      checkEmitSubject(subject);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    let headers: Buffer | null;
    let data: Buffer;
    try {
      headers = opts.headers === undefined ? null : encodeHeaders(opts.headers);
      data = encodePayload(payload, subject);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.sendRequest(subject, headers !== null && headers.length > 0 ? headers : null, data, opts.timeout ?? this.opts.requestTimeout, false) as Promise<ReplyOf<E[K]>>;
  }

  private sendRequest(subject: string, headers: Buffer | null, payload: Buffer, timeout: number, raw: boolean): Promise<unknown> {
    if (this.conn.isClosed) return Promise.reject(new ClosedError());
    if (this.inbox === null) {
      this.inboxPrefix = `${this.opts.inboxPrefix}.${randomToken(22)}`;
      this.inbox = this.subscribe(`${this.inboxPrefix}.*`, undefined, 'inbox');
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
        this.conn.publish(subject, reply, headers, payload);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(err as Error);
      }
    });
    this.requests.add(p);
    const forget = (): void => {
      this.requests.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  /**
   * Answers requests on a subject with the handler's result. A handler that
   * throws answers with the error's message (header Nats-Service-Error), and
   * the requester's request() rejects with RemoteError. Responders join a
   * queue group by default, so each request is handled once.
   */
  handle<K extends RequestName<E>>(subject: K, handler: Handler<E[K]>, opts: HandleOptions = {}): this {
    if (typeof handler !== 'function') throw new TypeError('the handler must be a function');
    checkListenSubject(subject);
    if (this.drained !== null || this.conn.isClosed) throw new ClosedError();
    if (this.handlers.has(subject)) throw new TypeError(`a handler for ${JSON.stringify(subject)} is already registered`);
    const queue = opts.queue === false ? undefined : (opts.queue ?? this.opts.handlerQueue);
    const sub = this.subscribe(subject, queue, 'handler');
    sub.handler = handler as AnyListener;
    this.handlers.set(subject, sub);
    return this;
  }

  /** Stops answering requests on a subject. */
  unhandle(subject: RequestName<E>): this {
    const sub = this.handlers.get(subject);
    if (sub !== undefined) {
      this.handlers.delete(subject);
      this.unsubscribe(sub);
    }
    return this;
  }

  // ── receiving ───────────────────────────────────────────────────────────

  /** @internal ConnectionHandler: one message from the server. */
  message(subject: string, sid: string, reply: string | undefined, headerLength: number, payload: Buffer): void {
    const sub = this.subs.get(sid);
    if (sub === undefined) return; // arrived after UNSUB
    const headers = headerLength > 0 ? decodeHeaders(payload.subarray(0, headerLength)) : undefined;
    const data = headerLength > 0 ? payload.subarray(headerLength) : payload;
    if (sub.kind === 'inbox') return this.reply(subject, headers, data);
    if (sub.kind === 'js') return sub.deliver!(subject, reply, headers, data);
    const meta = new Meta(this, subject, reply, headers, data);
    if (sub.kind === 'handler') return this.runHandler(sub, meta);
    // A snapshot, as EventEmitter: listeners added while this event is
    // dispatched wait for the next one. One listener needs no copy: it is read
    // before it runs.
    const list = sub.listeners.length === 1 ? sub.listeners : sub.listeners.slice();
    const n = list.length;
    let decoded: unknown;
    let isDecoded = false;
    for (let i = 0; i < n; i++) {
      const e = list[i]!;
      if (e.once) {
        const at = sub.listeners.indexOf(e);
        if (at === -1) continue;
        sub.listeners.splice(at, 1);
        if (sub.listeners.length === 0) this.dropEventSub(sub);
      }
      let value: unknown;
      if (e.raw) value = data;
      else {
        if (!isDecoded) {
          decoded = decodePayload(data);
          isDecoded = true;
        }
        value = decoded;
      }
      this.call(e.fn, value, meta, sub.subject);
    }
  }

  private call(fn: AnyListener, value: unknown, meta: EventMeta, subject: string): void {
    try {
      const r = fn(value, meta);
      if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') {
        // An async listener is work in flight: drain() waits for it.
        const p = (r as Promise<unknown>).then(undefined, (err: unknown) => this.listenerFailed(subject, err));
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      }
    } catch (err) {
      this.listenerFailed(subject, err);
    }
  }

  /** @internal Reports a failed listener (JsHost). */
  listenerFailed(subject: string, err: unknown): void {
    const e = new ListenerError(subject, err);
    if (this.status.listenerCount('error') > 0) this.status.emit('error', e);
    else process.emitWarning(e);
  }

  private runHandler(sub: Sub, meta: Meta): void {
    const p = (async () => sub.handler!(decodePayload(meta.data), meta))();
    this.inFlight.add(p);
    p.then(
      (result) => {
        if (meta.reply === undefined || this.conn.isClosed) return;
        try {
          meta.respond(result);
        } catch (err) {
          // A result that cannot be sent (no JSON form, too large): the requester still gets an answer.
          this.replyFailure(sub, meta, err);
        }
      },
      (err: unknown) => this.replyFailure(sub, meta, err),
    ).finally(() => this.inFlight.delete(p));
  }

  /** Answers a request with the handler's error (header Nats-Service-Error), or reports it. */
  private replyFailure(sub: Sub, meta: Meta, err: unknown): void {
    if (meta.reply === undefined || this.conn.isClosed) return this.listenerFailed(sub.subject, err);
    const message = err instanceof Error ? err.message : String(err);
    try {
      this.conn.publish(meta.reply, undefined, encodeHeaders({ [ERROR_HEADER]: message.replace(/[\r\n]+/g, ' '), [ERROR_CODE_HEADER]: errorStatus(err) }), Buffer.alloc(0));
    } catch (e) {
      this.listenerFailed(sub.subject, e);
    }
  }

  private reply(subject: string, headers: MsgHeaders | undefined, data: Buffer): void {
    const token = subject.slice(this.inboxPrefix.length + 1);
    const req = this.pending.get(token);
    if (req === undefined) return; // late reply after a timeout
    this.pending.delete(token);
    clearTimeout(req.timer);
    if (headers !== undefined) {
      if (headers.code === 503 && data.length === 0) return req.reject(new NoRespondersError(req.subject));
      if (req.raw) return req.resolve({ headers, data } satisfies RawReply);
      const failure = headers.get(ERROR_HEADER);
      if (failure !== undefined) return req.reject(new RemoteError(failure, Number(headers.get(ERROR_CODE_HEADER) ?? 500) || 500));
    }
    req.resolve(req.raw ? ({ headers, data } satisfies RawReply) : decodePayload(data));
  }

  /**
   * @internal ConnectionHandler. nats-server answers a denied PUB with one
   * -ERR, in order: it fails the oldest request to that subject, at once
   * rather than at its timeout. A denied inbox fails every pending request.
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

  /** @internal Publishes a reply (used by EventMeta.respond); `subject` is the request's, for errors. */
  sendReply(reply: string, payload: unknown, headers: HeadersInit | undefined, subject: string): void {
    const h = headers === undefined ? null : encodeHeaders(headers);
    this.conn.publish(reply, undefined, h !== null && h.length > 0 ? h : null, encodePayload(payload, subject, true));
  }

  // ── durable streams ─────────────────────────────────────────────────────

  /**
   * Stores an event in the stream that captures its subject and resolves
   * once the server has stored it, with `{ stream, seq, duplicate }`.
   * Rejects with NoStreamError when no stream stores the subject,
   * JetStreamApiError when the server refuses it (a failed expectation),
   * TimeoutError when no acknowledgement comes in time.
   */
  async publish<K extends EventName<E>>(subject: K, payload?: E[K], opts?: PublishOptions): Promise<PubAck> {
    checkEmitSubject(subject);
    return this.jetstream.publish(subject, encodePayload(payload, subject), opts);
  }

  /** Stream management: add, update, info, delete, purge, list, names, getMessage. */
  get streams(): Streams {
    return (this.streamsApi ??= new Streams(this.jetstream));
  }

  /** Consumer management: add, update, info, delete, list, names. */
  get consumers(): Consumers {
    return (this.consumersApi ??= new Consumers(this.jetstream));
  }

  private get jetstream(): JetStreamClient {
    return (this.jsClient ??= new JetStreamClient(this, this.opts.jetstream));
  }

  /** @internal JsHost */
  rawRequest(subject: string, headers: Buffer | null, payload: Buffer, timeout: number): Promise<RawReply> {
    return this.sendRequest(subject, headers, payload, timeout, true) as Promise<RawReply>;
  }

  /** @internal JsHost */
  rawPublish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void {
    this.conn.publish(subject, reply, headers, payload);
  }

  /** @internal JsHost */
  rawSubscribe(subject: string, deliver: RawDeliver): string {
    const sub = this.subscribe(subject, undefined, 'js');
    sub.deliver = deliver;
    return sub.sid;
  }

  /** @internal JsHost */
  rawUnsubscribe(sid: string): void {
    const sub = this.subs.get(sid);
    if (sub !== undefined) this.unsubscribe(sub);
  }

  /** @internal JsHost */
  newInbox(): string {
    return `${this.opts.inboxPrefix}.${randomToken(22)}`;
  }

  /** @internal JsHost */
  track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** @internal JsHost */
  reportError(err: Error): void {
    if (this.status.listenerCount('error') > 0) this.status.emit('error', err);
    else process.emitWarning(err);
  }

  // ── closing ─────────────────────────────────────────────────────────────

  /**
   * Stops receiving (every listener and handler unsubscribed), delivers what
   * was already in flight, waits for running handlers, flushes, closes.
   */
  drain(): Promise<void> {
    if (this.drained === null) {
      if (this.conn.isClosed) return Promise.reject(new ClosedError());
      this.drained = this.drainWithin(this.opts.drainTimeout);
    }
    return this.drained;
  }

  /** drainNow, bounded: past `ms` (e.g. disconnected with no server coming back) the bus closes anyway. */
  private async drainWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
    try {
      if ((await Promise.race([this.drainNow(), late])) === 'late') {
        await this.close();
        throw new TimeoutError(`drain did not finish within ${ms} ms; the bus was closed`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async drainNow(): Promise<void> {
    // Durable listeners stop asking for events; those already delivered are handled and acknowledged.
    for (const d of this.durables) d.stop('drain');
    // UNSUB everything, but keep dispatching until the server confirms: what it
    // sent before it processed the UNSUBs arrives before that PONG.
    for (const sub of this.subs.values()) if (sub.kind !== 'inbox') this.conn.writeLine(`UNSUB ${sub.sid}\r\n`);
    await this.conn.flush().catch(() => {});
    for (const sub of [...this.subs.values()]) if (sub.kind !== 'inbox') this.subs.delete(sub.sid);
    this.bySubject.clear();
    this.handlers.clear();
    // Async listeners and handlers still running, and requests still waiting for
    // their reply (bounded by their timeouts); running work may start more.
    while (this.inFlight.size > 0 || this.requests.size > 0 || this.durables.some((d) => !d.isIdle)) {
      await Promise.all(this.durables.map((d) => d.idle()));
      await Promise.allSettled([...this.inFlight]);
      await Promise.allSettled([...this.requests]);
    }
    this.durables.length = 0;
    await this.close();
  }

  /** Flushes what was emitted, then closes. Pending requests reject with ClosedError. */
  async close(): Promise<void> {
    for (const d of this.durables.splice(0)) d.stop('close');
    for (const [token, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ClosedError('the connection closed before the reply arrived'));
      this.pending.delete(token);
    }
    await this.conn.close();
  }
}

function subLine(sub: Sub): string {
  return sub.queue === undefined ? `SUB ${sub.subject} ${sub.sid}\r\n` : `SUB ${sub.subject} ${sub.queue} ${sub.sid}\r\n`;
}

interface Replier {
  sendReply(reply: string, payload: unknown, headers: HeadersInit | undefined, subject: string): void;
}

class Meta implements EventMeta {
  readonly subject: string;
  readonly reply: string | undefined;
  readonly headers: MsgHeaders | undefined;
  readonly data: Buffer;
  readonly #bus: Replier;

  constructor(bus: Replier, subject: string, reply: string | undefined, headers: MsgHeaders | undefined, data: Buffer) {
    this.#bus = bus;
    this.subject = subject;
    this.reply = reply;
    this.headers = headers;
    this.data = data;
  }

  respond(payload?: unknown, opts?: { headers?: HeadersInit }): void {
    if (this.reply === undefined) throw new TypeError(`the event on ${JSON.stringify(this.subject)} has no reply subject`);
    this.#bus.sendReply(this.reply, payload, opts?.headers, this.subject);
  }
}

/**
 * Connects to a hub or NATS server and returns the bus once connected.
 * `connect<Events>()` types on/emit/request/handle by the event map.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function connect<E extends EventMap = Record<string, any>>(opts?: string | string[] | ConnectOptions): Promise<Bus<E>> {
  const bus = new Bus<E>(resolveConnectOptions(opts));
  await bus.open();
  return bus;
}
