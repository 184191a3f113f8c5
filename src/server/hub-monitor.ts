/**
 * The hub's monitoring side, kept out of hub.ts: the HTTP listener with its
 * routes (documents, /metrics, the dashboard and its live API, login), the
 * ring of closed connections, the coarse clock the connections read while
 * monitoring is on, the `$SYS.REQ.SERVER.*` responder, and the MonitorSource
 * the documents read. hub.ts gives it a HubMonitorHost and asks nothing else.
 */
import { openMonitor, type MonitorServer, type UpgradeHook } from '../monitor/http.js';
import type { Server } from 'node:http';
import { metricsRoutes } from '../monitor/metrics.js';
import { clientViewer, SysResponder } from '../monitor/sys.js';
import { monitorAccess } from '../monitor/auth.js';
import { dashboardRoutes } from '../monitor/dashboard.js';
import { apiRoutes } from '../monitor/api.js';
import { ClosedRing, CLOSED_REASON_TEXT } from '../monitor/closed.js';
import { connRecord } from '../monitor/connz.js';
import type { MonitorBus, MonitorCounters, MonitorSource } from '../monitor/types.js';
import { CoarseClock } from './clock.js';
import { Connection } from './connection.js';
import { InternalSubscriber } from './internal-subscriber.js';
import { AuthDefaults, type Authenticator } from './security/auth.js';
import { TlsDefaults, type ResolvedTls } from './security/tls-config.js';
import type { ResolvedHubOptions } from './options.js';
import type { HubAddress } from './listeners.js';
import type { PublishTap, Router } from './router.js';
import type { CloseReason, HubCore, Subscriber } from './types.js';
import type { JetStream } from './jetstream/index.js';

/** What the monitoring side reads from the hub. */
export interface HubMonitorHost {
  readonly options: ResolvedHubOptions;
  readonly serverId: string;
  readonly serverName: string;
  readonly startTime: number;
  readonly auth: Authenticator | null;
  readonly tls: ResolvedTls | null;
  readonly jetstream: JetStream | null;
  /** Where the SQLite store lives; '' in memory. */
  readonly storeDir: string;
  readonly router: Router;
  /** The hub as its connections see it (for the dashboard's internal subscribers); read when first needed. */
  core(): HubCore;
  addresses(): readonly HubAddress[];
  /** WebSocket upgrades on the monitoring port (websocket.port 'http'), or null. */
  readonly upgrade: UpgradeHook | null;
  connections(): Iterable<Connection>;
  /** Listening and not shutting down. */
  healthy(): boolean;
  counters(): MonitorCounters;
  /** A refused login on the HTTP side, counted with the NATS ones. */
  authFailed(): void;
}

export class HubMonitor {
  /** Read by connections for their last activity; ticks only while the HTTP side is on. */
  readonly clock = new CoarseClock();
  /** Recently closed connections for /connz; kept only while the HTTP side is configured. */
  private readonly closed: ClosedRing | null;
  private server_: MonitorServer | null = null;
  private bus: MonitorBus | null = null;
  private readonly sys: SysResponder<Subscriber | null>;

  constructor(private readonly host: HubMonitorHost) {
    const o = host.options;
    this.closed = o.httpPort === undefined ? null : new ClosedRing(o.maxClosedClients);
    // A client sees what its subscribe permissions allow. A publish from inside the process (hub.publish, the
    // dashboard's publish and request, which check the user's publish permission) has no client: it sees all.
    const reply = (subject: string, payload: Buffer): void => {
      host.router.deliverTo(subject, { subject, reply: undefined, headerLength: 0, payload }, true);
    };
    this.sys = new SysResponder(() => this.source(), reply, (from: Subscriber | null) => clientViewer(from instanceof Connection ? from : null));
  }

  /**
   * The router's publish tap: `$SYS.REQ.SERVER.*` (answered with or without
   * HTTP, as nats-server does), then `next` (JetStream's).
   */
  tap(next: ((subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array) => boolean) | null): PublishTap {
    const sys = this.sys;
    return next === null
      ? (m, from) => sys.onPublish(m.subject, m.reply, m.headerLength, m.payload, from)
      : (m, from) => sys.onPublish(m.subject, m.reply, m.headerLength, m.payload, from) || next(m.subject, m.reply, m.headerLength, m.payload);
  }

  /** Opens the HTTP side when httpPort is set. */
  async open(): Promise<void> {
    const h = this.host;
    const o = h.options;
    if (o.httpPort === undefined) return;
    const access = monitorAccess(h.auth, h.tls, o, () => h.authFailed());
    this.server_ = await openMonitor(() => this.source(), {
      host: o.httpHost,
      port: o.httpPort,
      routes: { ...dashboardRoutes(), ...metricsRoutes(this.source()), ...apiRoutes(), ...access.routes },
      authenticate: access.authenticate,
      tls: access.tls,
      upgrade: h.upgrade ?? undefined,
    });
    this.clock.start();
  }

  close(): Promise<void> | null {
    this.clock.stop();
    return this.server_?.close() ?? null;
  }

  /** The HTTP server (behind the TLS listener with HTTPS), or null when off. */
  get server(): Server | null {
    return this.server_?.server ?? null;
  }

  /** Where the HTTP side listens (the real port when 0 was asked), or null when off. */
  get address(): { url: string; host: string; port: number } | null {
    const m = this.server_;
    if (m === null) return null;
    const host = m.host.includes(':') ? `[${m.host}]` : m.host;
    return { url: `${m.secure ? 'https' : 'http'}://${host}:${m.port}`, host: m.host, port: m.port };
  }

  /** The `server` block of a message the hub sends on `$SYS`, numbered by the sequence the `$SYS.REQ` answers share. */
  sysServer(): object {
    return this.sys.serverBlock();
  }

  /** A connection is closing: remember it, with its numbers and why, before its subscriptions go. */
  recordClose(conn: Connection, reason: CloseReason): void {
    this.closed?.add({ ...connRecord(conn), stop: Date.now(), reason: CLOSED_REASON_TEXT[reason] });
  }

  /** The hub as the monitoring documents read it (src/monitor/types.ts). */
  source(): MonitorSource {
    const h = this.host;
    const m = this.server_;
    const tcp = h.addresses().find((a) => a.port !== undefined);
    const router = h.router;
    return {
      serverId: h.serverId,
      serverName: h.serverName,
      options: h.options,
      startTime: h.startTime,
      host: tcp?.host ?? '',
      port: tcp?.port ?? 0,
      httpHost: m?.host ?? h.options.httpHost,
      // nats-server reports an HTTPS monitor under https_port, with http_port 0.
      httpPort: m?.secure === true ? 0 : (m?.port ?? 0),
      httpsPort: m?.secure === true ? m.port : 0,
      authRequired: h.auth !== null,
      // nats-server reports its defaults when auth or TLS is off.
      authTimeout: h.auth?.timeout ?? AuthDefaults.timeout,
      tlsTimeout: h.tls?.timeout ?? TlsDefaults.timeout,
      jetstream: h.jetstream,
      storeDir: h.storeDir,
      get healthy() {
        return h.healthy();
      },
      connections: () => h.connections(),
      closedConnections: () => this.closed?.list() ?? [],
      httpReqStats: () => m?.reqStats ?? {},
      counters: () => h.counters(),
      sublistStats: () => router.sublist.stats(),
      bus: (this.bus ??= {
        publish: (msg) => router.publish(null, msg),
        subscriber: (handler, name) => new InternalSubscriber(h.core(), handler, { name }),
        observe: (o) => router.observe(o),
        unobserve: (o) => router.unobserve(o),
        subjects: () => router.subjects(),
      }),
    };
  }
}
