/**
 * Scale-out: a 3-node nats-server cluster on loopback. A bus given only one
 * node learns the others from INFO connect_urls; when its node is killed it
 * fails over to one of them and keeps receiving, and a queue group spread
 * over the nodes still handles each event exactly once. Runs whatever
 * NETEMITTER_TARGET is (our hub does not cluster); skipped only when
 * nats-server is not installed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Bus } from '../../src/index.js';
import { Cluster, natsServerBin } from './helpers/cluster.js';
import { inbox, next, until, type Inbox } from './helpers/wait.js';

const bin = natsServerBin();

describe('a 3-node nats-server cluster', { skip: bin === null ? 'nats-server is not installed (apt-get install nats-server, or set NATS_SERVER_BIN)' : false }, () => {
  let cluster: Cluster;
  const buses: Bus[] = [];

  before(async () => {
    cluster = await Cluster.start(bin!);
  });

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close().catch(() => undefined))));
    await cluster?.stop();
  });

  async function bus(name: string, servers: string[]): Promise<Bus> {
    const b = await connect({ servers, name, reconnect: { initialDelay: 20, maxDelay: 500 } });
    buses.push(b);
    return b;
  }

  /**
   * Emits probes until `box` gets a new one: subscription interest travels
   * between nodes asynchronously, so cross-node delivery is awaited, never
   * assumed. A bus's SUBs reach the server (and the routes) in order, so once
   * interest in its probe subject (subscribed last) has arrived, so has
   * interest in everything it subscribed before.
   */
  async function probe(pub: Bus, subject: string, box: Inbox): Promise<void> {
    const seen = box.length;
    let n = 0;
    await until(
      async () => {
        pub.emit(subject, n++);
        await pub.flush();
        await new Promise((r) => setTimeout(r, 20));
        return box.length > seen;
      },
      `interest in ${subject} reaching the publisher's node`,
      10_000,
      0,
    );
  }

  it('fails over when its node is killed, keeps receiving, and queue groups stay exactly-once', async () => {
    const [n1, n2, n3] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
    // The subscriber knows n2 only; it learns n1 and n3 from INFO connect_urls.
    const sub = await bus('cluster-sub', [n2.url]);
    assert.equal(sub.server, n2.url);
    const w2 = await bus('cluster-w2', [n2.url, n3.url, n1.url]);
    const w3 = await bus('cluster-w3', [n3.url, n1.url, n2.url]);
    const pub = await bus('cluster-pub', [n1.url, n3.url]);
    assert.equal(cluster.nodeAt(w2.server), n2);
    assert.equal(cluster.nodeAt(w3.server), n3);
    assert.equal(cluster.nodeAt(pub.server), n1);

    const events = inbox<number>(sub, 'cl.events');
    const workers = [sub, w2, w3].map((b) => inbox<number>(b, 'cl.jobs', { queue: 'workers' }));
    const audit = inbox<number>(w3, 'cl.jobs', { queue: 'audit' });
    const probes = new Map([sub, w2, w3].map((b, i) => [b, { subject: `cl.probe.${i}`, box: inbox(b, `cl.probe.${i}`) }]));
    const probeAll = async (): Promise<void> => {
      for (const { subject, box } of probes.values()) await probe(pub, subject, box);
    };
    await probeAll();

    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
    const send = async (ids: number[]): Promise<void> => {
      for (const i of ids) {
        pub.emit('cl.jobs', i);
        pub.emit('cl.events', i);
      }
      await pub.flush();
    };
    const handled = (): number[] => workers.flatMap((w) => w.payloads).sort((x, y) => x - y);

    await send(range(0, 30));
    await until(() => events.length >= 30 && audit.length >= 30 && handled().length >= 30, 'first batch across the cluster');
    assert.deepEqual(events.payloads, range(0, 30));

    // Kill the subscriber's node (w2 is on it too).
    const disconnected = next(sub.status, 'disconnect', 10_000);
    const reconnected = next<[string]>(sub.status, 'reconnect', 10_000);
    await n2.child.kill();
    await disconnected;
    const [to] = await reconnected;
    const now = cluster.nodeAt(to);
    assert.ok(now === n1 || now === n3, `failed over to ${to}, a node it was never given`);
    assert.equal(sub.server, to);
    await until(() => w2.isConnected && cluster.nodeAt(w2.server) !== n2, 'w2 failed over');
    // The survivors have dropped n2's route (and its interest), and see the moved subscriptions.
    await cluster.waitForRoutes(1);
    await probeAll();

    const before = events.length;
    await send(range(100, 160));
    await until(() => events.length >= before + 60, 'events after failover');
    assert.deepEqual(events.payloads.slice(before), range(100, 160), 'keeps receiving, in order');
    await until(() => audit.length >= 90 && handled().length >= 90, 'both groups after failover');
    await Promise.all([sub.flush(), w2.flush(), w3.flush()]);

    // Exactly once per group: no duplicate, nothing missing, in both batches.
    assert.deepEqual(handled(), [...range(0, 30), ...range(100, 160)]);
    assert.deepEqual([...audit.payloads].sort((x, y) => x - y), [...range(0, 30), ...range(100, 160)]);
  });
});
