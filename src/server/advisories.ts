/**
 * nats-server's client connect/disconnect advisories: a message on
 * `$SYS.ACCOUNT.$G.CONNECT` when a client is ready (its CONNECT accepted) and
 * on `$SYS.ACCOUNT.$G.DISCONNECT` when a client that was ready closes, with
 * nats-server's JSON bodies (server/events.go's ConnectEventMsg and
 * DisconnectEventMsg): its key names and order, its omitted-when-empty keys,
 * its units (times in RFC 3339, `rtt` in nanoseconds as Go marshals a
 * time.Duration).
 *
 *   { type, id, timestamp,
 *     server: { name, host, id, ver, jetstream, flags, seq, time },
 *     client: { start, host?, id, acc, user?, name?, lang?, ver?, [rtt?, stop,] kind, client_type },
 *     sent: { msgs, bytes }, received: { msgs, bytes }, reason }      (the last three: disconnect)
 *
 * nats-server sends these only to its system account and never for its
 * global account `$G`; the hub has one account, named `$G` as nats-server
 * names the global one, and it is its own system account: whoever may
 * subscribe to the subject receives them. A body is built only when a
 * subscription (or a stream) would take it, so connection churn costs
 * nothing while nobody listens.
 */
import { randomBytes } from 'node:crypto';
import { CLOSED_REASON_TEXT } from '../monitor/closed.js';
import { time } from '../monitor/format.js';
import { TransportKind } from '../transport.js';
import { clientIp } from './info.js';
import type { Connection } from './connection.js';
import type { CloseReason } from './types.js';

/** The account the hub reports its clients in: nats-server's name for its global account. */
export const ADVISORY_ACCOUNT = '$G';
export const CONNECT_ADVISORY = `$SYS.ACCOUNT.${ADVISORY_ACCOUNT}.CONNECT`;
export const DISCONNECT_ADVISORY = `$SYS.ACCOUNT.${ADVISORY_ACCOUNT}.DISCONNECT`;

/** The `type` of each body, nats-server's schema names. */
export const AdvisoryType = {
  CONNECT: 'io.nats.server.advisory.v1.client_connect',
  DISCONNECT: 'io.nats.server.advisory.v1.client_disconnect',
} as const;
export type AdvisoryType = (typeof AdvisoryType)[keyof typeof AdvisoryType];

/** nats-server's `client.kind` for a client connection (routes, gateways and leaf nodes have others). */
const CLIENT_KIND = 'Client';

/** nats-server's `client.client_type`: how a client connection speaks the protocol. */
const ClientType = {
  NATS: 'nats',
  WEBSOCKET: 'websocket',
} as const;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PREFIX_LENGTH = 12;
/** Base-62 digits of the counter: 10 hold any safe integer. */
const SEQ_LENGTH = 10;
/** The counter stays an exact integer: past this, a new prefix and a new start. */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * Event ids in the shape of nats-server's (a NUID: 22 base-62 characters):
 * a random prefix and a counter from a random start, so an id costs no
 * randomness.
 */
export class EventIds {
  private prefix = '';
  private seq = MAX_SEQ;

  next(): string {
    if (++this.seq >= MAX_SEQ) {
      this.prefix = randomBase62(PREFIX_LENGTH);
      this.seq = Math.floor(Math.random() * 2 ** 52);
    }
    let n = this.seq;
    let tail = '';
    for (let i = 0; i < SEQ_LENGTH; i++) {
      tail = BASE62[n % 62]! + tail;
      n = Math.floor(n / 62);
    }
    return this.prefix + tail;
  }
}

function randomBase62(length: number): string {
  let s = '';
  for (const b of randomBytes(length)) s += BASE62[b % 62];
  return s;
}

/** The `client` block: nats-server's ClientInfo for a client connection, its empty fields left out. */
function clientBlock(conn: Connection, stop: number | undefined): Record<string, unknown> {
  const c: Record<string, unknown> = { start: time(conn.startTime) };
  const host = clientIp(conn.peer.listener, conn.peer);
  if (host !== undefined && host !== '') c.host = host;
  c.id = conn.id;
  c.acc = ADVISORY_ACCOUNT;
  if (conn.user !== undefined && conn.user !== '') c.user = conn.user;
  const { name, lang, version } = conn.opts;
  if (name !== undefined && name !== '') c.name = name;
  if (lang !== undefined && lang !== '') c.lang = lang;
  if (version !== undefined && version !== '') c.ver = version;
  if (stop !== undefined) {
    // Only a disconnect tells the round trip, as nats-server: a time.Duration in JSON is its nanoseconds; 0 (none known) is left out.
    const rtt = Math.round(conn.rtt * 1e6);
    if (rtt > 0) c.rtt = rtt;
    c.stop = time(stop);
  }
  c.kind = CLIENT_KIND;
  c.client_type = conn.peer.listener.kind === TransportKind.WEBSOCKET ? ClientType.WEBSOCKET : ClientType.NATS;
  return c;
}

/** What the advisories use of the hub: a part of lifecycle.ts's LifecycleHost (named here, as that module imports this one). */
export interface AdvisoryHost {
  hasInterest(subject: string): boolean;
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void;
  sysServer(): object;
}

/** The connect/disconnect advisories: a ClientWatcher of server/lifecycle.ts. */
export class Advisories {
  private readonly host: AdvisoryHost;
  private readonly ids = new EventIds();

  constructor(host: AdvisoryHost) {
    this.host = host;
  }

  ready(conn: Connection): void {
    if (!this.host.hasInterest(CONNECT_ADVISORY)) return;
    const now = Date.now();
    const body = {
      type: AdvisoryType.CONNECT,
      id: this.ids.next(),
      timestamp: time(now),
      server: this.host.sysServer(),
      client: clientBlock(conn, undefined),
    };
    // A watcher cut off by this delivery is reported after it: the lifecycle queues closes made during one (lifecycle.ts).
    this.host.publish(CONNECT_ADVISORY, undefined, null, Buffer.from(JSON.stringify(body)));
  }

  closed(conn: Connection, reason: CloseReason): void {
    if (!this.host.hasInterest(DISCONNECT_ADVISORY)) return;
    const now = Date.now();
    const body = {
      type: AdvisoryType.DISCONNECT,
      id: this.ids.next(),
      timestamp: time(now),
      server: this.host.sysServer(),
      client: clientBlock(conn, now),
      // From the client's side, as nats-server counts them: what it published, what it was sent.
      sent: { msgs: conn.inMsgs, bytes: conn.inBytes },
      received: { msgs: conn.outMsgs, bytes: conn.outBytes },
      reason: CLOSED_REASON_TEXT[reason],
    };
    this.host.publish(DISCONNECT_ADVISORY, undefined, null, Buffer.from(JSON.stringify(body)));
  }
}
