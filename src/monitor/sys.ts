/**
 * The monitoring documents over NATS: `$SYS.REQ.SERVER.PING.<NAME>` and
 * `$SYS.REQ.SERVER.<server id>.<NAME>` for VARZ, CONNZ, SUBSZ, JSZ and
 * HEALTHZ, answered on the request's reply subject in nats-server's envelope
 *
 *   { "server": { name, host, id, ver, jetstream, flags, seq, time },
 *     "data": <the document>,                       (absent on a bad body)
 *     "error": { "code": 400 | 500, "description" } (only on failure) }
 *
 * The request body is nats-server's options struct as JSON (CONNZ
 * `{"subscriptions":true,"limit":10}`), decoded as Go's encoding/json decodes
 * it: keys match case-insensitively, unknown keys are ignored, a value of the
 * wrong type is a 400 with Go's text. Its options are mapped onto the query
 * parameters the HTTP documents take, so both paths build the same document;
 * a document's own refusal (a bad sort, an invalid test subject) is a 500,
 * with `"data": null`, as nats-server sends it. The filter options
 * (server_name, host, cluster, tags, domain) make a server that does not
 * match stay silent, as in a cluster.
 *
 * nats-server answers these only to its system account; the hub has one
 * account, so whoever may publish the subject may ask (the publish
 * permission check runs before the hub sees the request), and sees what its
 * subscribe permissions let it see, as a viewer of the HTTP documents does.
 */
import { ADVERTISED_VERSION } from '../protocol/constants.js';
import { fromWire, messageBody } from '../protocol/bytes.js';
import { connz, parseConnzQuery } from './connz.js';
import { CpuMeter, healthz, jsz, subsz, varz } from './documents.js';
import { time } from './format.js';
import { DEFAULT_LIMIT } from './query.js';
import { OPEN_VIEWER, type MonitorViewer } from './route.js';
import type { MonitorSource } from './types.js';

export const SYS_SERVER_PREFIX = '$SYS.REQ.SERVER.';
const PING = 'PING';

/** The documents answered, by the last token of the subject. */
export const SysRequest = {
  VARZ: 'VARZ',
  CONNZ: 'CONNZ',
  SUBSZ: 'SUBSZ',
  JSZ: 'JSZ',
  HEALTHZ: 'HEALTHZ',
} as const;
export type SysRequest = (typeof SysRequest)[keyof typeof SysRequest];

/** Go types of the options' fields, as encoding/json names them in its errors. */
type GoType = 'bool' | 'int' | 'uint64' | 'string' | 'server.SortOpt' | 'server.ConnState' | '[]string';
type Fields = Readonly<Record<string, GoType>>;

/** EventFilterOptions, part of every request's options. */
const FILTER_FIELDS: Fields = { server_name: 'string', cluster: 'string', host: 'string', tags: '[]string', domain: 'string' };

/** nats-server's option structs (server/monitor.go, server/events.go; 2.9's fields): JSON key → Go type. */
const OPTIONS: Readonly<Record<SysRequest, { struct: string; fields: Fields }>> = {
  VARZ: { struct: 'VarzEventOptions', fields: {} },
  CONNZ: {
    struct: 'ConnzEventOptions',
    fields: {
      sort: 'server.SortOpt', auth: 'bool', subscriptions: 'bool', subscriptions_detail: 'bool', offset: 'int', limit: 'int',
      cid: 'uint64', mqtt_client: 'string', state: 'server.ConnState', user: 'string', acc: 'string', filter_subject: 'string',
    },
  },
  SUBSZ: { struct: 'SubszEventOptions', fields: { offset: 'int', limit: 'int', subscriptions: 'bool', account: 'string', test: 'string' } },
  JSZ: {
    struct: 'JszEventOptions',
    fields: { account: 'string', accounts: 'bool', streams: 'bool', consumer: 'bool', config: 'bool', leader_only: 'bool', offset: 'int', limit: 'int' },
  },
  // 2.10 also takes js-enabled, the older name of js-enabled-only.
  HEALTHZ: { struct: 'HealthzEventOptions', fields: { 'js-enabled-only': 'bool', 'js-server-only': 'bool', 'js-enabled': 'bool' } },
};

/** nats-server 2.10's ServerCapability bit for a server with JetStream. */
const JETSTREAM_ENABLED = 1;

/** ConnzOptions.state is Go's ConnState, an integer. */
const CONN_STATES = ['open', 'closed', 'all'] as const;

type Options = Record<string, unknown>;

/** A refused request: its envelope's error. */
class SysError extends Error {
  readonly code: number;
  constructor(code: number, description: string) {
    super(description);
    this.code = code;
  }
}

/** JSON's name for a value, as encoding/json reports it in a type error. */
function jsonKind(v: unknown, numberText: boolean): string {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return numberText ? `number ${v}` : 'number';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'string' ? 'string' : 'object';
}

function fits(v: unknown, t: GoType): boolean {
  switch (t) {
    case 'bool':
      return typeof v === 'boolean';
    case 'int':
    case 'server.ConnState':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'uint64':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    case 'string':
    case 'server.SortOpt':
      return typeof v === 'string';
    case '[]string':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
  }
}

/** The request body as nats-server decodes it into the options struct of `kind`. */
export function decodeOptions(kind: SysRequest, body: Buffer): Options {
  const { struct, fields } = OPTIONS[kind];
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    const text = body.toString('utf8').trim() === '' ? 'unexpected end of JSON input' : `invalid JSON: ${(err as Error).message}`;
    throw new SysError(400, text);
  }
  if (raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SysError(400, `json: cannot unmarshal ${jsonKind(raw, false)} into Go value of type server.${struct}`);
  }
  const out: Options = {};
  for (const [key, v] of Object.entries(raw as Options)) {
    const name = key.toLowerCase();
    // Own keys only: a body's "constructor" or "__proto__" is an unknown key like any other.
    const t = Object.hasOwn(fields, name) ? fields[name] : Object.hasOwn(FILTER_FIELDS, name) ? FILTER_FIELDS[name] : undefined;
    if (t === undefined || v === null) continue;
    if (!fits(v, t)) {
      const numeric = t === 'int' || t === 'uint64' || t === 'server.ConnState';
      throw new SysError(400, `json: cannot unmarshal ${jsonKind(v, numeric && typeof v === 'number')} into Go struct field ${struct}.${name} of type ${t === '[]string' ? 'string' : t}`);
    }
    out[name] = v;
  }
  return out;
}

/** Whether a request's filter options leave this server out (nats-server then does not answer). */
function filteredOut(src: MonitorSource, o: Options): boolean {
  const has = (k: string): boolean => typeof o[k] === 'string' && o[k] !== '';
  if (has('server_name') && !src.serverName.includes(o.server_name as string)) return true;
  if (has('host') && !src.host.includes(o.host as string)) return true;
  // The hub is in no cluster, has no tags and no JetStream domain: any such filter misses it.
  if (has('cluster') || has('domain')) return true;
  return Array.isArray(o.tags) && o.tags.length > 0;
}

/** The options as the HTTP documents' query parameters. */
function params(entries: Record<string, unknown>): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(entries)) if (v !== undefined && v !== false && v !== '') q.set(k, String(v));
  return q;
}

/** The subject permissions of a client, as far as a viewer needs them. */
export interface ClientPermissions {
  canSubscribe(subject: string, queue: string | undefined): boolean;
  canPublish(subject: string): boolean;
}

/**
 * A client as a viewer of the documents: what its permissions let it
 * subscribe to. No permissions, or no client (a publish from inside the
 * process): everything.
 */
export function clientViewer(client: { readonly user: string | undefined; readonly permissions: ClientPermissions | null } | null): MonitorViewer {
  const perms = client?.permissions ?? null;
  if (perms === null) return OPEN_VIEWER;
  return { user: client!.user, maySubscribe: (s) => perms.canSubscribe(s, undefined), mayPublish: (s) => perms.canPublish(s) };
}

/**
 * What answers the `$SYS.REQ.SERVER.*` requests of one hub. `R` is whoever
 * published the request (the hub's connection), turned into a viewer by
 * `viewerOf` only when a request comes.
 */
export class SysResponder<R> {
  private readonly src: () => MonitorSource;
  private readonly send: (subject: string, payload: Buffer) => void;
  private readonly viewerOf: (requester: R) => MonitorViewer;
  private readonly cpu = new CpuMeter();
  /**
   * nats-server numbers every message it sends on its system account (these
   * answers, the connect/disconnect advisories) with one sequence: this one.
   */
  private seq = 0;

  /** `send` delivers an answer to a reply subject (wire string). */
  constructor(src: () => MonitorSource, send: (subject: string, payload: Buffer) => void, viewerOf: (requester: R) => MonitorViewer) {
    this.src = src;
    this.send = send;
    this.viewerOf = viewerOf;
  }

  /**
   * A publish, seen before the subscribers (the hub's tap). Returns true when
   * it was a request this answered, so the hub sends no "no responders".
   */
  onPublish(subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array, requester: R): boolean {
    if (subject.charCodeAt(0) !== 36 /* $ */ || !subject.startsWith(SYS_SERVER_PREFIX)) return false;
    const kind = this.requestKind(subject);
    if (kind === null || reply === undefined) return false;
    const body = messageBody(payload, headerLength);
    const answer = this.answer(kind, body, this.viewerOf(requester));
    // Filtered out: silence, as from nats-server (whose subscription still took the request: no "no responders").
    if (answer !== null) this.send(reply, Buffer.from(JSON.stringify(answer)));
    return true;
  }

  /** `$SYS.REQ.SERVER.PING.<NAME>` or `$SYS.REQ.SERVER.<our id>.<NAME>`, or null. */
  private requestKind(subject: string): SysRequest | null {
    const rest = fromWire(subject).slice(SYS_SERVER_PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot < 0) return null;
    const target = rest.slice(0, dot);
    const name = rest.slice(dot + 1);
    if (target !== PING && target !== this.src().serverId) return null;
    return Object.hasOwn(SysRequest, name) ? (name as SysRequest) : null;
  }

  /** The envelope for one request, as `viewer` may see it, or null when its filter leaves this server out. */
  answer(kind: SysRequest, body: Buffer, viewer: MonitorViewer = OPEN_VIEWER): object | null {
    const src = this.src();
    let opts: Options = {};
    if (body.length > 0) {
      try {
        opts = decodeOptions(kind, body);
      } catch (err) {
        const e = err as SysError;
        return { server: this.serverBlock(src), error: { code: e.code, description: e.message } };
      }
      if (filteredOut(src, opts)) return null;
    }
    let data: object;
    try {
      data = this.document(src, kind, opts, viewer);
    } catch (err) {
      // A document's own refusal: nats-server sends it as a 500, the data null.
      const text = (err as Error).message;
      return { server: this.serverBlock(src), data: null, error: { code: 500, description: text } };
    }
    return { server: this.serverBlock(src), data };
  }

  private document(src: MonitorSource, kind: SysRequest, o: Options, viewer: MonitorViewer): object {
    switch (kind) {
      case SysRequest.VARZ:
        return varz(src, { cpu: this.cpu.percent(), httpReqStats: { ...src.httpReqStats() } });
      case SysRequest.CONNZ: {
        const state = typeof o.state === 'number' ? (CONN_STATES[o.state] ?? 'open') : undefined;
        const subs = o.subscriptions_detail === true ? 'detail' : o.subscriptions === true ? 'true' : undefined;
        return connz(src, parseConnzQuery(params({ sort: o.sort, auth: o.auth, subs, offset: o.offset, limit: o.limit, cid: o.cid, state })), viewer);
      }
      case SysRequest.SUBSZ:
        return this.subsz(src, o, viewer);
      case SysRequest.JSZ:
        return jsz(src, params({ accounts: o.accounts, streams: o.streams, consumers: o.consumer, config: o.config }), viewer);
      case SysRequest.HEALTHZ:
        return healthz(src, params({ 'js-enabled-only': o['js-enabled-only'] === true || o['js-enabled'] === true, 'js-server-only': o['js-server-only'] })).body;
    }
  }

  /**
   * SUBSZ over NATS is always the full document (nats-server's HTTP endpoint
   * drops to the counts alone): the list only with `subscriptions`, and only
   * when it has entries.
   */
  private subsz(src: MonitorSource, o: Options, viewer: MonitorViewer): object {
    const full = subsz(src, params({ subs: true, test: o.test, offset: o.offset, limit: o.limit }), viewer) as Record<string, unknown>;
    const offset = typeof o.offset === 'number' && o.offset > 0 ? o.offset : 0;
    const limit = typeof o.limit === 'number' && o.limit > 0 ? o.limit : DEFAULT_LIMIT;
    // The HTTP form drops to the counts alone when nothing is listed: no list, no server_id.
    const list = o.subscriptions === true && Array.isArray(full.subscriptions_list) ? (full.subscriptions_list as object[]) : [];
    const { subscriptions_list: _list, total: _total, offset: _offset, limit: _limit, server_id: _id, now, ...counts } = full;
    // nats-server's total counts the page it sends.
    return {
      server_id: src.serverId,
      now: now ?? time(Date.now()),
      ...counts,
      total: list.length,
      offset,
      limit,
      ...(list.length > 0 ? { subscriptions_list: list } : {}),
    };
  }

  /**
   * The `server` block of a message the hub sends on `$SYS` (these answers,
   * the advisories of server/advisories.ts), numbered by the one sequence, in
   * nats-server 2.10's shape and order (its empty cluster, domain and tags
   * left out): 2.10 added `flags`, capability bits of which the hub has one,
   * JetStream.
   */
  serverBlock(src: MonitorSource = this.src()): object {
    const jetstream = src.jetstream !== null;
    return {
      name: src.serverName,
      host: src.host,
      id: src.serverId,
      ver: ADVERTISED_VERSION,
      jetstream,
      flags: jetstream ? JETSTREAM_ENABLED : 0,
      seq: ++this.seq,
      time: time(Date.now()),
    };
  }
}
