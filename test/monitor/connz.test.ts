/**
 * /connz's query: sort, paging, subs, cid, state and the closed connections
 * with their reason, and nats-server's 400s for bad parameters. Both targets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { createHub } from '../../src/index.js';
import { skipUnlessHub, startServer, type TestServer } from '../helpers/target.js';
import { closeAll, connectTo } from '../helpers/client.js';
import { get, getJson, named, until, type Connz, type Doc } from './http.js';

describe('/connz query', () => {
  let server: TestServer;
  let base: string;
  const conns: NatsConnection[] = [];
  before(async () => {
    server = await startServer({ monitor: true });
    base = server.monitorUrl!;
    // c1 publishes 1 message, c2 3, c3 2; c3 subscribes twice.
    for (const [name, n] of [['c1', 1], ['c2', 3], ['c3', 2]] as const) {
      const nc = await connectTo(server, { name });
      conns.push(nc);
      if (name === 'c3') {
        nc.subscribe('x.a');
        nc.subscribe('x.b');
      }
      for (let i = 0; i < n; i++) nc.publish('nobody', 'z'.repeat(n));
      await nc.flush();
    }
  });
  after(async () => {
    await closeAll(...conns);
    await server?.stop();
  });

  it('sorts by cid and start ascending, by msgs_from, bytes_from and subs largest first', async () => {
    assert.deepEqual(named(await getJson(base, '/connz'), 'c1', 'c2', 'c3'), ['c1', 'c2', 'c3']);
    assert.deepEqual(named(await getJson(base, '/connz?sort=start'), 'c1', 'c2', 'c3'), ['c1', 'c2', 'c3']);
    assert.deepEqual(named(await getJson(base, '/connz?sort=msgs_from'), 'c1', 'c2', 'c3'), ['c2', 'c3', 'c1']);
    assert.deepEqual(named(await getJson(base, '/connz?sort=bytes_from'), 'c1', 'c2', 'c3'), ['c2', 'c3', 'c1']);
    assert.equal(named(await getJson(base, '/connz?sort=subs'), 'c1', 'c2', 'c3')[0], 'c3');
  });

  it('pages with offset and limit, and reports the total', async () => {
    const doc = (await getJson(base, '/connz?offset=1&limit=1')) as unknown as Connz;
    assert.deepEqual([doc.offset, doc.limit, doc.num_connections, doc.total], [1, 1, 1, 3]);
    assert.equal(doc.connections[0]!.name, 'c2');
    const fallback = (await getJson(base, '/connz?offset=-1&limit=0')) as unknown as Connz;
    assert.deepEqual([fallback.offset, fallback.limit], [0, 1024]);
  });

  it('measures the round trip with a PING soon after CONNECT, as nats-server does', async () => {
    // Both servers know rtt from CONNECT (INFO to CONNECT), then PING about 2 s after it; the client's PONG measures it.
    const doc = await until(base, '/connz', (d) => (d as unknown as Connz).connections.every((c) => c.rtt !== '0s'), 8_000);
    for (const c of (doc as unknown as Connz).connections) assert.match(c.rtt as string, /^\d+(\.\d+)?(ns|µs|ms|s)$/);
  });

  it('lists subscriptions with subs=1, and one connection with cid', async () => {
    const all = (await getJson(base, '/connz?subs=1')) as unknown as Connz;
    const c3 = all.connections.find((c) => c.name === 'c3')!;
    assert.deepEqual((c3.subscriptions_list as string[]).sort(), ['x.a', 'x.b']);
    assert.equal(all.connections.find((c) => c.name === 'c1')!.subscriptions_list, undefined);
    const one = (await getJson(base, `/connz?cid=${c3.cid as number}`)) as unknown as Connz;
    assert.deepEqual([one.num_connections, one.limit, one.connections[0]!.name], [1, 1, 'c3']);
  });

  it('answers bad parameters with nats-server\'s 400 and text', async () => {
    const cases: [string, string][] = [
      ['sort=bogus', 'invalid sorting option: bogus'],
      ['limit=x', `Error decoding int for 'limit': strconv.Atoi: parsing "x": invalid syntax`],
      ['offset=1.5', `Error decoding int for 'offset': strconv.Atoi: parsing "1.5": invalid syntax`],
      ['state=x', 'Error decoding state for x'],
      ['subs=x', `Error decoding boolean for 'subs': strconv.ParseBool: parsing "x": invalid syntax`],
      ['cid=x', `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "x": invalid syntax`],
      ['sort=stop', 'sort by stop only valid on closed connections'],
      ['sort=reason', 'sort by reason only valid on closed connections'],
    ];
    for (const [q, text] of cases) {
      const a = await get(base, `/connz?${q}`);
      assert.deepEqual([q, a.status, a.text], [q, 400, text]);
    }
  });

  it('keeps closed connections with their stop time and reason; state=all lists both', async () => {
    const gone = await connectTo(server, { name: 'gone' });
    gone.publish('nobody', 'bye');
    await gone.flush();
    await gone.close();
    const closed = await until(base, '/connz?state=closed', (d) => named(d, 'gone').length === 1);
    const c = (closed as unknown as Connz).connections.find((x) => x.name === 'gone')!;
    assert.deepEqual([c.reason, c.in_msgs, c.in_bytes, typeof c.stop], ['Client Closed', 1, 3, 'string']);
    assert.ok(Date.parse(c.stop as string) >= Date.parse(c.start as string));
    assert.deepEqual(named(await getJson(base, '/connz'), 'gone'), []);
    assert.deepEqual(named(await getJson(base, '/connz?state=all'), 'c1', 'gone'), ['c1', 'gone']);
    const byStop = await getJson(base, '/connz?state=closed&sort=stop');
    assert.equal((byStop as unknown as Connz).connections.length >= 1, true);
    assert.equal((await getJson(base, '/connz?state=closed&sort=reason')).num_connections, (closed as Doc).num_connections);
  });
});

describe('closed connections ring', () => {
  it('keeps at most maxClosedClients, the newest', { skip: skipUnlessHub('maxClosedClients is set on the hub here') }, async () => {
    const hub = createHub({ port: 0, httpPort: 0, maxClosedClients: 2 });
    await hub.listen();
    try {
      const server = { url: hub.url } as TestServer;
      for (const name of ['r1', 'r2', 'r3']) {
        const nc = await connectTo(server, { name });
        await nc.flush();
        await nc.close();
        await until(hub.monitorAddress!.url, '/connz?state=closed', (d) => named(d, name).length === 1);
      }
      const doc = await getJson(hub.monitorAddress!.url, '/connz?state=closed');
      assert.deepEqual(named(doc, 'r1', 'r2', 'r3'), ['r2', 'r3']);
    } finally {
      await hub.close({ grace: 0 });
    }
  });

  it('monitoring is off unless httpPort is given; httpHost defaults to the hub\'s host', { skip: skipUnlessHub('hub options') }, async () => {
    const off = createHub({ port: 0 });
    await off.listen();
    assert.equal(off.monitorAddress, null);
    await off.close({ grace: 0 });
    const on = createHub({ port: 0, host: '127.0.0.1', httpPort: 0 });
    await on.listen();
    try {
      assert.equal(on.monitorAddress!.host, '127.0.0.1');
      assert.match(on.monitorAddress!.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await on.close({ grace: 0 });
    }
    assert.throws(() => createHub({ httpPort: 70000 }), /httpPort must be at most 65535/);
    assert.throws(() => createHub({ httpPort: -1 }), /httpPort must be an integer >= 0/);
  });
});
