/**
 * Schemas and streams (issue #19): a JetStream publish that breaks the
 * schema gets the error PubAck (err_code 19001) and stores nothing; the
 * deadLetter action republishes the event, headers kept and two added, where
 * subscribers and streams take it and no rule checks it again; a request
 * from the official client fails at once on the 400 status. Hub only.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { createHub, type Hub } from '../../src/index.js';
import { RawClient, connectLine } from '../helpers/raw.js';
import { skipUnlessHub } from '../helpers/target.js';
import { closeAll, rejection, within } from '../helpers/client.js';
import { TICKET, errLine, exchange, pub, reasonFor, skipSeen } from './schema-helpers.js';

const SKIP = skipUnlessHub('nats-server checks no schema');
const WAIT_MS = 10_000;

describe('schemas and JetStream', { skip: SKIP }, () => {
  let hub: Hub;
  let port: number;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const raws: RawClient[] = [];

  before(async () => {
    hub = createHub({
      host: '127.0.0.1',
      port: 0,
      jetstream: true,
      schemas: [
        { subjects: ['orders.>', 'lookup.>'], schema: TICKET },
        { subjects: ['tickets.>'], schema: TICKET, action: 'deadLetter' },
        // Dead letters break this one, and are never checked again.
        { subjects: ['dlq.>'], schema: false },
      ],
    });
    port = (await hub.listen())[0]!.port!;
    nc = await connect({ servers: `127.0.0.1:${port}` });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    await jsm.streams.add({ name: 'TICKETS', subjects: ['tickets.>'] });
    await jsm.streams.add({ name: 'DLQ', subjects: ['dlq.schema.>'] });
  });

  after(async () => {
    for (const r of raws) await r.close();
    await closeAll(nc);
    await hub.close({ grace: 0 });
  });

  async function raw(): Promise<RawClient> {
    const r = await RawClient.connect({ host: '127.0.0.1', port });
    raws.push(r);
    await r.roundTrip(connectLine());
    skipSeen(r);
    return r;
  }

  async function count(stream: string): Promise<number> {
    return (await jsm.streams.info(stream)).state.messages;
  }

  it('refuses a JetStream publish with the error PubAck 19001 and stores nothing', async () => {
    const ack = await js.publish('orders.created', JSON.stringify({ id: 'O-1', priority: 'low' }));
    assert.equal(ack.seq, 1);
    const bad = JSON.stringify({ id: 'O-2', priority: 'urgent' });
    const err = await rejection(within(js.publish('orders.created', bad), WAIT_MS, 'the PubAck'));
    assert.ok(err instanceof JetStreamApiError, String(err));
    assert.deepEqual(err.apiError(), { code: 400, err_code: 19001, description: `schema violation: ${reasonFor(TICKET, bad)}` });
    assert.equal(await count('ORDERS'), 1, 'nothing stored');
    assert.equal(nc.isClosed(), false);
    assert.equal((await js.publish('orders.created', JSON.stringify({ id: 'O-3', priority: 'high' }))).seq, 2);
  });

  it('sends the PubAck, not the 400 status, on the wire: a request to a captured subject is a JetStream publish', async () => {
    const r = await raw();
    await exchange(r, 'SUB _INBOX.ack 1\r\n');
    const bad = '{"id":"O-4"}';
    const reason = reasonFor(TICKET, bad);
    const ack = `{"error":{"code":400,"err_code":19001,"description":"schema violation: ${reason.replace(/"/g, '\\"')}"}}`;
    assert.equal(await exchange(r, pub('orders.created', bad, '_INBOX.ack')), errLine('orders.created', reason) + `MSG _INBOX.ack 1 ${ack.length}\r\n${ack}\r\nPONG\r\n`);
  });

  it('dead-letters an event with its headers plus the rule and the reason, to subscribers and streams, unchecked', async () => {
    const dlq = await raw();
    await exchange(dlq, 'SUB dlq.schema.> 1\r\n');
    const p = await raw();
    const bad = '{"id":"T-9","priority":"urgent"}';
    const reason = reasonFor(TICKET, bad);
    const hdr = 'NATS/1.0\r\nX-Trace: abc\r\n\r\n';
    const before = await count('DLQ');
    const text = await exchange(p, `HPUB tickets.created ${hdr.length} ${hdr.length + bad.length}\r\n${hdr}${bad}\r\n`);
    assert.equal(text, errLine('tickets.created', reason) + 'PONG\r\n');
    const dead = `NATS/1.0\r\nX-Trace: abc\r\nNetemitter-Schema: inline#2\r\nNetemitter-Schema-Error: ${reason}\r\n\r\n`;
    assert.equal(await exchange(dlq), `HMSG dlq.schema.tickets.created 1 ${dead.length} ${dead.length + bad.length}\r\n${dead}${bad}\r\nPONG\r\n`);
    assert.equal(await count('DLQ'), before + 1);
    const stored = await jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.schema.tickets.created' });
    assert.equal(stored!.string(), bad);
    assert.equal(stored!.header.get('X-Trace'), 'abc');
    assert.equal(stored!.header.get('Netemitter-Schema'), 'inline#2');
    assert.equal(stored!.header.get('Netemitter-Schema-Error'), reason);
    assert.equal(await count('TICKETS'), 0, 'the event itself is not stored');

    // Without headers of its own, the dead letter gets a header block of its own.
    await exchange(p, pub('tickets.closed', 'oops'));
    const plain = await jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.schema.tickets.closed' });
    assert.deepEqual([...plain!.header.keys()].sort(), ['Netemitter-Schema', 'Netemitter-Schema-Error']);
    assert.equal(plain!.string(), 'oops');
  });

  it('dead-letters a JetStream publish too, which still gets the error PubAck', async () => {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'm-1');
    const bad = JSON.stringify({ id: 5 });
    const err = await rejection(within(js.publish('tickets.updated', bad, { headers: h }), WAIT_MS, 'the PubAck'));
    assert.ok(err instanceof JetStreamApiError && err.code === 19001, String(err));
    const stored = await jsm.streams.getMessage('DLQ', { last_by_subj: 'dlq.schema.tickets.updated' });
    assert.equal(stored!.header.get('Nats-Msg-Id'), 'm-1');
    assert.equal(stored!.string(), bad);
  });

  it('fails an official client’s request at once with the 400 status and the reason', async () => {
    const sub = nc.subscribe('lookup.ticket', { callback: (_e, m) => void m.respond('{}') });
    try {
      const bad = '{"id":"O-5","priority":"soon"}';
      // No responder would answer in time: only the status can end this request before its timeout.
      const m = await within(nc.request('lookup.ticket', bad, { timeout: 60_000 }), WAIT_MS, 'the 400 status');
      assert.equal(m.headers?.code, 400);
      assert.equal(m.headers?.description, 'Schema Violation');
      assert.equal(m.headers?.get('Netemitter-Schema-Error'), reasonFor(TICKET, bad));
      assert.equal(m.data.length, 0);
    } finally {
      sub.unsubscribe();
    }
  });
});
