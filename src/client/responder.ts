/**
 * The responder's side of request/reply: a handler's result goes back as the
 * reply; its failure goes back too, as an empty message whose headers carry
 * the error (as NATS services do), so the requester gets an answer either way.
 *
 *   HPUB <reply> <hlen> <hlen>   Nats-Service-Error: <message>
 *                                Nats-Service-Error-Code: <err.status or 500>
 */
import { encodeHeaders } from '../protocol/headers.js';
import { decodePayload } from './codec.js';
import type { Meta } from './event-meta.js';
import type { Sub } from './bus-types.js';

/** Header names a responder uses to report a failure (those of NATS services). */
export const ERROR_HEADER = 'Nats-Service-Error';
export const ERROR_CODE_HEADER = 'Nats-Service-Error-Code';

/** @internal What a responder needs from the bus. */
export interface ResponderHost {
  readonly isClosed: boolean;
  rawPublish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void;
  listenerFailed(subject: string, err: unknown): void;
}

function errorStatus(err: unknown): number {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' && Number.isInteger(s) ? s : 500;
}

export class Responder {
  private readonly host: ResponderHost;
  /** The bus's work in flight: drain() waits for running handlers. */
  private readonly inFlight: Set<Promise<unknown>>;

  constructor(host: ResponderHost, inFlight: Set<Promise<unknown>>) {
    this.host = host;
    this.inFlight = inFlight;
  }

  /** Runs a handler on a request and answers it. */
  run(sub: Sub, meta: Meta): void {
    const p = (async () => sub.handler!(decodePayload(meta.data), meta))();
    this.inFlight.add(p);
    p.then(
      (result) => {
        if (meta.reply === undefined || this.host.isClosed) return;
        try {
          meta.respond(result);
        } catch (err) {
          // A result that cannot be sent (no JSON form, too large): the requester still gets an answer.
          this.replyFailure(sub, meta, err);
        }
      },
      (err: unknown) => this.replyFailure(sub, meta, err),
    ).finally(() => this.inFlight.delete(p));
  }

  /** Answers a request with the handler's error (header Nats-Service-Error), or reports it. */
  private replyFailure(sub: Sub, meta: Meta, err: unknown): void {
    if (meta.reply === undefined || this.host.isClosed) return this.host.listenerFailed(sub.subject, err);
    const message = err instanceof Error ? err.message : String(err);
    try {
      this.host.rawPublish(meta.reply, undefined, encodeHeaders({ [ERROR_HEADER]: message.replace(/[\r\n]+/g, ' '), [ERROR_CODE_HEADER]: errorStatus(err) }), Buffer.alloc(0));
    } catch (e) {
      this.host.listenerFailed(sub.subject, e);
    }
  }
}
