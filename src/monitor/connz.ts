/**
 * /connz: open and recently closed connections, sorted and paged as
 * nats-server does (sort, offset, limit, state, cid, subs, auth).
 */
import type { Subscription } from '../server/types.js';
import { MonitorQueryError, boolParam, paging, uintParam, DEFAULT_LIMIT } from './query.js';
import { time, uptime, goDuration } from './format.js';
import type { ClosedRecord, ConnRecord, LiveConnection, MonitorSource, SubRecord } from './types.js';
import { OPEN_VIEWER, type MonitorViewer } from './route.js';

export const ConnState = {
  OPEN: 'open',
  CLOSED: 'closed',
  ALL: 'all',
} as const;
export type ConnState = (typeof ConnState)[keyof typeof ConnState];

type Row = ConnRecord & { readonly stop?: number; readonly reason?: string };
type Compare = (a: Row, b: Row, now: number) => number;

const byCid: Compare = (a, b) => a.id - b.id;
/** nats-server's sort keys: cid and start ascending, the rest largest first. */
const SORTS: Record<string, Compare> = {
  cid: byCid,
  start: (a, b) => a.start - b.start || byCid(a, b, 0),
  subs: (a, b) => b.subs.length - a.subs.length,
  pending: (a, b) => b.pending - a.pending,
  msgs_to: (a, b) => b.outMsgs - a.outMsgs,
  msgs_from: (a, b) => b.inMsgs - a.inMsgs,
  bytes_to: (a, b) => b.outBytes - a.outBytes,
  bytes_from: (a, b) => b.inBytes - a.inBytes,
  last: (a, b) => b.lastActivity - a.lastActivity,
  idle: (a, b, now) => (now - b.lastActivity) - (now - a.lastActivity),
  uptime: (a, b, now) => (b.stop ?? now) - b.start - ((a.stop ?? now) - a.start),
  stop: (a, b) => (b.stop ?? 0) - (a.stop ?? 0),
  reason: (a, b) => ((a.reason ?? '') < (b.reason ?? '') ? -1 : (a.reason ?? '') > (b.reason ?? '') ? 1 : 0),
  rtt: (a, b) => b.rtt - a.rtt,
};

export interface ConnzQuery {
  sort: string;
  state: ConnState;
  offset: number;
  limit: number;
  cid: number;
  subs: boolean;
  detail: boolean;
  auth: boolean;
}

export function parseConnzQuery(q: URLSearchParams): ConnzQuery {
  const sort = q.get('sort') || 'cid';
  if (!Object.hasOwn(SORTS, sort)) throw new MonitorQueryError(`invalid sorting option: ${sort}`);
  const rawState = q.get('state') || ConnState.OPEN;
  if (rawState !== ConnState.OPEN && rawState !== ConnState.CLOSED && rawState !== ConnState.ALL) {
    throw new MonitorQueryError(`Error decoding state for ${rawState}`);
  }
  const detail = q.get('subs') === 'detail';
  const subs = detail || boolParam(q, 'subs');
  const auth = boolParam(q, 'auth');
  const { offset, limit } = paging(q, DEFAULT_LIMIT);
  const cid = uintParam(q, 'cid');
  if ((sort === 'stop' || sort === 'reason') && rawState === ConnState.OPEN) {
    throw new MonitorQueryError(`sort by ${sort} only valid on closed connections`);
  }
  return { sort, state: rawState, offset, limit, cid, subs, detail, auth };
}

function subRecord(s: Subscription, cid: number): SubRecord {
  return { subject: s.subject, queue: s.queue, sid: s.sid, msgs: s.delivered, cid };
}

/** A record of a live connection: its numbers now. Also what the closed ring keeps at close. */
export function connRecord(c: LiveConnection): ConnRecord {
  const subs: SubRecord[] = [];
  for (const s of c.subs.values()) subs.push(subRecord(s, c.id));
  const tls = c.peer.tls;
  return {
    id: c.id,
    address: c.address,
    port: c.port,
    name: c.name,
    lang: c.lang,
    version: c.version,
    user: c.user,
    tlsVersion: tls?.protocol ?? undefined,
    tlsCipher: tls?.cipher ?? undefined,
    start: c.startTime,
    lastActivity: c.lastActivity,
    // `+ 0`: these fields start as -0 (doubles from the start, see DOUBLE_ZERO); callers get a plain 0.
    rtt: c.rtt + 0,
    inMsgs: c.inMsgs + 0,
    inBytes: c.inBytes + 0,
    outMsgs: c.outMsgs + 0,
    outBytes: c.outBytes + 0,
    pending: c.pending,
    subs,
  };
}

/** One subscription in nats-server's SubDetail shape. */
export function subDetail(s: SubRecord, account?: string): object {
  const d: Record<string, unknown> = account === undefined ? {} : { account };
  d.subject = s.subject;
  if (s.queue !== undefined) d.qgroup = s.queue;
  d.sid = s.sid;
  d.msgs = s.msgs;
  d.cid = s.cid;
  return d;
}

/**
 * One connection in nats-server's ConnInfo shape, fields in its order; empty
 * optional ones left out as it does. Its subscription list holds only the
 * subjects the viewer may subscribe to; `subscriptions` stays the count.
 */
function connInfo(r: Row, q: ConnzQuery, viewer: MonitorViewer, now: number): object {
  const end = r.stop ?? now;
  const o: Record<string, unknown> = {
    cid: r.id,
    kind: 'Client',
    type: 'nats',
    ip: r.address,
    port: r.port ?? 0,
    start: time(r.start),
    last_activity: time(r.lastActivity),
  };
  if (r.stop !== undefined) {
    o.stop = time(r.stop);
    o.reason = r.reason;
  }
  o.rtt = goDuration(r.rtt);
  o.uptime = uptime(end - r.start);
  o.idle = uptime(end - r.lastActivity);
  o.pending_bytes = r.pending;
  o.in_msgs = r.inMsgs;
  o.out_msgs = r.outMsgs;
  o.in_bytes = r.inBytes;
  o.out_bytes = r.outBytes;
  o.subscriptions = r.subs.length;
  if (r.name !== undefined && r.name !== '') o.name = r.name;
  if (r.lang !== undefined && r.lang !== '') o.lang = r.lang;
  if (r.version !== undefined && r.version !== '') o.version = r.version;
  if (r.tlsVersion !== undefined) o.tls_version = r.tlsVersion.replace(/^TLSv/, '1.').replace(/^1\.1\.(\d)$/, '1.$1');
  if (r.tlsCipher !== undefined) o.tls_cipher_suite = r.tlsCipher;
  if (q.auth && r.user !== undefined) {
    o.authorized_user = r.user;
    o.account = '$G';
  }
  const subs = q.subs && viewer !== OPEN_VIEWER ? r.subs.filter((s) => viewer.maySubscribe(s.subject)) : r.subs;
  if (q.subs && subs.length > 0) {
    if (q.detail) o.subscriptions_list_detail = subs.map((s) => subDetail(s));
    else o.subscriptions_list = subs.map((s) => s.subject);
  }
  return o;
}

/** The /connz document, as `viewer` may see it. */
export function connz(src: MonitorSource, q: ConnzQuery, viewer: MonitorViewer = OPEN_VIEWER, now = Date.now()): object {
  let rows: Row[] = [];
  if (q.state !== ConnState.CLOSED) for (const c of src.connections()) rows.push(connRecord(c));
  if (q.state !== ConnState.OPEN) rows.push(...(src.closedConnections() as ClosedRecord[]));
  let limit = q.limit;
  let offset = q.offset;
  if (q.cid > 0) {
    // One connection by id: nats-server reports total 1 and limit 1 whether or not it is found.
    rows = rows.filter((r) => r.id === q.cid).slice(0, 1);
    return page(src, now, rows, 1, 0, 1, q, viewer);
  }
  const total = rows.length;
  const cmp = SORTS[q.sort]!;
  rows.sort((a, b) => cmp(a, b, now) || byCid(a, b, now));
  if (offset > total) offset = total;
  return page(src, now, rows.slice(offset, offset + limit), total, offset, limit, q, viewer);
}

function page(src: MonitorSource, now: number, rows: Row[], total: number, offset: number, limit: number, q: ConnzQuery, viewer: MonitorViewer): object {
  return {
    server_id: src.serverId,
    now: time(now),
    num_connections: rows.length,
    total,
    offset,
    limit,
    connections: rows.map((r) => connInfo(r, q, viewer, now)),
  };
}
