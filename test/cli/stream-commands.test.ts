/**
 * `netemitter stream …` and `netemitter consumer …` end to end: the built CLI
 * as child processes against a server of NETEMITTER_TARGET with JetStream on
 * (test/helpers/target.ts). Events are stored with the client library, and
 * what the commands change is checked with it too.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JetStreamApiError, nanos, type Bus } from '../../src/index.js';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { TestServer } from '../helpers/target.js';
import { killProcs, lines } from './proc.js';
import { jetStreamCli } from './js-fixture.js';

after(killProcs);

describe('stream and consumer commands', () => {
  const js = jetStreamCli('cli-stream-check');
  const { ok, fails } = js;
  let server: TestServer;
  let bus: Bus;
  let dir: string;

  before(async () => {
    ({ server, bus, dir } = js);
  });

  it('stream add creates the stream with the flags\' limits and prints it', async () => {
    const p = await ok(['stream', 'add', 'ORDERS', '--subjects', 'orders.>,refunds.*', '--max-msgs', '1000', '--max-age', '1h', '--dupe-window', '30s']);
    assert.match(p.stdout, /^Stream ORDERS created /);
    assert.match(p.stdout, /Subjects: orders\.>, refunds\.\*/);
    assert.match(p.stdout, /Maximum messages: 1,000/);
    assert.match(p.stdout, /Maximum age: 1h0m0s/);
    const info = await bus.streams.info('ORDERS');
    assert.deepEqual(info.config.subjects, ['orders.>', 'refunds.*']);
    assert.equal(info.config.max_msgs, 1000);
    assert.equal(info.config.max_age, nanos(3_600_000));
    assert.equal(info.config.duplicate_window, nanos(30_000));
  });

  it('stream add takes a JSON config file, and prints the server\'s JSON with --json', async () => {
    const file = join(dir, 'audit.json');
    writeFileSync(file, JSON.stringify({ subjects: ['audit.>'], storage: 'memory', max_msgs_per_subject: 5 }));
    const p = await ok(['stream', 'add', 'AUDIT', '--config', file, '--json']);
    const info = JSON.parse(p.stdout) as { config: { name: string; storage: string; max_msgs_per_subject: number } };
    assert.equal(info.config.name, 'AUDIT');
    assert.equal(info.config.storage, 'memory');
    assert.equal(info.config.max_msgs_per_subject, 5);
  });

  it('stream ls prints a table, names, or JSON', async () => {
    await bus.publish('orders.new', { id: 1 });
    const table = lines((await ok(['stream', 'ls'])).stdout);
    assert.match(table[0]!, /^Name\s+Subjects\s+Messages\s+Size\s+Last message\s+Consumers$/);
    const row = table.find((l) => l.startsWith('ORDERS '));
    assert.ok(row, table.join('\n'));
    assert.match(row, /orders\.>, refunds\.\*\s+1\s/);
    assert.deepEqual(lines((await ok(['stream', 'ls', '--names'])).stdout), ['AUDIT', 'ORDERS']);
    assert.deepEqual(JSON.parse((await ok(['stream', 'ls', '--subject', 'audit.x', '--json'])).stdout), ['AUDIT']);
    const list = JSON.parse((await ok(['stream', 'ls', '--json'])).stdout) as { config: { name: string } }[];
    assert.deepEqual(list.map((i) => i.config.name).sort(), ['AUDIT', 'ORDERS']);
  });

  it('stream info shows state; a missing stream fails with the server\'s error', async () => {
    const p = await ok(['stream', 'info', 'ORDERS']);
    assert.match(p.stdout, /Messages: 1\n/);
    const j = JSON.parse((await ok(['stream', 'info', 'ORDERS', '--json'])).stdout) as { state: { messages: number } };
    assert.equal(j.state.messages, 1);
    await fails(['stream', 'info', 'NOPE'], 1, /^netemitter: stream not found \(404\/10059\)$/m);
  });

  it('stream view prints a stream\'s messages, or those of a subject', async () => {
    await bus.publish('refunds.eu', 'refund-1', { headers: { Source: 'test' } });
    await bus.publish('orders.new', { id: 2 });
    const all = (await ok(['stream', 'view', 'ORDERS'])).stdout;
    const heads = lines(all).filter((l) => l.startsWith('['));
    assert.equal(heads.length, 3, all);
    assert.match(heads[0]!, /^\[1\] Subject: orders\.new Received: \d{4}-/);
    assert.match(heads[1]!, /^\[2\] Subject: refunds\.eu /);
    assert.match(heads[2]!, /^\[3\] Subject: orders\.new /);
    assert.match(all, /  Source: test\n\n"refund-1"\n/);
    const only = JSON.parse((await ok(['stream', 'view', 'orders.new', '--json'])).stdout) as { seq: number; payload: unknown }[];
    assert.deepEqual(only.map((m) => [m.seq, m.payload]), [[1, { id: 1 }], [3, { id: 2 }]]);
    const first = await ok(['stream', 'view', 'ORDERS', '--count', '1']);
    assert.equal(lines(first.stdout).filter((l) => l.startsWith('[')).length, 1);
    assert.match(first.stderr, /--seq 2 to continue/);
    await fails(['stream', 'view', 'nothing.stored'], 1, /no stream stores subject "nothing\.stored"/);
  });

  it('consumer add, ls, info and rm', async () => {
    const added = await ok(['consumer', 'add', 'ORDERS', 'billing', '--filter', 'orders.new', '--max-deliver', '5', '--ack-wait', '10s', '--deliver', 'all']);
    assert.match(added.stdout, /^Consumer billing of stream ORDERS created /);
    const c = await bus.consumers.info('ORDERS', 'billing');
    assert.equal(c.config.filter_subject, 'orders.new');
    assert.equal(c.config.max_deliver, 5);
    assert.equal(c.config.ack_wait, nanos(10_000));
    assert.equal(c.config.ack_policy, 'explicit');
    const table = lines((await ok(['consumer', 'ls', 'ORDERS'])).stdout);
    assert.match(table[0]!, /^Name\s+Filter\s+Ack pending\s+Unprocessed\s+Redelivered\s+Last delivery$/);
    assert.match(table.find((l) => l.startsWith('billing '))!, /orders\.new\s+0\s+2\s+0\s+never$/);
    assert.deepEqual(lines((await ok(['consumer', 'ls', 'ORDERS', '--names'])).stdout), ['billing']);
    const info = JSON.parse((await ok(['consumer', 'info', 'ORDERS', 'billing', '--json'])).stdout) as { num_pending: number };
    assert.equal(info.num_pending, 2);
    assert.match((await ok(['consumer', 'info', 'ORDERS', 'billing'])).stdout, /Unprocessed: 2\n/);
    // One delivery (with the official client): "Last delivery" and "Last delivered" show how long ago, not "never".
    const nc = await natsConnect({ servers: server.url });
    try {
      const m = await (await jetstream(nc).consumers.get('ORDERS', 'billing')).next({ expires: 5_000 });
      assert.deepEqual(m?.json(), { id: 1 });
    } finally {
      await nc.close();
    }
    assert.match(lines((await ok(['consumer', 'ls', 'ORDERS'])).stdout).find((l) => l.startsWith('billing '))!, /orders\.new\s+1\s+1\s+0\s+[\d.hms]+ ago$/);
    const shown = (await ok(['consumer', 'info', 'ORDERS', 'billing'])).stdout;
    assert.match(shown, /Last delivered: consumer seq 1, stream seq 1 \([\d.hms]+ ago\)\n/);
    assert.match(shown, /Acknowledged floor: consumer seq 0, stream seq 0 \(never\)\n/);
    await fails(['consumer', 'rm', 'ORDERS', 'billing'], 2, /pass --force/);
    assert.deepEqual(JSON.parse((await ok(['consumer', 'rm', 'ORDERS', 'billing', '--force', '--json'])).stdout), { success: true });
    assert.deepEqual(await bus.consumers.names('ORDERS'), []);
  });

  it('stream purge and rm ask for --force when not on a terminal', async () => {
    await fails(['stream', 'purge', 'ORDERS'], 2, /^netemitter: Really purge stream ORDERS: pass --force/);
    const p = await ok(['stream', 'purge', 'ORDERS', '--subject', 'refunds.*', '--force']);
    assert.equal(p.stdout, 'Purged 1 message from ORDERS\n');
    assert.equal((await bus.streams.info('ORDERS')).state.messages, 2);
    await fails(['stream', 'rm', 'ORDERS'], 2, /pass --force/);
    assert.deepEqual(JSON.parse((await ok(['stream', 'rm', 'ORDERS', '-f', '--json'])).stdout), { success: true });
    assert.equal((await ok(['stream', 'rm', 'AUDIT', '-f'])).stdout, '', 'quiet without --json');
    const err = await bus.streams.info('ORDERS').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof JetStreamApiError && err.errCode === 10059);
  });

  it('refuses invalid names and values with one line and exit 2, before connecting', async () => {
    await fails(['stream', 'add', 'a.b'], 2, /^netemitter: invalid stream name "a\.b"/);
    await fails(['stream', 'add', 'X', '--storage', 'disk'], 2, /^netemitter: invalid value for --storage: "disk" \(expected file, memory\)$/m);
    await fails(['stream', 'add', 'X', '--max-age', 'soon'], 2, /^netemitter: invalid value for --max-age/);
    await fails(['stream', 'add', 'X', '--subjects', 'a..b'], 2, /^netemitter: invalid subject "a\.\.b"/);
    await fails(['consumer', 'add', 'S', 'c', '--deliver', 'sometimes'], 2, /^netemitter: invalid value for --deliver/);
    await fails(['stream', 'purge', 'S', '--seq', '3', '--keep', '1', '-f'], 2, /cannot be used together/);
    await fails(['stream', 'bogus'], 2, /unknown command 'bogus'/);
  });
});
