/**
 * A subscriber inside the hub, with no socket: the monitor's request inbox
 * today, an in-process client later. The router delivers to it as to any
 * connection (Subscriber); instead of queueing bytes it hands each message to
 * a callback. Its subscriptions go through the hub's subscribe path (the
 * subject index, the subscription count, the hub's events), so the router and
 * the counts cannot tell it from a client; it is not a connection, so /connz
 * does not list it (as nats-server's internal clients are not listed).
 *
 * To watch messages without being a subscriber (no interest, no responder),
 * use a router Observer instead (router.ts).
 */
import { isValidSubject, isValidToken } from '../protocol/subject.js';
import { latin1Slice } from '../protocol/bytes.js';
import { Subscription, type ClientInfo, type ClientOptions, type HubCore, type Message, type Subscriber } from './types.js';

/**
 * Called for each message a subscription gets. Subjects are wire strings
 * (one char per byte, protocol/bytes.ts); `msg.payload` (headers + body) is
 * valid only during the call: copy what is kept.
 */
export type InternalHandler = (sub: Subscription, msg: Message) => void;

/** The part of the hub an internal subscriber uses: the connections' own paths. */
export type InternalHub = Pick<HubCore, 'publish' | 'addSubscription' | 'removeSubscription'>;

export class InternalSubscriber implements Subscriber {
  readonly id: number;
  readonly opts: ClientOptions;
  readonly subs = new Map<string, Subscription>();
  /** Nothing is ever queued: the callback runs at delivery. */
  readonly pending = 0;
  closed = false;
  private readonly hub: InternalHub;
  private readonly handler: InternalHandler;
  private nextSid = 1;
  /** The last MSG head seen and its subject: a head is shared by every message on a cached subject. */
  private lastHead: Buffer | null = null;
  private lastSubject = '';

  /** `id` 0 keeps client ids as nats-server numbers them; `name` shows in hub events. */
  constructor(hub: InternalHub, handler: InternalHandler, opts: { id?: number; name?: string } = {}) {
    this.hub = hub;
    this.handler = handler;
    this.id = opts.id ?? 0;
    // Headers and no-responders on: a request from inside gets its 503 at once.
    this.opts = {
      verbose: false,
      pedantic: false,
      echo: true,
      headers: true,
      noResponders: true,
      protocol: 1,
      name: opts.name,
      lang: 'internal',
      version: undefined,
    };
  }

  /** Subscribes; throws a TypeError for an invalid subject or queue name. */
  subscribe(subject: string, queue?: string): Subscription {
    if (this.closed) throw new TypeError('the internal subscriber is closed');
    if (!isValidSubject(subject)) throw new TypeError(`invalid subject: ${JSON.stringify(subject)}`);
    if (queue !== undefined && !isValidToken(queue)) throw new TypeError(`invalid queue group: ${JSON.stringify(queue)}`);
    const sub = new Subscription(this, subject, queue, String(this.nextSid++));
    this.subs.set(sub.sid, sub);
    this.hub.addSubscription(sub);
    return sub;
  }

  unsubscribe(sub: Subscription): void {
    this.removeSub(sub);
  }

  /** Publishes as this subscriber: a request with no responders gets its 503 back here. */
  publish(msg: Message): void {
    if (!this.closed) this.hub.publish(this, msg);
  }

  /** Drops every subscription. */
  close(): void {
    if (this.closed) return;
    for (const sub of this.subs.values()) this.hub.removeSubscription(sub);
    this.subs.clear();
    this.closed = true;
  }

  // ── Subscriber ───────────────────────────────────────────────────────────

  deliver(sub: Subscription, msgHead: Buffer, tail: Buffer, payload: Uint8Array): boolean {
    if (this.closed) return false;
    // The router's encoded parts: `MSG <subject> ` or `HMSG <subject> `, then
    // ` [reply ][hdrLen ]size\r\n`. Decoded here, only for internal deliveries.
    let subject: string;
    if (msgHead === this.lastHead) {
      subject = this.lastSubject;
    } else {
      subject = latin1Slice(msgHead, msgHead[0] === 0x48 /* H */ ? 5 : 4, msgHead.length - 1);
      this.lastHead = msgHead;
      this.lastSubject = subject;
    }
    const fields = latin1Slice(tail, 1, tail.length - 2).split(' ');
    const withHeaders = msgHead[0] === 0x48;
    const n = fields.length - (withHeaders ? 2 : 1);
    const msg: Message = {
      subject,
      reply: n > 0 ? fields[0] : undefined,
      headerLength: withHeaders ? Number(fields[fields.length - 2]) : 0,
      payload,
    };
    this.handler(sub, msg);
    return true;
  }

  /**
   * Protocol lines the hub sends this subscriber directly: the router's
   * no-responders status (`HMSG <reply> <sid> <hdrLen> <size>\r\n…`), handed
   * to the subscription it names. Other lines (+OK, PING, -ERR) mean nothing here.
   */
  send(line: string): void {
    if (this.closed || !(line.startsWith('MSG ') || line.startsWith('HMSG '))) return;
    const eol = line.indexOf('\r\n');
    if (eol === -1) return;
    const f = line.slice(0, eol).split(' ');
    const withHeaders = f[0] === 'HMSG';
    const size = Number(f[f.length - 1]);
    const sub = this.subs.get(f[2] ?? '');
    if (sub === undefined || !Number.isSafeInteger(size)) return;
    const hasReply = f.length === (withHeaders ? 6 : 5);
    const payload = Buffer.from(line.slice(eol + 2, eol + 2 + size), 'latin1');
    this.handler(sub, {
      subject: f[1]!,
      reply: hasReply ? f[3] : undefined,
      headerLength: withHeaders ? Number(f[f.length - 2]) : 0,
      payload,
    });
  }

  removeSub(sub: Subscription): void {
    if (this.subs.get(sub.sid) !== sub) return;
    this.subs.delete(sub.sid);
    this.hub.removeSubscription(sub);
  }

  /** Nothing queues here, so no producer is ever paused for this subscriber. */
  stall(_producer: Subscriber): void {}

  /**
   * A consumer that is behind pauses the connections publishing to it
   * (writer.ts): publishing from inside, there is no reading to pause.
   */
  pauseReading(): void {}
  resumeReading(): void {}

  grantResponse(_reply: string): void {}

  info(): ClientInfo {
    return { id: this.id, address: '', port: undefined, name: this.opts.name, lang: 'internal', version: undefined, user: undefined, tls: false };
  }
}
