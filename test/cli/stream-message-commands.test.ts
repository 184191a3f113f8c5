/**
 * `netemitter stream edit|get|rmm` and `consumer next` against the target
 * server (our hub, or nats-server with NETEMITTER_TARGET=nats-server; see
 * test/helpers/target.ts). What the commands change is checked with the
 * client library.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JetStreamApiError, nanos, type Bus } from '../../src/index.js';
import { differs } from '../helpers/target.js';
import { killProcs } from './proc.js';
import { jetStreamCli } from './js-fixture.js';

after(killProcs);

describe('stream edit, get, rmm and consumer next', () => {
  const js = jetStreamCli('cli-stream-message-check');
  const { ok, fails } = js;
  let bus: Bus;
  let dir: string;

  before(async () => {
    ({ bus, dir } = js);
    await bus.streams.add({ name: 'SHOP', subjects: ['shop.>'], max_msgs: 1000, description: 'the shop' });
    await bus.publish('shop.order', { id: 1 });
    await bus.publish('shop.order', { id: 2 }, { headers: { Source: 'web' } });
    await bus.publish('shop.refund', 'refund-1');
    await bus.publish('shop.order', { id: 3 });
  });

  describe('stream edit', () => {
    it('changes only the given flags, keeps the messages, and prints the new config', async () => {
      const p = await ok(['stream', 'edit', 'SHOP', '--max-age', '2h', '--max-msgs-per-subject', '50']);
      assert.match(p.stdout, /^Stream SHOP created /);
      assert.match(p.stdout, /Maximum age: 2h0m0s\n/);
      assert.match(p.stdout, /Maximum per subject: 50\n/);
      assert.match(p.stdout, /Messages: 4\n/);
      const info = await bus.streams.info('SHOP');
      assert.equal(info.config.max_age, nanos(2 * 3_600_000));
      assert.equal(info.config.max_msgs_per_subject, 50);
      // What no flag named is as it was.
      assert.deepEqual(info.config.subjects, ['shop.>']);
      assert.equal(info.config.max_msgs, 1000);
      assert.equal(info.config.description, 'the shop');
      assert.equal(info.state.messages, 4);
    });

    it('merges --config over the current config, flags over both; --json prints the server\'s answer', async () => {
      const file = join(dir, 'shop.json');
      writeFileSync(file, JSON.stringify({ description: 'from the file', max_msgs: 500 }));
      const p = await ok(['stream', 'edit', 'SHOP', '--config', file, '--max-msgs', '900', '--subjects', 'shop.>,store.*', '--json']);
      const j = JSON.parse(p.stdout) as { config: { description: string; max_msgs: number; subjects: string[]; max_msgs_per_subject: number } };
      assert.equal(j.config.description, 'from the file');
      assert.equal(j.config.max_msgs, 900);
      assert.deepEqual(j.config.subjects, ['shop.>', 'store.*']);
      assert.equal(j.config.max_msgs_per_subject, 50, 'kept from the edit before');
      await ok(['stream', 'edit', 'SHOP', '--subjects', 'shop.>']);
      assert.deepEqual((await bus.streams.info('SHOP')).config.subjects, ['shop.>']);
    });

    it('what the server will not change is its one-line error and exit 1; the stream stays as it was', async () => {
      await fails(['stream', 'edit', 'SHOP', '--storage', 'memory'], 1, /^netemitter: stream configuration update can not change storage type \(500\/10052\)$/m);
      const retention = differs({
        natsServer: 'stream configuration update can not change retention policy',
        hub: 'stream configuration update can not change retention policy to/from workqueue',
        why: 'the hub words it as nats-server 2.10, which lets limits and interest change into each other (test/jetstream/stream-update.test.ts)',
      });
      await fails(['stream', 'edit', 'SHOP', '--retention', 'workqueue'], 1, new RegExp(`^netemitter: ${retention} \\(500\\/10052\\)$`, 'm'));
      const info = await bus.streams.info('SHOP');
      assert.equal(info.config.storage, 'file');
      assert.equal(info.config.retention, 'limits');
      await fails(['stream', 'edit', 'NOPE', '--max-msgs', '5'], 1, /^netemitter: stream not found \(404\/10059\)$/m);
    });

    it('refuses an edit without a change, and bad values, before connecting: exit 2', async () => {
      await fails(['stream', 'edit', 'SHOP'], 2, /^netemitter: stream edit SHOP: nothing to change/);
      await fails(['stream', 'edit', 'SHOP', '--max-age', 'soon'], 2, /^netemitter: invalid value for --max-age/);
      await fails(['stream', 'edit', 'a.b', '--max-msgs', '1'], 2, /^netemitter: invalid stream name "a\.b"/);
    });
  });

  describe('stream get', () => {
    it('prints one message by sequence: subject, seq, time, headers, payload', async () => {
      const p = await ok(['stream', 'get', 'SHOP', '2']);
      assert.match(p.stdout, /^\[2\] Subject: shop\.order Received: \d{4}-\d\d-\d\dT[\d:.]+Z\n  Source: web\n\n\{\n  "id": 2\n\}\n/);
      const j = JSON.parse((await ok(['stream', 'get', 'SHOP', '2', '--json'])).stdout) as Record<string, unknown>;
      assert.equal(j.seq, 2);
      assert.equal(j.subject, 'shop.order');
      assert.deepEqual(j.headers, { Source: 'web' });
      assert.deepEqual(j.payload, { id: 2 });
      assert.ok(!Number.isNaN(Date.parse(String(j.time))), String(j.time));
    });

    it('--last-for SUBJECT prints the newest message on it', async () => {
      const j = JSON.parse((await ok(['stream', 'get', 'SHOP', '--last-for', 'shop.order', '--json'])).stdout) as { seq: number; payload: unknown };
      assert.deepEqual([j.seq, j.payload], [4, { id: 3 }]);
      assert.match((await ok(['stream', 'get', 'SHOP', '--last-for', 'shop.refund'])).stdout, /^\[3\] Subject: shop\.refund .*\n\n"refund-1"\n/);
    });

    it('a missing message or stream is the server\'s error, exit 1; a bad query exit 2', async () => {
      await fails(['stream', 'get', 'SHOP', '99'], 1, /^netemitter: no message found \(404\/10037\)$/m);
      await fails(['stream', 'get', 'SHOP', '--last-for', 'shop.none'], 1, /^netemitter: no message found \(404\/10037\)$/m);
      await fails(['stream', 'get', 'NOPE', '1'], 1, /^netemitter: stream not found \(404\/10059\)$/m);
      await fails(['stream', 'get', 'SHOP'], 2, /give a sequence number or --last-for SUBJECT/);
      await fails(['stream', 'get', 'SHOP', '1', '--last-for', 'shop.order'], 2, /give a sequence number or --last-for SUBJECT/);
      await fails(['stream', 'get', 'SHOP', '0'], 2, /^netemitter: invalid value for SEQ: "0"/);
      await fails(['stream', 'get', 'SHOP', '--last-for', 'shop.*'], 2, /^netemitter: invalid subject "shop\.\*"/);
    });
  });

  describe('stream rmm', () => {
    it('asks for --force off a terminal, then deletes the one message', async () => {
      await fails(['stream', 'rmm', 'SHOP', '3'], 2, /^netemitter: Really delete message 3 from stream SHOP: pass --force/);
      assert.equal((await bus.streams.info('SHOP')).state.messages, 4);
      assert.equal((await ok(['stream', 'rmm', 'SHOP', '3', '--force'])).stdout, 'Deleted message 3 from SHOP\n');
      const info = await bus.streams.info('SHOP');
      assert.equal(info.state.messages, 3);
      assert.equal(info.state.num_deleted, 1);
      const err = await bus.streams.getMessage('SHOP', { seq: 3 }).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof JetStreamApiError && err.errCode === 10037, String(err));
      assert.equal((await bus.streams.getMessage('SHOP', { seq: 4 })).seq, 4, 'the others stay');
    });

    it('--erase and --json; a message already gone is the server\'s error, exit 1', async () => {
      await bus.publish('shop.order', { id: 4 });
      assert.deepEqual(JSON.parse((await ok(['stream', 'rmm', 'SHOP', '5', '-f', '--erase', '--json'])).stdout), { success: true });
      await assert.rejects(bus.streams.getMessage('SHOP', { seq: 5 }), JetStreamApiError);
      await fails(['stream', 'rmm', 'SHOP', '5', '-f'], 1, /^netemitter: sequence 5 not found \(400\/10043\)$/m);
      await fails(['stream', 'rmm', 'SHOP', '99', '-f'], 1, /^netemitter: stream store EOF \(500\/10057\)$/m);
      await fails(['stream', 'rmm', 'SHOP', 'x', '-f'], 2, /^netemitter: invalid value for SEQ: "x"/);
    });
  });

  describe('consumer next', () => {
    before(async () => {
      await bus.consumers.add('SHOP', { durable_name: 'picker', ack_policy: 'explicit', filter_subject: 'shop.order' });
    });

    it('pulls one message, prints it with its delivery count, and acknowledges it', async () => {
      const p = await ok(['consumer', 'next', 'SHOP', 'picker']);
      assert.match(p.stdout, /^\[1\] Subject: shop\.order Received: \S+ Delivered: 1 Pending: 2\n\n\{\n  "id": 1\n\}\n\n$/);
      assert.equal(p.stderr, '');
      const c = await bus.consumers.info('SHOP', 'picker');
      assert.equal(c.num_ack_pending, 0);
      assert.equal(c.ack_floor.stream_seq, 1);
      assert.equal(c.num_pending, 2);
    });

    it('--no-ack leaves the message pending acknowledgement, and says so', async () => {
      const p = await ok(['consumer', 'next', 'SHOP', 'picker', '--no-ack', '--json']);
      const got = JSON.parse(p.stdout) as { seq: number; delivered: number; headers: unknown; payload: unknown }[];
      assert.deepEqual(got.map((m) => [m.seq, m.delivered, m.payload]), [[2, 1, { id: 2 }]]);
      assert.deepEqual(got[0]!.headers, { Source: 'web' });
      assert.match(p.stderr, /^not acknowledged: redelivered after the consumer's ack wait \(30s\)\n$/);
      const c = await bus.consumers.info('SHOP', 'picker');
      assert.equal(c.num_ack_pending, 1);
      assert.equal(c.ack_floor.stream_seq, 1);
    });

    it('--count N takes what comes within --timeout, says how many of N, and acknowledges them', async () => {
      const p = await ok(['consumer', 'next', 'SHOP', 'picker', '--count', '5', '--timeout', '300ms', '--json']);
      const got = JSON.parse(p.stdout) as { seq: number; subject: string }[];
      assert.deepEqual(got.map((m) => [m.seq, m.subject]), [[4, 'shop.order']]);
      assert.equal(p.stderr, '1 of 5 messages within 300ms\n');
      const c = await bus.consumers.info('SHOP', 'picker');
      assert.equal(c.num_pending, 0);
      assert.equal(c.num_ack_pending, 1, 'only seq 2, left unacknowledged before');
    });

    it('nothing within the timeout is exit 1; a missing consumer is the server\'s error', async () => {
      await fails(['consumer', 'next', 'SHOP', 'picker', '--timeout', '200ms'], 1, /^netemitter: no message from consumer picker of stream SHOP within 200ms$/m);
      await fails(['consumer', 'next', 'SHOP', 'nobody'], 1, /^netemitter: consumer not found \(404\/10014\)$/m);
      await fails(['consumer', 'next', 'NOPE', 'picker'], 1, /^netemitter: stream not found \(404\/10059\)$/m);
    });

    it('a consumer with ack policy none gets no acks', async () => {
      await bus.publish('shop.refund', 'refund-2');
      await bus.consumers.add('SHOP', { durable_name: 'peek', ack_policy: 'none', filter_subject: 'shop.refund' });
      const p = await ok(['consumer', 'next', 'SHOP', 'peek']);
      assert.match(p.stdout, /^\[6\] Subject: shop\.refund .*\n\n"refund-2"\n/);
      assert.equal(p.stderr, '');
    });

    it('refuses bad counts and timeouts with exit 2', async () => {
      await fails(['consumer', 'next', 'SHOP', 'picker', '--count', '0'], 2, /^netemitter: invalid value for --count: "0"/);
      await fails(['consumer', 'next', 'SHOP', 'picker', '--count', '10001'], 2, /^netemitter: invalid value for --count: "10001" \(expected an integer from 1 to 10000\)$/m);
      await fails(['consumer', 'next', 'SHOP', 'picker', '--timeout', 'never'], 2, /^netemitter: invalid value for --timeout/);
    });

    it('a push consumer is refused with one line', async () => {
      await bus.consumers.add('SHOP', { durable_name: 'pusher', ack_policy: 'explicit', deliver_subject: 'push.here' });
      await fails(['consumer', 'next', 'SHOP', 'pusher'], 1, /^netemitter: consumer pusher of stream SHOP is a push consumer \(it delivers to push\.here\): next pulls from pull consumers only$/m);
    });
  });
});
