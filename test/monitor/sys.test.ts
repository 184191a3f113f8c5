/**
 * `$SYS.REQ.SERVER.PING.*` and `$SYS.REQ.SERVER.<id>.*`: the monitoring
 * documents over NATS, in nats-server's `{server, data, error}` envelope,
 * asked with the official client. Run against both targets: nats-server
 * answers them in its system account, which `systemAccount: true` gives it
 * (the user `sys`); the hub answers anyone who may publish the subject.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createHub } from '../../src/index.js';
import { differs, skipUnlessHub, startServer, SYSTEM_USER, type TestServer } from '../helpers/target.js';
import { closeAll, collect, connectTo, rejection } from '../helpers/client.js';
import { getJson, shape, type Doc } from './http.js';

const PING = '$SYS.REQ.SERVER.PING';
const S = 'string';
const N = 'number';

/** The envelope's server block for a server outside a cluster: 2.9's, and 2.10's (which added `flags`). */
const SERVER_INFO_29: Record<string, string> = { host: S, id: S, jetstream: 'boolean', name: S, seq: N, time: S, ver: S };
const SERVER_INFO = differs<Record<string, string>>({
  natsServer: SERVER_INFO_29,
  hub: { flags: N, ...SERVER_INFO_29 },
  why: 'the hub sends nats-server 2.10\'s block, with flags; the reference server is 2.9.10',
});

interface Envelope {
  server: Doc;
  data?: Doc | null;
  error?: { code: number; description: string };
}

function sortedKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}

function envelope(m: Msg): Envelope {
  return m.json<Envelope>();
}

describe('$SYS.REQ.SERVER requests', () => {
  let server: TestServer;
  let sys: NatsConnection;
  const conns: NatsConnection[] = [];
  const ask = async (subject: string, body = ''): Promise<Envelope> => envelope(await sys.request(subject, body, { timeout: 5_000 }));

  before(async () => {
    server = await startServer({ jetstream: true, monitor: true, systemAccount: true });
    sys = await connectTo(server, { user: SYSTEM_USER, pass: SYSTEM_USER, name: 'sys-requester' });
    conns.push(sys);
  });
  after(async () => {
    await closeAll(...conns);
    await server?.stop();
  });

  it('each document comes in the envelope: the server block, then data; VARZ has /varz\'s keys', async () => {
    const varz = await getJson(server.monitorUrl!, '/varz');
    let seq = 0;
    for (const name of ['VARZ', 'CONNZ', 'SUBSZ', 'JSZ', 'HEALTHZ']) {
      const e = await ask(`${PING}.${name}`);
      assert.deepEqual(Object.keys(e), ['server', 'data'], name);
      assert.deepEqual(shape(e.server), sortedKeys(SERVER_INFO), name);
      assert.equal(e.server.id, varz.server_id);
      assert.equal(e.server.name, varz.server_name);
      assert.equal(e.server.jetstream, true);
      if ('flags' in e.server) assert.equal(e.server.flags, 1, 'the JetStream capability bit');
      assert.ok((e.server.seq as number) > seq, `${name}: seq grows`);
      seq = e.server.seq as number;
      if (name !== 'HEALTHZ') assert.equal(e.data!.server_id, varz.server_id, name);
    }
    const e = await ask(`${PING}.VARZ`);
    assert.deepEqual(Object.keys(shape(e.data)), Object.keys(shape(varz)));
    // The HTTP side's request counts: the /varz read above is among them.
    assert.ok(((e.data!.http_req_stats as Record<string, number>)['/varz'] ?? 0) >= 1, JSON.stringify(e.data!.http_req_stats));
    assert.deepEqual(await ask(`${PING}.HEALTHZ`).then((h) => h.data), { status: 'ok' });
  });

  it('$SYS.REQ.SERVER.<server id>.<NAME> is this server; another id has no responders', async () => {
    const id = (await ask(`${PING}.VARZ`)).server.id as string;
    const e = await ask(`$SYS.REQ.SERVER.${id}.HEALTHZ`);
    assert.deepEqual([e.server.id, e.data], [id, { status: 'ok' }]);
    for (const subject of ['$SYS.REQ.SERVER.NOSUCHSERVER.VARZ', `${PING}.NOSUCHDOC`]) {
      const err = await rejection(sys.request(subject, '', { timeout: 5_000 }));
      assert.match(err.message, /no responders/, subject);
    }
  });

  it('CONNZ takes ConnzOptions: subscriptions, subscriptions_detail, limit (keys in any case)', async () => {
    const nc = await connectTo(server, { name: 'sys-connz' });
    conns.push(nc);
    nc.subscribe('sys.connz.a');
    await nc.flush();
    const find = (e: Envelope): Doc => (e.data!.connections as Doc[]).find((c) => c.name === 'sys-connz')!;
    const plain = find(await ask(`${PING}.CONNZ`, '{"limit":1000}'));
    assert.equal(plain.subscriptions_list, undefined);
    assert.deepEqual(find(await ask(`${PING}.CONNZ`, '{"subscriptions":true}')).subscriptions_list, ['sys.connz.a']);
    const detail = find(await ask(`${PING}.CONNZ`, '{"subscriptions_detail":true}')).subscriptions_list_detail as Doc[];
    assert.deepEqual(detail.map((d) => [d.subject, d.sid]), [['sys.connz.a', '1']]);
    const one = (await ask(`${PING}.CONNZ`, '{"Limit":1}')).data!;
    assert.deepEqual([one.limit, (one.connections as Doc[]).length], [1, 1]);
  });

  it('SUBSZ is always the full document; the list only with subscriptions, filtered by test', async () => {
    const nc = await connectTo(server, { name: 'sys-subsz' });
    conns.push(nc);
    nc.subscribe('sys.subsz.*');
    nc.subscribe('sys.elsewhere');
    await nc.flush();
    const bare = (await ask(`${PING}.SUBSZ`)).data!;
    assert.deepEqual(
      [bare.total, bare.offset, bare.limit, 'subscriptions_list' in bare, typeof bare.server_id, typeof bare.num_subscriptions],
      [0, 0, 1024, false, S, N],
    );
    const listed = (await ask(`${PING}.SUBSZ`, '{"subscriptions":true,"test":"sys.subsz.x"}')).data!;
    assert.deepEqual((listed.subscriptions_list as Doc[]).map((s) => s.subject), ['sys.subsz.*']);
    assert.equal(listed.total, 1);
    const none = (await ask(`${PING}.SUBSZ`, '{"subscriptions":true,"test":"sys.nobody"}')).data!;
    assert.deepEqual([none.total, 'subscriptions_list' in none], [0, false]);
  });

  it('JSZ with streams lists the streams', async () => {
    const jsm = await jetstreamManager(await connectTo(server, { name: 'sys-jsz' }).then((nc) => (conns.push(nc), nc)));
    await jsm.streams.add({ name: 'SYSJSZ', subjects: ['sys.jsz.>'] });
    const data = (await ask(`${PING}.JSZ`, '{"streams":true}')).data!;
    const account = (data.account_details as Doc[])[0]!;
    assert.deepEqual((account.stream_detail as Doc[]).map((s) => s.name), ['SYSJSZ']);
    assert.equal(data.streams, 1);
  });

  it('a body of the wrong shape is a 400 with encoding/json\'s text and no data; a refused option a 500 with data null', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['CONNZ', '{"limit":"x"}', 400, 'json: cannot unmarshal string into Go struct field ConnzEventOptions.limit of type int'],
      ['CONNZ', '{"limit":1.5}', 400, 'json: cannot unmarshal number 1.5 into Go struct field ConnzEventOptions.limit of type int'],
      ['CONNZ', '{"cid":"x"}', 400, 'json: cannot unmarshal string into Go struct field ConnzEventOptions.cid of type uint64'],
      ['CONNZ', '{"state":"closed"}', 400, 'json: cannot unmarshal string into Go struct field ConnzEventOptions.state of type server.ConnState'],
      ['CONNZ', '[]', 400, 'json: cannot unmarshal array into Go value of type server.ConnzEventOptions'],
      ['CONNZ', '  ', 400, 'unexpected end of JSON input'],
      ['SUBSZ', '{"subscriptions":1}', 400, 'json: cannot unmarshal number into Go struct field SubszEventOptions.subscriptions of type bool'],
      ['HEALTHZ', '{"js-enabled-only":"yes"}', 400, 'json: cannot unmarshal string into Go struct field HealthzEventOptions.js-enabled-only of type bool'],
      ['VARZ', '{"server_name":1}', 400, 'json: cannot unmarshal number into Go struct field VarzEventOptions.server_name of type string'],
    ];
    for (const [name, body, code, description] of cases) {
      const e = await ask(`${PING}.${name}`, body);
      assert.deepEqual([Object.keys(e), e.error], [['server', 'error'], { code, description }], `${name} ${body}`);
      assert.equal(e.server.id, (await ask(`${PING}.HEALTHZ`)).server.id, 'the server block is filled in');
    }
    for (const [name, body, description] of [
      ['CONNZ', '{"sort":"bogus"}', 'invalid sorting option: bogus'],
      ['SUBSZ', '{"test":"sys.*"}', 'invalid test subject, must be valid publish subject: sys.*'],
    ] as const) {
      const e = await ask(`${PING}.${name}`, body);
      assert.deepEqual([Object.keys(e), e.data, e.error], [['server', 'data', 'error'], null, { code: 500, description }], `${name} ${body}`);
    }
    // Not JSON at all: a 400 (nats-server's text is Go's parser's, ours JSON.parse's).
    assert.equal((await ask(`${PING}.VARZ`, 'not json')).error?.code, 400);
    // Unknown keys are ignored, as encoding/json does (also those JavaScript objects inherit).
    assert.deepEqual((await ask(`${PING}.HEALTHZ`, '{"nothing":true,"constructor":1,"__proto__":{"x":1},"toString":"x"}')).data, { status: 'ok' });
  });

  it('a request whose filter leaves this server out gets no answer at all, and the next one does', async () => {
    const id = (await ask(`${PING}.VARZ`)).server.id as string;
    const inbox = createInbox();
    const sub = sys.subscribe(inbox);
    const miss = '{"server_name":"no-such-server"}';
    // Answers come in request order: had a filtered request been answered, it would come before the next one's.
    sys.publish(`${PING}.VARZ`, miss, { reply: inbox });
    sys.publish(`${PING}.HEALTHZ`, JSON.stringify({ server_name: id.slice(0, 6) }), { reply: inbox });
    sys.publish(`${PING}.CONNZ`, '{"host":"no-such-host"}', { reply: inbox });
    sys.publish(`${PING}.JSZ`, '', { reply: inbox });
    sys.publish(`${PING}.SUBSZ`, '{"tags":["no-such-tag"]}', { reply: inbox });
    sys.publish(`${PING}.HEALTHZ`, '{"cluster":"no-such-cluster"}', { reply: inbox });
    sys.publish(`${PING}.VARZ`, '', { reply: inbox });
    const got = (await collect(sub, 3)).map(envelope);
    assert.deepEqual(got.map((e) => e.data!.status ?? (e.data!.streams !== undefined && e.data!.config !== undefined ? 'jsz' : e.data!.version !== undefined ? 'varz' : '?')), ['ok', 'jsz', 'varz']);
    sub.unsubscribe();
  });

  it('the hub answers with monitoring off (no HTTP listener)', { skip: skipUnlessHub('nats-server always answers; the hub must too, without httpPort') }, async () => {
    const hub = createHub({ host: '127.0.0.1', port: 0 });
    await hub.listen();
    try {
      const nc = await connectTo({ url: hub.url } as TestServer);
      conns.push(nc);
      const e = envelope(await nc.request(`${PING}.VARZ`, '', { timeout: 5_000 }));
      assert.deepEqual([e.server.id, e.server.jetstream, e.server.flags, e.data!.http_port, e.data!.connections], [hub.serverId, false, 0, 0, 1]);
      const j = envelope(await nc.request(`${PING}.JSZ`, '', { timeout: 5_000 }));
      assert.equal(j.data!.disabled, true);
      await nc.close();
    } finally {
      await hub.close({ grace: 0 });
    }
  });

  it('with authorization, the publish permission decides who may ask', { skip: skipUnlessHub('nats-server answers only its system account') }, async () => {
    const hub = createHub({
      host: '127.0.0.1',
      port: 0,
      authorization: {
        maxFailureDelay: 0,
        users: [
          { user: 'ops', password: 'ops' },
          { user: 'app', password: 'app', permissions: { publish: { deny: ['$SYS.>'] } } },
        ],
      },
    });
    await hub.listen();
    try {
      const ops = await connectTo({ url: hub.url } as TestServer, { user: 'ops', pass: 'ops' });
      const app = await connectTo({ url: hub.url } as TestServer, { user: 'app', pass: 'app' });
      conns.push(ops, app);
      assert.deepEqual(envelope(await ops.request(`${PING}.HEALTHZ`, '', { timeout: 5_000 })).data, { status: 'ok' });
      const err = await rejection(app.request(`${PING}.HEALTHZ`, '', { timeout: 5_000 }));
      assert.match(err.message, /Permissions Violation for Publish to "\$SYS\.REQ\.SERVER\.PING\.HEALTHZ"/);
    } finally {
      await closeAll(...conns.splice(-2));
      await hub.close({ grace: 0 });
    }
  });

  it('a client sees in the documents only the subjects and streams its subscribe permissions allow', { skip: skipUnlessHub('nats-server answers only its system account, which sees everything') }, async () => {
    const hub = createHub({
      host: '127.0.0.1',
      port: 0,
      jetstream: true,
      authorization: {
        maxFailureDelay: 0,
        users: [
          { user: 'ops', password: 'ops' },
          { user: 'orders', password: 'orders', permissions: { subscribe: { allow: ['_INBOX.>', 'orders.>'] } } },
        ],
      },
    });
    await hub.listen();
    const url = { url: hub.url } as TestServer;
    try {
      const ops = await connectTo(url, { user: 'ops', pass: 'ops', name: 'ops' });
      const orders = await connectTo(url, { user: 'orders', pass: 'orders', name: 'orders' });
      conns.push(ops, orders);
      ops.subscribe('orders.new');
      ops.subscribe('payroll.run');
      await ops.flush();
      const jsm = await jetstreamManager(ops);
      await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
      await jsm.streams.add({ name: 'PAYROLL', subjects: ['payroll.>'] });
      const ask = async (nc: NatsConnection, name: string, body: object): Promise<Doc> =>
        envelope(await nc.request(`${PING}.${name}`, JSON.stringify(body), { timeout: 5_000 })).data!;
      const subjects = (d: Doc): string[] => (d.subscriptions_list as Doc[]).map((s) => s.subject as string).filter((s) => !s.startsWith('_INBOX.')).sort();
      assert.deepEqual(subjects(await ask(ops, 'SUBSZ', { subscriptions: true })), ['orders.new', 'payroll.run']);
      assert.deepEqual(subjects(await ask(orders, 'SUBSZ', { subscriptions: true })), ['orders.new']);
      const opsConn = (d: Doc): Doc => (d.connections as Doc[]).find((c) => c.name === 'ops')!;
      const listed = opsConn(await ask(orders, 'CONNZ', { subscriptions: true })).subscriptions_list as string[];
      assert.deepEqual(listed.filter((s) => !s.startsWith('_INBOX.')), ['orders.new']);
      const streams = async (nc: NatsConnection): Promise<string[]> =>
        (((await ask(nc, 'JSZ', { streams: true })).account_details as Doc[])[0]!.stream_detail as Doc[]).map((s) => s.name as string).sort();
      assert.deepEqual(await streams(ops), ['ORDERS', 'PAYROLL']);
      assert.deepEqual(await streams(orders), ['ORDERS']);
    } finally {
      await closeAll(...conns.splice(-2));
      await hub.close({ grace: 0 });
    }
  });
});
