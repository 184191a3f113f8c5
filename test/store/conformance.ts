/**
 * The contract every Store meets (on the model of aedes-persistence's
 * abstract.js): memory.test.ts and sqlite.test.ts run this same suite.
 * Backend-specific behaviour (reopen, migrations, crashes) lives beside them.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConsumerExistsError, ConsumerNotFoundError, StreamExistsError, StreamNotFoundError, StoreErrorCode,
  storedMessageSize, type Store, type StreamState, type StreamTotals,
} from '../../src/store/index.js';

export type MakeStore = () => Store;

const T0 = 1_700_000_000_000_000_000n;
const SEC = 1_000_000_000n;
const enc = (s: string) => Buffer.from(s);
const HDR = enc('NATS/1.0\r\nNats-Msg-Id: id-1\r\n\r\n');

const totalsOf = (st: StreamState): StreamTotals => ({ messages: st.messages, bytes: st.bytes, lastSeq: st.lastSeq, lastTimeNs: st.lastTimeNs });

export function storeConformance(name: string, makeStore: MakeStore): void {
  describe(`${name} store conformance`, () => {
    let store: Store;
    beforeEach(() => {
      store = makeStore();
    });
    afterEach(() => store.close());

    function fill(stream: string, subjects: string[], t = T0): number[] {
      return subjects.map((s, i) => store.append(stream, { subject: s, payload: enc(`p${i}`), timeNs: t + BigInt(i) * SEC }).seq);
    }

    describe('streams', () => {
      it('creates, reads, lists, updates and deletes', () => {
        const rec = store.createStream('ORDERS', { name: 'ORDERS', subjects: ['orders.>'] }, T0);
        assert.deepEqual(rec, { name: 'ORDERS', config: { name: 'ORDERS', subjects: ['orders.>'] }, createdNs: T0 });
        store.createStream('AUDIT', { name: 'AUDIT' }, T0 + 1n);
        assert.deepEqual(store.listStreams().map((s) => s.name), ['AUDIT', 'ORDERS']);
        assert.throws(() => store.createStream('ORDERS', {}, T0), (e: unknown) => e instanceof StreamExistsError && e.code === StoreErrorCode.STREAM_EXISTS);
        const up = store.updateStream('ORDERS', { name: 'ORDERS', max_msgs: 10 });
        assert.deepEqual(up.config, { name: 'ORDERS', max_msgs: 10 });
        assert.equal(up.createdNs, T0);
        assert.deepEqual(store.getStream('ORDERS')?.config, { name: 'ORDERS', max_msgs: 10 });
        assert.throws(() => store.updateStream('NOPE', {}), StreamNotFoundError);
        assert.equal(store.deleteStream('ORDERS'), true);
        assert.equal(store.deleteStream('ORDERS'), false);
        assert.equal(store.getStream('ORDERS'), undefined);
        assert.throws(() => store.streamState('ORDERS'), (e: unknown) => e instanceof StreamNotFoundError && e.code === StoreErrorCode.STREAM_NOT_FOUND);
      });

      it('returns configs the caller cannot mutate behind its back', () => {
        const cfg = { name: 'S', subjects: ['a'] };
        store.createStream('S', cfg, T0);
        cfg.subjects.push('b');
        const got = store.getStream('S')!;
        (got.config.subjects as string[]).push('c');
        assert.deepEqual(store.getStream('S')!.config, { name: 'S', subjects: ['a'] });
      });

      it('reports empty state as nats-server does', () => {
        store.createStream('S', {}, T0);
        assert.deepEqual(store.streamState('S'), {
          messages: 0, bytes: 0, firstSeq: 1, firstTimeNs: 0n, lastSeq: 0, lastTimeNs: 0n, numSubjects: 0, consumerCount: 0,
        });
      });

      it('deleting a stream removes its messages and consumers; a new one starts at seq 1', () => {
        store.createStream('S', {}, T0);
        fill('S', ['a', 'b']);
        store.createConsumer('S', 'c', {}, T0);
        store.recordDelivery('S', 'c', 1, 100);
        store.deleteStream('S');
        store.createStream('S', {}, T0);
        assert.equal(store.getMessage('S', 1), undefined);
        assert.deepEqual(store.listConsumers('S'), []);
        assert.equal(store.append('S', { subject: 'a', payload: enc('x'), timeNs: T0 }).seq, 1);
      });
    });

    describe('messages', () => {
      beforeEach(() => {
        store.createStream('S', {}, T0);
      });

      it('assigns consecutive seqs per stream, starting at 1', () => {
        store.createStream('OTHER', {}, T0);
        assert.deepEqual(fill('S', ['a', 'b', 'c']), [1, 2, 3]);
        assert.deepEqual(fill('OTHER', ['a']), [1]);
        assert.equal(store.append('S', { subject: 'a', payload: enc('x'), timeNs: T0 }).seq, 4);
      });

      it('append to a missing stream throws', () => {
        assert.throws(() => store.append('NOPE', { subject: 'a', payload: enc('x'), timeNs: T0 }), StreamNotFoundError);
      });

      it('keeps headers and payload byte for byte, and counts bytes as nats-server', () => {
        const payload = Buffer.from([0, 13, 10, 255, 0]);
        store.append('S', { subject: 'orders.new', headers: HDR, payload: enc('o1'), timeNs: T0, msgId: 'id-1' });
        store.append('S', { subject: 'orders.new', payload: enc('o2'), timeNs: T0 + SEC });
        // [wire] Part B.2 §3: these two messages make 119 bytes in nats-server's STREAM.INFO.
        assert.equal(store.streamState('S').bytes, 119);
        store.deleteMessage('S', 2);
        store.append('S', { subject: 'orders.new', payload, timeNs: T0 + SEC });
        const m1 = store.getMessage('S', 1)!;
        assert.deepEqual(Buffer.from(m1.headers), HDR);
        assert.deepEqual(Buffer.from(m1.payload), enc('o1'));
        assert.equal(m1.msgId, 'id-1');
        assert.equal(m1.timeNs, T0);
        const m2 = store.getMessage('S', 3)!;
        assert.equal(m2.headers.length, 0);
        assert.deepEqual(Buffer.from(m2.payload), payload);
        assert.equal(m2.msgId, undefined);
        assert.equal(store.streamState('S').bytes, m1.size + storedMessageSize('orders.new', undefined, payload));
      });

      it('copies the payload: a caller reusing its buffer does not change what is stored', () => {
        const buf = enc('abc');
        store.append('S', { subject: 'a', payload: buf, timeNs: T0 });
        buf.write('xyz');
        assert.equal(Buffer.from(store.getMessage('S', 1)!.payload).toString(), 'abc');
      });

      it('keeps state: first/last seq and time, counts, subjects', () => {
        fill('S', ['a', 'b', 'a']);
        const st = store.streamState('S');
        assert.equal(st.messages, 3);
        assert.equal(st.firstSeq, 1);
        assert.equal(st.firstTimeNs, T0);
        assert.equal(st.lastSeq, 3);
        assert.equal(st.lastTimeNs, T0 + 2n * SEC);
        assert.equal(st.numSubjects, 2);
        assert.equal(st.bytes, 3 * storedMessageSize('a', undefined, enc('p0')));
        assert.deepEqual(store.streamTotals('S'), totalsOf(st));
        store.deleteMessage('S', 1);
        assert.deepEqual(store.streamTotals('S'), { messages: 2, bytes: (2 * st.bytes) / 3, lastSeq: 3, lastTimeNs: T0 + 2n * SEC });
        assert.throws(() => store.streamTotals('nope'), StreamNotFoundError);
      });

      it('dedups a msgId within the window, returning the original seq', () => {
        const w = 120n * SEC;
        assert.deepEqual(store.append('S', { subject: 'a', payload: enc('1'), timeNs: T0, msgId: 'm' }, w), { seq: 1, duplicate: false });
        assert.deepEqual(store.append('S', { subject: 'a', payload: enc('2'), timeNs: T0 + 60n * SEC, msgId: 'm' }, w), { seq: 1, duplicate: true });
        assert.equal(store.streamState('S').messages, 1);
        // Other ids, and the same id without a window, are stored.
        assert.equal(store.append('S', { subject: 'a', payload: enc('3'), timeNs: T0 + 61n * SEC, msgId: 'n' }, w).seq, 2);
        assert.equal(store.append('S', { subject: 'a', payload: enc('4'), timeNs: T0 + 62n * SEC, msgId: 'm' }).seq, 3);
        // Past the window from the first store of 'm', it is new again.
        assert.deepEqual(store.append('S', { subject: 'a', payload: enc('5'), timeNs: T0 + 121n * SEC, msgId: 'm' }, w), { seq: 4, duplicate: false });
        assert.deepEqual(store.append('S', { subject: 'a', payload: enc('6'), timeNs: T0 + 122n * SEC, msgId: 'm' }, w), { seq: 4, duplicate: true });
        // findMsgId answers the same question without storing anything.
        const before = store.streamState('S').lastSeq;
        assert.equal(store.findMsgId('S', 'm', T0 + 121n * SEC), 4);
        assert.equal(store.findMsgId('S', 'm', T0 + 121n * SEC + 1n), undefined, 'stored before sinceNs');
        assert.equal(store.findMsgId('S', 'n', T0), 2);
        assert.equal(store.findMsgId('S', 'none', T0), undefined);
        assert.equal(store.findMsgId('NOPE', 'm', T0), undefined);
        assert.equal(store.streamState('S').lastSeq, before);
      });

      it('dedup survives a purge of the original (as nats-server)', () => {
        const w = 120n * SEC;
        store.append('S', { subject: 'a', payload: enc('1'), timeNs: T0, msgId: 'm' }, w);
        store.purge('S');
        assert.deepEqual(store.append('S', { subject: 'a', payload: enc('2'), timeNs: T0 + SEC, msgId: 'm' }, w), { seq: 1, duplicate: true });
      });

      it('gets the last message by subject, literal or wildcard', () => {
        fill('S', ['o.a', 'o.b', 'o.a', 'x']);
        assert.equal(store.getLastMessage('S', 'o.a')?.seq, 3);
        assert.equal(store.getLastMessage('S', 'o.*')?.seq, 3);
        assert.equal(store.getLastMessage('S', '>')?.seq, 4);
        assert.equal(store.getLastMessage('S', 'none'), undefined);
      });

      it('loads from a seq with filters and a limit; next skips gaps', () => {
        fill('S', ['o.a', 'o.b', 'x.a', 'o.a.deep', 'o.c']);
        const seqs = (f?: string | string[], from = 1, limit?: number) => store.loadMessages('S', from, { filter: f, limit }).map((m) => m.seq);
        assert.deepEqual(seqs(), [1, 2, 3, 4, 5]);
        assert.deepEqual(seqs(undefined, 3), [3, 4, 5]);
        assert.deepEqual(seqs('o.*'), [1, 2, 5]);
        assert.deepEqual(seqs('o.>'), [1, 2, 4, 5]);
        assert.deepEqual(seqs('*.a'), [1, 3]);
        assert.deepEqual(seqs('o.a'), [1]);
        assert.deepEqual(seqs(['x.a', 'o.c']), [3, 5]);
        assert.deepEqual(seqs('o.>', 2, 2), [2, 4]);
        assert.deepEqual(seqs(undefined, 1, 0), []);
        // countMessages agrees with loadMessages for every kind of filter.
        for (const [f, from] of [[undefined, 1], [undefined, 3], ['o.*', 1], ['o.>', 2], ['o.a', 1], [['x.a', 'o.c'], 1], ['none', 1]] as const) {
          assert.equal(store.countMessages('S', from, f as string | string[] | undefined), seqs(f as string | string[] | undefined, from).length);
        }
        assert.equal(store.countMessages('NOPE', 1), 0);
        assert.equal(store.deleteMessage('S', 2), true);
        assert.equal(store.countMessages('S', 1), 4);
        assert.equal(store.nextMessage('S', 2)?.seq, 3);
        assert.equal(store.nextMessage('S', 2, 'o.*')?.seq, 5);
        assert.equal(store.nextMessage('S', 6), undefined);
        assert.deepEqual(store.loadMessages('NOPE', 1), []);
      });

      it('deletes by seq, keeping last seq and fixing counters', () => {
        fill('S', ['a', 'b', 'c']);
        assert.equal(store.deleteMessage('S', 3), true);
        assert.equal(store.deleteMessage('S', 3), false);
        assert.equal(store.deleteMessage('S', 1), true);
        const st = store.streamState('S');
        assert.equal(st.messages, 1);
        assert.equal(st.firstSeq, 2);
        assert.equal(st.lastSeq, 3);
        assert.equal(st.bytes, storedMessageSize('b', undefined, enc('p1')));
        assert.equal(store.append('S', { subject: 'd', payload: enc('x'), timeNs: T0 }).seq, 4);
      });
    });

    describe('purge', () => {
      const subjects = ['o.a', 'o.b', 'o.a', 'x', 'o.a', 'o.b'];
      beforeEach(() => {
        store.createStream('S', {}, T0);
        fill('S', subjects);
      });
      const left = () => store.loadMessages('S', 1).map((m) => m.seq);

      it('all: empty, first seq moves past last', () => {
        assert.equal(store.purge('S'), 6);
        const st = store.streamState('S');
        assert.deepEqual([st.messages, st.bytes, st.firstSeq, st.lastSeq, st.numSubjects], [0, 0, 7, 6, 0]);
        assert.equal(store.append('S', { subject: 'a', payload: enc('x'), timeNs: T0 }).seq, 7);
      });
      it('up to a seq (exclusive)', () => {
        assert.equal(store.purge('S', { upTo: 4 }), 3);
        assert.deepEqual(left(), [4, 5, 6]);
        assert.equal(store.streamState('S').firstSeq, 4);
      });
      it('by literal subject', () => {
        assert.equal(store.purge('S', { filter: 'o.a' }), 3);
        assert.deepEqual(left(), [2, 4, 6]);
        assert.equal(store.streamState('S').numSubjects, 2);
      });
      it('by wildcard subject', () => {
        assert.equal(store.purge('S', { filter: 'o.*' }), 5);
        assert.deepEqual(left(), [4]);
        assert.equal(store.streamState('S').bytes, storedMessageSize('x', undefined, enc('p3')));
      });
      it('keep the newest N', () => {
        assert.equal(store.purge('S', { keep: 2 }), 4);
        assert.deepEqual(left(), [5, 6]);
      });
      it('by subject keeping N, literal and wildcard', () => {
        assert.equal(store.purge('S', { filter: 'o.a', keep: 1 }), 2);
        assert.deepEqual(left(), [2, 4, 5, 6]);
        assert.equal(store.purge('S', { filter: 'o.*', keep: 2 }), 1);
        assert.deepEqual(left(), [4, 5, 6]);
      });
      it('by subject up to a seq', () => {
        assert.equal(store.purge('S', { filter: 'o.b', upTo: 6 }), 1);
        assert.deepEqual(left(), [1, 3, 4, 5, 6]);
      });
      it('keeping more than there are removes nothing', () => {
        assert.equal(store.purge('S', { keep: 10 }), 0);
        assert.equal(store.purge('S', { filter: 'o.*', keep: 10 }), 0);
        assert.deepEqual(left(), [1, 2, 3, 4, 5, 6]);
      });
      it('a missing stream throws', () => {
        assert.throws(() => store.purge('NOPE'), StreamNotFoundError);
      });
    });

    describe('limits helpers', () => {
      beforeEach(() => {
        store.createStream('S', {}, T0);
        fill('S', ['a', 'b', 'a', 'b', 'a']);
      });
      it('removeOldest, overall and per subject', () => {
        assert.equal(store.removeOldest('S'), 1);
        assert.equal(store.removeOldest('S', 'a'), 3);
        assert.equal(store.removeOldest('S', 'none'), 0);
        assert.deepEqual(store.loadMessages('S', 1).map((m) => m.seq), [2, 4, 5]);
        assert.equal(store.streamState('S').messages, 3);
      });
      it('removeOldest until max_bytes fits', () => {
        const size = storedMessageSize('a', undefined, enc('p0'));
        while (store.streamState('S').bytes > 2 * size) store.removeOldest('S');
        assert.deepEqual(store.loadMessages('S', 1).map((m) => m.seq), [4, 5]);
      });
      it('removeOlderThan (max_age)', () => {
        assert.equal(store.removeOlderThan('S', T0 + 2n * SEC), 2);
        assert.equal(store.streamState('S').firstSeq, 3);
        assert.equal(store.removeOlderThan('S', T0), 0);
        assert.equal(store.removeOlderThan('S', T0 + 100n * SEC), 3, 'all of them');
        assert.equal(store.streamState('S').messages, 0);
        assert.equal(store.removeOlderThan('S', T0 + 100n * SEC), 0);
      });
      it('subjectCount (max_msgs_per_subject)', () => {
        assert.equal(store.subjectCount('S', 'a'), 3);
        assert.equal(store.subjectCount('S', 'b'), 2);
        assert.equal(store.subjectCount('S', 'c'), 0);
        while (store.subjectCount('S', 'a') > 1) store.removeOldest('S', 'a');
        assert.deepEqual(store.loadMessages('S', 1).map((m) => m.seq), [2, 4, 5]);
      });
      it('removeOldest on an empty stream returns 0', () => {
        store.purge('S');
        assert.equal(store.removeOldest('S'), 0);
      });
    });

    describe('consumers', () => {
      beforeEach(() => {
        store.createStream('S', {}, T0);
        fill('S', ['a', 'b', 'c', 'd']);
      });

      it('create, get, list, update, delete', () => {
        const c = store.createConsumer('S', 'w', { durable_name: 'w', ack_policy: 'explicit' }, T0);
        assert.deepEqual(c, {
          stream: 'S', name: 'w', config: { durable_name: 'w', ack_policy: 'explicit' }, createdNs: T0,
          delivered: { consumerSeq: 0, streamSeq: 0 }, ackFloor: { consumerSeq: 0, streamSeq: 0 }, numAckPending: 0, numRedelivered: 0,
        });
        store.createConsumer('S', 'a', {}, T0);
        assert.deepEqual(store.listConsumers('S').map((x) => x.name), ['a', 'w']);
        assert.equal(store.streamState('S').consumerCount, 2);
        assert.throws(() => store.createConsumer('S', 'w', {}, T0), (e: unknown) => e instanceof ConsumerExistsError && e.code === StoreErrorCode.CONSUMER_EXISTS);
        assert.throws(() => store.createConsumer('NOPE', 'w', {}, T0), StreamNotFoundError);
        store.recordDelivery('S', 'w', 1, 1000);
        const up = store.updateConsumer('S', 'w', { durable_name: 'w', ack_wait: 5 });
        assert.deepEqual(up.config, { durable_name: 'w', ack_wait: 5 });
        assert.equal(up.numAckPending, 1, 'an update keeps the ack state');
        assert.throws(() => store.updateConsumer('S', 'x', {}), ConsumerNotFoundError);
        assert.equal(store.deleteConsumer('S', 'w'), true);
        assert.equal(store.deleteConsumer('S', 'w'), false);
        assert.equal(store.getConsumer('S', 'w'), undefined);
        assert.deepEqual(store.pendingAcks('S', 'w'), []);
      });

      it('a start seq sets where delivery begins', () => {
        const c = store.createConsumer('S', 'n', {}, T0, 3);
        assert.deepEqual([c.delivered, c.ackFloor], [{ consumerSeq: 0, streamSeq: 3 }, { consumerSeq: 0, streamSeq: 3 }]);
        assert.deepEqual(store.recordDelivery('S', 'n', 4, 100), { consumerSeq: 1, deliveries: 1 });
        assert.equal(store.ack('S', 'n', 4), true);
        assert.deepEqual(store.getConsumer('S', 'n')!.ackFloor, { consumerSeq: 1, streamSeq: 4 });
        // Survives in the stored row, not only in the returned record.
        assert.deepEqual(store.listConsumers('S').find((x) => x.name === 'n')!.delivered, { consumerSeq: 1, streamSeq: 4 });
      });

      it('delivery, ack and the ack floor', () => {
        store.createConsumer('S', 'w', {}, T0);
        assert.deepEqual(store.recordDelivery('S', 'w', 1, 100), { consumerSeq: 1, deliveries: 1 });
        assert.deepEqual(store.recordDelivery('S', 'w', 2, 100), { consumerSeq: 2, deliveries: 1 });
        assert.deepEqual(store.recordDelivery('S', 'w', 3, 100), { consumerSeq: 3, deliveries: 1 });
        let c = store.getConsumer('S', 'w')!;
        assert.deepEqual([c.delivered, c.ackFloor, c.numAckPending], [{ consumerSeq: 3, streamSeq: 3 }, { consumerSeq: 0, streamSeq: 0 }, 3]);
        // Acking out of order leaves the floor below the oldest pending.
        assert.equal(store.ack('S', 'w', 2), true);
        assert.equal(store.ack('S', 'w', 2), false, 'a second ack is not pending any more');
        assert.deepEqual(store.getConsumer('S', 'w')!.ackFloor, { consumerSeq: 0, streamSeq: 0 });
        assert.equal(store.ack('S', 'w', 1), true);
        assert.deepEqual(store.getConsumer('S', 'w')!.ackFloor, { consumerSeq: 2, streamSeq: 2 });
        assert.equal(store.ack('S', 'w', 3), true);
        c = store.getConsumer('S', 'w')!;
        assert.deepEqual([c.ackFloor, c.numAckPending], [{ consumerSeq: 3, streamSeq: 3 }, 0]);
        assert.equal(store.ack('S', 'w', 4), false, 'never delivered');
        assert.equal(store.ack('S', 'nobody', 1), false);
        assert.throws(() => store.recordDelivery('S', 'nobody', 1, 0), ConsumerNotFoundError);
      });

      it('settled deliveries (ack none): the consumer seq, delivered and the ack floor move in one step', () => {
        store.createConsumer('S', 'none', {}, T0, 2);
        assert.equal(store.recordSettledDeliveries('S', 'none', 3, 7), 3);
        let c = store.getConsumer('S', 'none')!;
        assert.deepEqual([c.delivered, c.ackFloor, c.numAckPending], [{ consumerSeq: 3, streamSeq: 7 }, { consumerSeq: 3, streamSeq: 7 }, 0]);
        assert.deepEqual(store.pendingAcks('S', 'none'), []);
        assert.equal(store.recordSettledDeliveries('S', 'none', 1, 9), 4);
        c = store.listConsumers('S').find((x) => x.name === 'none')!;
        assert.deepEqual([c.delivered, c.ackFloor], [{ consumerSeq: 4, streamSeq: 9 }, { consumerSeq: 4, streamSeq: 9 }]);
        assert.throws(() => store.recordSettledDeliveries('S', 'nobody', 1, 1), ConsumerNotFoundError);
      });

      it('nak and ack_wait expiry redeliver with a new consumer seq and a higher count', () => {
        store.createConsumer('S', 'w', {}, T0);
        store.recordDelivery('S', 'w', 1, 1000);
        store.recordDelivery('S', 'w', 2, 1000);
        assert.deepEqual(store.dueAcks('S', 'w', 999), []);
        assert.equal(store.nak('S', 'w', 2, 500), true);
        assert.equal(store.nak('S', 'w', 3, 500), false);
        assert.deepEqual(store.dueAcks('S', 'w', 600), [{ streamSeq: 2, consumerSeq: 2, deliveries: 1, deadlineMs: 500 }]);
        assert.deepEqual(store.dueAcks('S', 'w', 1000).map((p) => p.streamSeq), [2, 1], 'earliest deadline first');
        assert.deepEqual(store.dueAcks('S', 'w', 1000, 1).map((p) => p.streamSeq), [2]);
        // The next deadline still ahead: what a redelivery timer waits for.
        assert.equal(store.nextDeadline('S', 'w', 0), 500);
        assert.equal(store.nextDeadline('S', 'w', 500), 1000);
        assert.equal(store.nextDeadline('S', 'w', 1000), undefined);
        assert.equal(store.nextDeadline('S', 'nobody', 0), undefined);
        // [wire] Part B.2 §10: after a NAK, `$JS.ACK.ORDERS.worker.2.2.3…`: delivered 2, sseq 2, dseq 3.
        assert.deepEqual(store.recordDelivery('S', 'w', 2, 3000), { consumerSeq: 3, deliveries: 2 });
        const c = store.getConsumer('S', 'w')!;
        assert.deepEqual([c.delivered, c.numAckPending, c.numRedelivered], [{ consumerSeq: 3, streamSeq: 2 }, 2, 1]);
        assert.deepEqual(store.pendingAcks('S', 'w'), [
          { streamSeq: 1, consumerSeq: 1, deliveries: 1, deadlineMs: 1000 },
          { streamSeq: 2, consumerSeq: 3, deliveries: 2, deadlineMs: 3000 },
        ]);
      });

      it('progress (+WPI) pushes the deadline', () => {
        store.createConsumer('S', 'w', {}, T0);
        store.recordDelivery('S', 'w', 1, 1000);
        assert.equal(store.progress('S', 'w', 1, 5000), true);
        assert.deepEqual(store.dueAcks('S', 'w', 4999), []);
        assert.equal(store.dueAcks('S', 'w', 5000).length, 1);
      });

      it('term removes the message for good and counts for the floor', () => {
        store.createConsumer('S', 'w', {}, T0);
        store.recordDelivery('S', 'w', 1, 100);
        assert.equal(store.term('S', 'w', 1), true);
        assert.equal(store.term('S', 'w', 1), false);
        assert.deepEqual(store.dueAcks('S', 'w', Number.MAX_SAFE_INTEGER), []);
        assert.deepEqual(store.getConsumer('S', 'w')!.ackFloor, { consumerSeq: 1, streamSeq: 1 });
      });

      it('ackUpTo acks everything pending at or below a seq (AckAll)', () => {
        store.createConsumer('S', 'w', {}, T0);
        for (const q of [1, 2, 3, 4]) store.recordDelivery('S', 'w', q, 100);
        assert.equal(store.ackUpTo('S', 'w', 3), 3);
        assert.deepEqual(store.pendingAcks('S', 'w').map((p) => p.streamSeq), [4]);
        assert.deepEqual(store.getConsumer('S', 'w')!.ackFloor, { consumerSeq: 3, streamSeq: 3 });
        assert.equal(store.ackUpTo('S', 'w', 3), 0);
      });

      it('consumers keep separate ack state', () => {
        store.createConsumer('S', 'a', {}, T0);
        store.createConsumer('S', 'b', {}, T0);
        store.recordDelivery('S', 'a', 1, 100);
        store.recordDelivery('S', 'b', 1, 100);
        store.ack('S', 'a', 1);
        assert.equal(store.getConsumer('S', 'a')!.numAckPending, 0);
        assert.equal(store.getConsumer('S', 'b')!.numAckPending, 1);
      });
    });

    describe('transactions', () => {
      beforeEach(() => {
        store.createStream('S', {}, T0);
      });

      it('commits everything together and returns fn’s value', () => {
        const seqs = store.transaction(() => fill('S', ['a', 'b']));
        assert.deepEqual(seqs, [1, 2]);
        assert.equal(store.streamState('S').messages, 2);
      });

      it('a throw rolls back appends, deletes, dedup, streams and consumer state', () => {
        const w = 60n * SEC;
        store.append('S', { subject: 'a', payload: enc('1'), timeNs: T0, msgId: 'keep' }, w);
        store.append('S', { subject: 'b', payload: enc('2'), timeNs: T0 });
        store.createConsumer('S', 'w', {}, T0);
        store.recordDelivery('S', 'w', 1, 100);
        const before = { state: store.streamState('S'), consumer: store.getConsumer('S', 'w'), pending: store.pendingAcks('S', 'w') };
        const boom = new Error('boom');
        assert.throws(() => store.transaction(() => {
          store.append('S', { subject: 'c', payload: enc('3'), timeNs: T0 + SEC, msgId: 'new' }, w);
          store.deleteMessage('S', 1);
          store.purge('S', { filter: 'b' });
          store.recordDelivery('S', 'w', 2, 100);
          store.ack('S', 'w', 1);
          store.updateStream('S', { changed: true });
          store.createStream('T', {}, T0);
          store.deleteConsumer('S', 'w');
          throw boom;
        }), (e: unknown) => e === boom);
        assert.deepEqual(store.streamState('S'), before.state);
        assert.deepEqual(store.streamTotals('S'), totalsOf(before.state));
        assert.deepEqual(store.getConsumer('S', 'w'), before.consumer);
        assert.deepEqual(store.pendingAcks('S', 'w'), before.pending);
        assert.deepEqual(store.getStream('S')!.config, {});
        assert.equal(store.getStream('T'), undefined);
        assert.deepEqual(store.loadMessages('S', 1).map((m) => m.seq), [1, 2], 'order survives the rollback');
        // The rolled-back msgId is free, the committed one still dedups, and seq 3 is reused.
        assert.deepEqual(store.append('S', { subject: 'c', payload: enc('3'), timeNs: T0 + 2n * SEC, msgId: 'new' }, w), { seq: 3, duplicate: false });
        assert.deepEqual(store.append('S', { subject: 'a', payload: enc('1'), timeNs: T0 + 2n * SEC, msgId: 'keep' }, w), { seq: 1, duplicate: true });
      });

      it('a caught throw in a nested transaction undoes only the inner part', () => {
        store.transaction(() => {
          fill('S', ['a']);
          assert.throws(() => store.transaction(() => {
            fill('S', ['b']);
            throw new Error('inner');
          }));
          fill('S', ['c']);
          assert.equal(store.streamTotals('S').messages, 2);
        });
        assert.deepEqual(store.loadMessages('S', 1).map((m) => [m.seq, m.subject]), [[1, 'a'], [2, 'c']]);
        const st = store.streamState('S');
        assert.equal(st.messages, 2);
        assert.equal(st.lastSeq, 2);
        assert.equal(st.bytes, 2 * storedMessageSize('a', undefined, enc('p0')));
        assert.deepEqual(store.streamTotals('S'), totalsOf(st));
      });

      it('a failing call leaves nothing half done', () => {
        store.createConsumer('S', 'w', {}, T0);
        assert.throws(() => store.transaction(() => {
          store.append('S', { subject: 'a', payload: enc('1'), timeNs: T0 });
          store.createConsumer('S', 'w', {}, T0); // ConsumerExistsError
        }), ConsumerExistsError);
        assert.equal(store.streamState('S').lastSeq, 0);
      });
    });
  });
}
