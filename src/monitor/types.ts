/**
 * What the monitor reads from the hub, as small structural interfaces: the
 * hub implements them, and nothing here imports the hub, so the documents
 * (documents.ts, connz.ts) serve the HTTP layer now and `$SYS.REQ.SERVER.PING.*`
 * later without a circle between files.
 */
import type { ResolvedHubOptions } from '../server/options.js';
import type { JetStream } from '../server/jetstream/index.js';
import type { ClientInfo, HubStats, Message, Subscription } from '../server/types.js';
import type { InternalHandler, InternalSubscriber } from '../server/internal-subscriber.js';
import type { Observer } from '../server/router.js';
import type { MatchResult, SublistStats } from '../server/sublist.js';

/** One subscription as /connz and /subsz list it. */
export interface SubRecord {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly sid: string;
  readonly msgs: number;
  readonly cid: number;
}

/** What /connz shows of any connection, open or closed: who it is and its numbers. */
interface ConnFields extends Omit<ClientInfo, 'tls'> {
  /** Milliseconds since the epoch. */
  readonly lastActivity: number;
  /** The last measured round trip in milliseconds; before the first PONG, INFO to CONNECT (nats-server's estimate); 0 before CONNECT. */
  readonly rtt: number;
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
  readonly pending: number;
}

/** What /connz shows of a connection, open or closed (a copy: the closed ring keeps it). */
export interface ConnRecord extends ConnFields {
  readonly tlsVersion: string | undefined;
  readonly tlsCipher: string | undefined;
  /** Milliseconds since the epoch. */
  readonly start: number;
  readonly subs: readonly SubRecord[];
}

/** A connection that has closed: its last numbers, when and why (nats-server's words). */
export interface ClosedRecord extends ConnRecord {
  readonly stop: number;
  readonly reason: string;
}

/** A live connection, read when a document is built. */
export interface LiveConnection extends ConnFields {
  readonly peer: { readonly tls: { readonly protocol: string | null; readonly cipher: string | null } | null };
  readonly startTime: number;
  readonly subs: ReadonlyMap<string, Subscription>;
}

/** The hub's counters (`hub.stats()`). */
export type MonitorCounters = HubStats;

/** The hub, as the monitor sees it. */
export interface MonitorSource {
  readonly serverId: string;
  readonly serverName: string;
  readonly options: ResolvedHubOptions;
  /** Milliseconds since the epoch. */
  readonly startTime: number;
  /** The first TCP listener, or zeros. */
  readonly host: string;
  readonly port: number;
  readonly httpHost: string;
  /** The monitoring port when it serves plain HTTP, else 0. */
  readonly httpPort: number;
  /** The monitoring port when it serves HTTPS (the hub has TLS), else 0. */
  readonly httpsPort: number;
  readonly authRequired: boolean;
  readonly authTimeout: number;
  readonly tlsTimeout: number;
  readonly jetstream: JetStream | null;
  /** Where JetStream keeps its files; '' in memory. */
  readonly storeDir: string;
  /** Whether the hub is up (listening, not shutting down). */
  readonly healthy: boolean;
  connections(): Iterable<LiveConnection>;
  closedConnections(): readonly ClosedRecord[];
  /** The HTTP listener's requests per document path ({} without one): /varz's http_req_stats. */
  httpReqStats(): Readonly<Record<string, number>>;
  counters(): MonitorCounters;
  /** The subject index's statistics (/subsz). */
  sublistStats(): SublistStats;
  /** The hub's message paths, for the dashboard's live API (live.ts, publish.ts). */
  readonly bus: MonitorBus;
}

/** How the dashboard's server side reaches the hub's messages. Subjects are wire strings. */
export interface MonitorBus {
  /** Publishes from inside the hub, as Hub.publish does: streams capture it like any publish. */
  publish(msg: Message): void;
  /** A subscriber inside the hub, through the connections' subscribe path (a request's inbox). */
  subscriber(handler: InternalHandler, name: string): InternalSubscriber;
  /** Watches published messages without being a subscriber (the tail; router.ts Observer). */
  observe(o: Observer): void;
  unobserve(o: Observer): void;
  /** The cached subjects with their match results and counters (router.ts RouteMemo). */
  subjects(): IterableIterator<[string, MatchResult<Subscription>]>;
}
