/**
 * The hub's services that follow each client's life after CONNECT: the
 * `$SYS` connect/disconnect advisories, presence, the last will (whose event
 * meets the schemas at CONNECT), and the schema service's requests. Each is a
 * ClientWatcher; hub.ts calls one Lifecycle at the three moments (a CONNECT
 * about to be accepted, ready, closed) and for the control subjects, and
 * knows none of the services.
 *
 *   CONNECT ─► vet (first refusal wins: -ERR, close) ─► ready ─► … ─► closed
 *   PUB $NE.CTL.<name> ─► the service registered for it (about the sender only)
 *
 * A service is added in createLifecycle() below, with the LifecycleHost: the
 * hub's identity and its internal publish path. Each names the feature it
 * adds to INFO's `netemitter` list, which our client reads to know the hub
 * offers it (nats-server sends no such field).
 */
import type { Connection } from './connection.js';
import type { CloseReason, ControlCommand, Subscriber } from './types.js';
import type { ConnectRequest } from './security/types.js';
import type { ResolvedHubOptions } from './options.js';
import type { PublishTap } from './router.js';
import { CONTROL_PREFIX } from '../protocol/constants.js';
import { Advisories } from './advisories.js';
import { willService } from './will.js';
import { Presence } from './presence.js';
import type { SchemaService } from './schema-service.js';

/** One service's view of client lives; every method is optional. */
export interface ClientWatcher {
  /** A CONNECT about to be accepted (also a second one): an `-ERR` text refuses the client; null lets it in. */
  vet?(conn: Connection, request: ConnectRequest): string | null;
  /** The client is ready (its first CONNECT accepted). */
  ready?(conn: Connection): void;
  /** A client that was ready has closed; its subscriptions are gone already. */
  closed?(conn: Connection, reason: CloseReason): void;
}

/** A command a ready client sends about itself, on `$NE.CTL.<name>`; the publish is not routed. */
export type ControlHandler = (conn: Connection, reply: string | undefined, headerLength: number, payload: Uint8Array) => void;

/**
 * A control subject's handler; `permission`: the sender needs publish
 * permission on the subject (else it is routed as any publish, and refused
 * there with nats-server's Permissions Violation).
 */
export type Control = ControlHandler | { handler: ControlHandler; permission: true };

/**
 * A request a service answers on an ordinary subject (`$NE.PRESENCE.LIST`),
 * or on every subject under a prefix (`$NE.SCHEMA.GET.<subject>`), seen by
 * the router's tap after the publisher's permissions were checked, as the
 * `$SYS.REQ.SERVER.*` requests are; `from` is null inside the hub. Subjects
 * are wire strings. The publish is still routed to subscribers.
 */
export type RequestHandler = (from: Subscriber | null, reply: string | undefined, headerLength: number, payload: Uint8Array, subject: string) => void;

/** What the services may use of the hub. */
export interface LifecycleHost {
  readonly options: ResolvedHubOptions;
  readonly serverId: string;
  readonly serverName: string;
  readonly jetstream: boolean;
  /** The hub's schemas: a will is checked against them at CONNECT, and the service answers its requests. */
  readonly schemas: SchemaService;
  /** Publishes from inside the hub (no connection, no permissions), as hub.publish does; `headers` a whole header block or null. Streams capture it. */
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void;
  /** Whether any subscription (or stream) would take a message on `subject`: build a body only then. */
  hasInterest(subject: string): boolean;
  /** The ready connections now. */
  connections(): Iterable<Connection>;
  /** The `server` block of a `$SYS` message in nats-server's shape, numbered by the hub's one `$SYS` sequence (each call takes a number). */
  sysServer(): object;
}

export class Lifecycle {
  private readonly watchers: ClientWatcher[] = [];
  private readonly controls = new Map<string, { handler: ControlHandler; permission: boolean }>();
  private readonly requests = new Map<string, RequestHandler>();
  /** Request subjects by prefix (few: a scan), looked at when no exact subject matched. */
  private readonly prefixes: Array<[string, RequestHandler]> = [];
  /** The features INFO announces in its `netemitter` list. */
  readonly features: string[] = [];

  /** Adds a service: its watcher, its control subjects (names after `$NE.CTL.`), its feature name for INFO. */
  add(
    watcher: ClientWatcher,
    opts: { feature?: string; controls?: Record<string, Control>; requests?: Record<string, RequestHandler>; prefixes?: Record<string, RequestHandler> } = {},
  ): void {
    this.watchers.push(watcher);
    if (opts.feature !== undefined) this.features.push(opts.feature);
    for (const [name, c] of Object.entries(opts.controls ?? {})) {
      this.controls.set(CONTROL_PREFIX + name, typeof c === 'function' ? { handler: c, permission: false } : c);
    }
    for (const [subject, handler] of Object.entries(opts.requests ?? {})) this.requests.set(subject, handler);
    for (const entry of Object.entries(opts.prefixes ?? {})) this.prefixes.push(entry);
  }

  private prefixed(subject: string): RequestHandler | undefined {
    for (const [prefix, handler] of this.prefixes) if (subject.length > prefix.length && subject.startsWith(prefix)) return handler;
    return undefined;
  }

  /** The router's publish tap: the services' request subjects, then `next`. Answered requests get no 503. */
  tap(next: PublishTap | null): PublishTap | null {
    const requests = this.requests;
    if (requests.size === 0 && this.prefixes.length === 0) return next;
    return (m, from) => {
      const handler = m.subject.charCodeAt(0) === 0x24 /* $ */ ? (requests.get(m.subject) ?? this.prefixed(m.subject)) : undefined;
      if (handler === undefined) return next !== null && next(m, from);
      handler(from, m.reply, m.headerLength, m.payload, m.subject);
      return true;
    };
  }

  vet(conn: Subscriber, request: ConnectRequest): string | null {
    for (const w of this.watchers) {
      const refusal = w.vet?.(conn as Connection, request) ?? null;
      if (refusal !== null) return refusal;
    }
    return null;
  }

  ready(conn: Subscriber): void {
    for (const w of this.watchers) w.ready?.(conn as Connection);
  }

  /**
   * Closes reported while one is being reported: a service's publish (a
   * leave, an advisory, a will) can cut a slow watcher off, whose close
   * would report from inside the first. Queued here and reported by the
   * outer call, so a cascade of such closes is a loop, not a recursion as
   * deep as the number of watchers, for every service at once.
   */
  private reporting: Array<[Connection, CloseReason]> | null = null;

  /** Called for every close; only clients that were ready are reported. */
  closed(conn: Subscriber, reason: CloseReason): void {
    if (!(conn as Connection).ready) return;
    if (this.reporting !== null) {
      this.reporting.push([conn as Connection, reason]);
      return;
    }
    const queue: Array<[Connection, CloseReason]> = [[conn as Connection, reason]];
    this.reporting = queue;
    try {
      for (let i = 0; i < queue.length; i++) {
        const [c, r] = queue[i]!;
        for (const w of this.watchers) w.closed?.(c, r);
      }
    } finally {
      this.reporting = null;
    }
  }

  control(conn: Subscriber, subject: string): ControlCommand | null {
    const c = this.controls.get(subject);
    if (c === undefined) return null;
    const client = conn as Connection;
    if (c.permission && client.permissions !== null && !client.permissions.canPublish(subject)) return null;
    const handler = c.handler;
    return (reply, headerLength, payload) => handler(client, reply, headerLength, payload);
  }
}

/** The hub's lifecycle services. Each service module adds itself here. */
export function createLifecycle(host: LifecycleHost): Lifecycle {
  const lifecycle = new Lifecycle();
  lifecycle.add(new Advisories(host));
  const schemas = host.schemas;
  lifecycle.add(...willService(host, (subject, payload) => schemas.willVerdict(subject, payload)));
  const presence = new Presence(host);
  lifecycle.add(presence, presence.hooks());
  lifecycle.add({}, schemas.hooks());
  return lifecycle;
}
