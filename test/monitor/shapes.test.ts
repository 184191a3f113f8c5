/**
 * The monitoring documents have nats-server's shapes: the same keys with the
 * same JSON types, checked against both targets (the expected shapes were
 * read from nats-server; `NETEMITTER_TARGET=nats-server` proves them), and
 * counters that move the same way under the same small load.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { startServer, type TestServer } from '../helpers/target.js';
import { closeAll, connectTo } from '../helpers/client.js';
import { get, getJson, shape, until, type Doc, type Connz } from './http.js';

const N = 'number';
const S = 'string';
const O = 'object';
const A = 'array';

const VARZ: Record<string, string> = {
  server_id: S, server_name: S, version: S, proto: N, go: S, host: S, port: N, max_connections: N, ping_interval: N,
  ping_max: N, http_host: S, http_port: N, http_base_path: S, https_port: N, auth_timeout: N, max_control_line: N,
  max_payload: N, max_pending: N, cluster: O, gateway: O, leaf: O, mqtt: O, websocket: O, jetstream: O, tls_timeout: N,
  write_deadline: N, start: S, now: S, uptime: S, mem: N, cores: N, gomaxprocs: N, cpu: N, connections: N,
  total_connections: N, routes: N, remotes: N, leafnodes: N, in_msgs: N, out_msgs: N, in_bytes: N, out_bytes: N,
  slow_consumers: N, subscriptions: N, http_req_stats: O, config_load_time: S, system_account: S,
};

const CONNZ: Record<string, string> = { server_id: S, now: S, num_connections: N, total: N, offset: N, limit: N, connections: A };

/** An open connection with a name, lang and version (nats.js sends them), and its subscriptions listed in detail. */
const CONN: Record<string, string> = {
  cid: N, kind: S, type: S, ip: S, port: N, start: S, last_activity: S, rtt: S, uptime: S, idle: S, pending_bytes: N,
  in_msgs: N, out_msgs: N, in_bytes: N, out_bytes: N, subscriptions: N, name: S, lang: S, version: S,
  subscriptions_list_detail: A,
};

const SUBLIST_STATS: Record<string, string> = {
  num_subscriptions: N, num_cache: N, num_inserts: N, num_removes: N, num_matches: N, cache_hit_rate: N, max_fanout: N, avg_fanout: N,
};

const JSZ: Record<string, string> = {
  server_id: S, now: S, config: O, memory: N, storage: N, reserved_memory: N, reserved_storage: N, accounts: N, ha_assets: N,
  api: O, streams: N, consumers: N, messages: N, bytes: N,
};

const sorted = (o: Record<string, string>): Record<string, string> => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));

describe('monitoring shapes', () => {
  let server: TestServer;
  let base: string;
  const conns: NatsConnection[] = [];
  before(async () => {
    server = await startServer({ monitor: true });
    base = server.monitorUrl!;
  });
  after(async () => {
    await closeAll(...conns);
    await server?.stop();
  });

  it('/varz has nats-server\'s keys and types', async () => {
    assert.deepEqual(shape(await getJson(base, '/varz')), sorted(VARZ));
  });

  it('/varz counters move as nats-server\'s under the same load', async () => {
    const a = await connectTo(server, { name: 'varz-a' });
    conns.push(a);
    await a.flush();
    const before = await getJson(base, '/varz');
    const b = await connectTo(server, { name: 'varz-b' });
    conns.push(b);
    b.subscribe('varz.*');
    b.subscribe('other');
    await b.flush();
    for (let i = 0; i < 3; i++) a.publish('varz.x', 'hello');
    await a.flush();
    await b.flush();
    const after = await getJson(base, '/varz');
    const d = (k: string): number => (after[k] as number) - (before[k] as number);
    assert.deepEqual(
      { connections: d('connections'), total: d('total_connections'), subs: d('subscriptions'), inMsgs: d('in_msgs'), outMsgs: d('out_msgs'), inBytes: d('in_bytes'), outBytes: d('out_bytes') },
      { connections: 1, total: 1, subs: 2, inMsgs: 3, outMsgs: 3, inBytes: 15, outBytes: 15 },
    );
  });

  it('/connz lists a connection with nats-server\'s keys, types and per-connection counters', async () => {
    const pub = await connectTo(server, { name: 'connz-pub' });
    const sub = await connectTo(server, { name: 'connz-sub' });
    conns.push(pub, sub);
    sub.subscribe('connz.*');
    sub.subscribe('connz.q', { queue: 'workers' });
    await sub.flush();
    for (let i = 0; i < 4; i++) pub.publish('connz.a', 'abc');
    await pub.flush();
    await sub.flush();
    const doc = await getJson(base, '/connz?subs=detail');
    assert.deepEqual(shape(doc), sorted(CONNZ));
    const list = (doc as unknown as Connz).connections;
    const s = list.find((c) => c.name === 'connz-sub')!;
    const p = list.find((c) => c.name === 'connz-pub')!;
    assert.deepEqual(shape(s), sorted(CONN));
    assert.deepEqual(
      { kind: s.kind, type: s.type, ip: s.ip, lang: s.lang, in: s.in_msgs, out: s.out_msgs, outBytes: s.out_bytes, subs: s.subscriptions, pending: s.pending_bytes },
      { kind: 'Client', type: 'nats', ip: '127.0.0.1', lang: 'nats.js', in: 0, out: 4, outBytes: 12, subs: 2, pending: 0 },
    );
    assert.deepEqual({ in: p.in_msgs, inBytes: p.in_bytes, out: p.out_msgs }, { in: 4, inBytes: 12, out: 0 });
    // nats-server lists them in its map's order, which varies: by sid.
    const detail = [...(s.subscriptions_list_detail as Doc[])].sort((x, y) => Number(x.sid) - Number(y.sid));
    assert.deepEqual(detail, [
      { subject: 'connz.*', sid: '1', msgs: 4, cid: s.cid },
      { subject: 'connz.q', qgroup: 'workers', sid: '2', msgs: 0, cid: s.cid },
    ]);
    for (const k of ['start', 'last_activity']) assert.ok(!Number.isNaN(Date.parse(s[k] as string)), `${k} is a time`);
    assert.match(s.uptime as string, /^(\d+d)?(\d+h)?(\d+m)?\d+s$/);
  });

  it('/subsz gives the counts alone, the list with subs=1, and test= filters it to a subject\'s receivers', async () => {
    const nc = await connectTo(server, { name: 'subsz' });
    conns.push(nc);
    nc.subscribe('subsz.*');
    nc.subscribe('subsz.>', { queue: 'g' });
    nc.subscribe('elsewhere');
    await nc.flush();
    assert.deepEqual(shape(await getJson(base, '/subsz')), sorted(SUBLIST_STATS));
    assert.deepEqual(shape(await getJson(base, '/subsz?test=subsz.x')), sorted(SUBLIST_STATS));
    const doc = await getJson(base, '/subsz?subs=1&test=subsz.x');
    assert.deepEqual(shape(doc), sorted({ ...SUBLIST_STATS, server_id: S, now: S, total: N, offset: N, limit: N, subscriptions_list: A }));
    const list = doc.subscriptions_list as Doc[];
    assert.deepEqual(
      list.map((s) => [s.account, s.subject, s.qgroup ?? null]).sort(),
      [['$G', 'subsz.*', null], ['$G', 'subsz.>', 'g']],
    );
    const bad = await get(base, '/subsz?test=subsz.*');
    assert.deepEqual([bad.status, bad.text], [400, 'invalid test subject, must be valid publish subject: subsz.*']);
  });

  it('/healthz answers ok, with js-enabled-only and js-server-only too, and a bad boolean gets nats-server\'s 400', async () => {
    for (const q of ['', '?js-enabled-only=true', '?js-server-only=1']) {
      const doc = await getJson(base, `/healthz${q}`);
      assert.deepEqual(doc, { status: 'ok' });
    }
    const bad = await get(base, '/healthz?js-enabled-only=x');
    assert.deepEqual([bad.status, bad.text], [400, `Error decoding boolean for 'js-enabled-only': strconv.ParseBool: parsing "x": invalid syntax`]);
  });

  it('/accountz lists the global and system accounts', async () => {
    const doc = await getJson(base, '/accountz');
    assert.deepEqual(shape(doc), sorted({ server_id: S, now: S, system_account: S, accounts: A }));
    // nats-server lists them in its map's order, which varies.
    assert.deepEqual([doc.system_account, [...(doc.accounts as string[])].sort()], ['$SYS', ['$G', '$SYS']]);
  });

  it('/jsz without JetStream says disabled', async () => {
    const doc = await getJson(base, '/jsz');
    assert.deepEqual(shape(doc), sorted({ ...JSZ, disabled: 'boolean' }));
    assert.equal(doc.disabled, true);
  });

  it('an unknown path is a 404', async () => {
    assert.equal((await get(base, '/nope')).status, 404);
  });
});

describe('/jsz with JetStream', () => {
  let server: TestServer;
  let nc: NatsConnection;
  before(async () => {
    server = await startServer({ monitor: true, jetstream: true });
    nc = await connectTo(server);
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('counts a stream, its consumer and its messages, and details them with streams, consumers and config', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'MON', subjects: ['mon.>'] });
    await jsm.consumers.add('MON', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
    await jsm.streams.add({ name: 'MON2', subjects: ['mon2.>'] });
    nc.publish('mon.1', 'x');
    nc.publish('mon.2', 'y');
    await nc.flush();
    const doc = await until(server.monitorUrl!, '/jsz', (d) => d.messages === 2);
    assert.deepEqual(shape(doc), sorted(JSZ));
    assert.deepEqual([doc.streams, doc.consumers, doc.messages, doc.accounts], [2, 1, 2, 1]);
    assert.deepEqual(Object.keys(doc.config as Doc).sort(), ['max_memory', 'max_storage', 'store_dir']);

    const full = await getJson(server.monitorUrl!, '/jsz?streams=true&consumers=true&config=true');
    const account = (full.account_details as Doc[])[0]!;
    assert.equal(account.name, '$G');
    const streams = account.stream_detail as Doc[];
    const mon = streams.find((s) => s.name === 'MON')!;
    assert.deepEqual(Object.keys(mon).sort(), ['cluster', 'config', 'consumer_detail', 'created', 'name', 'state']);
    assert.equal((mon.state as Doc).messages, 2);
    assert.deepEqual((mon.config as Doc).subjects, ['mon.>']);
    const consumer = (mon.consumer_detail as Doc[])[0]!;
    for (const k of ['stream_name', 'name', 'created', 'config', 'delivered', 'ack_floor', 'num_ack_pending', 'num_redelivered', 'num_waiting', 'num_pending']) {
      assert.ok(k in consumer, `consumer_detail has ${k}`);
    }
    assert.deepEqual([consumer.name, consumer.num_pending], ['C', 2]);

    const streamsOnly = await getJson(server.monitorUrl!, '/jsz?streams=1');
    const plain = ((streamsOnly.account_details as Doc[])[0]!.stream_detail as Doc[]).find((s) => s.name === 'MON')!;
    assert.deepEqual(Object.keys(plain).sort(), ['cluster', 'created', 'name', 'state']);
  });
});
