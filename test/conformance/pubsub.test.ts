/**
 * Core publish/subscribe with the official client: delivery, binary
 * payloads, ordering, wildcards, queue groups and echo. Runs against the
 * target chosen by NETEMITTER_TARGET (see test/helpers/target.ts).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { startServer, type TestServer, SKIP_NATS_JS } from '../helpers/target.js';
import { barrier, closeAll, collect, connectTo } from '../helpers/client.js';

describe('pub/sub with the official client', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  let pub: NatsConnection;
  let sub: NatsConnection;

  before(async () => {
    server = await startServer();
    pub = await connectTo(server, { name: 'pub' });
    sub = await connectTo(server, { name: 'sub' });
  });

  after(async () => {
    await closeAll(pub, sub);
    await server.stop();
  });

  it('connects and reads the INFO it needs (headers, proto >= 1, max_payload)', () => {
    const info = pub.info!;
    assert.equal(info.headers, true);
    assert.ok(info.proto >= 1, `proto ${info.proto}`);
    assert.equal(info.max_payload, 1024 * 1024);
    assert.match(info.version, /^\d+\.\d+\.\d+/);
  });

  it('delivers a message to a subscriber on another connection', async () => {
    const s = sub.subscribe('demo.a', { max: 1 });
    await barrier(sub);
    pub.publish('demo.a', 'hello', { reply: 'demo.reply' });
    const [m] = await collect(s, 1);
    assert.equal(m!.subject, 'demo.a');
    assert.equal(m!.string(), 'hello');
    assert.equal(m!.reply, 'demo.reply');
    assert.equal(m!.headers, undefined);
  });

  it('delivers an empty payload', async () => {
    const s = sub.subscribe('demo.empty', { max: 1 });
    await barrier(sub);
    pub.publish('demo.empty');
    const [m] = await collect(s, 1);
    assert.equal(m!.data.length, 0);
  });

  it('delivers binary payloads byte for byte, CRLF and protocol text inside included', async () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const payloads: Uint8Array[] = [
      Buffer.from('\r\n'),
      Buffer.from('a\r\nb\r\n\r\n'),
      Buffer.from('PUB x 3\r\nabc\r\nMSG foo 1 3\r\nxyz\r\nPING\r\n'),
      Buffer.from('\r\n\r\n-ERR \'nope\'\r\n'),
      all,
      Buffer.concat([Buffer.alloc(70_000, 0x0d), Buffer.from('\r\n'), Buffer.alloc(70_000, 0x0a)]),
    ];
    const s = sub.subscribe('demo.bin', { max: payloads.length });
    await barrier(sub);
    for (const p of payloads) pub.publish('demo.bin', p);
    const got = await collect(s, payloads.length);
    assert.deepEqual(
      got.map((m) => Buffer.from(m.data)),
      payloads.map((p) => Buffer.from(p)),
    );
  });

  it('keeps the order of 10,000 messages from one publisher', async () => {
    const n = 10_000;
    const s = sub.subscribe('demo.order', { max: n });
    await barrier(sub);
    for (let i = 0; i < n; i++) {
      // A fresh buffer each time: the client may hold on to it until it flushes.
      const buf = Buffer.alloc(4);
      buf.writeUInt32BE(i);
      pub.publish('demo.order', buf);
    }
    const got = await collect(s, n, 20_000);
    const seqs = got.map((m) => Buffer.from(m.data).readUInt32BE(0));
    const firstOutOfOrder = seqs.findIndex((v, i) => v !== i);
    assert.equal(seqs.length, n);
    assert.equal(firstOutOfOrder, -1, `message ${firstOutOfOrder} carried ${seqs[firstOutOfOrder]}`);
  });

  it('matches * (exactly one token) and > (one or more tail tokens)', async () => {
    const patterns = ['wc.*', 'wc.>', 'wc.*.c', 'wc.a', '*.a', 'wc.*.>', '>'];
    const got = new Map<string, string[]>(patterns.map((p) => [p, []]));
    for (const p of patterns) {
      sub.subscribe(p, { callback: (_err, m) => void got.get(p)!.push(m.subject) });
    }
    await barrier(sub);
    const subjects = ['wc', 'wc.a', 'wc.b', 'wc.a.b', 'wc.b.c', 'wc.a.b.c', 'x.a', 'wcx.a', 'wc*.a'];
    for (const subj of subjects) pub.publish(subj, subj);
    await barrier(pub, sub);
    const sorted = (a: string[]): string[] => [...a].sort();
    assert.deepEqual(sorted(got.get('wc.*')!), ['wc.a', 'wc.b']);
    assert.deepEqual(sorted(got.get('wc.>')!), ['wc.a', 'wc.a.b', 'wc.a.b.c', 'wc.b', 'wc.b.c']);
    assert.deepEqual(sorted(got.get('wc.*.c')!), ['wc.b.c']);
    assert.deepEqual(sorted(got.get('wc.a')!), ['wc.a']);
    assert.deepEqual(sorted(got.get('*.a')!), ['wc*.a', 'wc.a', 'wcx.a', 'x.a']);
    assert.deepEqual(sorted(got.get('wc.*.>')!), ['wc.a.b', 'wc.a.b.c', 'wc.b.c']);
    assert.deepEqual(sorted(got.get('>')!), sorted(subjects));
  });

  it('treats a wildcard character inside a token as a literal', async () => {
    const got: string[] = [];
    sub.subscribe('lit.a*b', { callback: (_e, m) => void got.push(m.subject) });
    await barrier(sub);
    pub.publish('lit.axb');
    pub.publish('lit.a*b');
    await barrier(pub, sub);
    assert.deepEqual(got, ['lit.a*b']);
  });

  it('routes UTF-8 subjects byte for byte, wildcards included', async () => {
    const got: string[] = [];
    sub.subscribe('uni.*.✓', { callback: (_e, m) => void got.push(`${m.subject}=${m.string()}`) });
    await barrier(sub);
    pub.publish('uni.ü.✓', 'grüß');
    pub.publish('uni.ü.x', 'no');
    await barrier(pub, sub);
    assert.deepEqual(got, ['uni.ü.✓=grüß']);
  });

  it('fans out to 50 subscriber connections, each getting every message in order', async () => {
    const conns = await Promise.all(Array.from({ length: 50 }, () => connectTo(server)));
    try {
      const got = conns.map(() => [] as string[]);
      conns.forEach((nc, i) => nc.subscribe('fan.out', { callback: (_e, m) => void got[i]!.push(m.string()) }));
      await Promise.all(conns.map((nc) => nc.flush()));
      const sent = Array.from({ length: 100 }, (_, i) => `f${i}`);
      for (const m of sent) pub.publish('fan.out', m);
      await barrier(pub, ...conns);
      const wrong = got.findIndex((g) => g.length !== sent.length || g.some((m, i) => m !== sent[i]));
      assert.equal(wrong, -1, `connection ${wrong} got ${got[wrong]?.length} messages`);
    } finally {
      await closeAll(...conns);
    }
  });

  it('stops delivering after unsubscribe', async () => {
    const got: string[] = [];
    const s = sub.subscribe('demo.unsub', { callback: (_e, m) => void got.push(m.string()) });
    await barrier(sub);
    pub.publish('demo.unsub', 'before');
    await barrier(pub, sub);
    s.unsubscribe();
    await barrier(sub);
    pub.publish('demo.unsub', 'after');
    await barrier(pub, sub);
    assert.deepEqual(got, ['before']);
  });
});

describe('queue groups', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  const conns: NatsConnection[] = [];

  before(async () => {
    server = await startServer();
    for (let i = 0; i < 5; i++) conns.push(await connectTo(server, { name: `q${i}` }));
  });

  after(async () => {
    await closeAll(...conns);
    await server.stop();
  });

  it('gives each message to exactly one member of each group; plain subscribers get all', async () => {
    const [publisher, c1, c2, c3, c4] = conns as [NatsConnection, NatsConnection, NatsConnection, NatsConnection, NatsConnection];
    const record = (into: string[]) => (_err: Error | null, m: Msg) => void into.push(m.string());
    const workers: string[][] = [[], [], []];
    const others: string[][] = [[], []];
    const plain: string[] = [];
    // Group "workers": members on three connections; group "others": two on one connection.
    c1.subscribe('jobs', { queue: 'workers', callback: record(workers[0]!) });
    c2.subscribe('jobs', { queue: 'workers', callback: record(workers[1]!) });
    c3.subscribe('jobs', { queue: 'workers', callback: record(workers[2]!) });
    c4.subscribe('jobs', { queue: 'others', callback: record(others[0]!) });
    c4.subscribe('jobs', { queue: 'others', callback: record(others[1]!) });
    c4.subscribe('jobs', { callback: record(plain) });
    await barrier(c1, c2, c3, c4);

    const n = 200;
    const sent = Array.from({ length: n }, (_, i) => `job-${i}`);
    for (const s of sent) publisher.publish('jobs', s);
    await barrier(publisher, c1, c2, c3, c4);

    const sorted = (a: string[]): string[] => [...a].sort();
    assert.deepEqual(sorted(workers.flat()), sorted(sent), 'group workers: each message exactly once');
    assert.deepEqual(sorted(others.flat()), sorted(sent), 'group others: each message exactly once');
    assert.deepEqual(plain, sent, 'the plain subscriber gets every message, in order');
  });

  it('a queue subscription on a wildcard subject takes part in the group', async () => {
    const [publisher, c1, c2] = conns as [NatsConnection, NatsConnection, NatsConnection];
    const got: string[] = [];
    c1.subscribe('tasks.*', { queue: 'g', callback: (_e, m) => void got.push(m.subject) });
    c2.subscribe('tasks.>', { queue: 'g', callback: (_e, m) => void got.push(m.subject) });
    await barrier(c1, c2);
    for (let i = 0; i < 20; i++) publisher.publish(`tasks.${i}`);
    await barrier(publisher, c1, c2);
    assert.deepEqual(
      [...got].sort(),
      Array.from({ length: 20 }, (_, i) => `tasks.${i}`).sort(),
    );
  });
});

describe('echo', { skip: SKIP_NATS_JS }, () => {
  let server: TestServer;
  let quiet: NatsConnection;
  let loud: NatsConnection;

  before(async () => {
    server = await startServer();
    quiet = await connectTo(server, { noEcho: true, name: 'quiet' });
    loud = await connectTo(server, { name: 'loud' });
  });

  after(async () => {
    await closeAll(quiet, loud);
    await server.stop();
  });

  it('noEcho: a connection does not receive its own messages, others still do', async () => {
    const quietGot: string[] = [];
    const loudGot: string[] = [];
    quiet.subscribe('echo.t', { callback: (_e, m) => void quietGot.push(m.string()) });
    loud.subscribe('echo.t', { callback: (_e, m) => void loudGot.push(m.string()) });
    await barrier(quiet, loud);
    quiet.publish('echo.t', 'from-quiet');
    loud.publish('echo.t', 'from-loud');
    await barrier(quiet, loud);
    await barrier(loud, quiet);
    assert.deepEqual(quietGot, ['from-loud']);
    // Two publishers on two connections: no order between them.
    assert.deepEqual([...loudGot].sort(), ['from-loud', 'from-quiet']);
  });

  it('echo is on by default: a connection receives its own messages', async () => {
    const got: string[] = [];
    loud.subscribe('echo.self', { callback: (_e, m) => void got.push(m.string()) });
    loud.publish('echo.self', 'me');
    await loud.flush();
    assert.deepEqual(got, ['me']);
  });
});
