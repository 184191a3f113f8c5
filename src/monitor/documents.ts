/**
 * The monitoring documents other than /connz, in nats-server 2.10's shapes:
 * /varz, /subsz, /jsz, /healthz, /accountz. Each is a function of the hub
 * (MonitorSource) and the query, so the HTTP layer serves them now and the
 * `$SYS.REQ.SERVER.PING.*` responders can wrap the same objects later.
 * Fields that have no meaning here (routes, gateways, leaf nodes, the
 * subject cache) are present with zero values, so tools that read them work.
 */
import { availableParallelism } from 'node:os';
import { ADVERTISED_VERSION, PROTOCOL_VERSION } from '../protocol/constants.js';
import { isValidLiteralSubject, subjectMatches } from '../protocol/subject.js';
import { streamInfo } from '../server/jetstream/api/streams.js';
import { consumerInfo } from '../server/jetstream/api/consumers.js';
import { MonitorQueryError, boolParam, paging, DEFAULT_LIMIT } from './query.js';
import { nanos, time, uptime } from './format.js';
import { subDetail } from './connz.js';
import { consumerFilters } from '../server/jetstream/config.js';
import { toWire } from '../protocol/bytes.js';
import { OPEN_VIEWER, type MonitorViewer } from './route.js';
import type { MonitorSource, SubRecord } from './types.js';

/** nats-server's account names: we have one account (the global one) and no system account of our own. */
export const GLOBAL_ACCOUNT = '$G';
export const SYSTEM_ACCOUNT = '$SYS';

/** CPU use between two /varz reads, in percent of one core, as nats-server reports `cpu`. */
export class CpuMeter {
  private last = process.cpuUsage();
  private at = performance.now();

  percent(): number {
    const now = performance.now();
    const usage = process.cpuUsage(this.last);
    const elapsed = now - this.at;
    this.last = process.cpuUsage();
    this.at = now;
    if (elapsed <= 0) return 0;
    return Math.round(((usage.user + usage.system) / 1000 / elapsed) * 100);
  }
}

export function varz(src: MonitorSource, extra: { cpu: number; httpReqStats: Record<string, number> }, now = Date.now()): object {
  const o = src.options;
  const c = src.counters();
  const cores = availableParallelism();
  const doc: Record<string, unknown> = {
    server_id: src.serverId,
    server_name: src.serverName,
    version: ADVERTISED_VERSION,
    proto: PROTOCOL_VERSION,
    go: `node ${process.version}`,
    host: src.host,
    port: src.port,
    max_connections: o.maxConnections,
    ping_interval: nanos(o.pingInterval),
    ping_max: o.maxPingsOut,
    http_host: src.httpHost,
    http_port: src.httpPort,
    http_base_path: '',
    https_port: src.httpsPort,
  };
  if (src.authRequired) doc.auth_required = true;
  Object.assign(doc, {
    auth_timeout: src.authTimeout / 1000,
    max_control_line: o.maxControlLine,
    max_payload: o.maxPayload,
    max_pending: o.maxPending,
    cluster: {},
    gateway: {},
    leaf: {},
    mqtt: {},
    websocket: {},
    jetstream: src.jetstream === null ? {} : { config: jsConfig(src), stats: jsStats(src) },
    tls_timeout: src.tlsTimeout / 1000,
    write_deadline: nanos(o.writeDeadline),
    start: time(src.startTime),
    now: time(now),
    uptime: uptime(now - src.startTime),
    mem: process.memoryUsage.rss(),
    cores,
    gomaxprocs: cores,
    cpu: extra.cpu,
    connections: c.connections,
    total_connections: c.totalConnections,
    routes: 0,
    remotes: 0,
    leafnodes: 0,
    in_msgs: c.inMsgs,
    out_msgs: c.outMsgs,
    in_bytes: c.inBytes,
    out_bytes: c.outBytes,
    slow_consumers: c.slowConsumers,
    subscriptions: c.subscriptions,
    http_req_stats: extra.httpReqStats,
    config_load_time: time(src.startTime),
    system_account: SYSTEM_ACCOUNT,
  });
  return doc;
}

// ── /subsz ─────────────────────────────────────────────────────────────────

function sublistStats(src: MonitorSource): Record<string, number> {
  const s = src.sublistStats();
  return {
    num_subscriptions: src.counters().subscriptions,
    num_cache: s.cached,
    num_inserts: s.inserts,
    num_removes: s.removes,
    num_matches: s.matches,
    cache_hit_rate: s.hitRate,
    max_fanout: s.maxFanout,
    avg_fanout: s.avgFanout,
  };
}

/**
 * /subsz: the counts; with subs=1 the subscriptions too, those that a
 * message on `test` would reach when it is given (nats-server answers the
 * full form only with subs, and only when something is listed). The list
 * holds only subscriptions on subjects the viewer may subscribe to; `total`
 * is the length of the page sent, as nats-server reports it, and the counts
 * (num_subscriptions, …) stay the hub's.
 */
export function subsz(src: MonitorSource, q: URLSearchParams, viewer: MonitorViewer = OPEN_VIEWER, now = Date.now()): object {
  const subs = boolParam(q, 'subs');
  const test = q.get('test') ?? '';
  if (test !== '' && !isValidLiteralSubject(test)) throw new MonitorQueryError(`invalid test subject, must be valid publish subject: ${test}`);
  const { offset, limit } = paging(q, DEFAULT_LIMIT);
  const stats = sublistStats(src);
  if (!subs) return stats;
  const list: SubRecord[] = [];
  for (const c of src.connections()) {
    for (const s of c.subs.values()) {
      if (test !== '' && !subjectMatches(s.subject, test)) continue;
      if (viewer !== OPEN_VIEWER && !viewer.maySubscribe(s.subject)) continue;
      list.push({ subject: s.subject, queue: s.queue, sid: s.sid, msgs: s.delivered, cid: c.id });
    }
  }
  if (list.length === 0) return stats;
  const from = Math.min(offset, list.length);
  const page = list.slice(from, from + limit);
  return {
    server_id: src.serverId,
    now: time(now),
    ...stats,
    total: page.length,
    offset: from,
    limit,
    subscriptions_list: page.map((s) => subDetail(s, GLOBAL_ACCOUNT)),
  };
}

// ── /jsz ───────────────────────────────────────────────────────────────────

function jsConfig(src: MonitorSource): object {
  // No limits are configured on the hub's JetStream: 0, as nats-server shows an unset one.
  return { max_memory: 0, max_storage: 0, store_dir: src.storeDir };
}

interface JsTotals {
  memory: number;
  storage: number;
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
}

function jsTotals(src: MonitorSource): JsTotals {
  const t: JsTotals = { memory: 0, storage: 0, streams: 0, consumers: 0, messages: 0, bytes: 0 };
  const js = src.jetstream;
  if (js === null) return t;
  for (const s of js.streams.values()) {
    const st = s.store.streamState(s.name);
    t.streams++;
    t.consumers += s.consumers.size;
    t.messages += st.messages;
    t.bytes += st.bytes;
    if (s.config.storage === 'memory') t.memory += st.bytes;
    else t.storage += st.bytes;
  }
  return t;
}

function jsStats(src: MonitorSource): object {
  const t = jsTotals(src);
  return { memory: t.memory, storage: t.storage, reserved_memory: 0, reserved_storage: 0, accounts: 1, ha_assets: 0, api: apiStats(src) };
}

function apiStats(src: MonitorSource): object {
  const c = src.jetstream?.counters;
  return { total: c?.total ?? 0, errors: c?.errors ?? 0 };
}

/**
 * Whether the viewer sees a stream (in /jsz, /metrics): when it may subscribe
 * to every one of the stream's subjects, since the stream's numbers and
 * config speak of them all. A stream without subjects (a mirror, one fed by
 * sources) is seen by viewers who may subscribe to everything.
 */
export function streamVisible(viewer: MonitorViewer, subjects: readonly string[] | undefined): boolean {
  if (viewer === OPEN_VIEWER) return true;
  if (subjects === undefined || subjects.length === 0) return viewer.maySubscribe('>');
  // Configs hold user strings; permissions are asked about wire subjects, as the hub's SUB check is.
  return subjects.every((s) => viewer.maySubscribe(toWire(s)));
}

/** A consumer of a visible stream: shown without a filter, else when the viewer may subscribe to one of its filters. */
export function consumerVisible(viewer: MonitorViewer, filters: readonly string[]): boolean {
  return viewer === OPEN_VIEWER || filters.length === 0 || filters.some((s) => viewer.maySubscribe(toWire(s)));
}

/**
 * /jsz, with `accounts`, `streams`, `consumers` and `config` (each implies
 * the ones before it, as in nats-server). The details list only the streams
 * and consumers the viewer may see; the totals stay the hub's.
 */
export function jsz(src: MonitorSource, q: URLSearchParams, viewer: MonitorViewer = OPEN_VIEWER, now = Date.now()): object {
  const accounts = boolParam(q, 'accounts');
  const streams = boolParam(q, 'streams');
  const consumers = boolParam(q, 'consumers');
  const config = boolParam(q, 'config');
  const js = src.jetstream;
  const head = { server_id: src.serverId, now: time(now) };
  if (js === null) {
    return {
      ...head,
      disabled: true,
      config: { max_memory: 0, max_storage: 0 },
      memory: 0,
      storage: 0,
      reserved_memory: 0,
      reserved_storage: 0,
      accounts: 0,
      ha_assets: 0,
      api: { total: 0, errors: 0 },
      streams: 0,
      consumers: 0,
      messages: 0,
      bytes: 0,
    };
  }
  const t = jsTotals(src);
  const doc: Record<string, unknown> = {
    ...head,
    config: jsConfig(src),
    memory: t.memory,
    storage: t.storage,
    reserved_memory: 0,
    reserved_storage: 0,
    accounts: 1,
    ha_assets: 0,
    api: apiStats(src),
    streams: t.streams,
    consumers: t.consumers,
    messages: t.messages,
    bytes: t.bytes,
  };
  if (accounts || streams || consumers || config) {
    const account: Record<string, unknown> = {
      name: GLOBAL_ACCOUNT,
      id: GLOBAL_ACCOUNT,
      memory: t.memory,
      storage: t.storage,
      reserved_memory: 0,
      reserved_storage: 0,
      accounts: 0,
      ha_assets: 0,
      api: apiStats(src),
    };
    if (streams || consumers || config) {
      const detail: object[] = [];
      for (const s of js.streams.values()) {
        if (!streamVisible(viewer, s.config.subjects)) continue;
        const info = streamInfo(s);
        const d: Record<string, unknown> = { name: s.name, created: info.created, cluster: { leader: src.serverName } };
        if (config) d.config = info.config;
        d.state = info.state;
        const shown = [...s.consumers.values()].filter((c) => consumerVisible(viewer, consumerFilters(c.config)));
        if (consumers && shown.length > 0) {
          d.consumer_detail = shown.map((c) => {
            const ci = consumerInfo(c) as unknown as Record<string, unknown>;
            if (config) return ci;
            const { config: _omitted, ...rest } = ci;
            return rest;
          });
        }
        detail.push(d);
      }
      if (detail.length > 0) account.stream_detail = detail;
    }
    doc.account_details = [account];
  }
  return doc;
}

// ── /healthz, /accountz ────────────────────────────────────────────────────

/**
 * /healthz: ok while the hub serves. `js-enabled-only` and `js-server-only`
 * ask about JetStream alone; with it off they still answer ok, as nats-server does.
 */
export function healthz(src: MonitorSource, q: URLSearchParams): { status: number; body: object } {
  boolParam(q, 'js-enabled-only');
  boolParam(q, 'js-server-only');
  if (!src.healthy) return { status: 503, body: { status: 'unavailable', error: 'server is shutting down' } };
  return { status: 200, body: { status: 'ok' } };
}

export function accountz(src: MonitorSource, now = Date.now()): object {
  return { server_id: src.serverId, now: time(now), system_account: SYSTEM_ACCOUNT, accounts: [GLOBAL_ACCOUNT, SYSTEM_ACCOUNT] };
}
