/**
 * Router observers (the dashboard's tail): they see each publish on a
 * matching subject, are no interest for delivery, and coming and going
 * is seen at once even on subjects whose match is cached.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router, type Observer } from '../../src/server/router.js';
import { Subscription, type Message, type Subscriber } from '../../src/server/types.js';

function subscriber(got: string[]): Subscriber {
  return {
    id: 1,
    opts: { verbose: false, pedantic: false, echo: true, headers: true, noResponders: true, protocol: 1, name: undefined, lang: undefined, version: undefined },
    closed: false,
    subs: new Map(),
    pending: 0,
    deliver(sub) {
      got.push(sub.subject);
      return true;
    },
    stall() {},
    removeSub() {},
    send() {},
    grantResponse() {},
    info: () => ({ id: 1, address: '', port: undefined, name: undefined, lang: undefined, version: undefined, user: undefined, tls: false }),
  };
}

function observer(subject: string, seen: string[]): Observer {
  return { subject, queue: undefined, observe: (m: Message) => void seen.push(m.subject) };
}

const msg = (subject: string): Message => ({ subject, reply: undefined, headerLength: 0, payload: Buffer.from('x') });

describe('router observers', () => {
  it('see matching publishes, on subjects with and without subscribers, and stop when removed', () => {
    const router = new Router(1 << 20);
    const delivered: string[] = [];
    router.sublist.insert(new Subscription(subscriber(delivered), 'a.x', undefined, '1'));
    const seen1: string[] = [];
    const o1 = observer('a.>', seen1);
    // Publish twice first: the subject's match (and the router's memo) is cached on the second miss.
    for (let i = 0; i < 3; i++) router.publish(null, msg('a.x'));
    router.observe(o1);
    router.publish(null, msg('a.x'));
    router.publish(null, msg('a.nobody'));
    router.publish(null, msg('b.x'));
    assert.deepEqual(seen1, ['a.x', 'a.nobody']);
    router.unobserve(o1);
    const seen2: string[] = [];
    const o2 = observer('a.x', seen2);
    router.observe(o2);
    router.publish(null, msg('a.x'));
    assert.deepEqual(seen1, ['a.x', 'a.nobody'], 'a removed observer sees nothing more');
    assert.deepEqual(seen2, ['a.x'], 'a new observer on a cached subject sees it at once');
    assert.equal(delivered.length, 5);
  });

  it('are no interest: a request reaches no one, and counters do not move', () => {
    const router = new Router(1 << 20);
    const seen: string[] = [];
    router.observe(observer('>', seen));
    assert.equal(router.hasInterest('svc.x'), false);
    const sent: string[] = [];
    const subs = new Map<string, Subscription>();
    const requester: Subscriber = { ...subscriber([]), subs, send: (line: string) => void sent.push(line) };
    subs.set('9', new Subscription(requester, '_INBOX.>', undefined, '9'));
    router.publish(requester, { ...msg('svc.x'), reply: '_INBOX.1' });
    assert.deepEqual(seen, ['svc.x']);
    assert.equal(router.counters.outMsgs + 0, 0, 'the counter (a double from the start: -0) did not move');
    assert.match(sent[0] ?? '', /^HMSG _INBOX\.1 9 .*NATS\/1\.0 503/s, 'no responders, though the tail saw it');
  });
});
