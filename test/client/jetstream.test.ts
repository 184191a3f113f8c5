/**
 * Durable streams, client side: bus.publish() (PubAck, deduplication,
 * expectations, typed errors) and stream/consumer management through
 * bus.streams and bus.consumers. Runs against NETEMITTER_TARGET with
 * JetStream on (test/helpers/target.ts startServer({ jetstream: true })).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect,
  ErrorCode,
  JetStreamApiError,
  JetStreamNotEnabledError,
  NoStreamError,
  nanos,
  type Bus,
} from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/target.js';
import { rejection } from './helpers/wait.js';

/** The JetStream error numbers these tests rely on (nats-server jetstream_errors_generated.go). */
const E = {
  STREAM_NOT_FOUND: 10059,
  CONSUMER_NOT_FOUND: 10014,
  SUBJECTS_OVERLAP: 10065,
  WRONG_LAST_SEQUENCE: 10071,
  WRONG_LAST_MSG_ID: 10070,
  STREAM_MISMATCH: 10060,
  NO_MESSAGE_FOUND: 10037,
} as const;

async function apiError(p: Promise<unknown>, status: number, errCode: number): Promise<JetStreamApiError> {
  const err = await rejection(p);
  assert.ok(err instanceof JetStreamApiError, `expected JetStreamApiError, got ${String(err)}`);
  assert.equal(err.code, ErrorCode.JETSTREAM_API);
  assert.equal(err.status, status);
  assert.equal(err.errCode, errCode);
  assert.ok(err.description.length > 0);
  return err;
}

describe('durable streams: publish and management', () => {
  let server: TestServer;
  let bus: Bus;

  before(async () => {
    server = await startServer({ jetstream: true });
    bus = await connect({ servers: server.url, name: 'js-manage' });
  });

  after(async () => {
    if (bus !== undefined && !bus.isClosed) await bus.close();
    await server?.stop();
  });

  describe('bus.publish()', () => {
    before(async () => {
      await bus.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    });

    it('resolves with the stream and sequence once the event is stored', async () => {
      const a = await bus.publish('orders.new', { id: 1 });
      const b = await bus.publish('orders.new', { id: 2 });
      assert.equal(a.stream, 'ORDERS');
      assert.equal(a.duplicate, false);
      assert.equal(b.seq, a.seq + 1);
      const stored = await bus.streams.getMessage('ORDERS', { seq: b.seq });
      assert.equal(stored.subject, 'orders.new');
      assert.deepEqual(stored.payload, { id: 2 });
      assert.equal(stored.data.toString(), '{"id":2}');
    });

    it('stores a repeated msgId once and reports the duplicate with the original sequence', async () => {
      const first = await bus.publish('orders.dedup', 'x', { msgId: 'order-42' });
      const again = await bus.publish('orders.dedup', 'x', { msgId: 'order-42' });
      assert.deepEqual(again, { stream: 'ORDERS', seq: first.seq, duplicate: true });
      const last = await bus.streams.getMessage('ORDERS', { lastBySubject: 'orders.dedup' });
      assert.equal(last.seq, first.seq);
      assert.equal(last.headers?.get('Nats-Msg-Id'), 'order-42');
    });

    it('keeps user headers with the stored event', async () => {
      const ack = await bus.publish('orders.headers', null, { headers: { 'Trace-Id': 't-9', Tag: ['a', 'b'] } });
      const m = await bus.streams.getMessage('ORDERS', { seq: ack.seq });
      assert.equal(m.headers?.get('trace-id'), 't-9');
      assert.deepEqual(m.headers?.values('Tag'), ['a', 'b']);
      assert.equal(m.payload, null);
    });

    it('enforces expectations: last sequence, last msg id, last subject sequence, stream', async () => {
      const last = await bus.publish('orders.exp', 1, { msgId: 'e-1' });
      const ok = await bus.publish('orders.exp', 2, { expect: { lastSequence: last.seq, lastMsgId: 'e-1', stream: 'ORDERS' } });
      assert.equal(ok.seq, last.seq + 1);
      await apiError(bus.publish('orders.exp', 3, { expect: { lastSequence: last.seq } }), 400, E.WRONG_LAST_SEQUENCE);
      await apiError(bus.publish('orders.exp', 3, { expect: { lastMsgId: 'nope' } }), 400, E.WRONG_LAST_MSG_ID);
      await apiError(bus.publish('orders.exp', 3, { expect: { stream: 'OTHER' } }), 400, E.STREAM_MISMATCH);
      const fresh = await bus.publish('orders.exp.fresh', 1, { expect: { lastSubjectSequence: 0 } });
      await apiError(bus.publish('orders.exp.fresh', 2, { expect: { lastSubjectSequence: 0 } }), 400, E.WRONG_LAST_SEQUENCE);
      await bus.publish('orders.exp.fresh', 2, { expect: { lastSubjectSequence: fresh.seq } });
    });

    it('rejects with NoStreamError when no stream stores the subject', async () => {
      const err = await rejection(bus.publish('nowhere.to.go', 1));
      assert.ok(err instanceof NoStreamError);
      assert.equal(err.code, ErrorCode.NO_STREAM);
      assert.equal(err.subject, 'nowhere.to.go');
      assert.match(err.message, /no stream stores subject "nowhere\.to\.go"/);
    });

    it('rejects an invalid subject without sending anything', async () => {
      const err = await rejection(bus.publish('orders.*', 1));
      assert.equal((err as { code?: string }).code, ErrorCode.INVALID_SUBJECT);
    });
  });

  describe('bus.streams', () => {
    it('adds a stream and returns its full config with the server\'s defaults', async () => {
      const info = await bus.streams.add({ name: 'S_ADD', subjects: ['add.>'], max_msgs: 100 });
      assert.equal(info.config.name, 'S_ADD');
      assert.deepEqual(info.config.subjects, ['add.>']);
      assert.equal(info.config.max_msgs, 100);
      assert.equal(info.config.retention, 'limits');
      assert.equal(info.config.storage, 'file');
      assert.equal(info.config.duplicate_window, nanos(120_000));
      assert.equal(info.state.messages, 0);
      assert.ok(!Number.isNaN(Date.parse(info.created)));
    });

    it('refuses a stream whose subjects overlap another\'s', async () => {
      await apiError(bus.streams.add({ name: 'S_OVERLAP', subjects: ['add.x'] }), 400, E.SUBJECTS_OVERLAP);
    });

    it('reports state in info, applies update, deletes', async () => {
      await bus.streams.add({ name: 'S_LIFE', subjects: ['life.*'] });
      await bus.publish('life.a', 1);
      await bus.publish('life.b', 2);
      const info = await bus.streams.info('S_LIFE');
      assert.equal(info.state.messages, 2);
      assert.equal(info.state.first_seq, 1);
      assert.equal(info.state.last_seq, 2);
      const updated = await bus.streams.update({ name: 'S_LIFE', subjects: ['life.*'], max_msgs: 1 });
      assert.equal(updated.config.max_msgs, 1);
      assert.equal((await bus.streams.info('S_LIFE')).state.messages, 1);
      assert.equal(await bus.streams.delete('S_LIFE'), true);
      await apiError(bus.streams.info('S_LIFE'), 404, E.STREAM_NOT_FOUND);
      await apiError(bus.streams.delete('S_LIFE'), 404, E.STREAM_NOT_FOUND);
    });

    it('purges all messages, by subject, or all but the newest', async () => {
      await bus.streams.add({ name: 'S_PURGE', subjects: ['purge.*'] });
      for (let i = 0; i < 3; i++) await bus.publish('purge.a', i);
      for (let i = 0; i < 2; i++) await bus.publish('purge.b', i);
      assert.deepEqual(await bus.streams.purge('S_PURGE', { filter: 'purge.a', keep: 1 }), { success: true, purged: 2 });
      assert.deepEqual(await bus.streams.purge('S_PURGE', { filter: 'purge.b' }), { success: true, purged: 2 });
      const left = await bus.streams.getMessage('S_PURGE', { lastBySubject: 'purge.a' });
      assert.equal(left.payload, 2);
      assert.deepEqual(await bus.streams.purge('S_PURGE'), { success: true, purged: 1 });
      assert.equal((await bus.streams.info('S_PURGE')).state.messages, 0);
    });

    it('lists streams and names, optionally by subject', async () => {
      await bus.streams.add({ name: 'S_LIST_A', subjects: ['lista.>'] });
      await bus.streams.add({ name: 'S_LIST_B', subjects: ['listb.>'] });
      const names = await bus.streams.names();
      assert.ok(names.includes('S_LIST_A') && names.includes('S_LIST_B'));
      assert.deepEqual(await bus.streams.names('listb.x.y'), ['S_LIST_B']);
      assert.deepEqual(await bus.streams.names('nothing.here'), []);
      const list = await bus.streams.list();
      assert.deepEqual(list.map((s) => s.config.name).sort(), [...names].sort());
      assert.ok(list.every((s) => typeof s.state.messages === 'number'));
    });

    it('reads a message by sequence or last by subject, and fails for a missing one', async () => {
      await bus.streams.add({ name: 'S_GET', subjects: ['get.*'] });
      const a = await bus.publish('get.a', Buffer.from([0xff, 0x00]));
      await bus.publish('get.a', 'second');
      const m = await bus.streams.getMessage('S_GET', { seq: a.seq });
      assert.deepEqual([...m.data], [0xff, 0x00]);
      assert.ok(m.time instanceof Date && !Number.isNaN(m.time.getTime()));
      assert.equal((await bus.streams.getMessage('S_GET', { lastBySubject: 'get.a' })).payload, 'second');
      await apiError(bus.streams.getMessage('S_GET', { seq: 99 }), 404, E.NO_MESSAGE_FOUND);
    });

    it('deletes one message, with or without erasing it; a message already gone rejects', async () => {
      await bus.streams.add({ name: 'S_RMM', subjects: ['rmm.*'] });
      const seqs = [];
      for (const v of ['one', 'two', 'three']) seqs.push((await bus.publish('rmm.a', v)).seq);
      assert.equal(await bus.streams.deleteMessage('S_RMM', seqs[0]!), true);
      assert.equal(await bus.streams.deleteMessage('S_RMM', seqs[1]!, { erase: true }), true);
      await apiError(bus.streams.getMessage('S_RMM', { seq: seqs[0]! }), 404, E.NO_MESSAGE_FOUND);
      await apiError(bus.streams.getMessage('S_RMM', { seq: seqs[1]! }), 404, E.NO_MESSAGE_FOUND);
      assert.equal((await bus.streams.getMessage('S_RMM', { seq: seqs[2]! })).payload, 'three');
      const info = await bus.streams.info('S_RMM');
      assert.equal(info.state.messages, 1);
      // Below the first message, and past the end: a file stream's answers, as nats-server's file store gives them.
      await apiError(bus.streams.deleteMessage('S_RMM', seqs[0]!), 500, 10057);
      await apiError(bus.streams.deleteMessage('S_RMM', seqs[2]! + 10), 500, 10057);
      for (const bad of [0, -1, 1.5, Number.NaN]) assert.ok((await rejection(bus.streams.deleteMessage('S_RMM', bad))) instanceof TypeError, String(bad));
    });

    it('rejects names that cannot be subject tokens', async () => {
      for (const bad of ['a.b', 'a*', 'a>', 'a b', '']) {
        const err = await rejection(bus.streams.info(bad));
        assert.ok(err instanceof TypeError, bad);
      }
    });
  });

  describe('bus.consumers', () => {
    before(async () => {
      await bus.streams.add({ name: 'S_CONS', subjects: ['cons.>'] });
      await bus.publish('cons.a', 1);
      await bus.publish('cons.b', 2);
    });

    it('adds a durable pull consumer and reports its state', async () => {
      const info = await bus.consumers.add('S_CONS', {
        durable_name: 'worker',
        ack_policy: 'explicit',
        ack_wait: nanos(2_000),
        filter_subject: 'cons.a',
      });
      assert.equal(info.name, 'worker');
      assert.equal(info.stream_name, 'S_CONS');
      assert.equal(info.config.ack_wait, nanos(2_000));
      assert.equal(info.config.filter_subject, 'cons.a');
      assert.equal(info.num_pending, 1);
      assert.equal((await bus.consumers.info('S_CONS', 'worker')).config.durable_name, 'worker');
    });

    it('lists, names and deletes consumers', async () => {
      await bus.consumers.add('S_CONS', { durable_name: 'other', ack_policy: 'explicit' });
      assert.deepEqual((await bus.consumers.names('S_CONS')).sort(), ['other', 'worker']);
      assert.deepEqual((await bus.consumers.list('S_CONS')).map((c) => c.name).sort(), ['other', 'worker']);
      assert.equal(await bus.consumers.delete('S_CONS', 'other'), true);
      await apiError(bus.consumers.info('S_CONS', 'other'), 404, E.CONSUMER_NOT_FOUND);
      assert.deepEqual(await bus.consumers.names('S_CONS'), ['worker']);
    });

    it('fails for a consumer of a missing stream', async () => {
      await apiError(bus.consumers.info('NO_SUCH_STREAM', 'x'), 404, E.STREAM_NOT_FOUND);
    });
  });
});

describe('durable streams: API prefix and domain', () => {
  it('sends API calls under the configured prefix', async () => {
    const server = await startServer({ jetstream: true });
    const elsewhere = await connect({ servers: server.url, jetstream: { domain: 'elsewhere', timeout: 2_000 } });
    const here = await connect({ servers: server.url, jetstream: { apiPrefix: '$JS.API' } });
    try {
      // Nothing answers $JS.elsewhere.API.> on a server without that domain.
      assert.ok((await rejection(elsewhere.streams.names())) instanceof JetStreamNotEnabledError);
      assert.ok(Array.isArray(await here.streams.names()));
    } finally {
      await Promise.all([elsewhere.close(), here.close()]);
      await server.stop();
    }
  });

  it('refuses a domain that is not one subject token, and a domain with a prefix', async () => {
    await assert.rejects(connect({ jetstream: { domain: 'a.b' } }), { code: ErrorCode.CONFIG });
    await assert.rejects(connect({ jetstream: { domain: 'a', apiPrefix: 'X.API' } }), { code: ErrorCode.CONFIG });
  });
});

describe('durable streams: a server without JetStream', () => {
  it('rejects API calls with JetStreamNotEnabledError', async () => {
    const server = await startServer();
    const bus = await connect({ servers: server.url, name: 'js-off' });
    try {
      const err = await rejection(bus.streams.list());
      assert.ok(err instanceof JetStreamNotEnabledError);
      assert.equal(err.code, ErrorCode.JETSTREAM_NOT_ENABLED);
      // A durable publish finds nothing storing the subject either.
      assert.ok((await rejection(bus.publish('any.subject', 1))) instanceof NoStreamError);
    } finally {
      await bus.close();
      await server.stop();
    }
  });
});
