/**
 * Durable streams between netemitter and the official NATS client
 * (@nats-io/jetstream): a stream made by one is used by the other, events
 * published by one are consumed by the other, headers and deduplication
 * included. Runs against NETEMITTER_TARGET with JetStream on.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { connect, type Bus, type DurableMeta } from '../../src/index.js';
import { skipInProcess, startServer, type TestServer } from '../helpers/target.js';
import { closeAll, connectTo } from '../helpers/client.js';
import { until } from './helpers/wait.js';

describe('durable streams with the official NATS client', { skip: skipInProcess('nats.js dials TCP only (it has no in-process transport)') }, () => {
  let server: TestServer;
  let nc: NatsConnection;
  let bus: Bus;

  before(async () => {
    server = await startServer({ jetstream: true });
    nc = await connectTo(server);
    bus = await connect({ servers: server.url, name: 'js-interop' });
  });

  after(async () => {
    if (bus !== undefined && !bus.isClosed) await bus.close();
    await closeAll(nc);
    await server?.stop();
  });

  it('nats.js publishes into a stream netemitter made; a durable listener gets the events', async () => {
    await bus.streams.add({ name: 'IOP_A', subjects: ['iopa.>'] });
    const js = jetstream(nc);
    const h = natsHeaders();
    h.set('Trace-Id', 'abc');
    const first = await js.publish('iopa.created', JSON.stringify({ id: 1 }), { msgID: 'n-1', headers: h });
    const dup = await js.publish('iopa.created', JSON.stringify({ id: 1 }), { msgID: 'n-1' });
    assert.equal(dup.duplicate, true);
    assert.equal(dup.seq, first.seq);
    await js.publish('iopa.created', 'plain text');
    const got: [unknown, DurableMeta][] = [];
    bus.on('iopa.created', (p: unknown, meta: DurableMeta) => void got.push([p, meta]), { durable: 'iop' });
    await until(() => got.length === 2, 'both stored events');
    assert.deepEqual(got.map(([p]) => p), [{ id: 1 }, 'plain text']);
    assert.equal(got[0]![1].headers?.get('Trace-Id'), 'abc');
    assert.equal(got[0]![1].headers?.get('Nats-Msg-Id'), 'n-1');
    assert.equal(got[0]![1].stream, 'IOP_A');
  });

  it('netemitter publishes into a stream nats.js made; a nats.js consumer gets and acks the events', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'IOP_B', subjects: ['iopb.*'] });
    await jsm.consumers.add('IOP_B', { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
    const a = await bus.publish('iopb.x', { n: 1 }, { msgId: 'b-1', headers: { Source: 'netemitter' } });
    assert.deepEqual(a, { stream: 'IOP_B', seq: 1, duplicate: false });
    const c = await jetstream(nc).consumers.get('IOP_B', 'reader');
    const m = await c.next({ expires: 2_000 });
    assert.ok(m, 'a message');
    assert.deepEqual(m.json(), { n: 1 });
    assert.equal(m.headers?.get('Source'), 'netemitter');
    assert.equal(m.headers?.get('Nats-Msg-Id'), 'b-1');
    await m.ackAck();
    const info = await bus.consumers.info('IOP_B', 'reader');
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.ack_floor.stream_seq, 1);
    // And the stream as netemitter sees it.
    const [s] = (await bus.streams.list()).filter((x) => x.config.name === 'IOP_B');
    assert.equal(s?.state.messages, 1);
  });
});
