/** Stored messages one at a time: `$JS.API.STREAM.MSG.{GET,DELETE}`. */
import type { Json } from '../config.js';
import { JsApiError, JsErr } from '../errors.js';
import { rfc3339 } from '../time.js';
import { parseJson, type ApiContext } from './common.js';

export function msgGet(ctx: ApiContext, name: string, body: Buffer): Json {
  const req = parseJson(body);
  const s = ctx.registry.stream(name);
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
      // Left out for an empty payload, as nats-server does (a KV delete marker): some clients refuse an empty base64 string.
      ...(msg.payload.length > 0 ? { data: Buffer.from(msg.payload).toString('base64') } : {}),
      time: rfc3339(msg.timeNs),
    },
  };
}

export function msgDelete(ctx: ApiContext, name: string, body: Buffer): Json {
  const req = parseJson(body);
  const s = ctx.registry.stream(name);
  // Sealed first: sealing also sets deny_delete, and nats-server names the seal.
  if (s.config.sealed) throw JsErr.streamSealed();
  if (s.config.deny_delete) throw new JsApiError(500, 10057, 'message delete not permitted');
  if (typeof req.seq !== 'number' || req.seq <= 0) throw JsErr.badRequest();
  if (!s.store.deleteMessage(name, req.seq)) {
    // nats-server's answers differ by store: its memory store says 10043 for any seq; its file store says
    // EOF past the end, "no message found" below the first message, 10043 for a gap in between.
    if (s.config.storage === 'file') {
      const st = s.store.streamState(name);
      if (req.seq > st.lastSeq) throw new JsApiError(500, 10057, 'stream store EOF');
      if (req.seq < st.firstSeq) throw new JsApiError(500, 10057, 'no message found');
    }
    throw JsErr.sequenceNotFound(req.seq);
  }
  return { success: true };
}
