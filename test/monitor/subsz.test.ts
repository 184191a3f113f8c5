/**
 * /subsz's statistics and paging as nats-server reports them: the subject
 * cache's numbers move with publishes, `total` is the page's length, and a
 * query that lists nothing gets the counts alone. Both targets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { startServer, type TestServer } from '../helpers/target.js';
import { closeAll, connectTo } from '../helpers/client.js';
import { getJson, until, type Doc } from './http.js';

describe('/subsz statistics and paging', () => {
  let server: TestServer;
  let base: string;
  let nc: NatsConnection;
  before(async () => {
    server = await startServer({ monitor: true });
    base = server.monitorUrl!;
    nc = await connectTo(server, { name: 'subsz' });
    for (const s of ['subsz.a', 'subsz.b', 'subsz.*']) nc.subscribe(s);
    await nc.flush();
  });
  after(async () => {
    await closeAll(nc);
    await server?.stop();
  });

  it('counts inserts, matches and cache hits, and the fan-out of cached subjects', async () => {
    const before = await getJson(base, '/subsz');
    for (let i = 0; i < 5; i++) nc.publish('subsz.a', 'x');
    await nc.flush();
    // nats-server also keeps a per-connection cache in front of its sublist, so it counts fewer lookups: at least one.
    const after = await until(base, '/subsz', (d) => (d.num_matches as number) > (before.num_matches as number));
    assert.ok((after.num_inserts as number) >= 3);
    assert.ok((after.num_cache as number) >= 1);
    assert.ok((after.cache_hit_rate as number) >= 0 && (after.cache_hit_rate as number) <= 1);
    // subsz.a reaches subsz.a and subsz.*.
    assert.ok((after.max_fanout as number) >= 2, JSON.stringify(after));
    assert.ok((after.avg_fanout as number) > 0);
  });

  it('reports the page length as total, and the counts alone when nothing is listed', async () => {
    const page = (await getJson(base, '/subsz?subs=1&test=subsz.a&limit=1')) as Doc;
    assert.deepEqual([page.total, page.limit, (page.subscriptions_list as Doc[]).length], [1, 1, 1]);
    const both = await getJson(base, '/subsz?subs=1&test=subsz.a');
    assert.deepEqual([both.total, (both.subscriptions_list as Doc[]).map((s) => s.subject).sort()], [2, ['subsz.*', 'subsz.a']]);
    const none = await getJson(base, '/subsz?subs=1&test=nobody.here');
    assert.deepEqual(['total' in none, 'subscriptions_list' in none, 'server_id' in none, typeof none.num_subscriptions], [false, false, false, 'number']);
  });
});
