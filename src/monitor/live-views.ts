/**
 * What the dashboard's live feed (live.ts) sends each interval besides the
 * tail: the `stats` document (counters and their rates), and the
 * `connections` and `streams` views (LIVE-API.md). Rates are counter deltas
 * over the interval, kept only while a page watches: the hub's own paths
 * count nothing new for them.
 */
import { toWire } from '../protocol/bytes.js';
import { consumerInfo } from '../server/jetstream/api/consumers.js';
import { DEAD_LETTER_METADATA } from '../server/jetstream/outbox.js';
import { CpuMeter, streamVisible } from './documents.js';
import type { MonitorViewer } from './route.js';
import type { ClosedRecord, LiveConnection, MonitorCounters, MonitorSource } from './types.js';

/** Rows each list of a view carries at most. */
export const VIEW_LIMITS = { closed: 50, open: 500 } as const;

/** Per second over `ms`, one decimal. */
function rate(delta: number, ms: number): number {
  return ms <= 0 || delta <= 0 ? 0 : Math.round((delta * 10_000) / ms) / 10;
}

/** Message and byte counters, of the hub or of one connection. */
interface Traffic {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
}

interface TrafficRates {
  in_msgs_rate: number;
  out_msgs_rate: number;
  in_bytes_rate: number;
  out_bytes_rate: number;
}

const NO_RATES: TrafficRates = { in_msgs_rate: 0, out_msgs_rate: 0, in_bytes_rate: 0, out_bytes_rate: 0 };

/** Per-second rates of each counter from `p` to `c` over `ms`; zeros without an earlier sample. */
function trafficRates(c: Traffic, p: Traffic | null | undefined, ms: number): TrafficRates {
  if (p == null) return NO_RATES;
  return {
    in_msgs_rate: rate(c.inMsgs - p.inMsgs, ms),
    out_msgs_rate: rate(c.outMsgs - p.outMsgs, ms),
    in_bytes_rate: rate(c.inBytes - p.inBytes, ms),
    out_bytes_rate: rate(c.outBytes - p.outBytes, ms),
  };
}

// ── stats ─────────────────────────────────────────────────────────────────

export interface StatsDoc {
  now: number;
  uptime_ms: number;
  connections: number;
  total_connections: number;
  subscriptions: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  in_msgs_rate: number;
  out_msgs_rate: number;
  in_bytes_rate: number;
  out_bytes_rate: number;
  slow_consumers: number;
  mem_rss: number;
  heap_used: number;
  cpu: number;
  jetstream: boolean;
  /** Per schema rule, its accepted and rejected events (hub.stats().schemas); empty without rules. */
  schemas: MonitorCounters['schemas'];
}

/** The hub's counters with their rates since the previous sample. */
export class StatsMeter {
  private last: MonitorCounters | null = null;
  private lastAt = 0;
  private readonly cpu = new CpuMeter();
  /** The latest sample, sent to a page that opens between samples. */
  current: StatsDoc | null = null;

  sample(src: MonitorSource, now = Date.now()): StatsDoc {
    const c = src.counters();
    const p = this.last;
    const ms = now - this.lastAt;
    const mem = process.memoryUsage();
    // The first sample only starts the CPU meter: the time before it is not the page's to see.
    const cpu = this.cpu.percent();
    this.current = {
      now,
      uptime_ms: now - src.startTime,
      connections: c.connections,
      total_connections: c.totalConnections,
      subscriptions: c.subscriptions,
      in_msgs: c.inMsgs,
      out_msgs: c.outMsgs,
      in_bytes: c.inBytes,
      out_bytes: c.outBytes,
      ...trafficRates(c, p, ms),
      slow_consumers: c.slowConsumers,
      mem_rss: mem.rss,
      heap_used: mem.heapUsed,
      cpu: p === null ? 0 : cpu,
      jetstream: src.jetstream !== null,
      schemas: c.schemas,
    };
    this.last = { ...c };
    this.lastAt = now;
    return this.current;
  }

  /** Forgets the previous sample (no page watches). */
  reset(): void {
    this.last = null;
    this.current = null;
  }
}

// ── connections ───────────────────────────────────────────────────────────

/** A connection's counters at the last sample, and its rates over the interval before it. */
interface Seen extends Traffic {
  rates: TrafficRates;
}

const ZERO: Traffic = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };

export interface OpenRow {
  cid: number;
  name: string;
  ip: string;
  port: number;
  user: string | null;
  lang: string;
  version: string;
  subscriptions: number;
  pending_bytes: number;
  in_msgs: number;
  out_msgs: number;
  in_msgs_rate: number;
  out_msgs_rate: number;
  in_bytes: number;
  out_bytes: number;
  in_bytes_rate: number;
  out_bytes_rate: number;
  uptime_ms: number;
  idle_ms: number;
  slow: boolean;
  rtt: number;
}

export interface ConnectionsView {
  open: OpenRow[];
  closed: object[];
}

/**
 * Each open connection's counters at the last sample, by cid, for its rates.
 * Kept only while a page watches the connections view (the feed drops this
 * meter when none does); a closed connection's entry goes at the next sample.
 */
export class ConnectionRates {
  private seen = new Map<number, Seen>();
  private lastAt = 0;

  /** The view now. `advance`: a new interval (rates move on); else the last interval's rates. */
  view(src: MonitorSource, now: number, advance: boolean): ConnectionsView {
    const ms = now - this.lastAt;
    const next = advance ? new Map<number, Seen>() : this.seen;
    const slowAt = Math.min(src.options.maxPending / 4, 1024 * 1024);
    const rows: OpenRow[] = [];
    for (const c of src.connections()) {
      let s = this.seen.get(c.id);
      if (advance) {
        // Not seen at the last sample: it connected since, counting from zero.
        const p = s ?? (this.lastAt === 0 ? undefined : ZERO);
        s = {
          inMsgs: c.inMsgs,
          outMsgs: c.outMsgs,
          inBytes: c.inBytes,
          outBytes: c.outBytes,
          rates: trafficRates(c, p, ms),
        };
        next.set(c.id, s);
      }
      rows.push(openRow(c, s, now, slowAt));
    }
    if (advance) {
      this.seen = next;
      this.lastAt = now;
    }
    return { open: busiest(rows), closed: closedRows(src.closedConnections()) };
  }
}

function openRow(c: LiveConnection, s: Seen | undefined, now: number, slowAt: number): OpenRow {
  const r = s?.rates ?? NO_RATES;
  return {
    cid: c.id,
    name: c.name ?? '',
    ip: c.address,
    port: c.port ?? 0,
    user: c.user ?? null,
    lang: c.lang ?? '',
    version: c.version ?? '',
    subscriptions: c.subs.size,
    pending_bytes: c.pending,
    in_msgs: c.inMsgs,
    out_msgs: c.outMsgs,
    in_msgs_rate: r.in_msgs_rate,
    out_msgs_rate: r.out_msgs_rate,
    in_bytes: c.inBytes,
    out_bytes: c.outBytes,
    in_bytes_rate: r.in_bytes_rate,
    out_bytes_rate: r.out_bytes_rate,
    uptime_ms: Math.max(0, now - c.startTime),
    idle_ms: Math.max(0, now - c.lastActivity),
    // Behind by this much, the client is not keeping up: the hub pauses its publishers past 3/4 of maxPending.
    slow: c.pending >= slowAt,
    // The round trip of the hub's last PING, ms (as /connz's rtt); before its PONG, INFO to CONNECT (nats-server's estimate).
    rtt: c.rtt,
  };
}

/** At most VIEW_LIMITS.open rows, the busiest when there are more, in cid order. */
function busiest(rows: OpenRow[]): OpenRow[] {
  if (rows.length > VIEW_LIMITS.open) {
    rows.sort((a, b) => b.in_msgs_rate + b.out_msgs_rate - (a.in_msgs_rate + a.out_msgs_rate) || a.cid - b.cid);
    rows.length = VIEW_LIMITS.open;
  }
  return rows.sort((a, b) => a.cid - b.cid);
}

function closedRows(list: readonly ClosedRecord[]): object[] {
  const out: object[] = [];
  for (let i = list.length - 1; i >= 0 && out.length < VIEW_LIMITS.closed; i--) {
    const r = list[i]!;
    out.push({
      cid: r.id,
      name: r.name ?? '',
      ip: r.address,
      user: r.user ?? null,
      lang: r.lang ?? '',
      version: r.version ?? '',
      reason: r.reason,
      stop: r.stop,
      in_msgs: r.inMsgs,
      out_msgs: r.outMsgs,
    });
  }
  return out;
}

// ── streams ───────────────────────────────────────────────────────────────

export interface StreamRow {
  name: string;
  subjects: string[];
  messages: number;
  bytes: number;
  first_seq: number;
  last_seq: number;
  consumers: object[];
}

/** Every stream with its consumers; [] when JetStream is off. */
export function streamsView(src: MonitorSource): StreamRow[] {
  const js = src.jetstream;
  if (js === null) return [];
  const out: StreamRow[] = [];
  for (const s of js.streams.values()) {
    let st;
    try {
      st = s.store.streamState(s.name);
    } catch {
      continue; // deleted since the listing
    }
    const consumers: object[] = [];
    for (const c of s.consumers.values()) {
      let ci;
      try {
        ci = consumerInfo(c);
      } catch {
        continue;
      }
      consumers.push({
        name: c.name,
        num_pending: ci.num_pending,
        num_ack_pending: ci.num_ack_pending,
        num_redelivered: ci.num_redelivered,
        num_waiting: ci.num_waiting,
        delivered_seq: ci.delivered.stream_seq,
        ack_floor_seq: ci.ack_floor.stream_seq,
        dead_letters: deadLetters(src, s.name, c.name, c.config.metadata?.[DEAD_LETTER_METADATA]),
      });
    }
    const subjects = (s.config.subjects ?? []) as string[];
    out.push({ name: s.name, subjects, messages: st.messages, bytes: st.bytes, first_seq: st.firstSeq, last_seq: st.lastSeq, consumers });
  }
  return out;
}

/** Dead letters of a consumer still kept: the messages on its dead-letter subject in the stream that captures it. */
function deadLetters(src: MonitorSource, stream: string, consumer: string, configured: string | undefined): number {
  const js = src.jetstream!;
  const target = toWire(configured ?? `${js.deadLetterPrefix}.${stream}.${consumer}`);
  if (target === '') return 0;
  const dlq = js.findCapture(target);
  if (dlq === null) return 0;
  try {
    return dlq.store.subjectCount(dlq.name, target);
  } catch {
    return 0;
  }
}

/** The streams a viewer may see: the rule of /jsz and /metrics (documents.ts streamVisible). */
export function streamsFor(rows: StreamRow[], viewer: MonitorViewer): StreamRow[] {
  return rows.filter((s) => streamVisible(viewer, s.subjects));
}
