/**
 * What a listener gets besides the payload, and its respond(). Kept apart
 * from the bus so the durable layer's meta extends it without importing the bus.
 */
import type { HeadersInit, MsgHeaders } from '../protocol/headers.js';

/** What a listener gets besides the payload. */
export interface EventMeta {
  /** The concrete subject (a wildcard listener sees the real one). */
  readonly subject: string;
  /** Reply subject, when the sender expects an answer. */
  readonly reply: string | undefined;
  readonly headers: MsgHeaders | undefined;
  /** The payload bytes as received. */
  readonly data: Buffer;
  /** Answers the sender (requires a reply subject). */
  respond(payload?: unknown, opts?: { headers?: HeadersInit }): void;
}

/** @internal Who sends a respond(): the bus. */
export interface Replier {
  sendReply(reply: string, payload: unknown, headers: HeadersInit | undefined, subject: string): void;
}

export class Meta implements EventMeta {
  readonly subject: string;
  readonly reply: string | undefined;
  readonly headers: MsgHeaders | undefined;
  readonly data: Buffer;
  readonly #bus: Replier;

  constructor(bus: Replier, subject: string, reply: string | undefined, headers: MsgHeaders | undefined, data: Buffer) {
    this.#bus = bus;
    this.subject = subject;
    this.reply = reply;
    this.headers = headers;
    this.data = data;
  }

  respond(payload?: unknown, opts?: { headers?: HeadersInit }): void {
    if (this.reply === undefined) throw new TypeError(`the event on ${JSON.stringify(this.subject)} has no reply subject`);
    this.#bus.sendReply(this.reply, payload, opts?.headers, this.subject);
  }
}
