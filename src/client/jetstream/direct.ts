/**
 * Reading one stored message the fastest way the stream allows: a direct
 * get when the stream has allow_direct (any server of the stream answers,
 * and the reply is the message itself), else the STREAM.MSG.GET API (the
 * message inside a JSON reply, base64).
 *
 *   PUB $JS.API.DIRECT.GET.KV_cfg _INBOX.x  {"last_by_subj":"$KV.cfg.color"}
 *   HMSG _INBOX.x 1 <hdr> <total>   NATS/1.0 + Nats-Stream, Nats-Subject, Nats-Sequence, Nats-Time-Stamp
 *   or   HMSG _INBOX.x 1 …          NATS/1.0 404 Message Not Found
 */
import { decodeHeaders, type MsgHeaders } from '../../protocol/headers.js';
import { JetStreamApiError, NoRespondersError } from '../../errors.js';
import type { JetStreamClient } from './api.js';
import { JsApi } from './types.js';

/** JetStream's "no message found". */
const NO_MESSAGE = 10037;

/** A stored message, undecoded. */
export interface RawStored {
  readonly subject: string;
  readonly seq: number;
  readonly time: Date;
  readonly headers: MsgHeaders | undefined;
  readonly data: Buffer;
}

export type GetQuery = { seq: number } | { lastBySubject: string };

/**
 * Reads one message, or null when there is none. `direct` asks for a direct
 * get; a server where nothing answers it (503) gets the API call instead,
 * and `onNoDirect` is told so that the caller stops asking.
 */
export async function getStored(js: JetStreamClient, stream: string, query: GetQuery, direct: boolean, onNoDirect?: () => void): Promise<RawStored | null> {
  const body = 'seq' in query ? { seq: query.seq } : { last_by_subj: query.lastBySubject };
  if (direct) {
    try {
      return await directGet(js, stream, body);
    } catch (err) {
      if (!(err instanceof NoRespondersError)) throw err;
      onNoDirect?.();
    }
  }
  try {
    const r = await js.call<{ message: { subject: string; seq: number; time: string; hdrs?: string; data?: string } }>(`${JsApi.STREAM_MSG_GET}.${stream}`, body);
    const m = r.message;
    return {
      subject: m.subject,
      seq: m.seq,
      time: new Date(m.time),
      headers: m.hdrs === undefined || m.hdrs === '' ? undefined : decodeHeaders(Buffer.from(m.hdrs, 'base64')),
      data: m.data === undefined ? Buffer.alloc(0) : Buffer.from(m.data, 'base64'),
    };
  } catch (err) {
    if (err instanceof JetStreamApiError && err.errCode === NO_MESSAGE) return null;
    throw err;
  }
}

async function directGet(js: JetStreamClient, stream: string, body: unknown): Promise<RawStored | null> {
  const reply = await js.host.rawRequest(`${js.prefix}.DIRECT.GET.${stream}`, null, Buffer.from(JSON.stringify(body)), js.timeout);
  const h = reply.headers;
  const code = h?.code ?? 0;
  if (code === 404) return null;
  if (code !== 0 || h === undefined) throw new JetStreamApiError(code || 500, 0, `direct get on stream ${stream}: ${h?.description || 'a reply without headers'}`);
  const subject = h.get('Nats-Subject');
  const seq = Number(h.get('Nats-Sequence'));
  if (subject === undefined || !Number.isInteger(seq)) throw new JetStreamApiError(500, 0, `direct get on stream ${stream}: the reply lacks Nats-Subject or Nats-Sequence`);
  const ts = h.get('Nats-Time-Stamp');
  return { subject, seq, time: ts === undefined ? new Date(0) : new Date(ts), headers: h, data: reply.data };
}
