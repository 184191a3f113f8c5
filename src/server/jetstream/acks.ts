/**
 * Acks on `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>`:
 * +ACK, -NAK (with a delay), +WPI, +TERM, +NXT. Each becomes an op of the
 * turn, so it is stored before it is confirmed (the ackAck, the next pull).
 */
import type { PendingAck } from '../../store/index.js';
import type { ConsumerRuntime, DeadLetterReason } from './consumer.js';
import type { Registry } from './registry.js';
import { nsToMs } from './time.js';
import type { AfterCommit, Fillable, Op } from './types.js';

export interface AckHost {
  readonly registry: Registry;
  markDirty(c: Fillable): void;
  deadLetter(c: ConsumerRuntime, p: PendingAck, reason: DeadLetterReason, after: AfterCommit[], termReason?: string): void;
  /** The request part of +NXT. */
  pull(c: ConsumerRuntime, reply: string, body: Buffer): void;
  /** The empty ackAck. */
  ackAck(reply: string): void;
  logError(err: unknown, c: ConsumerRuntime): void;
}

type AckKind = 'ack' | 'nak' | 'progress' | 'term' | 'next';

/** The longest -NAK delay kept: now + this stays a safe integer (and fits SQLite's INTEGER). */
const MAX_DELAY_MS = 2 ** 52;
/** Tokens of an ack subject (format v1, without a domain). */
const ACK_TOKENS = 9;

/** The op for an ack, or undefined when the subject names no consumer or no valid seq. */
export function ackOp(h: AckHost, subject: string, reply: string | undefined, body: Buffer): Op | undefined {
  const t = subject.split('.');
  if (t.length !== ACK_TOKENS) return undefined;
  const c = h.registry.streams.get(t[2]!)?.consumers.get(t[3]!);
  const sseq = Number(t[5]);
  if (c === undefined || !Number.isSafeInteger(sseq) || sseq <= 0) return undefined;
  c.lastActive = Date.now();
  const text = body.toString('utf8');
  const kind = ackKind(text);
  const deliveries = Number(t[4]) || 1;
  return {
    store: c.stream.store,
    run: (after) => {
      if (c.deleted) return;
      applyAck(h, c, kind, sseq, deliveries, text, after);
      if (kind === 'next' && reply !== undefined) after.push(() => h.pull(c, reply, Buffer.from(text.slice(4).trim())));
      else if (reply !== undefined) after.push(() => h.ackAck(reply));
    },
    fail: (err) => h.logError(err, c),
  };
}

function applyAck(h: AckHost, c: ConsumerRuntime, kind: AckKind, sseq: number, deliveries: number, text: string, after: AfterCommit[]): void {
  const s = c.stream;
  const store = s.store;
  const now = Date.now();
  switch (kind) {
    case 'ack':
    case 'next': {
      const settled = c.config.ack_policy === 'all' ? store.ackUpTo(s.name, c.name, sseq) > 0 : store.ack(s.name, c.name, sseq);
      if (settled) {
        c.lastAckedMs = now;
        s.settled(sseq);
        h.markDirty(c);
      }
      return;
    }
    case 'nak':
      if (store.nak(s.name, c.name, sseq, now + nakDelayMs(text))) h.markDirty(c);
      return;
    case 'progress':
      store.progress(s.name, c.name, sseq, now + c.ackWaitMs(deliveries));
      return;
    case 'term': {
      const p = store.pendingAcks(s.name, c.name).find((x) => x.streamSeq === sseq);
      if (p !== undefined && store.term(s.name, c.name, sseq)) {
        c.lastAckedMs = now;
        h.deadLetter(c, p, 'terminated', after, text.slice(5).trim());
        s.settled(sseq);
        h.markDirty(c);
      }
      return;
    }
  }
}

function ackKind(text: string): AckKind {
  if (text.startsWith('-NAK')) return 'nak';
  if (text.startsWith('+WPI')) return 'progress';
  if (text.startsWith('+TERM')) return 'term';
  if (text.startsWith('+NXT')) return 'next';
  return 'ack'; // +ACK, +OK, empty
}

/** `-NAK {"delay": ns}` → ms; a bare -NAK redelivers at once. */
function nakDelayMs(text: string): number {
  const rest = text.slice(4).trim();
  if (rest === '') return 0;
  try {
    const v = JSON.parse(rest) as { delay?: unknown };
    // Any delay is honoured, up to 2^52 ms (a deadline must stay a safe integer).
    return typeof v.delay === 'number' && v.delay > 0 ? Math.min(nsToMs(v.delay), MAX_DELAY_MS) : 0;
  } catch {
    return 0;
  }
}
