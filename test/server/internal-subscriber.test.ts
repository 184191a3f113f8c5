/**
 * The internal subscriber (a subscriber with no socket): what the router
 * delivers to it arrives decoded as the message that was published, its
 * subscriptions go through the hub's subscribe path, and a request from it
 * with no responders gets the 503 back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/server/router.js';
import { InternalSubscriber, type InternalHub } from '../../src/server/internal-subscriber.js';
import type { Message, Subscription } from '../../src/server/types.js';

interface Got {
  sid: string;
  subject: string;
  reply: string | undefined;
  headers: string;
  body: string;
}

function setUp(): { router: Router; hub: InternalHub; got: Got[]; sub: InternalSubscriber } {
  const router = new Router(1 << 20);
  const hub: InternalHub = {
    publish: (from, msg) => router.publish(from, msg),
    addSubscription: (s) => router.sublist.insert(s),
    removeSubscription: (s) => void router.sublist.remove(s),
  };
  const got: Got[] = [];
  const sub = new InternalSubscriber(hub, (s: Subscription, m: Message) => {
    const p = Buffer.from(m.payload);
    got.push({ sid: s.sid, subject: m.subject, reply: m.reply, headers: p.subarray(0, m.headerLength).toString(), body: p.subarray(m.headerLength).toString() });
  });
  return { router, hub, got, sub };
}

const HDR = 'NATS/1.0\r\nA: b\r\n\r\n';

describe('InternalSubscriber', () => {
  it('gets each message as published: subject, reply, headers and body', () => {
    const { router, got, sub } = setUp();
    const s1 = sub.subscribe('a.*');
    assert.equal(router.sublist.size, 1);
    const send = (subject: string, reply: string | undefined, headers: string, body: string): void =>
      router.publish(null, { subject, reply, headerLength: headers.length, payload: Buffer.from(headers + body) });
    // Three times each: the router's encoded parts are cached from the second publish of a subject on.
    for (let i = 0; i < 3; i++) {
      send('a.x', undefined, '', 'plain');
      send('a.y', 'r.1', '', 'with reply');
      send('a.x', undefined, HDR, 'with headers');
      send('a.z', 'r.2', HDR, 'both');
    }
    assert.equal(got.length, 12);
    assert.deepEqual(got.slice(8), [
      { sid: s1.sid, subject: 'a.x', reply: undefined, headers: '', body: 'plain' },
      { sid: s1.sid, subject: 'a.y', reply: 'r.1', headers: '', body: 'with reply' },
      { sid: s1.sid, subject: 'a.x', reply: undefined, headers: HDR, body: 'with headers' },
      { sid: s1.sid, subject: 'a.z', reply: 'r.2', headers: HDR, body: 'both' },
    ]);
    sub.unsubscribe(s1);
    assert.equal(router.sublist.size, 0);
    send('a.x', undefined, '', 'gone');
    assert.equal(got.length, 12);
  });

  it('a request with no responders gets the 503 status on its inbox', () => {
    const { got, sub } = setUp();
    const inbox = sub.subscribe('_INBOX.t.*');
    sub.publish({ subject: 'nobody', reply: '_INBOX.t.1', headerLength: 0, payload: Buffer.from('?') });
    assert.equal(got.length, 1);
    assert.equal(got[0]!.sid, inbox.sid);
    assert.equal(got[0]!.subject, '_INBOX.t.1');
    assert.match(got[0]!.headers, /^NATS\/1\.0 503/);
    assert.equal(got[0]!.body, '');
  });

  it('rejects a bad subject, and close() drops every subscription', () => {
    const { router, sub } = setUp();
    assert.throws(() => sub.subscribe('a..b'), /invalid subject/);
    sub.subscribe('x');
    sub.subscribe('y', 'q');
    assert.equal(router.sublist.size, 2);
    sub.close();
    assert.equal(router.sublist.size, 0);
    assert.throws(() => sub.subscribe('z'), /closed/);
  });
});
