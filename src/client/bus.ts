/**
 * The bus: the hub (or a NATS cluster) as one EventEmitter shared by many
 * processes. `on()` subscribes, `emit()` publishes, `request()`/`handle()`
 * do request/reply. Lifecycle events live on `bus.status`, so a user's own
 * event named `error` or `close` is just another remote event.
 *
 * Messages are dispatched by subscription id, so a wildcard listener and a
 * literal one on the same subject each get the event once.
 *
 * The seams: registry.ts (hub subscriptions and the listeners behind them),
 * requests.ts and responder.ts (the two sides of request/reply), durables.ts
 * (durable listeners), schemas.ts (the hub's schemas, checked here with
 * validate: 'local'), bus-types.ts and event-meta.ts (the shapes).
 */
import { ClientConnection } from './connection.js';
import type { ConnectionHandler, StatusEmitter, ServerInfo } from './types.js';
import { resolveConnectOptions, Validate, type ConnectOptions, type ResolvedConnectOptions } from './options.js';
import type { ClientPlatform } from './platform.js';
import { encodePayload, decodePayload } from './codec.js';
import { encodeHeaders, decodeHeaders, type HeadersInit } from '../protocol/headers.js';
import { randomToken } from './token.js';
import { ClosedError, ConfigError, NetEmitterError, TimeoutError, type PermissionError } from '../errors.js';
import type { JsHost, PublishOptions, RawDeliver, RawReply } from './jetstream/api.js';
import type { Consumers, Streams } from './jetstream/manage.js';
import { deferred, loadJsApis, type JsApis } from './js-apis.js';
import type { DurableOptions } from './jetstream/durable.js';
import type { PubAck } from './jetstream/types.js';
import { Meta, type EventMeta } from './event-meta.js';
import type { AnyDurableHandler, AnyListener, DurableHandler, EmitOptions, EventMap, EventName, HandleOptions, Handler } from './bus-types.js';
import type { Listener, ListenOptions, ReplyOf, RequestName, RequestOf, RequestOptions } from './bus-types.js';
import { checkEmitSubject, checkListenSubject } from './subject-check.js';
import { Registry } from './registry.js';
import { Requests } from './requests.js';
import { Responder, ERROR_HEADER, ERROR_CODE_HEADER } from './responder.js';
import { Durables } from './durables.js';
import type { KvBucket, KvDeps } from './kv/bucket.js';
import type { KvOptions } from './kv/types.js';
import type { ObjectStore } from './objects/store.js';
import type { ObjectStoreOptions } from './objects/types.js';
import { Presence } from './presence.js';
import type { SchemaApi, Schemas } from './schemas.js';

export { ERROR_HEADER, ERROR_CODE_HEADER };
export type { EventMeta };

/** A listener that threw or rejected; reported on bus.status 'error'. */
export class ListenerError extends NetEmitterError {
  readonly subject: string;
  constructor(subject: string, cause: unknown) {
    super('ERR_NETEMITTER_LISTENER', `a listener for ${JSON.stringify(subject)} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.subject = subject;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export class Bus<E extends EventMap = Record<string, any>> implements ConnectionHandler, JsHost {
  /** Connection lifecycle: connect, disconnect, reconnecting, reconnect, ldm, update, error, close. */
  readonly status: StatusEmitter;
  private readonly conn: ClientConnection;
  private readonly opts: ResolvedConnectOptions;
  private readonly registry: Registry;
  private readonly requests: Requests;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly responder: Responder;
  private drained: Promise<void> | null = null;
  private readonly durables = new Durables();
  private jsApis: Promise<JsApis> | null = null;
  private streamsApi: Streams | null = null;
  private consumersApi: Consumers | null = null;
  private presenceApi: Presence | null = null;
  private schemaApi: Promise<SchemaApi> | null = null;
  private schemasFacade: Schemas | null = null;
  /** validate: 'local': checks each outgoing payload (throws SchemaViolationError); null otherwise. */
  private local: SchemaApi | null = null;

  constructor(opts: ResolvedConnectOptions) {
    this.opts = opts;
    this.conn = new ClientConnection(opts, this);
    this.status = this.conn.status;
    this.registry = new Registry(this.conn, () => this.drained === null && !this.conn.isClosed);
    this.requests = new Requests(this.conn, this.registry, opts.inboxPrefix);
    this.responder = new Responder(this, this.inFlight);
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

  /** Who is connected: list(filter?), on('join' | 'leave' | 'update', fn), update(meta) (client/presence.ts). */
  get presence(): Presence {
    return (this.presenceApi ??= new Presence(this, this.opts));
  }

  /** The schemas the hub enforces: list(), get(subject), ready() (client/schemas.ts, loaded on first use). */
  get schemas(): Schemas {
    return (this.schemasFacade ??= deferred(() => this.loadSchemas()));
  }

  private loadSchemas(): Promise<SchemaApi> {
    return (this.schemaApi ??= import('./schemas.js').then((m) => new m.SchemaApi(this, this.opts)));
  }

  /** @internal connect() with validate: 'local': the hub's rules, before connect() resolves. */
  async validateLocally(): Promise<void> {
    const api = await this.loadSchemas();
    await api.start();
    this.local = api;
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
    if ('durable' in opts && opts.durable !== undefined) {
      this.durables.add(this, () => this.jetstream(), subject, fn, once || prepend, opts);
      return this;
    }
    this.registry.addListener(subject, fn, once, prepend, opts as ListenOptions);
    return this;
  }

  /**
   * Resolves once every durable listener added so far has bound its consumer
   * and asked for events; rejects with the first DurableListenerError (the
   * listener keeps retrying: the error is also on bus.status).
   */
  async ready(): Promise<void> {
    await this.durables.ready();
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
    if (!this.durables.remove(subject, listener)) this.registry.removeListener(subject, listener);
    return this;
  }

  removeAllListeners(subject?: EventName<E>): this {
    this.durables.removeAll(subject);
    this.registry.removeAllListeners(subject);
    return this;
  }

  listenerCount(subject: EventName<E>, listener?: AnyListener): number {
    return this.registry.listenerCount(subject, listener) + this.durables.count(subject, listener);
  }

  /** Plain listeners, then each queue group's, then durable listeners. */
  listeners(subject: EventName<E>): AnyListener[] {
    return this.registry.listeners(subject).concat(this.durables.listeners(subject));
  }

  rawListeners(subject: EventName<E>): AnyListener[] {
    return this.listeners(subject);
  }

  /** Subjects with at least one local listener. */
  eventNames(): string[] {
    return [...new Set([...this.registry.subjects(), ...this.durables.subjects()])];
  }

  setMaxListeners(n: number): this {
    this.registry.maxListeners = n;
    return this;
  }

  getMaxListeners(): number {
    return this.registry.maxListeners;
  }

  /** @internal Restores every subscription after a reconnect (ConnectionHandler). */
  subscriptionLines(): string {
    return this.registry.subscriptionLines();
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
    const data = encodePayload(payload, subject);
    this.local?.check(subject, data);
    return this.conn.publish(subject, opts?.reply, headers !== null && headers.length > 0 ? headers : null, data);
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
      this.local?.check(subject, data);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.requests.send(subject, headers !== null && headers.length > 0 ? headers : null, data, opts.timeout ?? this.opts.requestTimeout, false) as Promise<ReplyOf<E[K]>>;
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
    if (this.registry.handlers.has(subject)) throw new TypeError(`a handler for ${JSON.stringify(subject)} is already registered`);
    const queue = opts.queue === false ? undefined : (opts.queue ?? this.opts.handlerQueue);
    const sub = this.registry.subscribe(subject, queue, 'handler');
    sub.handler = handler as AnyListener;
    this.registry.handlers.set(subject, sub);
    return this;
  }

  /** Stops answering requests on a subject. */
  unhandle(subject: RequestName<E>): this {
    const sub = this.registry.handlers.get(subject);
    if (sub !== undefined) {
      this.registry.handlers.delete(subject);
      this.registry.unsubscribe(sub);
    }
    return this;
  }

  // ── receiving ───────────────────────────────────────────────────────────

  /** @internal ConnectionHandler: one message from the server. */
  message(subject: string, sid: string, reply: string | undefined, headerLength: number, payload: Buffer): void {
    const sub = this.registry.subs.get(sid);
    if (sub === undefined) return; // arrived after UNSUB
    const headers = headerLength > 0 ? decodeHeaders(payload.subarray(0, headerLength)) : undefined;
    const data = headerLength > 0 ? payload.subarray(headerLength) : payload;
    if (sub.kind === 'inbox') return this.requests.reply(subject, headers, data);
    if (sub.kind === 'js') return sub.deliver!(subject, reply, headers, data);
    const meta = new Meta(this, subject, reply, headers, data);
    if (sub.kind === 'handler') return this.responder.run(sub, meta);
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
        if (sub.listeners.length === 0) this.registry.dropEventSub(sub);
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

  /** @internal ConnectionHandler: a denied publish or subscription (see Requests.permissionDenied). */
  permissionDenied(err: PermissionError): void {
    this.requests.permissionDenied(err);
  }

  /** @internal ConnectionHandler */
  reconnected(): void {
    this.local?.reconnected();
  }

  /** @internal ConnectionHandler */
  infoUpdated(info: ServerInfo): void {
    this.local?.infoUpdated(info);
  }

  /** @internal Publishes a reply (used by EventMeta.respond); `subject` is the request's, for errors. */
  sendReply(reply: string, payload: unknown, headers: HeadersInit | undefined, subject: string): void {
    const h = headers === undefined ? null : encodeHeaders(headers);
    const data = encodePayload(payload, subject, true);
    this.local?.check(reply, data);
    this.conn.publish(reply, undefined, h !== null && h.length > 0 ? h : null, data);
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
    const data = encodePayload(payload, subject);
    this.local?.check(subject, data);
    return (await this.jetstream()).client.publish(subject, data, opts);
  }

  /** Stream management: add, update, info, delete, purge, list, names, getMessage, deleteMessage. */
  get streams(): Streams {
    return (this.streamsApi ??= deferred(async () => (await this.jetstream()).streams));
  }

  /** Consumer management: add, update, info, delete, list, names. */
  get consumers(): Consumers {
    return (this.consumersApi ??= deferred(async () => (await this.jetstream()).consumers));
  }

  /**
   * A key-value bucket (NATS KV layout, shared with nats.js, nats.go and the
   * nats CLI): created unless it exists, or bound only with `create: false`.
   */
  async kv(bucket: string, opts?: KvOptions): Promise<KvBucket> {
    // Loaded on first use: the browser bundle keeps KV out of what connect() loads.
    const { KvBucket } = await import('./kv/bucket.js');
    return KvBucket.open(await this.kvDeps(), bucket, opts);
  }

  /** An object store for large payloads (NATS object store layout): created unless it exists. */
  objects(bucket: string, opts?: ObjectStoreOptions): Promise<ObjectStore> {
    // Through the platform: the object store needs Node (node:crypto, node:stream), so the browser build has none.
    const open = this.opts.platform.openObjectStore;
    if (typeof open === 'string') return Promise.reject(new ConfigError(open));
    return this.kvDeps().then((deps) => open(deps, bucket, opts));
  }

  private async kvDeps(): Promise<KvDeps> {
    const { client, streams, consumers } = await this.jetstream();
    return { host: this, js: client, streams, consumers };
  }

  /** The JetStream API, loaded on first use (js-apis.ts). */
  private jetstream(): Promise<JsApis> {
    return (this.jsApis ??= loadJsApis(this, this.opts.jetstream));
  }

  /** @internal JsHost */
  rawRequest(subject: string, headers: Buffer | null, payload: Buffer, timeout: number): Promise<RawReply> {
    return this.requests.send(subject, headers, payload, timeout, true) as Promise<RawReply>;
  }

  /** @internal JsHost */
  rawPublish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void {
    this.conn.publish(subject, reply, headers, payload);
  }

  /** @internal JsHost */
  rawSubscribe(subject: string, deliver: RawDeliver): string {
    const sub = this.registry.subscribe(subject, undefined, 'js');
    sub.deliver = deliver;
    return sub.sid;
  }

  /** @internal JsHost */
  rawUnsubscribe(sid: string): void {
    const sub = this.registry.subs.get(sid);
    if (sub !== undefined) this.registry.unsubscribe(sub);
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
    this.durables.stopAll('drain');
    // UNSUB everything, but keep dispatching until the server confirms: what it
    // sent before it processed the UNSUBs arrives before that PONG.
    this.registry.unsubscribeAllButInbox();
    await this.conn.flush().catch(() => {});
    this.registry.forgetAllButInbox();
    // Async listeners and handlers still running, and requests still waiting for
    // their reply (bounded by their timeouts); running work may start more.
    while (this.inFlight.size > 0 || this.requests.outstanding.size > 0 || this.durables.busy) {
      await this.durables.idle();
      await Promise.allSettled([...this.inFlight]);
      await Promise.allSettled([...this.requests.outstanding]);
    }
    this.durables.clear();
    await this.close();
  }

  /** Flushes what was emitted, then closes. Pending requests reject with ClosedError. */
  async close(): Promise<void> {
    this.durables.closeAll();
    this.requests.rejectAll();
    await this.conn.close();
  }
}

/**
 * Connects through `platform`'s dialers and returns the bus once connected:
 * what `connect()` of 'netemitter' (node.ts) and of 'netemitter/browser' do.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function connectWith<E extends EventMap = Record<string, any>>(platform: ClientPlatform, opts?: string | string[] | ConnectOptions): Promise<Bus<E>> {
  const resolved = resolveConnectOptions(opts, platform);
  // A bad nkey seed fails connect() before any dial (the key is decoded as nkeys loads, lazily).
  if (resolved.auth.nkey !== undefined) await resolved.auth.nkey;
  const bus = new Bus<E>(resolved);
  await bus.open();
  if (resolved.validate === Validate.LOCAL) {
    // Asked to check events here and unable to: a bus that would silently not check is worse than none.
    await bus.validateLocally().catch(async (err: unknown) => {
      await bus.close().catch(() => {});
      throw err;
    });
  }
  return bus;
}
