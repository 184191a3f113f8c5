/**
 * The `$JS.API.*` request handlers: stream and consumer management, message
 * get and delete, and pull requests (CONSUMER.MSG.NEXT). Request and response
 * bodies are JetStream's JSON; errors carry nats-server's codes (errors.ts).
 */
import { randomBytes } from 'node:crypto';
import { JsHeader } from '../../protocol/jetstream.js';
import { TooManyStreamsError, type StreamState } from '../../store/index.js';
import {
  checkConsumerUpdate,
  checkName,
  checkStreamUpdate,
  consumerFilters,
  DeliverPolicy,
  normalizeConsumerConfig,
  normalizeStreamConfig,
  Retention,
  sameConfig,
  type ConsumerConfig,
  type Json,
  type StreamConfig,
} from './config.js';
import { subjectsCollide } from '../../protocol/subject.js';
import { ConsumerRuntime, type PullRequest } from './consumer.js';
import { lastPerSubjectSeqs } from './last-per-subject.js';
import { JsApiError, JsErr } from './errors.js';
import type { JetStream } from './index.js';
import { StreamRuntime } from './stream.js';
import { nowNs, nsToMs, parseRfc3339, rfc3339, timerDelay, ZERO_TIME } from './time.js';

const TYPE = 'io.nats.jetstream.api.v1.';
/** Page sizes of the NAMES and LIST calls, as nats-server. */
const NAMES_PAGE = 1024;
const LIST_PAGE = 256;

type Handler = (tokens: string[], body: Buffer, reply: string) => Json | undefined;

export class JetStreamApi {
  private readonly js: JetStream;
  /** API path (without $JS.API.) → response type suffix and handler. */
  private readonly routes: { match: (t: string[]) => boolean; type: string; run: Handler }[];

  constructor(js: JetStream) {
    this.js = js;
    const is = (...want: (string | number)[]) => (t: string[]): boolean =>
      want.every((w, i) => (typeof w === 'number' ? t.length === w : t[i] === w));
    this.routes = [
      { match: (t) => t.length === 1 && t[0] === 'INFO', type: 'account_info_response', run: () => this.accountInfo() },
      { match: (t) => is('STREAM', 'CREATE')(t) && t.length === 3, type: 'stream_create_response', run: (t, b) => this.streamCreate(t[2]!, b) },
      { match: (t) => is('STREAM', 'UPDATE')(t) && t.length === 3, type: 'stream_update_response', run: (t, b) => this.streamUpdate(t[2]!, b) },
      { match: (t) => is('STREAM', 'INFO')(t) && t.length === 3, type: 'stream_info_response', run: (t, b) => this.streamInfoCall(t[2]!, b) },
      { match: (t) => is('STREAM', 'DELETE')(t) && t.length === 3, type: 'stream_delete_response', run: (t) => this.streamDelete(t[2]!) },
      { match: (t) => is('STREAM', 'PURGE')(t) && t.length === 3, type: 'stream_purge_response', run: (t, b) => this.streamPurge(t[2]!, b) },
      { match: (t) => is('STREAM', 'NAMES')(t) && t.length === 2, type: 'stream_names_response', run: (_t, b) => this.streamNames(b) },
      { match: (t) => is('STREAM', 'LIST')(t) && t.length === 2, type: 'stream_list_response', run: (_t, b) => this.streamList(b) },
      { match: (t) => is('STREAM', 'MSG', 'GET')(t) && t.length === 4, type: 'stream_msg_get_response', run: (t, b) => this.msgGet(t[3]!, b) },
      { match: (t) => is('STREAM', 'MSG', 'DELETE')(t) && t.length === 4, type: 'stream_msg_delete_response', run: (t, b) => this.msgDelete(t[3]!, b) },
      { match: (t) => is('CONSUMER', 'CREATE')(t) && t.length >= 3, type: 'consumer_create_response', run: (t, b) => this.consumerCreate(t, b) },
      { match: (t) => is('CONSUMER', 'DURABLE', 'CREATE')(t) && t.length === 5, type: 'consumer_create_response', run: (t, b) => this.consumerCreate(t, b) },
      { match: (t) => is('CONSUMER', 'INFO')(t) && t.length === 4, type: 'consumer_info_response', run: (t) => this.consumerInfoCall(t[2]!, t[3]!) },
      { match: (t) => is('CONSUMER', 'DELETE')(t) && t.length === 4, type: 'consumer_delete_response', run: (t) => this.consumerDelete(t[2]!, t[3]!) },
      { match: (t) => is('CONSUMER', 'NAMES')(t) && t.length === 3, type: 'consumer_names_response', run: (t, b) => this.consumerNames(t[2]!, b) },
      { match: (t) => is('CONSUMER', 'LIST')(t) && t.length === 3, type: 'consumer_list_response', run: (t, b) => this.consumerList(t[2]!, b) },
    ];
  }

  /**
   * Handles `$JS.API.<path>`. Returns false for a path nobody serves (the
   * hub then answers "no responders", as nats-server does).
   */
  handle(path: string, reply: string, body: Buffer): boolean {
    const tokens = path.split('.');
    if (tokens[0] === 'CONSUMER' && tokens[1] === 'MSG' && tokens[2] === 'NEXT' && tokens.length === 5) {
      const c = this.js.streams.get(tokens[3]!)?.consumers.get(tokens[4]!);
      if (c === undefined) return false;
      this.pull(c, reply, body);
      return true;
    }
    const route = this.routes.find((r) => r.match(tokens));
    if (route === undefined) return false;
    this.js.counters.total++;
    let res: Json | undefined;
    try {
      res = { type: TYPE + route.type, ...route.run(tokens, body, reply) };
    } catch (err) {
      this.js.counters.errors++;
      const e = err instanceof JsApiError ? err : JsErr.storeFailure(err instanceof Error ? err.message : String(err));
      if (!(err instanceof JsApiError)) this.js.host.logger.error({ err, api: path }, 'JetStream API call failed');
      res = { type: TYPE + route.type, error: e };
    }
    this.js.reply(reply, res);
    return true;
  }

  // ── account ─────────────────────────────────────────────────────────────

  private accountInfo(): Json {
    let memory = 0;
    let storage = 0;
    let consumers = 0;
    for (const s of this.js.streams.values()) {
      const st = s.store.streamTotals(s.name);
      if (s.config.storage === 'memory') memory += st.bytes;
      else storage += st.bytes;
      consumers += s.consumers.size;
    }
    return {
      memory,
      storage,
      streams: this.js.streams.size,
      consumers,
      limits: {
        max_memory: -1,
        max_storage: -1,
        max_streams: -1,
        max_consumers: -1,
        max_ack_pending: -1,
        memory_max_stream_bytes: -1,
        storage_max_stream_bytes: -1,
        max_bytes_required: false,
      },
      api: { total: this.js.counters.total, errors: this.js.counters.errors },
    };
  }

  // ── streams ─────────────────────────────────────────────────────────────

  private stream(name: string): StreamRuntime {
    const s = this.js.streams.get(name);
    if (s === undefined) throw JsErr.streamNotFound();
    return s;
  }

  private checkOverlap(cfg: StreamConfig): void {
    for (const other of this.js.streams.values()) {
      if (other.name === cfg.name) continue;
      for (const a of cfg.subjects) for (const b of other.config.subjects) if (subjectsCollide(a, b)) throw JsErr.streamSubjectOverlap();
    }
  }

  private streamCreate(name: string, body: Buffer): Json {
    const req = parseJson(body, true);
    if (req.name !== undefined && req.name !== name) throw JsErr.streamMismatch();
    checkName(name, 'stream');
    const cfg = normalizeStreamConfig(req, name);
    const existing = this.js.streams.get(name);
    if (existing !== undefined) {
      if (!sameConfig(existing.config, cfg)) throw JsErr.streamNameExist();
      return { ...this.streamInfo(existing), did_create: false };
    }
    this.checkOverlap(cfg);
    const store = this.js.storeFor(cfg.storage);
    let rec;
    try {
      rec = store.createStream(name, cfg as unknown as Json, nowNs());
    } catch (err) {
      if (err instanceof TooManyStreamsError) throw JsErr.maximumStreams();
      throw err;
    }
    const s = new StreamRuntime(rec, store);
    this.js.streams.set(name, s);
    this.js.invalidateCaptures();
    this.js.armAgeTimer(s);
    return { ...this.streamInfo(s), did_create: true };
  }

  private streamUpdate(name: string, body: Buffer): Json {
    const req = parseJson(body, true);
    if (req.name !== undefined && req.name !== name) throw JsErr.streamMismatch();
    const s = this.stream(name);
    const cfg = normalizeStreamConfig(req, name);
    checkStreamUpdate(s.config, cfg);
    this.checkOverlap(cfg);
    s.store.transaction(() => {
      s.store.updateStream(name, cfg as unknown as Json);
      s.config = cfg;
      s.applyLimits(nowNs());
    });
    this.js.invalidateCaptures();
    this.js.armAgeTimer(s);
    return this.streamInfo(s);
  }

  private streamInfoCall(name: string, body: Buffer): Json {
    const req = parseJson(body);
    const s = this.stream(name);
    const filter = typeof req.subjects_filter === 'string' && req.subjects_filter !== '' ? req.subjects_filter : undefined;
    const info = this.streamInfo(s, filter);
    return { total: 0, offset: 0, limit: 0, ...info };
  }

  private streamDelete(name: string): Json {
    const s = this.stream(name);
    for (const c of s.consumers.values()) c.stop('Consumer Deleted');
    s.consumers.clear();
    if (s.ageTimer !== null) clearInterval(s.ageTimer);
    s.store.deleteStream(name);
    this.js.streams.delete(name);
    this.js.invalidateCaptures();
    return { success: true };
  }

  private streamPurge(name: string, body: Buffer): Json {
    const req = parseJson(body);
    const s = this.stream(name);
    if (s.config.deny_purge) throw new JsApiError(500, 10110, 'stream purge not permitted');
    if (s.config.sealed) throw JsErr.streamSealed();
    const filter = typeof req.filter === 'string' && req.filter !== '' ? req.filter : undefined;
    const seq = typeof req.seq === 'number' && req.seq > 0 ? req.seq : undefined;
    const keep = typeof req.keep === 'number' && req.keep > 0 ? req.keep : undefined;
    if (seq !== undefined && keep !== undefined) throw new JsApiError(400, 10003, 'bad request');
    const purged = s.store.purge(name, { filter, upTo: seq, keep });
    return { success: true, purged };
  }

  private streamNames(body: Buffer): Json {
    const req = parseJson(body);
    const offset = pageOffset(req);
    const names = this.streamsOn(req.subject).map((s) => s.name);
    return { total: names.length, offset, limit: NAMES_PAGE, streams: names.slice(offset, offset + NAMES_PAGE) };
  }

  private streamList(body: Buffer): Json {
    const req = parseJson(body);
    const offset = pageOffset(req);
    const all = this.streamsOn(req.subject);
    return { total: all.length, offset, limit: LIST_PAGE, streams: all.slice(offset, offset + LIST_PAGE).map((s) => this.streamInfo(s)) };
  }

  /** Streams by name, only those whose subjects overlap `subject` when it is a non-empty string (NAMES, LIST). */
  private streamsOn(subject: unknown): StreamRuntime[] {
    const all = [...this.js.streams.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (typeof subject !== 'string' || subject === '') return all;
    return all.filter((s) => s.config.subjects.some((x) => subjectsCollide(x, subject)));
  }

  private msgGet(name: string, body: Buffer): Json {
    const req = parseJson(body);
    const s = this.stream(name);
    let msg;
    if (typeof req.last_by_subj === 'string' && req.last_by_subj !== '') {
      msg = s.store.getLastMessage(name, req.last_by_subj);
    } else if (typeof req.next_by_subj === 'string' && req.next_by_subj !== '') {
      msg = s.store.nextMessage(name, typeof req.seq === 'number' ? req.seq : 1, req.next_by_subj);
    } else if (typeof req.seq === 'number' && req.seq > 0) {
      msg = s.store.getMessage(name, req.seq);
    } else {
      throw JsErr.badRequest();
    }
    if (msg === undefined) throw JsErr.noMessageFound();
    return {
      message: {
        subject: msg.subject,
        seq: msg.seq,
        ...(msg.headers.length > 0 ? { hdrs: Buffer.from(msg.headers).toString('base64') } : {}),
        data: Buffer.from(msg.payload).toString('base64'),
        time: rfc3339(msg.timeNs),
      },
    };
  }

  private msgDelete(name: string, body: Buffer): Json {
    const req = parseJson(body);
    const s = this.stream(name);
    if (s.config.deny_delete) throw new JsApiError(500, 10057, 'message delete not permitted');
    if (s.config.sealed) throw JsErr.streamSealed();
    if (typeof req.seq !== 'number' || req.seq <= 0) throw JsErr.badRequest();
    if (!s.store.deleteMessage(name, req.seq)) throw new JsApiError(500, 10057, 'no message found');
    return { success: true };
  }

  streamInfo(s: StreamRuntime, subjectsFilter?: string): Json {
    const st = s.store.streamState(s.name);
    const state: Json = stateJson(st);
    if (subjectsFilter !== undefined) {
      const counts: Record<string, number> = {};
      for (const m of s.store.loadMessages(s.name, 1, { filter: subjectsFilter })) counts[m.subject] = (counts[m.subject] ?? 0) + 1;
      if (Object.keys(counts).length > 0) state.subjects = counts;
    }
    return { config: s.config, created: rfc3339(s.createdNs), state };
  }

  // ── consumers ───────────────────────────────────────────────────────────

  private consumer(stream: string, name: string): ConsumerRuntime {
    const s = this.stream(stream);
    const c = s.consumers.get(name);
    if (c === undefined) throw JsErr.consumerNotFound();
    return c;
  }

  private consumerCreate(t: string[], body: Buffer): Json {
    const legacy = t[1] === 'DURABLE';
    const streamName = legacy ? t[3]! : t[2]!;
    const subjName = legacy ? t[4] : t[3];
    const subjFilter = legacy || t.length < 5 ? undefined : t.slice(4).join('.');
    const req = parseJson(body, true);
    if (req.stream_name !== undefined && req.stream_name !== streamName) throw JsErr.streamMismatch();
    const input = req.config;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new JsApiError(400, 10078, 'consumer config required');
    const cfgIn = input as Json;
    const s = this.stream(streamName);
    const durableIn = typeof cfgIn.durable_name === 'string' && cfgIn.durable_name !== '' ? cfgIn.durable_name : undefined;
    const nameIn = typeof cfgIn.name === 'string' && cfgIn.name !== '' ? cfgIn.name : undefined;
    if (durableIn !== undefined && nameIn !== undefined && durableIn !== nameIn) throw JsErr.consumerDurableAndNameMismatch();
    let name: string;
    let durable: boolean;
    if (legacy) {
      if (durableIn !== undefined && durableIn !== subjName) throw JsErr.consumerDurableNameNotMatch();
      name = subjName!;
      durable = true;
    } else if (subjName !== undefined) {
      const asked = nameIn ?? durableIn;
      if (asked !== undefined && asked !== subjName) throw JsErr.consumerDurableNameNotMatch();
      name = subjName;
      durable = durableIn !== undefined;
    } else {
      if (durableIn !== undefined) throw new JsApiError(400, 10020, 'consumer expected to be ephemeral but a durable name was set in request');
      name = nameIn ?? randomName();
      durable = false;
    }
    if (subjFilter !== undefined) {
      const f = consumerFilters({ filter_subject: cfgIn.filter_subject, filter_subjects: cfgIn.filter_subjects } as ConsumerConfig);
      if (f.length !== 1 || f[0] !== subjFilter) throw JsErr.consumerFilterMismatch();
    }
    checkName(name, 'consumer');
    const cfg = normalizeConsumerConfig(cfgIn, name, durable, s.config);
    const action = typeof req.action === 'string' ? req.action : '';
    const existing = s.consumers.get(name);
    if (existing !== undefined) {
      if (sameConfig(existing.config, cfg)) return this.consumerInfo(existing);
      if (action === 'create') throw JsErr.consumerAlreadyExists();
      checkConsumerUpdate(existing.config, cfg, existing.push?.active() ?? false);
      s.store.updateConsumer(s.name, name, cfg as unknown as Json);
      existing.reconfigure(cfg);
      this.js.markDirty(existing);
      return this.consumerInfo(existing);
    }
    if (action === 'update') throw JsErr.consumerDoesNotExist();
    if (s.config.max_consumers > 0 && s.consumers.size >= s.config.max_consumers) throw JsErr.maximumConsumers();
    if (s.config.retention === Retention.WORKQUEUE) this.checkWorkQueue(s, cfg);
    const startSeq = this.startSeq(s, cfg);
    const rec = s.store.createConsumer(s.name, name, cfg as unknown as Json, nowNs(), startSeq);
    const c = new ConsumerRuntime(s, name, cfg, rec.createdNs, this.js);
    s.consumers.set(name, c);
    return this.consumerInfo(c);
  }

  private checkWorkQueue(s: StreamRuntime, cfg: ConsumerConfig): void {
    const mine = consumerFilters(cfg);
    for (const other of s.consumers.values()) {
      const theirs = consumerFilters(other.config);
      if (mine.length === 0 && theirs.length === 0) throw JsErr.consumerWqMultipleUnfiltered();
      if (mine.length === 0 || theirs.length === 0) throw JsErr.consumerWqNotUnique();
      for (const a of mine) for (const b of theirs) if (subjectsCollide(a, b)) throw JsErr.consumerWqNotUnique();
    }
  }

  /** The stream seq delivery starts after, from the deliver policy. */
  private startSeq(s: StreamRuntime, cfg: ConsumerConfig): number {
    const store = s.store;
    const filters = consumerFilters(cfg);
    const last = store.streamTotals(s.name).lastSeq;
    switch (cfg.deliver_policy) {
      case DeliverPolicy.ALL:
        return 0;
      case DeliverPolicy.NEW:
        return last;
      case DeliverPolicy.LAST: {
        const seqs = (filters.length === 0 ? ['>'] : filters).map((f) => store.getLastMessage(s.name, f)?.seq ?? 0);
        const seq = Math.max(...seqs);
        return seq > 0 ? seq - 1 : last;
      }
      case DeliverPolicy.LAST_PER_SUBJECT: {
        const first = lastPerSubjectSeqs(store, s.name, filters, last)[0];
        return first === undefined ? last : first - 1;
      }
      case DeliverPolicy.BY_START_SEQUENCE:
        return Math.max(0, (cfg.opt_start_seq ?? 1) - 1);
      case DeliverPolicy.BY_START_TIME: {
        const t = parseRfc3339(cfg.opt_start_time ?? '');
        if (t === undefined) throw JsErr.consumerInvalidPolicy('invalid opt_start_time');
        let from = 1;
        for (;;) {
          const batch = store.loadMessages(s.name, from, { filter: filters.length === 0 ? undefined : filters, limit: 256 });
          if (batch.length === 0) return last;
          for (const m of batch) if (m.timeNs >= t) return m.seq - 1;
          from = batch[batch.length - 1]!.seq + 1;
        }
      }
      default:
        throw JsErr.consumerInvalidPolicy(`deliver policy ${cfg.deliver_policy} is not supported by this server`);
    }
  }

  private consumerInfoCall(stream: string, name: string): Json {
    return this.consumerInfo(this.consumer(stream, name));
  }

  private consumerDelete(stream: string, name: string): Json {
    const s = this.stream(stream);
    const c = s.consumers.get(name);
    if (c === undefined) throw JsErr.consumerNotFound();
    this.removeConsumer(s, c);
    return { success: true };
  }

  /** Deletes a consumer: its waiting pulls get 409 Consumer Deleted. */
  removeConsumer(s: StreamRuntime, c: ConsumerRuntime): void {
    c.stop('Consumer Deleted');
    s.consumers.delete(c.name);
    s.store.transaction(() => {
      s.store.deleteConsumer(s.name, c.name);
      if (s.config.retention === Retention.INTEREST) s.settled(0);
    });
  }

  private consumerNames(stream: string, body: Buffer): Json {
    const req = parseJson(body);
    const offset = pageOffset(req);
    const names = [...this.stream(stream).consumers.keys()].sort();
    return { total: names.length, offset, limit: NAMES_PAGE, consumers: names.slice(offset, offset + NAMES_PAGE) };
  }

  private consumerList(stream: string, body: Buffer): Json {
    const req = parseJson(body);
    const offset = pageOffset(req);
    const s = this.stream(stream);
    const names = [...s.consumers.keys()].sort();
    return {
      total: names.length,
      offset,
      limit: LIST_PAGE,
      consumers: names.slice(offset, offset + LIST_PAGE).map((n) => this.consumerInfo(s.consumers.get(n)!)),
    };
  }

  consumerInfo(c: ConsumerRuntime): Json {
    const rec = c.stream.store.getConsumer(c.stream.name, c.name);
    if (rec === undefined) throw JsErr.consumerNotFound();
    return {
      stream_name: c.stream.name,
      name: c.name,
      created: rfc3339(c.createdNs),
      config: c.config,
      delivered: { consumer_seq: rec.delivered.consumerSeq, stream_seq: rec.delivered.streamSeq, ...lastActive(c.lastDeliveredMs) },
      ack_floor: { consumer_seq: rec.ackFloor.consumerSeq, stream_seq: rec.ackFloor.streamSeq, ...lastActive(c.lastAckedMs) },
      num_ack_pending: rec.numAckPending,
      num_redelivered: rec.numRedelivered,
      num_waiting: c.waiting.length,
      num_pending: c.numPending(rec.delivered.streamSeq),
      ...(c.push?.active() === true ? { push_bound: true } : {}),
    };
  }

  // ── pulls ───────────────────────────────────────────────────────────────

  /** A CONSUMER.MSG.NEXT request (or the request part of +NXT). */
  pull(c: ConsumerRuntime, reply: string, body: Buffer): void {
    if (c.deleted) return;
    const text = body.toString('utf8').trim();
    let batch = 1;
    let expiresNs = 0;
    let maxBytes = 0;
    let noWait = false;
    let hbNs = 0;
    if (text !== '') {
      if (/^\d+$/.test(text)) {
        batch = Number(text);
      } else {
        let r: Json;
        try {
          r = JSON.parse(text) as Json;
        } catch {
          this.js.sendStatus(reply, 400, 'Bad Request');
          return;
        }
        if (r === null || typeof r !== 'object') {
          this.js.sendStatus(reply, 400, 'Bad Request');
          return;
        }
        batch = typeof r.batch === 'number' && r.batch > 0 ? Math.floor(r.batch) : 1;
        expiresNs = typeof r.expires === 'number' && r.expires > 0 ? r.expires : 0;
        maxBytes = typeof r.max_bytes === 'number' && r.max_bytes > 0 ? Math.floor(r.max_bytes) : 0;
        noWait = r.no_wait === true;
        hbNs = typeof r.idle_heartbeat === 'number' && r.idle_heartbeat > 0 ? r.idle_heartbeat : 0;
      }
    }
    const cfg = c.config;
    if (cfg.max_batch !== undefined && batch > cfg.max_batch) {
      this.js.sendStatus(reply, 409, `Exceeded MaxRequestBatch of ${cfg.max_batch}`);
      return;
    }
    if (cfg.max_expires !== undefined && expiresNs > cfg.max_expires) {
      this.js.sendStatus(reply, 409, `Exceeded MaxRequestExpires of ${goDuration(cfg.max_expires)}`);
      return;
    }
    if (cfg.max_bytes !== undefined && maxBytes > cfg.max_bytes) {
      this.js.sendStatus(reply, 409, `Exceeded MaxRequestMaxBytes of ${cfg.max_bytes}`);
      return;
    }
    if (hbNs > 0 && expiresNs > 0 && hbNs * 2 > expiresNs) {
      this.js.sendStatus(reply, 400, 'Bad Request - heartbeat value too large');
      return;
    }
    if (cfg.deliver_subject !== undefined) {
      this.js.sendStatus(reply, 409, 'Consumer is push based');
      return;
    }
    if (c.waiting.length >= (cfg.max_waiting ?? 0)) {
      this.js.sendStatus(reply, 409, 'Exceeded MaxWaiting');
      return;
    }
    const req: PullRequest = {
      reply,
      remaining: batch,
      bytesLeft: maxBytes,
      maxBytes,
      noWait,
      delivered: 0,
      lastSent: Date.now(),
      expiresTimer: null,
      heartbeatTimer: null,
    };
    if (!noWait && expiresNs > 0) {
      req.expiresTimer = setTimeout(() => {
        req.expiresTimer = null;
        if (!c.waiting.includes(req)) return;
        this.js.sendStatus(reply, 408, 'Request Timeout', c.pendingHeaders(req));
        c.finish(req);
      }, timerDelay(nsToMs(expiresNs)));
      req.expiresTimer.unref();
    }
    if (!noWait && hbNs > 0) {
      const hbMs = timerDelay(nsToMs(hbNs));
      req.heartbeatTimer = setInterval(() => {
        const now = Date.now();
        // Skipped only when a message went out within the last half interval: timers fire a little
        // early or late, and a client counts two missed heartbeats as a lost pull.
        if (now - req.lastSent < hbMs / 2) return;
        req.lastSent = now;
        const rec = c.stream.store.getConsumer(c.stream.name, c.name);
        this.js.sendStatus(reply, 100, 'Idle Heartbeat', {
          [JsHeader.LAST_CONSUMER]: rec?.delivered.consumerSeq ?? 0,
          [JsHeader.LAST_STREAM]: rec?.delivered.streamSeq ?? 0,
        });
      }, hbMs);
      req.heartbeatTimer.unref();
    }
    c.addRequest(req);
  }
}

function stateJson(st: StreamState): Json {
  const empty = st.messages === 0;
  const state: Json = {
    messages: st.messages,
    bytes: st.bytes,
    first_seq: st.lastSeq === 0 ? 0 : st.firstSeq,
    first_ts: empty ? ZERO_TIME : rfc3339(st.firstTimeNs),
    last_seq: st.lastSeq,
    last_ts: st.lastSeq === 0 ? ZERO_TIME : rfc3339(st.lastTimeNs),
  };
  const deleted = empty ? 0 : st.lastSeq - st.firstSeq + 1 - st.messages;
  if (deleted > 0) state.num_deleted = deleted;
  if (st.numSubjects > 0) state.num_subjects = st.numSubjects;
  state.consumer_count = st.consumerCount;
  return state;
}

/** A request body as a JSON object; empty is {} unless `required` (a config must be given). */
/** `last_active` of consumer info's delivered and ack_floor: absent until the first delivery (ack), as nats-server omits it. */
function lastActive(ms: number): Json {
  return ms > 0 ? { last_active: rfc3339(BigInt(ms) * 1_000_000n) } : {};
}

function parseJson(body: Buffer, required = false): Json {
  const text = body.toString('utf8').trim();
  if (text === '') {
    if (required) throw JsErr.invalidJson();
    return {};
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw JsErr.invalidJson();
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw JsErr.invalidJson();
  return v as Json;
}

function pageOffset(req: Json): number {
  return typeof req.offset === 'number' && Number.isSafeInteger(req.offset) && req.offset > 0 ? req.offset : 0;
}

/** An ephemeral consumer's generated name (nats-server uses 8 random characters). */
function randomName(): string {
  return randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 8);
}

/** Nanoseconds as a Go duration string (1s, 1.5s, 250ms), as nats-server prints them. */
function goDuration(ns: number): string {
  if (ns % 1e9 === 0) return `${ns / 1e9}s`;
  if (ns >= 1e9) return `${ns / 1e9}s`;
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  return `${ns / 1e3}µs`;
}
