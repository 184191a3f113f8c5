/**
 * The JetStream API over the bus: JSON requests to `$JS.API.<…>` and the
 * durable publish (a request to the stream's subject answered by a PubAck).
 *
 *   request  PUB $JS.API.STREAM.INFO.ORDERS _INBOX.x.7 0
 *   reply    {"type":"…stream_info_response","config":{…},"state":{…}}
 *        or  {"type":"…","error":{"code":404,"err_code":10059,"description":"stream not found"}}
 *        or  HMSG with status 503 (nobody serves the API: JetStream is off)
 *
 * The layer knows the bus only through JsHost, so it never reaches into the
 * bus's subscription tables.
 */
import type { MsgHeaders, HeadersInit } from '../../protocol/headers.js';
import { encodeHeaders } from '../../protocol/headers.js';
import type { StatusEmitter } from '../types.js';
import { JetStreamApiError, JetStreamNotEnabledError, NoRespondersError, NoStreamError, SchemaViolationError } from '../../errors.js';
import { SCHEMA_VIOLATION_ERR_CODE, schemaPubAckDescription } from '../../protocol/schemas.js';
import { JetStreamDefaults, JsApi, JsHeader, type PubAck } from './types.js';

/** A reply as received: headers (status included) and the payload bytes. */
export interface RawReply {
  readonly headers: MsgHeaders | undefined;
  readonly data: Buffer;
}

/** Delivery callback of an internal subscription. */
export type RawDeliver = (subject: string, reply: string | undefined, headers: MsgHeaders | undefined, data: Buffer) => void;

/** @internal What the JetStream layer needs from the bus. */
export interface JsHost {
  readonly status: StatusEmitter;
  readonly isConnected: boolean;
  readonly isClosed: boolean;
  /** The INFO of the server connected to (its version decides a few wire details). */
  readonly info: { version: string; max_payload: number } | null;
  /** A request whose reply is returned undecoded. Rejects with NoRespondersError (503), TimeoutError, ClosedError. */
  rawRequest(subject: string, headers: Buffer | null, payload: Buffer, timeout: number): Promise<RawReply>;
  rawPublish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void;
  /** Subscribes for the JetStream layer; restored on reconnect like any subscription. Returns the sid. */
  rawSubscribe(subject: string, deliver: RawDeliver): string;
  rawUnsubscribe(sid: string): void;
  /** A fresh, unique inbox subject prefix. */
  newInbox(): string;
  /** Work that drain() must wait for. */
  track(p: Promise<unknown>): void;
  /** Reports a background failure on bus.status 'error' (or as a process warning). */
  reportError(err: Error): void;
  /** Reports a listener that threw, as for plain listeners (a ListenerError). */
  listenerFailed(subject: string, err: unknown): void;
}

/** Options of a durable publish. */
export interface PublishOptions {
  /** Deduplication id (header Nats-Msg-Id): a repeat within the stream's duplicate_window is stored once. */
  msgId?: string;
  headers?: HeadersInit;
  /** Optimistic concurrency: the server refuses the event unless these hold. */
  expect?: {
    /** The stream that must store the subject. */
    stream?: string;
    /** The stream's last sequence must be this. */
    lastSequence?: number;
    /** The stream's last message id must be this. */
    lastMsgId?: string;
    /** The last sequence on this subject must be this (0: no message on it yet). */
    lastSubjectSequence?: number;
  };
  /** ms to wait for the server's acknowledgement. Default 5000. */
  timeout?: number;
}

const EMPTY = Buffer.alloc(0);
/** An empty header block: JetStream publishes always go as HPUB. */
const NO_HEADERS = Buffer.from('NATS/1.0\r\n\r\n', 'latin1');

interface ApiErrorBody {
  code?: number;
  err_code?: number;
  description?: string;
}

function apiError(e: ApiErrorBody): JetStreamApiError {
  return new JetStreamApiError(Number(e.code ?? 500), Number(e.err_code ?? 0), String(e.description ?? 'unknown JetStream error'));
}

/** A netemitter hub refused the event (its schema): the reason is the description after `schema violation: `. */
function schemaViolation(subject: string, e: ApiErrorBody): SchemaViolationError {
  const text = String(e.description ?? '');
  const prefix = schemaPubAckDescription('');
  return new SchemaViolationError(subject, text.startsWith(prefix) ? text.slice(prefix.length) : text);
}

export class JetStreamClient {
  readonly host: JsHost;
  readonly prefix: string;
  readonly timeout: number;

  constructor(host: JsHost, opts: { prefix?: string; timeout?: number } = {}) {
    this.host = host;
    this.prefix = opts.prefix ?? JetStreamDefaults.apiPrefix;
    this.timeout = opts.timeout ?? JetStreamDefaults.timeout;
  }

  /** Calls `$JS.API.<api>` with a JSON body and returns the parsed reply, or throws its error. */
  async call<T>(api: string, body?: unknown, timeout = this.timeout): Promise<T> {
    const payload = body === undefined ? EMPTY : Buffer.from(JSON.stringify(body), 'utf8');
    let reply: RawReply;
    try {
      reply = await this.host.rawRequest(`${this.prefix}.${api}`, null, payload, timeout);
    } catch (err) {
      if (err instanceof NoRespondersError) throw new JetStreamNotEnabledError();
      throw err;
    }
    const parsed = parseJson(reply.data, api) as T & { error?: ApiErrorBody };
    if (parsed.error !== undefined) throw apiError(parsed.error);
    return parsed;
  }

  /** Stores an event in the stream that captures its subject; resolves with the server's acknowledgement. */
  async publish(subject: string, payload: Buffer, opts: PublishOptions = {}): Promise<PubAck> {
    const init: Record<string, string | number | readonly (string | number)[]> = { ...opts.headers };
    if (opts.msgId !== undefined) init[JsHeader.MSG_ID] = opts.msgId;
    const e = opts.expect;
    if (e?.stream !== undefined) init[JsHeader.EXPECTED_STREAM] = e.stream;
    if (e?.lastSequence !== undefined) init[JsHeader.EXPECTED_LAST_SEQUENCE] = e.lastSequence;
    if (e?.lastMsgId !== undefined) init[JsHeader.EXPECTED_LAST_MSG_ID] = e.lastMsgId;
    if (e?.lastSubjectSequence !== undefined) init[JsHeader.EXPECTED_LAST_SUBJECT_SEQUENCE] = e.lastSubjectSequence;
    const h = encodeHeaders(init);
    let reply: RawReply;
    try {
      reply = await this.host.rawRequest(subject, h.length > 0 ? h : NO_HEADERS, payload, opts.timeout ?? this.timeout);
    } catch (err) {
      if (err instanceof NoRespondersError) throw new NoStreamError(subject);
      throw err;
    }
    const ack = parseJson(reply.data, 'publish') as Partial<PubAck> & { error?: ApiErrorBody };
    if (ack.error !== undefined) throw ack.error.err_code === SCHEMA_VIOLATION_ERR_CODE ? schemaViolation(subject, ack.error) : apiError(ack.error);
    if (typeof ack.stream !== 'string' || ack.stream === '' || typeof ack.seq !== 'number') {
      throw new JetStreamApiError(500, 0, `the reply to a durable publish on ${JSON.stringify(subject)} is not a stream acknowledgement`);
    }
    const out: PubAck = { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
    if (typeof ack.domain === 'string') out.domain = ack.domain;
    return out;
  }

  /** The name of the stream that stores `subject`; NoStreamError when none does. */
  async findStream(subject: string): Promise<string> {
    const r = await this.call<{ streams: string[] | null }>(JsApi.STREAM_NAMES, { subject });
    const name = r.streams?.[0];
    if (name === undefined) throw new NoStreamError(subject);
    return name;
  }
}

function parseJson(data: Buffer, what: string): unknown {
  try {
    const v: unknown = JSON.parse(data.toString('utf8'));
    if (v !== null && typeof v === 'object') return v;
  } catch {
    // fall through
  }
  throw new JetStreamApiError(500, 0, `the reply to ${what} is not a JSON object`);
}
