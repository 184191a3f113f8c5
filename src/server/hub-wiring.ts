/**
 * The small pieces hub.ts wires together, kept out of it: a stream's link to
 * its Connection (one set of shared handlers, no closure per stream), the
 * refusal of a stream over maxConnections, messages made inside the hub,
 * subscription events, the JetStream layer's and the schema service's views
 * of the router, hub.stats(), and the lame-duck wait for clients to leave.
 */
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Logger } from './options.js';
import type { Connection } from './connection.js';
import { CloseReason, type HubStats, type Message, type SchemaStats, type Subscription } from './types.js';
import type { HubEvents, SubscriptionEvent } from './hub-events.js';
import type { Router } from './router.js';
import type { JsHost } from './jetstream/host.js';
import type { JetStream } from './jetstream/index.js';
import { DEFAULT_DEAD_LETTER_PREFIX } from './jetstream/outbox.js';
import type { SchemaHost } from './schema-service.js';

const kConn = Symbol('netemitter.connection');
type HubStream = Duplex & { [kConn]?: Connection };

/** Feeds the stream's bytes, errors and close to its connection. */
export function attachStream(stream: Duplex, conn: Connection): void {
  (stream as HubStream)[kConn] = conn;
  stream.on('data', streamOnData);
  stream.on('error', streamOnError);
  stream.on('close', streamOnClose);
}

/** The connection a stream serves, if any. */
export function connectionOf(stream: Duplex): Connection | undefined {
  return (stream as HubStream)[kConn];
}

/** Ends a stream with `text` (INFO and an -ERR); reads and drops until the peer closes, cut off after `deadline` ms. */
export function refuseStream(stream: Duplex, text: string, deadline: number): void {
  stream.on('error', ignore);
  stream.end(text);
  stream.resume();
  const timer = setTimeout(destroyStream, deadline, stream);
  stream.once('close', () => clearTimeout(timer));
}

/** A message from inside the hub; subjects are wire strings, `headers` a whole header block or null. */
export function internalMessage(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): Message {
  return { subject, reply, headerLength: headers === null ? 0 : headers.length, payload: headers === null ? payload : Buffer.concat([headers, payload]) };
}

export function subEvent(sub: Subscription): SubscriptionEvent {
  return { client: sub.conn.info(), subject: sub.subject, queue: sub.queue, sid: sub.sid };
}

/** The hub as the JetStream layer sees it: one internal path in (publish), one out (deliverTo). */
export function routerJsHost(router: Router, logger: Logger): JsHost {
  const message = internalMessage;
  return {
    logger,
    publish: (subject, reply, headers, payload, capture = true) => router.publish(null, message(subject, reply, headers, payload), capture),
    deliverTo: (target, subject, reply, headers, payload) => router.deliverTo(target, message(subject, reply, headers, payload), false),
    reply: (subject, payload, headers = null) => router.deliverTo(subject, message(subject, undefined, headers, payload), true),
    hasInterest: (subject) => router.hasInterest(subject),
    flush: () => router.flushAll(),
  };
}

/** The schema service's view of the hub: the internal publish path, JetStream replies and captures, INFO to clients. */
export function schemaHost(router: Router, jetstream: () => JetStream | null, logger: Logger, announce: () => void): SchemaHost {
  return {
    logger,
    deadLetterPrefix: () => jetstream()?.deadLetterPrefix ?? DEFAULT_DEAD_LETTER_PREFIX,
    publish: (msg) => router.publish(null, msg),
    reply: (subject, payload) => router.deliverTo(subject, internalMessage(subject, undefined, null, payload), true),
    captures: (subject) => jetstream()?.captures(subject) === true,
    announce,
  };
}

/** hub.stats(): the router's traffic, the hub's counters. */
export function hubStats(
  router: Router,
  connections: number,
  c: { totalConnections: number; slowConsumers: number; authFailures: number },
  schemas: SchemaStats[],
): HubStats {
  const r = router.counters;
  // `+ 0`: the counters start as -0 (doubles from the start, see Router.counters); callers get a plain 0.
  return {
    connections,
    totalConnections: c.totalConnections,
    subscriptions: router.sublist.size,
    inMsgs: r.inMsgs + 0,
    inBytes: r.inBytes + 0,
    outMsgs: r.outMsgs + 0,
    outBytes: r.outBytes + 0,
    slowConsumers: c.slowConsumers,
    authFailures: c.authFailures,
    schemas,
  };
}

/** Resolves once `empty()` holds after a client left, or after `ms` (a lame-duck grace period). */
export function waitForClients(hub: EventEmitter<HubEvents>, empty: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      hub.off('disconnect', check);
      resolve();
    };
    const check = (): void => {
      if (empty()) done();
    };
    const timer = setTimeout(done, ms);
    hub.on('disconnect', check);
  });
}

function streamOnData(this: HubStream, chunk: Buffer): void {
  this[kConn]!.receive(chunk);
}

function streamOnError(this: HubStream, err: Error): void {
  this[kConn]!.close(CloseReason.SOCKET_ERROR, err);
}

function streamOnClose(this: HubStream): void {
  this[kConn]!.streamClosed();
}

function ignore(): void {}

function destroyStream(stream: Duplex): void {
  stream.destroy();
}
