/** Stream management: `$JS.API.STREAM.{CREATE,UPDATE,INFO,DELETE,PURGE,NAMES,LIST}`. */
import type { StreamState } from '../../../store/index.js';
import { subjectsCollide } from '../../../protocol/subject.js';
import { checkName, checkStreamUpdate, normalizeStreamConfig, sameConfig, type Json } from '../config.js';
import { JsApiError, JsErr } from '../errors.js';
import type { Stream } from '../registry.js';
import { rfc3339, ZERO_TIME } from '../time.js';
import { LIST_PAGE, NAMES_PAGE, pageOffset, parseJson, type ApiContext } from './common.js';

/** Subjects a STREAM.INFO with subjects_filter lists (nats-server's JSMaxSubjectDetails). */
const SUBJECTS_PAGE = 100_000;

export function streamCreate(ctx: ApiContext, name: string, body: Buffer): Json {
  const req = parseJson(body, true);
  if (req.name !== undefined && req.name !== name) throw JsErr.streamMismatch();
  checkName(name, 'stream');
  const cfg = normalizeStreamConfig(req, name);
  if (cfg.sealed) throw JsErr.streamInvalidConfig('stream configuration for create can not be sealed');
  const existing = ctx.registry.streams.get(name);
  if (existing !== undefined) {
    if (!sameConfig(existing.config, cfg)) throw JsErr.streamNameExist();
    return { ...streamInfo(existing), did_create: false };
  }
  return { ...streamInfo(ctx.registry.createStream(cfg)), did_create: true };
}

export function streamUpdate(ctx: ApiContext, name: string, body: Buffer): Json {
  const req = parseJson(body, true);
  if (req.name !== undefined && req.name !== name) throw JsErr.streamMismatch();
  const s = ctx.registry.stream(name);
  const cfg = normalizeStreamConfig(req, name);
  checkStreamUpdate(s.config, cfg);
  ctx.registry.updateStream(s, cfg);
  return streamInfo(s);
}

export function streamInfoCall(ctx: ApiContext, name: string, body: Buffer): Json {
  const req = parseJson(body);
  const s = ctx.registry.stream(name);
  const filter = typeof req.subjects_filter === 'string' && req.subjects_filter !== '' ? req.subjects_filter : undefined;
  const info = streamInfo(s, filter);
  const subjects = (info.state as Json).subjects as Record<string, number> | undefined;
  // Paging counts subjects, as nats-server (which sends at most SUBJECTS_PAGE of them).
  return { total: subjects === undefined ? 0 : Object.keys(subjects).length, offset: 0, limit: filter === undefined ? 0 : SUBJECTS_PAGE, ...info };
}

export function streamDelete(ctx: ApiContext, name: string): Json {
  ctx.registry.deleteStream(ctx.registry.stream(name));
  return { success: true };
}

export function streamPurge(ctx: ApiContext, name: string, body: Buffer): Json {
  const req = parseJson(body);
  const s = ctx.registry.stream(name);
  // Sealed first: sealing also sets deny_purge, and nats-server names the seal.
  if (s.config.sealed) throw JsErr.streamSealed();
  if (s.config.deny_purge) throw new JsApiError(500, 10110, 'stream purge not permitted');
  const filter = typeof req.filter === 'string' && req.filter !== '' ? req.filter : undefined;
  const seq = typeof req.seq === 'number' && req.seq > 0 ? req.seq : undefined;
  const keep = typeof req.keep === 'number' && req.keep > 0 ? req.keep : undefined;
  if (seq !== undefined && keep !== undefined) throw new JsApiError(400, 10003, 'bad request');
  const purged = s.store.purge(name, { filter, upTo: seq, keep });
  return { success: true, purged };
}

export function streamNames(ctx: ApiContext, body: Buffer): Json {
  const req = parseJson(body);
  const offset = pageOffset(req);
  const names = streamsOn(ctx, req.subject).map((s) => s.name);
  return { total: names.length, offset, limit: NAMES_PAGE, streams: names.slice(offset, offset + NAMES_PAGE) };
}

export function streamList(ctx: ApiContext, body: Buffer): Json {
  const req = parseJson(body);
  const offset = pageOffset(req);
  const all = streamsOn(ctx, req.subject);
  return { total: all.length, offset, limit: LIST_PAGE, streams: all.slice(offset, offset + LIST_PAGE).map((s) => streamInfo(s)) };
}

/** Streams by name, only those whose subjects overlap `subject` when it is a non-empty string (NAMES, LIST). */
function streamsOn(ctx: ApiContext, subject: unknown): Stream[] {
  const all = [...ctx.registry.streams.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (typeof subject !== 'string' || subject === '') return all;
  return all.filter((s) => s.config.subjects.some((x) => subjectsCollide(x, subject)));
}

export function streamInfo(s: Stream, subjectsFilter?: string): Json {
  const st = s.store.streamState(s.name);
  const state: Json = stateJson(st);
  if (subjectsFilter !== undefined) {
    const counts: Record<string, number> = {};
    for (const m of s.store.loadMessages(s.name, 1, { filter: subjectsFilter })) counts[m.subject] = (counts[m.subject] ?? 0) + 1;
    if (Object.keys(counts).length > 0) state.subjects = counts;
  }
  return { config: s.config, created: rfc3339(s.createdNs), state };
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
