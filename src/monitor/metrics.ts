/**
 * GET /metrics: the hub in Prometheus' exposition format, through prom-client.
 *
 * Every value is read when a scraper asks, never pushed from the hot path: a
 * scrape takes one snapshot of the hub (counters, streams, consumers, filtered
 * for the viewer), and each metric's collect() copies its numbers from it. The
 * one exception is the store's commit latency, which only the commit can
 * measure: the JetStream turn calls an observer with each commit's duration
 * while /metrics exists, and reads no clock otherwise.
 *
 * Each hub has its own Registry (never prom-client's global one), so two hubs
 * in one process serve their own numbers. The process metrics
 * (collectDefaultMetrics) describe the process, not a hub, and prom-client
 * never stops their GC observer or event-loop sampler: they are made once per
 * process, in a registry of their own, and each hub's registry lists them too.
 */
import type { Counter, Gauge, Histogram, Metric } from 'prom-client';
import { lazy } from '../lazy.js';
import { consumerInfo } from '../server/jetstream/api/consumers.js';
import { consumerFilters } from '../server/jetstream/config.js';
import type { CommitObserver } from '../server/jetstream/index.js';
import { consumerVisible, streamVisible } from './documents.js';
import { OPEN_VIEWER, send, type MonitorViewer, type RouteContext, type RouteTable } from './route.js';
import type { MonitorCounters, MonitorSource } from './types.js';

/** prom-client, loaded with the first hub that serves /metrics. */
const prom = lazy<typeof import('prom-client')>('prom-client');

export const METRICS_PATH = '/metrics';
export const METRIC_PREFIX = 'netemitter_';

/** Commit latency buckets, in seconds: an in-memory commit takes microseconds, an fsync'd one milliseconds. */
export const COMMIT_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

interface StreamRow {
  readonly stream: string;
  readonly messages: number;
  readonly bytes: number;
  readonly consumers: number;
}

interface ConsumerRow {
  readonly stream: string;
  readonly consumer: string;
  readonly pending: number;
  readonly ackPending: number;
  readonly redelivered: number;
}

/** What one scrape shows: read once, then copied into the metrics by their collect(). */
interface Snapshot {
  readonly counters: MonitorCounters;
  readonly streams: readonly StreamRow[];
  readonly consumers: readonly ConsumerRow[];
}

type Total = Exclude<keyof MonitorCounters, 'connections' | 'subscriptions' | 'schemas'>;

/** The hub-wide counters: name (without the prefix), help, and the MonitorCounters field it reads. */
const COUNTERS: ReadonlyArray<readonly [string, string, Total]> = [
  ['connections_total', 'Client connections accepted since the hub started.', 'totalConnections'],
  ['in_messages_total', 'Messages received from clients (and published inside the hub).', 'inMsgs'],
  ['in_bytes_total', 'Payload bytes received.', 'inBytes'],
  ['out_messages_total', 'Messages delivered to subscribers.', 'outMsgs'],
  ['out_bytes_total', 'Payload bytes delivered.', 'outBytes'],
  ['slow_consumers_total', 'Connections closed for falling behind (maxPending or the write deadline).', 'slowConsumers'],
  ['auth_failures_total', 'Connections refused for bad or missing credentials.', 'authFailures'],
];

const GAUGES: ReadonlyArray<readonly [string, string, 'connections' | 'subscriptions']> = [
  ['connections', 'Client connections open now.', 'connections'],
  ['subscriptions', 'Client subscriptions now.', 'subscriptions'],
];

const STREAM_GAUGES: ReadonlyArray<readonly [string, string, 'messages' | 'bytes' | 'consumers']> = [
  ['stream_messages', 'Messages stored in the stream.', 'messages'],
  ['stream_bytes', 'Bytes stored in the stream (as the stream state reports them).', 'bytes'],
  ['stream_consumers', 'Consumers of the stream.', 'consumers'],
];

const CONSUMER_GAUGES: ReadonlyArray<readonly [string, string, 'pending' | 'ackPending' | 'redelivered']> = [
  ['consumer_num_pending', 'Messages the consumer has not delivered yet (num_pending).', 'pending'],
  ['consumer_num_ack_pending', 'Messages delivered and awaiting an ack (num_ack_pending).', 'ackPending'],
  ['consumer_num_redelivered', 'Messages awaiting an ack that were delivered more than once (num_redelivered).', 'redelivered'],
];

let processMetrics: Metric[] | null = null;

/** The process metrics, made on first use and shared by every hub of the process (see the file comment). */
function sharedProcessMetrics(): Metric[] {
  if (processMetrics === null) {
    const r = new (prom().Registry)();
    prom().collectDefaultMetrics({ register: r, prefix: METRIC_PREFIX });
    processMetrics = r.getMetricsAsArray().map((m) => r.getSingleMetric(m.name)!);
  }
  return processMetrics;
}

function snapshot(src: MonitorSource, viewer: MonitorViewer): Snapshot {
  const streams: StreamRow[] = [];
  const consumers: ConsumerRow[] = [];
  const js = src.jetstream;
  if (js !== null) {
    for (const s of js.streams.values()) {
      // The rule /jsz follows, so the two never disagree on what a user sees.
      if (!streamVisible(viewer, s.config.subjects)) continue;
      const st = s.store.streamState(s.name);
      streams.push({ stream: s.name, messages: st.messages, bytes: st.bytes, consumers: s.consumers.size });
      for (const c of s.consumers.values()) {
        if (!consumerVisible(viewer, consumerFilters(c.config))) continue;
        let info;
        try {
          info = consumerInfo(c);
        } catch {
          continue; // deleted while the scrape ran: gone from this one
        }
        consumers.push({
          stream: s.name,
          consumer: c.name,
          pending: info.num_pending,
          ackPending: info.num_ack_pending,
          redelivered: info.num_redelivered,
        });
      }
    }
  }
  return { counters: src.counters(), streams, consumers };
}

/**
 * The hub's metrics. The hub's JetStream (one observer at a time) is watched
 * for commit latency from now on; `close()` stops that.
 */
export class HubMetrics {
  readonly registry = new (prom().Registry)();
  readonly commitSeconds: Histogram;
  private current: Snapshot | null = null;
  /** Scrapes run one after another: each fills `current` for its own viewer. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly src: MonitorSource;
  private readonly observer: CommitObserver;

  constructor(src: MonitorSource) {
    this.src = src;
    const reg = this.registry;
    const self = this;
    for (const [name, help, field] of COUNTERS) {
      new (prom().Counter)({
        name: METRIC_PREFIX + name,
        help,
        registers: [reg],
        collect(this: Counter) {
          this.reset();
          this.inc(self.snap().counters[field]);
        },
      });
    }
    for (const [name, help, field] of GAUGES) {
      new (prom().Gauge)({
        name: METRIC_PREFIX + name,
        help,
        registers: [reg],
        collect(this: Gauge) {
          this.set(self.snap().counters[field]);
        },
      });
    }
    for (const [name, help, field] of STREAM_GAUGES) {
      new (prom().Gauge)({
        name: METRIC_PREFIX + name,
        help,
        labelNames: ['stream'],
        registers: [reg],
        collect(this: Gauge<'stream'>) {
          this.reset();
          for (const r of self.snap().streams) this.set({ stream: r.stream }, r[field]);
        },
      });
    }
    for (const [name, help, field] of CONSUMER_GAUGES) {
      new (prom().Gauge)({
        name: METRIC_PREFIX + name,
        help,
        labelNames: ['stream', 'consumer'],
        registers: [reg],
        collect(this: Gauge<'stream' | 'consumer'>) {
          this.reset();
          for (const r of self.snap().consumers) this.set({ stream: r.stream, consumer: r.consumer }, r[field]);
        },
      });
    }
    new (prom().Counter)({
      name: `${METRIC_PREFIX}schema_messages_total`,
      help: 'Events checked against a JSON Schema, by rule (file name or inline#N) and result (accepted, or rejected whatever the action).',
      labelNames: ['schema', 'result'],
      registers: [reg],
      collect(this: Counter<'schema' | 'result'>) {
        this.reset();
        // Rules that share a file share its name: their counts add up.
        for (const r of self.snap().counters.schemas) {
          this.inc({ schema: r.name, result: 'accepted' }, r.accepted);
          this.inc({ schema: r.name, result: 'rejected' }, r.rejected);
        }
      },
    });
    const hist = new (prom().Histogram)({
      name: `${METRIC_PREFIX}jetstream_commit_seconds`,
      help: 'Duration of each JetStream group commit (one store transaction for the writes of an event-loop turn).',
      buckets: [...COMMIT_BUCKETS],
      registers: [reg],
    });
    this.commitSeconds = hist;
    this.observer = (ns: bigint) => hist.observe(Number(ns) / 1e9);
    if (src.jetstream !== null) src.jetstream.commitObserver = this.observer;
    for (const m of sharedProcessMetrics()) reg.registerMetric(m);
  }

  private snap(): Snapshot {
    // Outside a scrape (someone reading the registry directly): the hub as the open viewer sees it.
    return this.current ?? snapshot(this.src, OPEN_VIEWER);
  }

  /** The exposition text for one viewer. */
  render(src: MonitorSource, viewer: MonitorViewer): Promise<string> {
    const run = async (): Promise<string> => {
      this.current = snapshot(src, viewer);
      try {
        return await this.registry.metrics();
      } finally {
        this.current = null;
      }
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Stops watching commit latency (the hub's monitoring closed). */
  close(): void {
    const js = this.src.jetstream;
    if (js !== null && js.commitObserver === this.observer) js.commitObserver = null;
  }
}

/** The /metrics route, with a registry of its own for the hub `src` (built when monitoring starts). */
export function metricsRoutes(src: MonitorSource, metrics = new HubMetrics(src)): RouteTable {
  return {
    [METRICS_PATH]: async (ctx: RouteContext) => {
      const text = await metrics.render(ctx.src, ctx.viewer);
      send(ctx, 200, metrics.registry.contentType, text);
    },
  };
}
