/**
 * The hub's services that follow each client's life after CONNECT: the
 * `$SYS` connect/disconnect advisories, presence, the last will. Each is a
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
import { CONTROL_PREFIX } from '../protocol/constants.js';
import { Advisories } from './advisories.js';
import { willService } from './will.js';

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

/** What the services may use of the hub. */
export interface LifecycleHost {
  readonly options: ResolvedHubOptions;
  readonly serverId: string;
  readonly serverName: string;
  readonly jetstream: boolean;
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
  /** The features INFO announces in its `netemitter` list. */
  readonly features: string[] = [];

  /** Adds a service: its watcher, its control subjects (names after `$NE.CTL.`), its feature name for INFO. */
  add(watcher: ClientWatcher, opts: { feature?: string; controls?: Record<string, Control> } = {}): void {
    this.watchers.push(watcher);
    if (opts.feature !== undefined) this.features.push(opts.feature);
    for (const [name, c] of Object.entries(opts.controls ?? {})) {
      this.controls.set(CONTROL_PREFIX + name, typeof c === 'function' ? { handler: c, permission: false } : c);
    }
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

  /** Called for every close; only clients that were ready are reported. */
  closed(conn: Subscriber, reason: CloseReason): void {
    if (!(conn as Connection).ready) return;
    for (const w of this.watchers) w.closed?.(conn as Connection, reason);
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
  lifecycle.add(...willService(host));
  return lifecycle;
}
