/**
 * The shapes `bus.presence` (presence.ts, the facade), its watch
 * (presence-watch.ts) and its nats-server source (presence-sys.ts) share,
 * kept apart so no two of them import each other.
 */
import type { PresenceMeta } from '../protocol/extensions.js';
import type { Member, PresenceEvent } from '../protocol/presence.js';
import type { JsHost } from './jetstream/api.js';
import type { ServerInfo } from './types.js';

export type { Member, PresenceEvent };

/** What a presence listener learns besides the member. */
export interface PresenceChange {
  event: PresenceEvent;
  /** Leaves: why the connection ended ("Client Closed", "Stale Connection", …); absent when a resync found it gone. */
  reason?: string;
  /** True for what a (re)listing found rather than an event: the first snapshot's joins, a resync's differences. */
  snapshot: boolean;
  /** Updates: the metadata before. */
  previous?: PresenceMeta;
}

export type PresenceListener = (member: Member, change: PresenceChange) => void;

/** @internal The listeners of each event, each with whether it is a once() listener. */
export type PresenceListeners = Record<PresenceEvent, Map<PresenceListener, boolean>>;

export interface PresenceListOptions {
  /** ms to wait for the list. Default: the bus's `timeout`. */
  timeout?: number;
  /** nats-server only: ms to wait for more servers' CONNZ replies after the last one came. Default 200. */
  window?: number;
  /** nats-server only: connections per CONNZ page (a server with more is asked for the next pages). Default 1024, nats-server's largest. */
  page?: number;
}

/** @internal What presence uses of the bus. */
export interface PresenceHost extends Omit<JsHost, 'info'> {
  readonly info: ServerInfo | null;
}

/** @internal A snapshot: the seq it stands at (null: a source without one), and its members. */
export interface Snapshot {
  seq: number | null;
  members: Member[];
}

/** @internal An event from a source; seq null for a source without one. */
export interface SourceEvent {
  seq: number | null;
  event: PresenceEvent;
  member: Member;
  reason?: string;
}

/** @internal Where snapshots and events come from. */
export interface PresenceSource {
  readonly subjects: readonly string[];
  snapshot(filter: string | undefined, opts: Required<PresenceListOptions>): Promise<Snapshot>;
  /** An event message decoded, or null when it is not one. */
  decode(subject: string, data: Buffer): SourceEvent | null;
}

/** The key of a member in a view: its server and its client id there. */
export function memberKey(m: Pick<Member, 'server' | 'id'>): string {
  return `${m.server}/${m.id}`;
}

