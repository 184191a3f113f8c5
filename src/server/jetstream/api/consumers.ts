/** Consumer management: `$JS.API.CONSUMER.{CREATE,DURABLE.CREATE,INFO,DELETE,NAMES,LIST}`. */
import { randomBytes } from 'node:crypto';
import { checkConsumerUpdate, checkName, consumerFilters, normalizeConsumerConfig, sameConfig, type ConsumerConfig, type Json } from '../config.js';
import type { ConsumerRuntime } from '../consumer.js';
import { JsApiError, JsErr } from '../errors.js';
import { rfc3339 } from '../time.js';
import { lastActive, LIST_PAGE, NAMES_PAGE, pageOffset, parseJson, type ApiContext } from './common.js';

/**
 * `CONSUMER.CREATE.<stream>[.<name>[.<filter>]]` and the older
 * `CONSUMER.DURABLE.CREATE.<stream>.<durable>`: creates, or updates an
 * existing consumer (action `update`, or no action), or refuses (`create`).
 */
export function consumerCreate(ctx: ApiContext, t: string[], body: Buffer): Json {
  const legacy = t[1] === 'DURABLE';
  const streamName = legacy ? t[3]! : t[2]!;
  const subjName = legacy ? t[4] : t[3];
  const subjFilter = legacy || t.length < 5 ? undefined : t.slice(4).join('.');
  const req = parseJson(body, true);
  if (req.stream_name !== undefined && req.stream_name !== streamName) throw JsErr.streamMismatch();
  const input = req.config;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new JsApiError(400, 10078, 'consumer config required');
  const cfgIn = input as Json;
  const s = ctx.registry.stream(streamName);
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
    if (sameConfig(existing.config, cfg)) return consumerInfo(existing);
    if (action === 'create') throw JsErr.consumerAlreadyExists();
    checkConsumerUpdate(existing.config, cfg, existing.push?.active() ?? false);
    ctx.registry.updateConsumer(existing, cfg);
    return consumerInfo(existing);
  }
  if (action === 'update') throw JsErr.consumerDoesNotExist();
  return consumerInfo(ctx.registry.createConsumer(s, cfg));
}

export function consumerInfoCall(ctx: ApiContext, stream: string, name: string): Json {
  return consumerInfo(ctx.registry.consumer(stream, name));
}

export function consumerDelete(ctx: ApiContext, stream: string, name: string): Json {
  ctx.registry.removeConsumer(ctx.registry.consumer(stream, name));
  return { success: true };
}

export function consumerNames(ctx: ApiContext, stream: string, body: Buffer): Json {
  const req = parseJson(body);
  const offset = pageOffset(req);
  const names = [...ctx.registry.stream(stream).consumers.keys()].sort();
  return { total: names.length, offset, limit: NAMES_PAGE, consumers: names.slice(offset, offset + NAMES_PAGE) };
}

export function consumerList(ctx: ApiContext, stream: string, body: Buffer): Json {
  const req = parseJson(body);
  const offset = pageOffset(req);
  const s = ctx.registry.stream(stream);
  const names = [...s.consumers.keys()].sort();
  return {
    total: names.length,
    offset,
    limit: LIST_PAGE,
    consumers: names.slice(offset, offset + LIST_PAGE).map((n) => consumerInfo(s.consumers.get(n)!)),
  };
}

export function consumerInfo(c: ConsumerRuntime): Json {
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

/** An ephemeral consumer's generated name (nats-server uses 8 random characters). */
function randomName(): string {
  return randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 8);
}
