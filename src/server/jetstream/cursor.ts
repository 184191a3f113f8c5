/**
 * The state of one fill (a consumer's deliveries in one commit), the pull
 * requests it serves, and the ack subject every delivery carries.
 */
import { toWire } from '../../protocol/bytes.js';
import type { PendingAck, StoredMessage } from '../../store/index.js';

/** One MSG.NEXT request waiting for messages. */
export interface PullRequest {
  /** The pull inbox (wire string). */
  readonly reply: string;
  /** Messages still wanted. */
  remaining: number;
  /** Bytes still allowed, when max_bytes was asked (else 0 = no limit). */
  bytesLeft: number;
  readonly maxBytes: number;
  readonly noWait: boolean;
  /** Messages delivered to it so far. */
  delivered: number;
  /** Date.now() of the last message or heartbeat sent to it. */
  lastSent: number;
  expiresTimer: NodeJS.Timeout | null;
  heartbeatTimer: NodeJS.Timeout | null;
}

/** Where a turn's deliveries stand. */
export interface Cursor {
  readonly now: number;
  readonly explicit: boolean;
  readonly due: PendingAck[];
  /** The next due redelivery to look at. */
  di: number;
  ackPending: number;
  /** The stream seq new messages are looked for from. */
  nextSeq: number;
  /** The last consumer seq used. */
  cseq: number;
  /** num_pending after the newest delivery; -1 until counted (once per turn, then kept up to date). */
  pending: number;
  /** Ack none: deliveries not yet recorded in the store (one write for all of them, at the end of the fill). */
  unrecorded: number;
  /** Push: new messages read ahead in one query (READ_AHEAD at most), from `at` on. */
  ahead: StoredMessage[];
  at: number;
}

/** New messages a push fill reads from the store per query: one query per message cost ten watchers most of a KV watch's CPU. */
export const READ_AHEAD = 64;

/** A delivery peek() picked. */
export interface Next {
  readonly msg: StoredMessage;
  /** The delivery count this delivery makes. */
  readonly deliveries: number;
  readonly redelivery: boolean;
  readonly ack: string;
  /** Subject + ack subject + headers + payload: what max_bytes and flow control count. */
  readonly cost: number;
  readonly pending: number;
}

/** Ack subject format v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (wire string). */
export function ackSubject(stream: string, consumer: string, deliveries: number, sseq: number, cseq: number, timeNs: bigint, pending: number): string {
  return toWire(`$JS.ACK.${stream}.${consumer}.${deliveries}.${sseq}.${cseq}.${timeNs}.${pending}`);
}

