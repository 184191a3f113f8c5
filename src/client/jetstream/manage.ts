/**
 * Stream and consumer management: `bus.streams` and `bus.consumers`.
 * Each method is one JetStream API call (or one per page for lists), with
 * the JSON shapes of types.ts, so the answers are nats-server's own.
 */
import { decodeHeaders } from '../../protocol/headers.js';
import { decodePayload } from '../codec.js';
import { JetStreamApiError } from '../../errors.js';
import type { JetStreamClient } from './api.js';
import {
  JsApi,
  type ConsumerConfig,
  type ConsumerInfo,
  type MessageQuery,
  type PurgeOptions,
  type PurgeResponse,
  type StoredMessage,
  type StreamConfig,
  type StreamInfo,
} from './types.js';
import { checkName } from './names.js';

export { checkName };

interface Page {
  total: number;
  offset: number;
  limit: number;
}

/** Reads every page of a NAMES/LIST call. */
async function allPages<T>(js: JetStreamClient, api: string, key: string, body: Record<string, unknown> = {}): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const r = await js.call<Page & Record<string, T[] | null>>(api, { ...body, offset: out.length });
    const items = r[key] ?? [];
    out.push(...(items as T[]));
    if (items.length === 0 || out.length >= (r.total ?? 0)) return out;
  }
}

/** nats-server's err_code for a stream that does not exist. */
const STREAM_NOT_FOUND = 10059;

export class Streams {
  readonly #js: JetStreamClient;

  constructor(js: JetStreamClient) {
    this.#js = js;
  }

  /** Creates a stream; the reply carries the full config with the server's defaults. */
  async add(config: StreamConfig): Promise<StreamInfo> {
    return this.#js.call<StreamInfo>(`${JsApi.STREAM_CREATE}.${checkName(config?.name, 'stream')}`, config);
  }

  /** Replaces a stream's config (the full config: omitted keys take their defaults). */
  async update(config: StreamConfig): Promise<StreamInfo> {
    return this.#js.call<StreamInfo>(`${JsApi.STREAM_UPDATE}.${checkName(config?.name, 'stream')}`, config);
  }

  async info(name: string): Promise<StreamInfo> {
    return this.#js.call<StreamInfo>(`${JsApi.STREAM_INFO}.${checkName(name, 'stream')}`);
  }

  /**
   * The stream named in `config` as it is, created with `config` when it does
   * not exist and `create` allows; null when it does not exist and may not be
   * created (a bucket opened with `create: false`).
   */
  async bind(config: StreamConfig, create: boolean): Promise<StreamInfo | null> {
    try {
      return await this.info(config.name);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.errCode === STREAM_NOT_FOUND)) throw err;
      return create ? this.add(config) : null;
    }
  }

  /** Deletes a stream, its messages and its consumers. Resolves true. */
  async delete(name: string): Promise<boolean> {
    const r = await this.#js.call<{ success: boolean }>(`${JsApi.STREAM_DELETE}.${checkName(name, 'stream')}`);
    return r.success === true;
  }

  /** Removes messages (all, or by subject, up to a sequence, or all but the newest `keep`). */
  async purge(name: string, opts: PurgeOptions = {}): Promise<PurgeResponse> {
    const body: Record<string, unknown> = {};
    if (opts.filter !== undefined) body.filter = opts.filter;
    if (opts.seq !== undefined) body.seq = opts.seq;
    if (opts.keep !== undefined) body.keep = opts.keep;
    const r = await this.#js.call<PurgeResponse>(
      `${JsApi.STREAM_PURGE}.${checkName(name, 'stream')}`,
      Object.keys(body).length === 0 ? undefined : body,
    );
    return { success: r.success === true, purged: Number(r.purged ?? 0) };
  }

  /** Every stream's info. */
  async list(): Promise<StreamInfo[]> {
    return allPages<StreamInfo>(this.#js, JsApi.STREAM_LIST, 'streams');
  }

  /** Stream names, optionally only those storing subjects that match `subject`. */
  async names(subject?: string): Promise<string[]> {
    return allPages<string>(this.#js, JsApi.STREAM_NAMES, 'streams', subject === undefined ? {} : { subject });
  }

  /** Reads one stored message, by sequence or the last one on a subject. */
  async getMessage(name: string, query: MessageQuery): Promise<StoredMessage> {
    const body = 'seq' in query ? { seq: query.seq } : { last_by_subj: query.lastBySubject };
    const r = await this.#js.call<{ message: { subject: string; seq: number; time: string; hdrs?: string; data?: string } }>(
      `${JsApi.STREAM_MSG_GET}.${checkName(name, 'stream')}`,
      body,
    );
    const m = r.message;
    const data = m.data === undefined ? Buffer.alloc(0) : Buffer.from(m.data, 'base64');
    const headers = m.hdrs === undefined || m.hdrs === '' ? undefined : decodeHeaders(Buffer.from(m.hdrs, 'base64'));
    return { subject: m.subject, seq: m.seq, time: new Date(m.time), headers, data, payload: decodePayload(data) };
  }

  /**
   * Removes one stored message. `erase` asks the server to overwrite its
   * bytes on disk too (nats-server does; the netemitter hub deletes the row
   * either way). Resolves true.
   */
  async deleteMessage(name: string, seq: number, opts: { erase?: boolean } = {}): Promise<boolean> {
    if (!Number.isSafeInteger(seq) || seq < 1) throw new TypeError(`invalid sequence ${String(seq)}: expected a whole number from 1`);
    const r = await this.#js.call<{ success: boolean }>(`${JsApi.STREAM_MSG_DELETE}.${checkName(name, 'stream')}`, {
      seq,
      ...(opts.erase === true ? {} : { no_erase: true }),
    });
    return r.success === true;
  }
}

/** How consumers.add() treats an existing consumer of that name. */
export type ConsumerAction = 'create' | 'update' | '';

export class Consumers {
  readonly #js: JetStreamClient;

  constructor(js: JetStreamClient) {
    this.#js = js;
  }

  /**
   * Creates a consumer (pull: no deliver_subject). Named by `name` or
   * `durable_name`; without either the server makes an ephemeral one.
   */
  async add(stream: string, config: ConsumerConfig): Promise<ConsumerInfo> {
    return this.create(stream, config, 'create');
  }

  /** Changes an existing consumer's updatable settings. */
  async update(stream: string, config: ConsumerConfig): Promise<ConsumerInfo> {
    return this.create(stream, config, 'update');
  }

  /**
   * @internal `action` "" creates or updates (what a durable listener does on
   * start). Servers before 2.10 ignore the action and create or update.
   */
  async create(stream: string, config: ConsumerConfig, action: ConsumerAction): Promise<ConsumerInfo> {
    checkName(stream, 'stream');
    const name = config.name ?? config.durable_name;
    let subject = `${JsApi.CONSUMER_CREATE}.${stream}`;
    if (name !== undefined) {
      subject += `.${checkName(name, 'consumer')}`;
      // The filter in the subject lets the server's permissions see it (ADR-42); one filter only.
      const f = config.filter_subject;
      if (f !== undefined && f !== '' && f !== '>' && config.filter_subjects === undefined) subject += `.${f}`;
    }
    return this.#js.call<ConsumerInfo>(subject, { stream_name: stream, config, action });
  }

  async info(stream: string, name: string): Promise<ConsumerInfo> {
    return this.#js.call<ConsumerInfo>(`${JsApi.CONSUMER_INFO}.${checkName(stream, 'stream')}.${checkName(name, 'consumer')}`);
  }

  async delete(stream: string, name: string): Promise<boolean> {
    const r = await this.#js.call<{ success: boolean }>(`${JsApi.CONSUMER_DELETE}.${checkName(stream, 'stream')}.${checkName(name, 'consumer')}`);
    return r.success === true;
  }

  async list(stream: string): Promise<ConsumerInfo[]> {
    return allPages<ConsumerInfo>(this.#js, `${JsApi.CONSUMER_LIST}.${checkName(stream, 'stream')}`, 'consumers');
  }

  async names(stream: string): Promise<string[]> {
    return allPages<string>(this.#js, `${JsApi.CONSUMER_NAMES}.${checkName(stream, 'stream')}`, 'consumers');
  }
}
