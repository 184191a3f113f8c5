/**
 * GET /api/live: the dashboard's Server-Sent Events feed (LIVE-API.md), one
 * stream per open page. One timer serves every stream: each interval it
 * samples the counters once, builds each watched view once, and writes to
 * every stream that has room. The tail (tail.ts) writes as messages pass.
 *
 *   open ──► hello, stats, [view] ──► every interval: stats, [view], [skipped]
 *                                 └─► as published: msg (sampled, bounded)
 *
 * A stream ends when the page goes away (the response closes) or the
 * listener closes (its sockets are destroyed): both run the same clean-up,
 * so nothing keeps the hub's close waiting.
 */
import { ADVERTISED_VERSION } from '../protocol/constants.js';
import { toWire } from '../protocol/bytes.js';
import { isValidSubject } from '../protocol/subject.js';
import { sendText, type MonitorViewer, type RouteContext, type RouteTable } from './route.js';
import { LIVE_BACKLOG_BOUND, Tail, type TailSink } from './tail.js';
import { ConnectionRates, StatsMeter, streamsFor, streamsView, type ConnectionsView, type StreamRow } from './live-views.js';
import { SubjectRates, subjectsFor, type SubjectRow } from './subjects.js';
import type { MonitorSource } from './types.js';

export const LIVE_INTERVAL_MS = 1000;
/** How soon a page's EventSource retries after the stream drops (a hub restart). */
const RETRY_MS = 1000;

export const LiveView = {
  OVERVIEW: 'overview',
  CONNECTIONS: 'connections',
  SUBJECTS: 'subjects',
  STREAMS: 'streams',
} as const;
export type LiveView = (typeof LiveView)[keyof typeof LiveView];
const VIEWS = new Set<string>(Object.values(LiveView));

class LiveStream implements TailSink {
  readonly res: RouteContext['res'];
  readonly viewer: MonitorViewer;
  readonly view: LiveView;
  tail: Tail | null = null;

  constructor(ctx: RouteContext, view: LiveView) {
    this.res = ctx.res;
    this.viewer = ctx.viewer;
    this.view = view;
  }

  roomy(): boolean {
    const res = this.res;
    return !res.writableNeedDrain && res.writableLength < LIVE_BACKLOG_BOUND;
  }

  event(name: string, data: unknown): void {
    this.res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}

/** What one interval built, shared by every stream. */
interface Snapshot {
  connections: ConnectionsView | null;
  subjects: SubjectRow[] | null;
  streams: StreamRow[] | null;
}

export class LiveFeed {
  private readonly streams = new Set<LiveStream>();
  private timer: NodeJS.Timeout | null = null;
  private src: MonitorSource | null = null;
  private readonly stats = new StatsMeter();
  /** Kept only while some page watches the view they serve. */
  private connRates: ConnectionRates | null = null;
  private subjectRates: SubjectRates | null = null;

  /** Open streams (for tests and /varz-style introspection). */
  get size(): number {
    return this.streams.size;
  }

  open(ctx: RouteContext): void {
    const q = ctx.url.searchParams;
    const view = q.get('view') || LiveView.OVERVIEW;
    if (!VIEWS.has(view)) return sendText(ctx, 400, `invalid view: ${view}\n`);
    const filter = q.get('tail');
    const wireFilter = filter === null || filter === '' ? null : toWire(filter);
    if (wireFilter !== null && !isValidSubject(wireFilter)) return sendText(ctx, 400, `invalid tail subject: ${filter}\n`);
    const o = ctx.src.options;
    if (this.streams.size >= o.maxMonitorLiveClients) return sendText(ctx, 503, `too many live streams (maxMonitorLiveClients ${o.maxMonitorLiveClients})\n`);
    const res = ctx.res;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
    if (ctx.head) {
      res.end();
      return;
    }
    this.src = ctx.src;
    const s = new LiveStream(ctx, view as LiveView);
    ctx.req.socket.setNoDelay(true);
    res.write(`retry: ${RETRY_MS}\n\n`);
    s.event('hello', {
      server_id: ctx.src.serverId,
      server_name: ctx.src.serverName,
      version: ADVERTISED_VERSION,
      user: ctx.viewer.user ?? null,
      auth_required: ctx.src.authRequired,
      now: Date.now(),
    });
    s.event('stats', this.stats.current ?? this.stats.sample(ctx.src));
    const first = this.firstView(s);
    if (first !== null) s.event('view', first);
    if (wireFilter !== null) {
      s.tail = new Tail(s, {
        filter: wireFilter,
        paused: q.get('paused') === '1',
        viewer: ctx.viewer,
        budget: Math.round((o.monitorTailRate * LIVE_INTERVAL_MS) / 1000),
        maxPayload: o.monitorTailMaxPayload,
      });
      ctx.src.bus.observe(s.tail);
    }
    this.streams.add(s);
    res.once('close', () => this.close(s));
    this.timer ??= setInterval(onLiveTick, LIVE_INTERVAL_MS, this);
  }

  private close(s: LiveStream): void {
    if (!this.streams.delete(s)) return;
    if (s.tail !== null) this.src?.bus.unobserve(s.tail);
    if (this.streams.size > 0) return;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.stats.reset();
    this.connRates = null;
    this.subjectRates = null;
  }

  /**
   * A page that just opened gets its view at once, with the last interval's
   * rates; the first page of a view starts its meter here, so the first
   * interval has a baseline.
   */
  private firstView(s: LiveStream): object | null {
    const src = this.src!;
    const now = Date.now();
    switch (s.view) {
      case LiveView.CONNECTIONS:
        if (this.connRates === null) {
          this.connRates = new ConnectionRates();
          return this.connRates.view(src, now, true);
        }
        return this.connRates.view(src, now, false);
      case LiveView.SUBJECTS:
        if (this.subjectRates === null) {
          this.subjectRates = new SubjectRates();
          this.subjectRates.sample(src, now);
        }
        return { subjects: subjectsFor(this.subjectRates.current, s.viewer) };
      case LiveView.STREAMS:
        return { streams: streamsFor(streamsView(src), s.viewer) };
      default:
        return null;
    }
  }

  tick(): void {
    const src = this.src;
    if (src === null) return;
    const now = Date.now();
    const stats = this.stats.sample(src, now);
    const want = new Set<LiveView>();
    for (const s of this.streams) want.add(s.view);
    const snap: Snapshot = { connections: null, subjects: null, streams: null };
    if (want.has(LiveView.CONNECTIONS)) snap.connections = (this.connRates ??= new ConnectionRates()).view(src, now, true);
    else this.connRates = null;
    if (want.has(LiveView.SUBJECTS)) snap.subjects = (this.subjectRates ??= new SubjectRates()).sample(src, now);
    else this.subjectRates = null;
    if (want.has(LiveView.STREAMS)) snap.streams = streamsView(src);
    for (const s of this.streams) this.write(s, stats, snap);
  }

  private write(s: LiveStream, stats: object, snap: Snapshot): void {
    // A page that is not reading gets no new snapshot (the next one replaces
    // it), and its tail keeps its spent budget and skipped count for later:
    // nothing piles up, and no more than one budget of messages ever falls
    // between two stats events.
    if (!s.roomy()) return;
    const skipped = s.tail === null ? 0 : s.tail.interval();
    s.event('stats', stats);
    const v = this.viewOf(s, snap);
    if (v !== null) s.event('view', v);
    if (skipped > 0) s.event('skipped', { count: skipped });
  }

  private viewOf(s: LiveStream, snap: Snapshot): object | null {
    switch (s.view) {
      case LiveView.CONNECTIONS:
        return snap.connections;
      case LiveView.SUBJECTS:
        return { subjects: subjectsFor(snap.subjects ?? [], s.viewer) };
      case LiveView.STREAMS:
        return { streams: streamsFor(snap.streams ?? [], s.viewer) };
      default:
        return null;
    }
  }
}

function onLiveTick(feed: LiveFeed): void {
  feed.tick();
}

/** The live feed's route. */
export function liveRoutes(feed = new LiveFeed()): RouteTable {
  return { '/api/live': (ctx) => feed.open(ctx) };
}
