/**
 * Presence on the wire, shared by the hub (server/presence.ts) and our
 * client (client/presence.ts). Ordinary subjects: permissions apply to them
 * as to any publish or subscribe.
 *
 *   PUB $NE.PRESENCE.LIST <reply>   {"filter":"workers.*"}      (body optional)
 *     reply  {"seq":41,"members":[Member…]}
 *   MSG $NE.PRESENCE.EVENT.join     {"seq":42,"event":"join","member":Member}
 *   MSG $NE.PRESENCE.EVENT.leave    {"seq":43,"event":"leave","member":Member,"reason":"Stale Connection"}
 *   MSG $NE.PRESENCE.EVENT.update   {"seq":44,"event":"update","member":Member}
 *   PUB $NE.CTL.PRESENCE <reply>    {"role":"idle"}   (new metadata)  → {"ok":true} | {"error":"…"}
 *
 * `seq` counts events, one counter per hub. A list reply carries the seq of
 * the last event before it: a watcher that subscribed to the events first
 * drops those with seq ≤ the list's (already in it) and applies the rest.
 *
 * A list larger than the hub's max_payload comes in parts: when the request
 * names a `parts` subject, every part but the last goes there, in order,
 * then the last to the reply subject with `"parts": n`. Without `parts`, a
 * list too large is refused with an `error`.
 */
import { CONTROL_PREFIX } from './constants.js';
import type { PresenceMeta } from './extensions.js';
import { isValidLiteralSubject, subjectMatches } from './subject.js';

export const PRESENCE_LIST = '$NE.PRESENCE.LIST';
export const PRESENCE_EVENT_PREFIX = '$NE.PRESENCE.EVENT.';
/** Every presence event. */
export const PRESENCE_EVENTS = '$NE.PRESENCE.EVENT.*';
/** The control name of a metadata update (after `$NE.CTL.`). */
export const PRESENCE_CONTROL = 'PRESENCE';
export const PRESENCE_UPDATE_SUBJECT = CONTROL_PREFIX + PRESENCE_CONTROL;

export const PresenceEvent = {
  JOIN: 'join',
  LEAVE: 'leave',
  UPDATE: 'update',
} as const;
export type PresenceEvent = (typeof PresenceEvent)[keyof typeof PresenceEvent];

/** One connected client as the presence list shows it. */
export interface Member {
  /** The id of the server it is connected to (INFO's server_id). */
  server: string;
  /** Its client id on that server (INFO's client_id). */
  id: number;
  /** Its connection name, or null. */
  name: string | null;
  /** The user it authenticated as, or null. */
  user: string | null;
  /** Its presence metadata ({} when it gave none). */
  meta: PresenceMeta;
  /** When it connected, RFC 3339. */
  since: string;
}

/** A presence event's body. */
export interface PresenceEventBody {
  seq: number;
  event: PresenceEvent;
  member: Member;
  /** Leaves only: why the connection ended (nats-server's closed-state text). */
  reason?: string;
}

/** A list reply's body (or one of its parts). */
export interface PresenceListBody {
  seq: number;
  members: Member[];
  /** How many parts the list came in, on the last part only (absent: one). */
  parts?: number;
  error?: string;
}

/** A list request's body. */
export interface PresenceListRequest {
  /** A subject pattern matched against connection names (unnamed connections match no filter). */
  filter?: string;
  /** Where the parts before the last go, when the list exceeds max_payload. */
  parts?: string;
}

/**
 * Whether a connection name passes a list filter: as a subject matches a
 * pattern; a name that is no valid subject (spaces, empty tokens) only when
 * equal to the filter.
 */
export function nameMatches(filter: string, name: string): boolean {
  return isValidLiteralSubject(name) ? subjectMatches(filter, name) : filter === name;
}
