/**
 * `bus.presence` against a 3-node nats-server cluster with a system account:
 * one CONNZ reply per node gathered into one list, and the advisories of
 * every node in the watch. Runs whatever NETEMITTER_TARGET is (our hub does
 * not cluster); skipped only when nats-server is not installed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Bus, type ConnectOptions, type Member } from '../../src/index.js';
import { Cluster, natsServerBin } from './helpers/cluster.js';
import { until } from './helpers/wait.js';

const bin = natsServerBin();

describe('presence on a 3-node nats-server cluster', { skip: bin === null ? 'nats-server is not installed' : false }, () => {
  let cluster: Cluster;
  const buses: Bus[] = [];

  before(async () => {
    cluster = await Cluster.start(bin!, 10_000, { systemAccount: true });
  });

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close().catch(() => undefined))));
    await cluster?.stop();
  });

  async function bus(node: string, opts: ConnectOptions): Promise<Bus> {
    const b = await connect({ servers: cluster.node(node).url, ...opts });
    buses.push(b);
    return b;
  }

  it('lists the clients of every node, and the watch follows joins and leaves on any node', async () => {
    const watcher = await bus('n1', { name: 'watcher', user: 'sys', pass: 'sys' });
    await bus('n2', { name: 'workers.2' });
    await bus('n3', { name: 'workers.3' });
    // Each node reports its own connections; a node's CONNECT advisory and its CONNZ may lag the others.
    let listed: Member[] = [];
    await until(async () => (listed = await watcher.presence.list('workers.*')).length === 2, 'both workers listed');
    assert.deepEqual(listed.map((m) => m.name).sort(), ['workers.2', 'workers.3']);
    assert.equal(new Set(listed.map((m) => m.server)).size, 2, 'two servers');
    assert.ok(!listed.some((m) => m.server === watcher.info!.server_id), 'none on the watcher’s node');

    const seen: string[] = [];
    watcher.presence.on('join', (m, c) => void (m.name?.startsWith('workers.') && seen.push(`join ${m.name}${c.snapshot ? ' (snapshot)' : ''}`)));
    watcher.presence.on('leave', (m, c) => void (m.name?.startsWith('workers.') && seen.push(`leave ${m.name} ${c.reason}`)));
    await watcher.presence.ready();
    assert.deepEqual([...seen].sort(), ['join workers.2 (snapshot)', 'join workers.3 (snapshot)']);
    const late = await bus('n3', { name: 'workers.late' });
    await until(() => seen.includes('join workers.late'), 'the join of workers.late (an advisory from n3)');
    await late.close();
    await until(() => seen.includes('leave workers.late Client Closed'), 'the leave of workers.late');
    assert.equal(seen.length, 4, seen.join(', '));
  });
});
