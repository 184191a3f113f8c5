/**
 * What the JetStream layer sends: deliveries and statuses to consumers'
 * inboxes, PubAcks and API answers, advisories, and dead letters. Everything
 * leaves through the hub (JsHost), after the turn's commit.
 */
import { randomBytes } from 'node:crypto';
import { decodeHeaders, encodeHeaders } from '../../protocol/headers.js';
import { toWire } from '../../protocol/bytes.js';
import { JsHeader } from '../../protocol/jetstream.js';
import type { PendingAck, StoredMessage } from '../../store/index.js';
import type { ConsumerRuntime, DeadLetterReason } from './consumer.js';
import { JsApiError } from './errors.js';
import type { JsHost } from './host.js';
import type { Stream } from './registry.js';
import type { StreamRuntime } from './stream.js';
import { nowNs } from './time.js';
import type { AfterCommit, Fillable } from './types.js';

export const DEFAULT_DEAD_LETTER_PREFIX = 'dlq';
/** Consumer metadata key naming its dead-letter subject ('' turns dead-lettering off). */
export const DEAD_LETTER_METADATA = 'dead_letter_subject';

export interface OutboxHost {
  readonly host: JsHost;
  readonly deadLetterPrefix: string;
  /** The stream that stores a subject (user string), or null. */
  findCapture(subject: string): Stream | null;
  markDirty(c: Fillable): void;
}

export class Outbox {
  private readonly o: OutboxHost;

  constructor(o: OutboxHost) {
    this.o = o;
  }

  /** A stored message to an inbox (a pull's reply subject), shown with its stored subject. */
  sendMessage(to: string, msg: StoredMessage, ackSubject: string, headersOnly: boolean): void {
    let headers: Buffer | null = msg.headers.length > 0 ? Buffer.from(msg.headers) : null;
    let payload = Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.length);
    if (headersOnly) {
      headers = withHeaders(headers, { [JsHeader.MSG_SIZE]: String(payload.length) });
      payload = EMPTY;
    }
    this.o.host.deliverTo(to, toWire(msg.subject), ackSubject, headers, payload);
  }

  /** A status message (100, 404, 408, 409…) to an inbox or a deliver subject; `replyTo` for a flow-control request. */
  sendStatus(reply: string, code: number, description: string, headers?: Record<string, string | number>, replyTo?: string): void {
    this.o.host.deliverTo(reply, reply, replyTo, encodeHeaders(headers ?? {}, { code, description }), EMPTY);
  }

  /** `{"stream":…,"seq":…}` (and `"duplicate":true`), the hot reply, without a JSON.stringify per publish. */
  pubAck(reply: string, stream: StreamRuntime, seq: number, duplicate: boolean): void {
    const body = stream.pubAckPrefix + seq + (duplicate ? ',"duplicate":true}' : '}');
    this.o.host.reply(reply, Buffer.from(body, 'latin1'));
  }

  /** A JSON reply (an API response or a PubAck with an error). */
  reply(subject: string, body: object): void {
    const json = JSON.stringify(body, (_k, v: unknown) => (v instanceof JsApiError ? v.toJSON() : v));
    this.o.host.reply(subject, Buffer.from(json));
  }

  advise(subject: string, body: object): void {
    this.o.host.publish(toWire(subject), undefined, null, Buffer.from(JSON.stringify(body)));
  }

  /**
   * Max deliveries reached or terminated: stores the message in the dead-letter
   * subject's stream inside the turn's transaction (so a crash cannot lose it
   * between the term and the copy), and announces it after the commit.
   */
  deadLetter(c: ConsumerRuntime, p: PendingAck, reason: DeadLetterReason, after: AfterCommit[], termReason?: string): void {
    const s = c.stream;
    const msg = s.store.getMessage(s.name, p.streamSeq);
    const at = new Date().toISOString();
    const id = randomBytes(11).toString('base64url');
    if (reason === 'max_deliveries') {
      const advisory = {
        type: 'io.nats.jetstream.advisory.v1.max_deliver',
        id,
        timestamp: at,
        stream: s.name,
        consumer: c.name,
        stream_seq: p.streamSeq,
        deliveries: p.deliveries,
      };
      after.push(() => this.advise(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${s.name}.${c.name}`, advisory));
    } else {
      const advisory = {
        type: 'io.nats.jetstream.advisory.v1.terminated',
        id,
        timestamp: at,
        stream: s.name,
        consumer: c.name,
        consumer_seq: p.consumerSeq,
        stream_seq: p.streamSeq,
        deliveries: p.deliveries,
        ...(termReason ? { reason: termReason } : {}),
      };
      after.push(() => this.advise(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${s.name}.${c.name}`, advisory));
    }
    const target = c.config.metadata?.[DEAD_LETTER_METADATA] ?? `${this.o.deadLetterPrefix}.${s.name}.${c.name}`;
    if (msg === undefined || target === '') return;
    const headers = withHeaders(msg.headers.length > 0 ? Buffer.from(msg.headers) : null, {
      'Dead-Letter-Reason': reason,
      'Dead-Letter-Stream': s.name,
      'Dead-Letter-Consumer': c.name,
      'Dead-Letter-Deliveries': String(p.deliveries),
      'Dead-Letter-Sequence': String(p.streamSeq),
      'Dead-Letter-Subject': msg.subject,
    });
    const payload = Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.length);
    const dlq = this.o.findCapture(target);
    if (dlq !== null) {
      const r = dlq.store.transaction(() => dlq.append({ subject: target, headers, payload, parsed: decodeHeaders(headers), timeNs: nowNs() }));
      if (r instanceof JsApiError) this.o.host.logger.warn({ stream: dlq.name, err: r.message }, 'dead letter refused by its stream');
      else for (const dc of dlq.consumers.values()) if (dc.awaitsMessages()) this.o.markDirty(dc);
    }
    // capture false: the copy above is the stored one.
    after.push(() => this.o.host.publish(toWire(target), undefined, headers, payload, false));
  }
}

export const EMPTY = Buffer.alloc(0);

/** Appends headers to a raw header block (or makes one). */
export function withHeaders(block: Buffer | null, add: Record<string, string>): Buffer {
  let text = block === null ? 'NATS/1.0\r\n' : block.toString('utf8').replace(/\r\n\r\n$/, '\r\n');
  for (const [k, v] of Object.entries(add)) text += `${k}: ${v.replace(/[\r\n]/g, ' ')}\r\n`;
  return Buffer.from(text + '\r\n');
}
