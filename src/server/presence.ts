/**
 * Presence (issue #18): who is connected to this hub, with the metadata each
 * client gave in CONNECT's `presence`, and the changes as events. The wire
 * is protocol/presence.ts.
 *
 *   ready ──► members.set ──► seq+1, $NE.PRESENCE.EVENT.join
 *   $NE.CTL.PRESENCE {meta} ──► seq+1, …EVENT.update
 *   closed ──► members.delete ──► seq+1, …EVENT.leave (+ reason)
 *   $NE.PRESENCE.LIST ──► {"seq": <last event's>, "members": […]}
 *
 * The seq advances for every change whether or not anyone listens, so a
 * list's seq always places it exactly among the events; an event's body is
 * built only when a subscription would take it. Everything runs on the
 * hub's one thread: a list is a consistent snapshot between two events.
 */
import { CLOSED_REASON_TEXT } from '../monitor/closed.js';
import { fromWire, messageBody } from '../protocol/bytes.js';
import { checkPresenceMeta, Feature, type PresenceMeta } from '../protocol/extensions.js';
import {
  PRESENCE_CONTROL,
  PRESENCE_EVENT_PREFIX,
  PRESENCE_LIST,
  nameMatches,
  PresenceEvent,
  type Member,
} from '../protocol/presence.js';
import { isValidLiteralSubject, isValidSubject } from '../protocol/subject.js';
import type { Connection } from './connection.js';
import type { ConnectRequest } from './security/types.js';
import type { ResolvedHubOptions } from './options.js';
import type { CloseReason, Subscriber } from './types.js';

/**
 * What presence uses of the hub: a part of lifecycle.ts's LifecycleHost,
 * spelled out here because lifecycle.ts imports this file (the service is
 * structurally a ClientWatcher, as lifecycle.ts names it).
 */
export interface PresenceHost {
  readonly options: Pick<ResolvedHubOptions, 'maxPayload'>;
  readonly serverId: string;
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void;
  hasInterest(subject: string): boolean;
}

/** The -ERR a CONNECT with bad presence metadata gets (then the close). */
export const INVALID_PRESENCE = 'Invalid Presence Metadata';

/** Room kept in each list part for `{"seq":…,"members":[…],"parts":…}` around the members. */
const PART_ENVELOPE = 64;

interface Entry {
  meta: PresenceMeta;
  /** The member's JSON, built when first needed and dropped on a change: lists reuse it. */
  json: string | null;
  readonly since: string;
}

export class Presence {
  private seq = 0;
  /** The ready connections, in the order they joined. */
  private readonly members = new Map<Connection, Entry>();
  /** Metadata of CONNECTs vetted but not yet ready (a later service may still refuse them). */
  private readonly pending = new WeakMap<Connection, PresenceMeta>();
  private readonly eventSubjects: Record<PresenceEvent, string>;

  constructor(private readonly host: PresenceHost) {
    this.eventSubjects = {
      join: PRESENCE_EVENT_PREFIX + PresenceEvent.JOIN,
      leave: PRESENCE_EVENT_PREFIX + PresenceEvent.LEAVE,
      update: PRESENCE_EVENT_PREFIX + PresenceEvent.UPDATE,
    };
  }

  /** How the hub's lifecycle adds the service: its INFO feature, its control and its request subject. */
  hooks() {
    const control = (conn: Connection, reply: string | undefined, hl: number, payload: Uint8Array): void => this.control(conn, reply, hl, payload);
    const list = (_from: Subscriber | null, reply: string | undefined, hl: number, payload: Uint8Array): void => this.list(reply, hl, payload);
    return {
      feature: Feature.PRESENCE,
      // Publish permission on $NE.CTL.PRESENCE, checked by the lifecycle: a user who may publish nothing makes no watcher traffic.
      controls: { [PRESENCE_CONTROL]: { handler: control, permission: true as const } },
      // Anyone who may publish the subject may list (the publish path checked it), whoever they are.
      requests: { [PRESENCE_LIST]: list },
    };
  }

  vet(conn: Connection, request: ConnectRequest): string | null {
    const raw = request.presence;
    const meta = raw === undefined || raw === null ? {} : checkPresenceMeta(raw);
    if (typeof meta === 'string') return `${INVALID_PRESENCE}: ${meta}`;
    const entry = this.members.get(conn);
    if (entry === undefined) {
      this.pending.set(conn, meta);
    } else if (raw !== undefined) {
      // A second CONNECT with metadata replaces it, as an update would.
      this.change(conn, entry, meta);
    }
    return null;
  }

  ready(conn: Connection): void {
    const meta = this.pending.get(conn) ?? {};
    this.pending.delete(conn);
    const entry: Entry = { meta, json: null, since: new Date(conn.startTime).toISOString() };
    this.members.set(conn, entry);
    this.announce(PresenceEvent.JOIN, conn, entry, undefined);
  }

  closed(conn: Connection, reason: CloseReason): void {
    const entry = this.members.get(conn);
    if (entry === undefined) return;
    this.members.delete(conn);
    this.announce(PresenceEvent.LEAVE, conn, entry, CLOSED_REASON_TEXT[reason]);
  }

  /** `$NE.CTL.PRESENCE`: new metadata for the sender (whose publish permission the lifecycle checked). */
  private control(conn: Connection, reply: string | undefined, headerLength: number, payload: Uint8Array): void {
    const entry = this.members.get(conn);
    if (entry === undefined) return;
    let error: string | null = null;
    let meta: unknown;
    try {
      meta = JSON.parse(messageBody(payload, headerLength).toString('utf8'));
    } catch {
      error = 'presence metadata must be JSON';
    }
    if (error === null) {
      const checked = checkPresenceMeta(meta);
      if (typeof checked === 'string') error = checked;
      else this.change(conn, entry, checked);
    }
    if (reply !== undefined) this.reply(fromWire(reply), JSON.stringify(error === null ? { ok: true } : { error }));
  }

  private change(conn: Connection, entry: Entry, meta: PresenceMeta): void {
    entry.meta = meta;
    entry.json = null;
    this.announce(PresenceEvent.UPDATE, conn, entry, undefined);
  }

  private announce(event: PresenceEvent, conn: Connection, entry: Entry, reason: string | undefined): void {
    const seq = ++this.seq;
    const subject = this.eventSubjects[event];
    if (!this.host.hasInterest(subject)) return;
    const tail = reason === undefined ? '}' : `,"reason":${JSON.stringify(reason)}}`;
    const body = `{"seq":${seq},"event":"${event}","member":${this.memberJson(conn, entry)}${tail}`;
    this.host.publish(subject, undefined, null, Buffer.from(body, 'utf8'));
  }

  private memberJson(conn: Connection, entry: Entry): string {
    if (entry.json !== null) return entry.json;
    const member: Member = {
      server: this.host.serverId,
      id: conn.id,
      name: conn.opts.name ?? null,
      user: conn.user ?? null,
      meta: entry.meta,
      since: entry.since,
    };
    return (entry.json = JSON.stringify(member));
  }

  /** `$NE.PRESENCE.LIST`: the members whose name matches the filter, in parts when larger than maxPayload. */
  private list(wireReply: string | undefined, headerLength: number, payload: Uint8Array): void {
    if (wireReply === undefined) return;
    const reply = fromWire(wireReply);
    const req = parseListRequest(messageBody(payload, headerLength));
    if (typeof req === 'string') {
      this.reply(reply, JSON.stringify({ seq: this.seq, members: [], error: req }));
      return;
    }
    const parts: string[][] = [[]];
    const room = Math.max(this.host.options.maxPayload - PART_ENVELOPE, 1);
    let size = 0;
    for (const [conn, entry] of this.members) {
      const name = conn.opts.name;
      if (req.filter !== undefined && (name === undefined || !nameMatches(req.filter, name))) continue;
      const json = this.memberJson(conn, entry);
      const bytes = Buffer.byteLength(json) + 1;
      if (size + bytes > room && parts[parts.length - 1]!.length > 0) {
        parts.push([]);
        size = 0;
      }
      parts[parts.length - 1]!.push(json);
      size += bytes;
    }
    const seq = this.seq;
    if (parts.length > 1 && req.parts === undefined) {
      const error = `the list is larger than max_payload (${this.host.options.maxPayload} bytes): ask for it in parts (a "parts" subject)`;
      this.reply(reply, JSON.stringify({ seq, members: [], error }));
      return;
    }
    for (let i = 0; i < parts.length - 1; i++) this.reply(req.parts!, `{"seq":${seq},"members":[${parts[i]!.join(',')}]}`);
    const count = parts.length > 1 ? `,"parts":${parts.length}` : '';
    this.reply(reply, `{"seq":${seq},"members":[${parts[parts.length - 1]!.join(',')}]${count}}`);
  }

  private reply(subject: string, body: string): void {
    this.host.publish(subject, undefined, null, Buffer.from(body, 'utf8'));
  }
}

/** A list request's body: empty, or {"filter"?: pattern, "parts"?: subject}; or what is wrong with it. */
function parseListRequest(body: Buffer): { filter?: string; parts?: string } | string {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the request must be empty or a JSON object';
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'the request must be empty or a JSON object';
  const r = v as Record<string, unknown>;
  const out: { filter?: string; parts?: string } = {};
  if (r.filter !== undefined && r.filter !== null) {
    if (typeof r.filter !== 'string' || !isValidSubject(r.filter)) return 'filter must be a subject pattern';
    out.filter = r.filter;
  }
  if (r.parts !== undefined && r.parts !== null) {
    if (typeof r.parts !== 'string' || !isValidLiteralSubject(r.parts)) return 'parts must be a literal subject';
    out.parts = r.parts;
  }
  return out;
}
