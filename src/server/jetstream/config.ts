/**
 * Stream and consumer configs: the client sends a partial config; the server
 * fills in nats-server's defaults, validates, and echoes the full config.
 * Configs are JetStream's JSON (snake_case, durations in nanoseconds) and are
 * stored as such, so what a client reads back is what nats-server would say.
 */
import { hasWildcard, isValidSubject, isValidToken, subjectIsSubset, subjectMatches, subjectsCollide } from '../../protocol/subject.js';
import { JsApiError, JsErr } from './errors.js';

export type Json = Record<string, unknown>;

export const Retention = { LIMITS: 'limits', INTEREST: 'interest', WORKQUEUE: 'workqueue' } as const;
export type Retention = (typeof Retention)[keyof typeof Retention];

export interface StreamConfig {
  name: string;
  description?: string;
  subjects: string[];
  retention: Retention;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  max_age: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: 'old' | 'new';
  storage: 'file' | 'memory';
  num_replicas: number;
  duplicate_window: number;
  allow_direct: boolean;
  mirror_direct: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  metadata?: Record<string, string>;
}

export const AckPolicy = { NONE: 'none', ALL: 'all', EXPLICIT: 'explicit' } as const;
export type AckPolicy = (typeof AckPolicy)[keyof typeof AckPolicy];

export const DeliverPolicy = {
  ALL: 'all',
  LAST: 'last',
  NEW: 'new',
  BY_START_SEQUENCE: 'by_start_sequence',
  BY_START_TIME: 'by_start_time',
  LAST_PER_SUBJECT: 'last_per_subject',
} as const;
export type DeliverPolicy = (typeof DeliverPolicy)[keyof typeof DeliverPolicy];

export interface ConsumerConfig {
  durable_name?: string;
  name: string;
  description?: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq?: number;
  opt_start_time?: string;
  ack_policy: AckPolicy;
  /** Absent with ack none, as nats-server leaves it out. */
  ack_wait?: number;
  max_deliver: number;
  backoff?: number[];
  filter_subject?: string;
  filter_subjects?: string[];
  replay_policy: 'instant' | 'original';
  rate_limit_bps?: number;
  sample_freq?: string;
  /** Pull consumers only. */
  max_waiting?: number;
  /** Absent with ack none. */
  max_ack_pending?: number;
  flow_control?: boolean;
  headers_only?: boolean;
  max_batch?: number;
  max_expires?: number;
  max_bytes?: number;
  /** Push consumers: where messages go, and the queue group that shares them. */
  deliver_subject?: string;
  deliver_group?: string;
  idle_heartbeat?: number;
  inactive_threshold?: number;
  num_replicas: number;
  /** Echoed only: the hub keeps every consumer's state in its stream's store. */
  mem_storage?: boolean;
  metadata?: Record<string, string>;
}

/** nats-server's defaults (consumer.go, stream.go). */
export const JsDefaults = {
  duplicateWindowNs: 120_000_000_000,
  ackWaitNs: 30_000_000_000,
  maxAckPending: 1000,
  maxWaiting: 512,
  /** An ephemeral consumer with no pulls for this long is removed. */
  inactiveThresholdNs: 5_000_000_000,
  /** The shortest idle_heartbeat a push consumer may ask for. */
  minHeartbeatNs: 100_000_000,
} as const;

/** The shortest max_age nats-server accepts. */
const MIN_MAX_AGE_NS = 100_000_000;

/** A deliver policy as nats-server's messages spell it: by_start_time → "by start time". */
function policyWords(p: DeliverPolicy): string {
  return p.replace(/_/g, ' ');
}

/** Longest stream or consumer name we accept (nats-server: 255 for consumers). */
const MAX_NAME = 255;

function invalid(detail: string): JsApiError {
  return JsErr.streamInvalidConfig(detail);
}

function int(v: unknown, name: string, dflt: number, fail: (d: string) => JsApiError): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw fail(`${name} must be an integer`);
  return v;
}

function bool(v: unknown, name: string, fail: (d: string) => JsApiError): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw fail(`${name} must be a boolean`);
  return v;
}

function oneOf<T extends string>(v: unknown, name: string, allowed: readonly T[], dflt: T, fail: (d: string) => JsApiError): T {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw fail(`invalid ${name} ${JSON.stringify(v)}`);
  return v as T;
}

function metadata(v: unknown, fail: (d: string) => JsApiError): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw fail('metadata must be an object of strings');
  for (const x of Object.values(v as Json)) if (typeof x !== 'string') throw fail('metadata must be an object of strings');
  return v as Record<string, string>;
}

/** Stream and consumer names: one subject token, no path separators. */
export function checkName(name: unknown, what: 'stream' | 'consumer'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw what === 'stream' ? invalid('stream name is required') : JsErr.consumerCreate('consumer name is required');
  }
  if (/[/\\]/.test(name)) throw what === 'stream' ? JsErr.streamNameSeparators() : new JsApiError(400, 10127, 'Consumer name can not contain path separators');
  if (!isValidToken(name) || /[*>]/.test(name)) {
    throw what === 'stream' ? invalid('stream name is invalid') : JsErr.consumerBadDurableName();
  }
  if (name.length > MAX_NAME) {
    throw what === 'stream' ? invalid('stream name is too long') : new JsApiError(400, 10102, `consumer name is too long, maximum allowed is ${MAX_NAME}`);
  }
  return name;
}

/** Fills in defaults and validates a stream config as nats-server does. */
export function normalizeStreamConfig(input: Json, name: string): StreamConfig {
  const subjectsIn = input.subjects;
  let subjects: string[];
  if (subjectsIn === undefined || subjectsIn === null || (Array.isArray(subjectsIn) && subjectsIn.length === 0)) {
    subjects = [name];
  } else if (Array.isArray(subjectsIn) && subjectsIn.every((s) => typeof s === 'string')) {
    subjects = subjectsIn as string[];
  } else {
    throw invalid('subjects must be an array of strings');
  }
  for (const s of subjects) {
    if (!isValidSubject(s)) throw invalid('invalid subject');
    if (s === '$JS.API.>' || subjectMatches(s, '$JS.API.INFO') || s.startsWith('$JS.API.') || s.startsWith('$JS.ACK.')) {
      throw invalid('subjects that overlap with jetstream api require no-ack to be true');
    }
  }
  for (let i = 0; i < subjects.length; i++) {
    for (let j = i + 1; j < subjects.length; j++) {
      if (subjectsCollide(subjects[i]!, subjects[j]!)) throw invalid(`duplicate subjects detected`);
    }
  }
  const replicas = int(input.num_replicas, 'num_replicas', 1, invalid);
  if (replicas > 1) throw JsErr.streamReplicasNotSupported();
  if (replicas < 0) throw new JsApiError(400, 10133, 'replicas count cannot be negative');
  const maxAge = int(input.max_age, 'max_age', 0, invalid);
  if (maxAge < 0) throw invalid('max age needs to be >= 0');
  if (maxAge > 0 && maxAge < MIN_MAX_AGE_NS) throw invalid('max age needs to be >= 100ms');
  let dupWindow = int(input.duplicate_window, 'duplicate_window', 0, invalid);
  if (dupWindow < 0) throw invalid('duplicates window can not be negative');
  if (dupWindow === 0) dupWindow = maxAge > 0 && maxAge < JsDefaults.duplicateWindowNs ? maxAge : JsDefaults.duplicateWindowNs;
  if (maxAge > 0 && dupWindow > maxAge) throw invalid('duplicates window can not be larger then max age');
  const minusOne = (v: unknown, n: string): number => {
    const x = int(v, n, -1, invalid);
    return x === 0 ? -1 : x < -1 ? -1 : x;
  };
  const cfg: StreamConfig = {
    name,
    ...(typeof input.description === 'string' && input.description !== '' ? { description: input.description } : {}),
    subjects,
    retention: oneOf(input.retention, 'retention', Object.values(Retention), Retention.LIMITS, invalid),
    max_consumers: minusOne(input.max_consumers, 'max_consumers'),
    max_msgs: minusOne(input.max_msgs, 'max_msgs'),
    max_bytes: minusOne(input.max_bytes, 'max_bytes'),
    max_age: maxAge,
    max_msgs_per_subject: minusOne(input.max_msgs_per_subject, 'max_msgs_per_subject'),
    max_msg_size: minusOne(input.max_msg_size, 'max_msg_size'),
    discard: oneOf(input.discard, 'discard', ['old', 'new'] as const, 'old', invalid),
    storage: oneOf(input.storage, 'storage', ['file', 'memory'] as const, 'file', invalid),
    num_replicas: 1,
    duplicate_window: dupWindow,
    allow_direct: bool(input.allow_direct, 'allow_direct', invalid),
    mirror_direct: bool(input.mirror_direct, 'mirror_direct', invalid),
    sealed: bool(input.sealed, 'sealed', invalid),
    deny_delete: bool(input.deny_delete, 'deny_delete', invalid),
    deny_purge: bool(input.deny_purge, 'deny_purge', invalid),
    allow_rollup_hdrs: bool(input.allow_rollup_hdrs, 'allow_rollup_hdrs', invalid),
  };
  const md = metadata(input.metadata, invalid);
  if (md !== undefined) cfg.metadata = md;
  // A roll-up purges, so a stream that denies purges cannot allow them.
  if (cfg.allow_rollup_hdrs && cfg.deny_purge) throw invalid('roll-ups require the purge permission');
  if (input.mirror !== undefined && input.mirror !== null) throw invalid('mirrors are not supported by this server');
  if (Array.isArray(input.sources) && input.sources.length > 0) throw invalid('sources are not supported by this server');
  return cfg;
}

/**
 * What an update may not change (nats-server 2.10's rules): the storage, the
 * retention to or from work queue, and the one-way switches (sealed,
 * deny_delete, deny_purge). Sealing forces what a sealed stream means, as
 * nats-server does: no max_age, discard new, no deletes, purges or roll-ups.
 */
export function checkStreamUpdate(old: StreamConfig, next: StreamConfig): void {
  if (old.storage !== next.storage) throw invalid('stream configuration update can not change storage type');
  if (old.retention !== next.retention && (old.retention === Retention.WORKQUEUE || next.retention === Retention.WORKQUEUE)) {
    throw invalid('stream configuration update can not change retention policy to/from workqueue');
  }
  if (old.sealed && !next.sealed) throw invalid('stream configuration update can not unseal a sealed stream');
  if (old.deny_delete && !next.deny_delete) throw invalid('stream configuration update can not cancel deny message deletes');
  if (old.deny_purge && !next.deny_purge) throw invalid('stream configuration update can not cancel deny purge');
  if (next.sealed) {
    next.max_age = 0;
    next.discard = 'new';
    next.deny_delete = true;
    next.deny_purge = true;
    next.allow_rollup_hdrs = false;
  }
}


function consumerFail(detail: string): JsApiError {
  return JsErr.consumerCreate(detail);
}

/** Fills in defaults and validates a consumer config (pull or push). `name` is already settled. */
export function normalizeConsumerConfig(input: Json, name: string, durable: boolean, stream: StreamConfig): ConsumerConfig {
  const deliverSubject = typeof input.deliver_subject === 'string' && input.deliver_subject !== '' ? input.deliver_subject : undefined;
  const filter = typeof input.filter_subject === 'string' && input.filter_subject !== '' ? input.filter_subject : undefined;
  const filters = Array.isArray(input.filter_subjects) ? (input.filter_subjects as unknown[]) : undefined;
  if (filter !== undefined && filters !== undefined && filters.length > 0) throw JsErr.consumerDuplicateFilters();
  const all = filter !== undefined ? [filter] : (filters ?? []);
  for (const f of all) {
    if (typeof f !== 'string' || f === '') throw new JsApiError(400, 10139, 'consumer filter in FilterSubjects cannot be empty');
    if (!isValidSubject(f)) throw consumerFail('consumer filter subject is not a valid subject');
    if (!stream.subjects.some((s) => subjectIsSubset(f, s) || subjectIsSubset(s, f) || subjectsCollide(f, s))) {
      throw JsErr.consumerFilterNotSubset();
    }
  }
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      if (subjectsCollide(all[i] as string, all[j] as string)) throw new JsApiError(400, 10138, 'consumer subject filters cannot overlap');
    }
  }
  // Omitted means none: nats-server's zero value (clients always send it).
  const ackPolicy = oneOf(input.ack_policy, 'ack policy', Object.values(AckPolicy), AckPolicy.NONE, consumerFail);
  const deliverPolicy = oneOf(input.deliver_policy, 'deliver policy', Object.values(DeliverPolicy), DeliverPolicy.ALL, consumerFail);
  if (deliverPolicy === DeliverPolicy.LAST_PER_SUBJECT && all.length === 0) {
    throw JsErr.consumerInvalidPolicy('consumer delivery policy is deliver last per subject, but optional filter subject is not set');
  }
  const optSeq = int(input.opt_start_seq, 'opt_start_seq', 0, consumerFail);
  const optTime = typeof input.opt_start_time === 'string' ? input.opt_start_time : undefined;
  if (deliverPolicy === DeliverPolicy.BY_START_SEQUENCE && optSeq <= 0) {
    throw JsErr.consumerInvalidPolicy('consumer delivery policy is deliver by start sequence, but optional start sequence is not set');
  }
  if (deliverPolicy !== DeliverPolicy.BY_START_SEQUENCE && optSeq > 0) {
    throw JsErr.consumerInvalidPolicy(`consumer delivery policy is deliver ${policyWords(deliverPolicy)}, but optional start sequence is also set`);
  }
  if (deliverPolicy === DeliverPolicy.BY_START_TIME && optTime === undefined) {
    throw JsErr.consumerInvalidPolicy('consumer delivery policy is deliver by start time, but optional start time is not set');
  }
  if (deliverPolicy !== DeliverPolicy.BY_START_TIME && optTime !== undefined) {
    throw JsErr.consumerInvalidPolicy(`consumer delivery policy is deliver ${policyWords(deliverPolicy)}, but optional start time is also set`);
  }
  let ackWait = int(input.ack_wait, 'ack_wait', 0, consumerFail);
  if (ackWait < 0) throw new JsApiError(400, 10183, 'consumer ack wait needs to be positive');
  if (ackWait === 0 && ackPolicy !== AckPolicy.NONE) ackWait = JsDefaults.ackWaitNs;
  let maxDeliver = int(input.max_deliver, 'max_deliver', -1, consumerFail);
  if (maxDeliver === 0 || maxDeliver < -1) maxDeliver = -1;
  let backoff: number[] | undefined;
  if (Array.isArray(input.backoff) && input.backoff.length > 0) {
    backoff = input.backoff.map((b) => int(b, 'backoff', 0, consumerFail));
    if (backoff.some((b) => b <= 0)) throw new JsApiError(400, 10184, 'consumer backoff needs to be positive');
    // Unlimited (-1) counts as "not above": nats-server asks for an explicit max_deliver with a backoff.
    if (maxDeliver <= backoff.length) throw JsErr.consumerMaxDeliverBackoff();
    // The first step replaces ack_wait, as nats-server echoes it.
    ackWait = backoff[0]!;
  }
  let maxWaiting = int(input.max_waiting, 'max_waiting', 0, consumerFail);
  let maxAckPending = int(input.max_ack_pending, 'max_ack_pending', 0, consumerFail);
  if (maxAckPending < -1) maxAckPending = -1;
  const push = checkPushFields(input, deliverSubject, stream, ackPolicy, maxWaiting, maxAckPending);
  if (deliverSubject === undefined) {
    if (maxWaiting < 0) throw JsErr.consumerMaxWaitingNegative();
    if (maxWaiting === 0) maxWaiting = JsDefaults.maxWaiting;
  }
  if (maxAckPending === 0 && ackPolicy !== AckPolicy.NONE) maxAckPending = JsDefaults.maxAckPending;
  const replicas = int(input.num_replicas, 'num_replicas', 0, consumerFail);
  if (replicas < 0) throw new JsApiError(400, 10133, 'replicas count cannot be negative');
  if (replicas > stream.num_replicas) throw new JsApiError(400, 10126, 'consumer config replica count exceeds parent stream');
  if (stream.retention === Retention.WORKQUEUE) {
    if (ackPolicy !== AckPolicy.EXPLICIT) throw JsErr.consumerWqRequiresExplicitAck();
    if (deliverPolicy !== DeliverPolicy.ALL) throw JsErr.consumerWqNotDeliverAll();
  }
  const cfg: ConsumerConfig = {
    ...(durable ? { durable_name: name } : {}),
    name,
    ...(typeof input.description === 'string' && input.description !== '' ? { description: input.description } : {}),
    deliver_policy: deliverPolicy,
    ...(optSeq > 0 ? { opt_start_seq: optSeq } : {}),
    ...(optTime !== undefined ? { opt_start_time: optTime } : {}),
    ack_policy: ackPolicy,
    ...(ackWait > 0 ? { ack_wait: ackWait } : {}),
    max_deliver: maxDeliver,
    ...(backoff !== undefined ? { backoff } : {}),
    ...(filter !== undefined ? { filter_subject: filter } : {}),
    ...(filter === undefined && filters !== undefined && filters.length > 0 ? { filter_subjects: filters as string[] } : {}),
    replay_policy: oneOf(input.replay_policy, 'replay policy', ['instant', 'original'] as const, 'instant', consumerFail),
    ...(push.rateLimit > 0 ? { rate_limit_bps: push.rateLimit } : {}),
    ...(typeof input.sample_freq === 'string' && input.sample_freq !== '' ? { sample_freq: input.sample_freq } : {}),
    ...(deliverSubject === undefined ? { max_waiting: maxWaiting } : {}),
    ...(maxAckPending !== 0 ? { max_ack_pending: maxAckPending } : {}),
    ...(push.heartbeat > 0 ? { idle_heartbeat: push.heartbeat } : {}),
    ...(push.flowControl ? { flow_control: true } : {}),
    ...(input.headers_only === true ? { headers_only: true } : {}),
    ...(deliverSubject !== undefined ? { deliver_subject: deliverSubject } : {}),
    ...(push.group !== undefined ? { deliver_group: push.group } : {}),
    num_replicas: replicas,
    ...(input.mem_storage === true ? { mem_storage: true } : {}),
  };
  for (const k of ['max_batch', 'max_expires', 'max_bytes'] as const) {
    const v = int(input[k], k, 0, consumerFail);
    if (v > 0) cfg[k] = v;
  }
  const inactive = int(input.inactive_threshold, 'inactive_threshold', 0, consumerFail);
  if (inactive > 0) cfg.inactive_threshold = inactive;
  else if (!durable) cfg.inactive_threshold = JsDefaults.inactiveThresholdNs;
  const md = metadata(input.metadata, consumerFail);
  if (md !== undefined) cfg.metadata = md;
  return cfg;
}

interface PushFields {
  readonly heartbeat: number;
  readonly flowControl: boolean;
  readonly rateLimit: number;
  readonly group: string | undefined;
}

/**
 * The fields only a push consumer may set (idle_heartbeat, flow_control,
 * rate_limit_bps) and what a push consumer may not (max_waiting), with
 * nats-server's errors (consumer.go checkConsumerCfg).
 */
function checkPushFields(input: Json, deliverSubject: string | undefined, stream: StreamConfig, ackPolicy: AckPolicy, maxWaiting: number, maxAckPending: number): PushFields {
  let heartbeat = int(input.idle_heartbeat, 'idle_heartbeat', 0, consumerFail);
  if (heartbeat < 0) heartbeat = 0;
  const flowControl = bool(input.flow_control, 'flow_control', consumerFail);
  const rateLimit = int(input.rate_limit_bps, 'rate_limit_bps', 0, consumerFail);
  if (rateLimit < 0) throw consumerFail('rate_limit_bps must not be negative');
  // nats-server echoes a deliver_group even on a pull consumer; so do we.
  const group = typeof input.deliver_group === 'string' && input.deliver_group !== '' ? input.deliver_group : undefined;
  if (deliverSubject === undefined) {
    if (rateLimit > 0) throw new JsApiError(400, 10086, 'consumer in pull mode can not have rate limit set');
    if (heartbeat > 0) throw new JsApiError(400, 10088, 'consumer idle heartbeat requires a push based consumer');
    if (flowControl) throw new JsApiError(400, 10089, 'consumer flow control requires a push based consumer');
    return { heartbeat, flowControl, rateLimit, group };
  }
  if (!isValidSubject(deliverSubject)) throw new JsApiError(400, 10112, 'invalid push consumer deliver subject');
  if (hasWildcard(deliverSubject)) throw new JsApiError(400, 10079, 'consumer deliver subject has wildcards');
  if (stream.subjects.some((s) => subjectMatches(s, deliverSubject))) throw new JsApiError(400, 10081, 'consumer deliver subject forms a cycle');
  if (maxWaiting !== 0) throw new JsApiError(400, 10080, 'consumer in push mode can not set max waiting');
  if (maxAckPending > 0 && ackPolicy === AckPolicy.NONE) throw new JsApiError(400, 10082, 'consumer requires ack policy for max ack pending');
  if (heartbeat > 0 && heartbeat < JsDefaults.minHeartbeatNs) throw new JsApiError(400, 10083, 'consumer idle heartbeat needs to be >= 100ms');
  if (flowControl && heartbeat === 0) throw new JsApiError(400, 10108, 'consumer with flow control also needs heartbeats');
  return { heartbeat, flowControl, rateLimit, group };
}

/**
 * What an update (CONSUMER.CREATE on an existing name with a new config) may
 * not change, with nats-server's words (consumer.go checkNewConsumerConfig).
 * `deliverBound`: whether the old deliver subject has interest now (a bound
 * push consumer keeps its deliver subject).
 */
export function checkConsumerUpdate(old: ConsumerConfig, next: ConsumerConfig, deliverBound: boolean): void {
  const refuse = (what: string): JsApiError => JsErr.consumerCreate(`${what} can not be updated`);
  if (old.deliver_policy !== next.deliver_policy) throw refuse('deliver policy');
  if ((old.mem_storage ?? false) !== (next.mem_storage ?? false)) throw refuse('storage type');
  if ((old.opt_start_seq ?? 0) !== (next.opt_start_seq ?? 0)) throw refuse('start sequence');
  if (old.opt_start_time !== next.opt_start_time) throw refuse('start time');
  if (old.ack_policy !== next.ack_policy) throw refuse('ack policy');
  if (old.replay_policy !== next.replay_policy) throw refuse('replay policy');
  if ((old.idle_heartbeat ?? 0) !== (next.idle_heartbeat ?? 0)) throw refuse('heart beats');
  if ((old.flow_control ?? false) !== (next.flow_control ?? false)) throw refuse('flow control');
  if (old.deliver_subject !== next.deliver_subject) {
    if (old.deliver_subject === undefined) throw JsErr.consumerCreate('can not update pull consumer to push based');
    if (next.deliver_subject === undefined) throw JsErr.consumerCreate('can not update push consumer to pull based');
    if (deliverBound) throw JsErr.consumerNameExist();
  }
  if (old.max_waiting !== next.max_waiting) throw refuse('max waiting');
}

/** The consumer's filters as a list; empty means everything. */
export function consumerFilters(cfg: ConsumerConfig): string[] {
  if (cfg.filter_subject !== undefined) return [cfg.filter_subject];
  return cfg.filter_subjects ?? [];
}

/** Whether two configs are the same for create's idempotency (key order aside). */
export function sameConfig(a: object, b: object): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Json = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Json)[k]);
    return out;
  }
  return v;
}
