/**
 * The recently closed connections that /connz?state=closed shows: a ring of
 * at most `max` records, oldest overwritten first, as nats-server keeps them
 * (its max_closed_clients, default 10000).
 *
 *   records: [ r4 r5 r2 r3 ]   next = 2: r2 is the oldest, r5 the newest
 */
import { CloseReason } from '../server/types.js';
import type { ClosedRecord } from './types.js';

/** Why a connection closed, in nats-server's words (its ClosedState strings). */
export const CLOSED_REASON_TEXT: Record<CloseReason, string> = {
  [CloseReason.CLIENT]: 'Client Closed',
  // nats-server has no connect timeout of its own: its auth timer closes idle sockets.
  [CloseReason.CONNECT_TIMEOUT]: 'Authentication Timeout',
  [CloseReason.AUTH_TIMEOUT]: 'Authentication Timeout',
  [CloseReason.AUTH_FAILED]: 'Authentication Failure',
  [CloseReason.TLS_HANDSHAKE]: 'TLS Handshake Failure',
  [CloseReason.PROTOCOL]: 'Protocol Violation',
  [CloseReason.SLOW_CONSUMER]: 'Slow Consumer (Pending Bytes)',
  [CloseReason.STALE]: 'Stale Connection',
  [CloseReason.MAX_CONNECTIONS]: 'Maximum Connections Exceeded',
  [CloseReason.SERVER_SHUTDOWN]: 'Server Shutdown',
  [CloseReason.SOCKET_ERROR]: 'Read Error',
};

export class ClosedRing {
  private readonly records: ClosedRecord[] = [];
  private next = 0;
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  add(r: ClosedRecord): void {
    if (this.max === 0) return;
    if (this.records.length < this.max) {
      this.records.push(r);
      return;
    }
    this.records[this.next] = r;
    this.next = (this.next + 1) % this.max;
  }

  /** Oldest first. */
  list(): ClosedRecord[] {
    return [...this.records.slice(this.next), ...this.records.slice(0, this.next)];
  }

  get size(): number {
    return this.records.length;
  }
}
