/**
 * GET /api/live, the dashboard's SSE feed (LIVE-API.md), against the hub over
 * real HTTP: hello and stats, the views, the tail with its filter, pause,
 * sampling and backlog bound, the stream cap and the hub's close.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createHub, type Hub } from '../../src/index.js';
import { openMonitor } from '../../src/monitor/http.js';
import { apiRoutes } from '../../src/monitor/api.js';
import { LIVE_BACKLOG_BOUND } from '../../src/monitor/tail.js';
import type { MonitorViewer } from '../../src/monitor/route.js';
import type { MonitorSource } from '../../src/monitor/types.js';
import { skipUnlessHub } from '../helpers/target.js';
import { SseClient } from './sse.js';

const HUB_ONLY = { skip: skipUnlessHub('the live API is the hub\'s own') };

async function startHub(opts: Parameters<typeof createHub>[0] = {}): Promise<{ hub: Hub; base: string; nc: () => Promise<NatsConnection> }> {
  const hub = createHub({ port: 0, httpPort: 0, lameDuckGracePeriod: 0, ...opts });
  await hub.listen();
  const ncs: NatsConnection[] = [];
  hub.once('close', () => {
    for (const nc of ncs) void nc.close();
  });
  return {
    hub,
    base: hub.monitorAddress!.url,
    nc: async (name = 'test') => {
      const nc = await connect({ servers: hub.url, reconnect: false, name });
      ncs.push(nc);
      return nc;
    },
  };
}

const text = new TextEncoder();

describe('GET /api/live', HUB_ONLY, () => {
  let hub: Hub;
  let base: string;
  const streams: SseClient[] = [];
  const ncs: NatsConnection[] = [];
  const open = async (query: string): Promise<SseClient> => {
    const s = await SseClient.open(`${base}/api/live${query}`);
    streams.push(s);
    return s;
  };
  const client = async (name: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: hub.url, reconnect: false, name });
    ncs.push(nc);
    return nc;
  };

  before(async () => {
    ({ hub, base } = await startHub({ jetstream: true }));
  });
  after(async () => {
    for (const s of streams) s.close();
    for (const nc of ncs) await nc.close().catch(() => {});
    await hub.close();
  });

  it('sends hello first, then stats, as text/event-stream', async () => {
    const s = await open('');
    assert.equal(s.status, 200);
    assert.match(String(s.headers['content-type']), /^text\/event-stream/);
    await s.waitFor('stats');
    assert.equal(s.events[0]!.event, 'hello');
    const hello = s.events[0]!.data;
    assert.equal(typeof hello.server_id, 'string');
    assert.equal(hello.user, null);
    assert.equal(hello.auth_required, false);
    const stats = s.events[1]!.data;
    for (const k of ['now', 'uptime_ms', 'connections', 'subscriptions', 'in_msgs', 'in_msgs_rate', 'out_bytes_rate', 'mem_rss', 'heap_used', 'cpu']) {
      assert.equal(typeof stats[k], 'number', k);
    }
    assert.equal(stats.jetstream, true);
    assert.equal(s.named('view').length, 0, 'overview has no view event');
    s.close();
  });

  it('moves the counters and rates under load', async () => {
    const s = await open('');
    await s.waitFor('stats');
    const before = s.named('stats').at(-1)!.data.in_msgs as number;
    const nc = await client('loader');
    for (let i = 0; i < 500; i++) nc.publish('load.x', text.encode('m'));
    await nc.flush();
    const st = await s.waitFor('stats', (d) => d.in_msgs >= before + 500 && d.in_msgs_rate > 0, 5_000);
    assert.ok(st.data.in_bytes_rate > 0);
    s.close();
  });

  it('shows a new connection by name, and a closed one with its reason', async () => {
    const s = await open('?view=connections');
    await s.waitFor('view');
    const nc = await client('watched-client');
    nc.subscribe('watched.>');
    await nc.flush();
    const v = await s.waitFor('view', (d) => d.open.some((c: { name: string }) => c.name === 'watched-client'));
    const row = v.data.open.find((c: { name: string }) => c.name === 'watched-client');
    assert.equal(row.subscriptions, 1);
    assert.equal(row.lang, 'nats.js');
    assert.equal(row.slow, false);
    await nc.close();
    const after = await s.waitFor('view', (d) => d.closed.some((c: { name: string }) => c.name === 'watched-client'));
    const closed = after.data.closed.find((c: { name: string }) => c.name === 'watched-client');
    assert.equal(closed.reason, 'Client Closed');
    assert.ok(!after.data.open.some((c: { name: string }) => c.name === 'watched-client'));
    s.close();
  });

  it('gives a connection its message rate', async () => {
    const s = await open('?view=connections');
    const nc = await client('rated-client');
    await nc.flush();
    await s.waitFor('view', (d) => d.open.some((c: { name: string }) => c.name === 'rated-client'));
    for (let i = 0; i < 300; i++) nc.publish('rated.x', text.encode('m'));
    await nc.flush();
    await s.waitFor('view', (d) => d.open.some((c: { name: string; in_msgs_rate: number }) => c.name === 'rated-client' && c.in_msgs_rate > 0));
    s.close();
  });

  it('tails a published message with its headers, and the filter leaves others out', async () => {
    const s = await open(`?tail=${encodeURIComponent('orders.>')}`);
    await s.waitFor('stats');
    const nc = await client('tail-pub');
    nc.publish('other.x', text.encode('not me'));
    const h = natsHeaders();
    h.set('Trace-Id', 'abc');
    nc.publish('orders.new', text.encode('{"id":1}'), { headers: h, reply: 'back.here' });
    await nc.flush();
    const m = await s.waitFor('msg');
    assert.equal(m.data.subject, 'orders.new');
    assert.equal(m.data.reply, 'back.here');
    assert.deepEqual(m.data.headers, [['Trace-Id', 'abc']]);
    assert.equal(Buffer.from(m.data.payload, 'base64').toString(), '{"id":1}');
    assert.equal(m.data.size, 8);
    assert.equal(m.data.truncated, false);
    assert.equal(typeof m.data.time, 'number');
    // other.x was published first, on the same connection: had it passed the filter, it would be here already.
    assert.deepEqual(s.named('msg').map((e) => e.data.subject), ['orders.new']);
    s.close();
  });

  it('a tail is no subscriber: no interest, no responder, no counted subscription', async () => {
    const nc = await client('requester');
    await nc.flush();
    const subs = hub.stats().subscriptions;
    const s = await open('?tail=%3E');
    await s.waitFor('stats');
    assert.equal(hub.stats().subscriptions, subs);
    await assert.rejects(nc.request('nobody.home', text.encode('?'), { timeout: 2_000 }), /no responders|503/i);
    // The tail saw the request all the same.
    await s.waitFor('msg', (d) => d.subject === 'nobody.home');
    s.close();
  });

  it('cuts a long payload to monitorTailMaxPayload', async () => {
    const { hub: h2, base: b2, nc } = await startHub({ monitorTailMaxPayload: 10 });
    try {
      const s = await SseClient.open(`${b2}/api/live?tail=big`);
      await s.waitFor('stats');
      const c = await nc();
      c.publish('big', text.encode('x'.repeat(100)));
      await c.flush();
      const m = await s.waitFor('msg');
      assert.equal(m.data.size, 100);
      assert.equal(m.data.truncated, true);
      assert.equal(Buffer.from(m.data.payload, 'base64').length, 10);
      s.close();
    } finally {
      await h2.close();
    }
  });

  it('paused, sends only skipped counts', async () => {
    const s = await open('?tail=paused.>&paused=1');
    await s.waitFor('stats');
    const nc = await client('paused-pub');
    for (let i = 0; i < 7; i++) nc.publish(`paused.${i}`, text.encode('x'));
    await nc.flush();
    // An interval may end among the 7: the counts add up across skipped events.
    const skipped = (): number => s.named('skipped').reduce((n, e) => n + (e.data.count as number), 0);
    await s.waitFor('stats', () => skipped() >= 7, 5_000);
    assert.equal(skipped(), 7);
    assert.equal(s.named('msg').length, 0);
    s.close();
  });

  it('a flood yields at most tailRate msg events per interval, the rest counted as skipped', async () => {
    const s = await open('?tail=flood.>');
    await s.waitFor('stats');
    const nc = await client('flooder');
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      nc.publish('flood.x', text.encode(`m${i}`));
      if (i % 1000 === 999) await nc.flush();
    }
    await nc.flush();
    const total = (): number => s.named('msg').length + s.named('skipped').reduce((n, e) => n + (e.data.count as number), 0);
    await s.waitFor('stats', () => total() >= N, 15_000);
    assert.equal(total(), N);
    // Between two stats events (one interval), at most the default tailRate (50) messages.
    let inInterval = 0;
    for (const e of s.events) {
      if (e.event === 'stats') inInterval = 0;
      else if (e.event === 'msg') assert.ok(++inInterval <= 50, 'more than tailRate msg events in one interval');
    }
    assert.ok(s.named('skipped').length > 0);
    s.close();
  });

  it('queues nothing for a page that does not read: the response backlog stays bounded', async () => {
    const { hub: h2, base: b2, nc } = await startHub({ monitorTailRate: 1_000_000 });
    let res: ServerResponse | null = null;
    try {
      const server = (h2 as unknown as { monitor: { server: import('node:http').Server } }).monitor.server;
      server.on('request', (req, r: ServerResponse) => {
        if (req.url?.startsWith('/api/live')) res = r;
      });
      const s = await SseClient.open(`${b2}/api/live?tail=flood.>`);
      await s.waitFor('stats');
      s.pause();
      const c = await nc();
      const N = 20_000;
      const payload = text.encode('y'.repeat(1024));
      let most = 0;
      for (let i = 0; i < N; i++) {
        c.publish('flood.y', payload);
        if (i % 500 === 499) {
          await c.flush();
          most = Math.max(most, res!.writableLength);
        }
      }
      await c.flush();
      most = Math.max(most, res!.writableLength);
      // One event past the bound at most: the check comes before each write.
      assert.ok(most <= LIVE_BACKLOG_BOUND + 4096, `backlog ${most}`);
      s.resume();
      const total = (): number => s.named('msg').length + s.named('skipped').reduce((n, e) => n + (e.data.count as number), 0);
      await s.waitFor('stats', () => total() >= N, 15_000);
      assert.equal(total(), N);
      assert.ok(s.named('skipped').length > 0, 'a page that stopped reading had messages skipped');
      s.close();
    } finally {
      await h2.close();
    }
  });

  it('shows the busiest subjects with rates and subscriber counts', async () => {
    const s = await open('?view=subjects');
    await s.waitFor('view');
    const sub = await client('hot-sub');
    sub.subscribe('hot.a');
    sub.subscribe('hot.*');
    await sub.flush();
    const pub = await client('hot-pub');
    for (let i = 0; i < 200; i++) pub.publish('hot.a', text.encode('0123456789'));
    await pub.flush();
    // An interval may end while the 200 are still arriving: wait for the one that counted them all. The
    // subject's record is made at its first publish: a literal subject's match result (which carries it) is
    // kept on its index node, so the cache's admission on the second miss loses none.
    const v = await s.waitFor('view', (d) => d.subjects.some((r: { subject: string; msgs: number }) => r.subject === 'hot.a' && r.msgs >= 200));
    const row = v.data.subjects.find((r: { subject: string }) => r.subject === 'hot.a');
    assert.equal(row.msgs, 200);
    assert.equal(row.subscribers, 2);
    // The interval that saw the last of them saw some of them: the baseline was taken when the page opened.
    assert.ok(row.msgs_rate > 0, `msgs_rate ${row.msgs_rate}`);
    // 10 bytes each; both rates are rounded to 0.1.
    assert.ok(Math.abs(row.bytes_rate - row.msgs_rate * 10) <= 1, `bytes_rate ${row.bytes_rate}, msgs_rate ${row.msgs_rate}`);
    s.close();
  });

  it('shows streams and their consumers', async () => {
    const nc = await client('js-client');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'ORDERS', subjects: ['ord.>'] });
    await jsm.consumers.add('ORDERS', { durable_name: 'worker', ack_policy: 'explicit' });
    for (let i = 0; i < 3; i++) nc.publish('ord.x', text.encode('o'));
    await nc.flush();
    const s = await open('?view=streams');
    const v = await s.waitFor('view', (d) => d.streams.some((st: { name: string; messages: number }) => st.name === 'ORDERS' && st.messages === 3));
    const st = v.data.streams.find((x: { name: string }) => x.name === 'ORDERS');
    assert.deepEqual(st.subjects, ['ord.>']);
    assert.deepEqual([st.first_seq, st.last_seq], [1, 3]);
    assert.equal(st.consumers.length, 1);
    const c = st.consumers[0];
    assert.equal(c.name, 'worker');
    assert.equal(c.num_pending, 3);
    assert.equal(c.dead_letters, 0);
    s.close();
  });

  it('refuses a bad view or tail subject with 400', async () => {
    const a = await open('?view=nope');
    assert.equal(a.status, 400);
    const b = await open('?tail=a..b');
    assert.equal(b.status, 400);
  });
});

describe('live streams: the cap and the hub\'s close', HUB_ONLY, () => {
  it('refuses streams past maxMonitorLiveClients with 503, and takes one again when a page goes', async () => {
    const { hub, base } = await startHub({ maxMonitorLiveClients: 1 });
    try {
      const a = await SseClient.open(`${base}/api/live`);
      await a.waitFor('hello');
      const b = await SseClient.open(`${base}/api/live`);
      assert.equal(b.status, 503);
      a.close();
      // The server sees the close asynchronously: retry until the slot is free.
      const deadline = Date.now() + 5_000;
      let c: SseClient;
      for (;;) {
        c = await SseClient.open(`${base}/api/live`);
        if (c.status === 200 || Date.now() > deadline) break;
        c.close();
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(c.status, 200);
      c.close();
    } finally {
      await hub.close();
    }
  });

  it('hub.close() ends open streams and does not wait for them', async () => {
    const { hub, base } = await startHub();
    const s = await SseClient.open(`${base}/api/live?tail=%3E&view=connections`);
    await s.waitFor('hello');
    await hub.close();
    await s.waitEnd(5_000);
  });
});

describe('the tail and the viewer', HUB_ONLY, () => {
  it('never shows a subject the viewer may not subscribe to', async () => {
    const hub = createHub({ port: 0 });
    await hub.listen();
    const src = (hub as unknown as { monitor: { source(): MonitorSource } }).monitor.source();
    const viewer: MonitorViewer = { user: 'alice', maySubscribe: (s) => !s.startsWith('secret.'), mayPublish: () => true };
    const mon = await openMonitor(() => src, { host: '127.0.0.1', port: 0, routes: apiRoutes(), authenticate: () => viewer });
    try {
      const s = await SseClient.open(`http://127.0.0.1:${mon.port}/api/live?tail=%3E`);
      const hello = await s.waitFor('hello');
      assert.equal(hello.data.user, 'alice');
      hub.publish('secret.plans', 'no');
      hub.publish('orders.x', 'yes');
      await s.waitFor('msg');
      assert.deepEqual(s.named('msg').map((e) => e.data.subject), ['orders.x']);
      // Nor counted as skipped (a count would tell that the subject is busy):
      // a skipped event would follow the next interval's stats.
      const at = s.events.findIndex((e) => e.event === 'msg');
      const next = await s.waitFor('stats', () => true, 3_000, at);
      await s.waitFor('stats', (d) => d.now > next.data.now, 3_000, at);
      assert.equal(s.named('skipped').length, 0);
      s.close();
    } finally {
      await mon.close();
      await hub.close();
    }
  });

  it('the subjects and streams views leave out what the viewer may not subscribe to', async () => {
    const hub = createHub({ port: 0, jetstream: true });
    await hub.listen();
    const src = (hub as unknown as { monitor: { source(): MonitorSource } }).monitor.source();
    const viewer: MonitorViewer = { user: 'alice', maySubscribe: (s) => !s.startsWith('secret.'), mayPublish: () => true };
    const mon = await openMonitor(() => src, { host: '127.0.0.1', port: 0, routes: apiRoutes(), authenticate: () => viewer });
    const nc = await connect({ servers: hub.url, reconnect: false });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'SECRET', subjects: ['secret.kept.>'] });
      await jsm.streams.add({ name: 'OPEN', subjects: ['orders.kept.>'] });
      nc.subscribe('secret.a');
      nc.subscribe('orders.a');
      await nc.flush();
      const subjects = await SseClient.open(`http://127.0.0.1:${mon.port}/api/live?view=subjects`);
      await subjects.waitFor('view');
      for (let i = 0; i < 50; i++) {
        nc.publish('secret.a', text.encode('s'));
        nc.publish('orders.a', text.encode('o'));
      }
      await nc.flush();
      const v = await subjects.waitFor('view', (d) => d.subjects.some((r: { subject: string }) => r.subject === 'orders.a'));
      assert.deepEqual(v.data.subjects.map((r: { subject: string }) => r.subject), ['orders.a']);
      // The hub counts secret.a alike: the view leaves it out for this viewer.
      assert.ok([...src.bus.subjects()].some(([subject]) => subject === 'secret.a'));
      subjects.close();
      const streams = await SseClient.open(`http://127.0.0.1:${mon.port}/api/live?view=streams`);
      const sv = await streams.waitFor('view');
      assert.deepEqual(sv.data.streams.map((st: { name: string }) => st.name), ['OPEN']);
      streams.close();
    } finally {
      await nc.close();
      await mon.close();
      await hub.close();
    }
  });
});
