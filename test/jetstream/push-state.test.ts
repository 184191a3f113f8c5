/**
 * The push state on its own (src/server/jetstream/push.ts): the flow-control
 * window's arithmetic, the rate limit's token bucket, the idle heartbeat's
 * timing, and the interest waiters. No server: a fake owner and mock timers.
 */
import { describe, it, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW_CONTROL_MAX_PENDING, InterestWaiters, PushState, answerFlowControl, type PushOwner } from '../../src/server/jetstream/push.js';

const MS_NS = 1_000_000;

function owner(interest = true): PushOwner & { wakes: number; beats: Record<string, string | number>[] } {
  return {
    streamName: 'S',
    consumerName: 'C',
    wakes: 0,
    beats: [],
    wake() {
      this.wakes++;
    },
    heartbeat(h) {
      this.beats.push(h);
    },
    lastDelivered: () => ({ consumerSeq: 7, streamSeq: 9 }),
    hasInterest: () => interest,
  };
}

describe('push state', () => {
  afterEach(() => mock.timers.reset());

  it('flow control: a request past half the window, a stall past it, the window doubles per answer', () => {
    const o = owner();
    const p = new PushState(o, { deliver_subject: 'd', flow_control: true, idle_heartbeat: 1000 * MS_NS }, -1);
    const window = FLOW_CONTROL_MAX_PENDING / 16;
    const size = 100_000;
    let sent = 0;
    let fc: string | undefined;
    let fcAfter = 0;
    while (p.open(0)) {
      const r = p.sent(size, 0);
      sent++;
      if (r !== undefined) {
        assert.equal(fc, undefined, 'one request at a time');
        fc = r;
        fcAfter = sent;
      }
    }
    assert.equal(fcAfter, Math.floor(window / 2 / size) + 1);
    assert.equal(sent, Math.floor(window / size) + 1);
    assert.match(fc!, /^\$JS\.FC\.S\.C\.[A-Za-z0-9_-]{4}$/);
    // An answer to something else changes nothing.
    p.answered('$JS.FC.S.C.zzzz');
    assert.equal(p.open(0), false);
    assert.equal(o.wakes, 0);
    // The answer releases what the request covered and doubles the window.
    answerFlowControl(fc!, (s, c) => (s === 'S' && c === 'C' ? p : undefined));
    assert.equal(o.wakes, 1);
    assert.equal(p.open(0), true);
    let more = 0;
    while (p.open(0)) {
      p.sent(size, 0);
      more++;
    }
    const pendingAfterAnswer = (sent - fcAfter) * size;
    assert.equal(more, Math.floor((2 * window - pendingAfterAnswer) / size) + 1);
    p.stop();
  });

  it('rate limit: a burst, then one message per refill, woken by a timer', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const o = owner();
    // 8000 bps = 1000 bytes/s; burst = max_msg_size 1000.
    const p = new PushState(o, { deliver_subject: 'd', rate_limit_bps: 8000 }, 1000);
    assert.equal(p.open(0), true);
    p.sent(600, 0);
    assert.equal(p.open(0), true, '400 tokens left');
    p.sent(600, 0);
    assert.equal(p.open(0), false, '200 bytes in debt');
    assert.equal(o.wakes, 0);
    mock.timers.tick(199);
    assert.equal(o.wakes, 0);
    mock.timers.tick(1);
    assert.equal(o.wakes, 1, 'woken when the debt is paid');
    assert.equal(p.open(200), true);
    p.stop();
  });

  it('idle heartbeat: only after a quiet interval, with Nats-Consumer-Stalled while a request is out', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const o = owner();
    const p = new PushState(o, { deliver_subject: 'd', flow_control: true, idle_heartbeat: 100 * MS_NS }, -1);
    mock.timers.tick(60);
    p.sent(10, Date.now()); // activity at 60: the beat moves to 160
    mock.timers.tick(40);
    assert.equal(o.beats.length, 0);
    mock.timers.tick(60);
    assert.deepEqual(o.beats, [{ 'Nats-Last-Consumer': 7, 'Nats-Last-Stream': 9 }]);
    const fc = p.sent(FLOW_CONTROL_MAX_PENDING / 16, Date.now());
    assert.ok(fc !== undefined);
    mock.timers.tick(100);
    assert.deepEqual(o.beats[1], { 'Nats-Last-Consumer': 7, 'Nats-Last-Stream': 9, 'Nats-Consumer-Stalled': fc });
    p.stop();
    mock.timers.tick(1000);
    assert.equal(o.beats.length, 2, 'no beat after stop');
  });

  it('no heartbeat while nobody listens', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const o = owner(false);
    const p = new PushState(o, { deliver_subject: 'd', idle_heartbeat: 100 * MS_NS }, -1);
    mock.timers.tick(500);
    assert.equal(o.beats.length, 0);
    p.stop();
  });

  it('interest waiters: a literal subscription takes its subject, a wildcard takes what it matches', () => {
    const w = new InterestWaiters<string>();
    w.add('a.b', 'c1');
    w.add('a.b', 'c2');
    w.add('a.c', 'c3');
    w.add('x.y', 'c4');
    w.remove('x.y', 'c4');
    assert.equal(w.size, 2);
    assert.deepEqual(w.take('a.z'), []);
    assert.deepEqual(w.take('a.b').sort(), ['c1', 'c2']);
    assert.deepEqual(w.take('a.*'), ['c3']);
    assert.equal(w.size, 0);
  });
});
