/**
 * GET /metrics (hub only: nats-server has no Prometheus endpoint). The text is
 * read by a real exposition-format parser, so a malformed line fails here as
 * it would fail a Prometheus server.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createHub, type Hub } from '../../src/index.js';
import { HubMetrics } from '../../src/monitor/metrics.js';
import { OPEN_VIEWER, type MonitorViewer } from '../../src/monitor/route.js';
import type { MonitorSource } from '../../src/monitor/types.js';
import { subjectMatches } from '../../src/protocol/subject.js';
import { closeAll, connectTo, rejection } from '../helpers/client.js';
import { skipUnlessHub, type TestServer } from '../helpers/target.js';
import { get } from './http.js';

interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Sample[];
}
// The parser ships no types: its one function, as its README describes it.
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

type Families = Map<string, Family>;

async function scrape(base: string): Promise<Families> {
  const a = await get(base, '/metrics');
  assert.equal(a.status, 200, a.text);
  assert.equal(a.type, 'text/plain; version=0.0.4; charset=utf-8');
  return new Map(parse(a.text).map((f) => [f.name, f]));
}

/** The value of a metric without labels, or of the sample whose labels are `labels`. */
function value(f: Families, name: string, labels?: Record<string, string>): number {
  const fam = f.get(name);
  assert.ok(fam !== undefined, `${name} is missing`);
  const s = fam.metrics.find((m) => labels === undefined || JSON.stringify(m.labels ?? {}) === JSON.stringify(labels));
  assert.ok(s !== undefined, `${name}${JSON.stringify(labels)} is missing: ${JSON.stringify(fam.metrics)}`);
  return Number(s.value);
}

function labelSets(f: Families, name: string): Record<string, string>[] {
  return (f.get(name)?.metrics ?? []).map((m) => m.labels ?? {});
}

/** A TestServer for the client helpers, over a hub made here. */
function target(hub: Hub): TestServer {
  const a = hub.addresses()[0]!;
  return { kind: 'hub', url: a.url, host: a.host!, port: a.port!, monitorUrl: hub.monitorAddress!.url, hub, stop: () => hub.close({ grace: 0 }) };
}

describe('/metrics', { skip: skipUnlessHub('nats-server has no Prometheus endpoint') }, () => {
  let hub: Hub;
  let base: string;
  let server: TestServer;
  const conns: NatsConnection[] = [];
  before(async () => {
    hub = createHub({ host: '127.0.0.1', port: 0, httpPort: 0, jetstream: true });
    await hub.listen();
    server = target(hub);
    base = server.monitorUrl!;
  });
  after(async () => {
    await closeAll(...conns);
    await hub?.close({ grace: 0 });
  });

  it('is Prometheus text with HELP and TYPE for each family, and HEAD gives the headers alone', async () => {
    const f = await scrape(base);
    assert.equal(f.get('netemitter_connections')?.type, 'GAUGE');
    assert.equal(f.get('netemitter_in_messages_total')?.type, 'COUNTER');
    assert.equal(f.get('netemitter_jetstream_commit_seconds')?.type, 'HISTOGRAM');
    for (const fam of f.values()) assert.ok(fam.help.length > 0, `${fam.name} has help`);
    const res = await fetch(`${base}/metrics`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.ok(Number(res.headers.get('content-length')) > 0);
    assert.equal(await res.text(), '');
  });

  it('the traffic counters move by what N messages carried', async () => {
    const before = await scrape(base);
    const sub = await connectTo(server, { name: 'metrics-sub' });
    const pub = await connectTo(server, { name: 'metrics-pub' });
    conns.push(sub, pub);
    sub.subscribe('metrics.traffic');
    await sub.flush();
    const N = 7;
    for (let i = 0; i < N; i++) pub.publish('metrics.traffic', 'hello');
    // The PONG follows every PUB: the hub has routed them all.
    await pub.flush();
    const after = await scrape(base);
    const d = (name: string): number => value(after, name) - value(before, name);
    assert.deepEqual(
      {
        in: d('netemitter_in_messages_total'),
        inBytes: d('netemitter_in_bytes_total'),
        out: d('netemitter_out_messages_total'),
        outBytes: d('netemitter_out_bytes_total'),
        accepted: d('netemitter_connections_total'),
        open: d('netemitter_connections'),
        subs: d('netemitter_subscriptions'),
      },
      { in: N, inBytes: 5 * N, out: N, outBytes: 5 * N, accepted: 2, open: 2, subs: 1 },
    );
    assert.equal(value(after, 'netemitter_slow_consumers_total'), 0);
    assert.equal(value(after, 'netemitter_auth_failures_total'), hub.stats().authFailures);
  });

  it('shows each stream and consumer, and the commit latency histogram has the commits', async () => {
    const nc = await connectTo(server, { name: 'metrics-js' });
    conns.push(nc);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'MET', subjects: ['met.>'] });
    await jsm.consumers.add('MET', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
    for (let i = 0; i < 3; i++) await js.publish('met.a', 'abcd');
    let f = await scrape(base);
    const stream = { stream: 'MET' };
    const consumer = { stream: 'MET', consumer: 'C' };
    assert.equal(value(f, 'netemitter_stream_messages', stream), 3);
    assert.ok(value(f, 'netemitter_stream_bytes', stream) >= 12);
    assert.equal(value(f, 'netemitter_stream_consumers', stream), 1);
    assert.deepEqual(
      [value(f, 'netemitter_consumer_num_pending', consumer), value(f, 'netemitter_consumer_num_ack_pending', consumer)],
      [3, 0],
    );
    // Two delivered, none acked: pending drops, ack pending rises.
    const c = await js.consumers.get('MET', 'C');
    const got = await c.fetch({ max_messages: 2, expires: 2_000 });
    let n = 0;
    for await (const _m of got) if (++n === 2) break;
    f = await scrape(base);
    assert.deepEqual(
      [
        value(f, 'netemitter_consumer_num_pending', consumer),
        value(f, 'netemitter_consumer_num_ack_pending', consumer),
        value(f, 'netemitter_consumer_num_redelivered', consumer),
      ],
      [1, 2, 0],
    );
    const h = f.get('netemitter_jetstream_commit_seconds')!.metrics[0]!;
    const count = Number(h.count);
    // Each awaited publish is a turn of its own, hence a commit (deliveries add more).
    assert.ok(count >= 3, `commits observed: ${count}`);
    assert.ok(Number(h.sum) > 0);
    assert.equal(Number(h.buckets!['+Inf']), count);
  });

  it('has the process metrics, under the same prefix', async () => {
    const f = await scrape(base);
    for (const name of ['netemitter_process_cpu_seconds_total', 'netemitter_process_resident_memory_bytes', 'netemitter_nodejs_heap_size_used_bytes']) {
      assert.ok(f.has(name), `${name} is missing`);
    }
    assert.ok(value(f, 'netemitter_process_resident_memory_bytes') > 0);
  });

  it('a viewer sees only the streams it may subscribe to every subject of, and their consumers', async () => {
    const nc = await connectTo(server, { name: 'metrics-viewer' });
    conns.push(nc);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'HIDDEN', subjects: ['hidden.>'] });
    await jsm.consumers.add('HIDDEN', { durable_name: 'H', ack_policy: AckPolicy.Explicit });
    // Only one of its subjects is the viewer's: hidden, as /jsz hides it (the stream's numbers speak of both).
    await jsm.streams.add({ name: 'HALF', subjects: ['half.mine', 'half.other'] });
    await jsm.streams.add({ name: 'NONE', subjects: ['none.x', 'none.y'] });
    const viewer: MonitorViewer = { user: 'u', maySubscribe: (s) => subjectMatches('met.>', s) || s === 'half.mine', mayPublish: () => false };
    // A second HubMetrics takes the commit observer over: the route's gets it back after.
    const routeObserver = hub.jetstream!.commitObserver;
    const metrics = new HubMetrics(monitorSource(hub));
    const seen = new Map(parse(await metrics.render(monitorSource(hub), viewer)).map((f) => [f.name, f]));
    assert.deepEqual(labelSets(seen, 'netemitter_stream_messages').map((l) => l.stream).sort(), ['MET']);
    assert.deepEqual(labelSets(seen, 'netemitter_consumer_num_pending'), [{ stream: 'MET', consumer: 'C' }]);
    const all = new Map(parse(await metrics.render(monitorSource(hub), OPEN_VIEWER)).map((f) => [f.name, f]));
    assert.deepEqual(labelSets(all, 'netemitter_stream_messages').map((l) => l.stream).sort(), ['HALF', 'HIDDEN', 'MET', 'NONE']);
    metrics.close();
    hub.jetstream!.commitObserver = routeObserver;
  });

  it('two hubs in one process each serve their own numbers', async () => {
    const other = createHub({ host: '127.0.0.1', port: 0, httpPort: 0 });
    await other.listen();
    try {
      const otherBase = other.monitorAddress!.url;
      const before = await scrape(otherBase);
      const mine = await scrape(base);
      const nc = await connectTo(target(other), { name: 'metrics-other' });
      conns.push(nc);
      nc.publish('x', 'abc');
      await nc.flush();
      const after = await scrape(otherBase);
      assert.equal(value(after, 'netemitter_in_messages_total') - value(before, 'netemitter_in_messages_total'), 1);
      assert.equal(value(after, 'netemitter_connections'), 1);
      assert.ok(after.has('netemitter_process_cpu_seconds_total'));
      // The first hub did not see the other's message.
      assert.equal(value(await scrape(base), 'netemitter_in_messages_total'), value(mine, 'netemitter_in_messages_total'));
      assert.equal(labelSets(after, 'netemitter_stream_messages').length, 0);
    } finally {
      await other.close({ grace: 0 });
    }
  });
});

/** The hub's MonitorSource, as its monitor reads it (a private method, reached for a unit-level check). */
function monitorSource(hub: Hub): MonitorSource {
  return (hub as unknown as { monitorSource(): MonitorSource }).monitorSource();
}

describe('/metrics with authorization', { skip: skipUnlessHub('nats-server has no Prometheus endpoint') }, () => {
  let hub: Hub;
  let base: string;
  const conns: NatsConnection[] = [];
  const basic = (user: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${user}-pw`).toString('base64')}` });
  before(async () => {
    hub = createHub({
      host: '127.0.0.1',
      port: 0,
      httpPort: 0,
      jetstream: true,
      authorization: {
        maxFailureDelay: 0,
        users: [
          { user: 'ops', password: 'ops-pw' },
          { user: 'orders', password: 'orders-pw', permissions: { subscribe: { allow: ['orders.>'] } } },
        ],
      },
    });
    await hub.listen();
    base = hub.monitorAddress!.url;
    const nc = await connectTo(target(hub), { user: 'ops', pass: 'ops-pw' });
    conns.push(nc);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    await jsm.streams.add({ name: 'PAYROLL', subjects: ['payroll.>'] });
    await jsm.consumers.add('PAYROLL', { durable_name: 'P', ack_policy: AckPolicy.Explicit });
  });
  after(async () => {
    await closeAll(...conns);
    await hub?.close({ grace: 0 });
  });

  async function streamsSeenBy(user: string): Promise<{ streams: string[]; consumers: string[] }> {
    const res = await fetch(`${base}/metrics`, { headers: basic(user), signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    const f = new Map(parse(await res.text()).map((fam) => [fam.name, fam]));
    return {
      streams: labelSets(f, 'netemitter_stream_messages').map((l) => l.stream!).sort(),
      consumers: labelSets(f, 'netemitter_consumer_num_pending').map((l) => `${l.stream}/${l.consumer}`),
    };
  }

  it('asks for credentials, and each user sees the streams it may subscribe to', async () => {
    const anon = await get(base, '/metrics');
    assert.equal(anon.status, 401);
    assert.deepEqual(await streamsSeenBy('ops'), { streams: ['ORDERS', 'PAYROLL'], consumers: ['PAYROLL/P'] });
    assert.deepEqual(await streamsSeenBy('orders'), { streams: ['ORDERS'], consumers: [] });
  });

  it('a refused CONNECT moves netemitter_auth_failures_total', async () => {
    const failures = async (): Promise<number> => {
      const res = await fetch(`${base}/metrics`, { headers: basic('ops'), signal: AbortSignal.timeout(5_000) });
      return value(new Map(parse(await res.text()).map((fam) => [fam.name, fam])), 'netemitter_auth_failures_total');
    };
    const before = await failures();
    await rejection(connectTo(target(hub), { user: 'ops', pass: 'wrong' }));
    assert.equal(await failures(), before + 1);
  });
});
