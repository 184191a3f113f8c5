/**
 * The schema check on the publish path (issue #19): after the publisher's
 * permissions, before `+OK` and routing. Built only while rules exist: a hub
 * without rules keeps `HubCore.gate` null and pays one test per publish.
 *
 *   PUB S ─► rule for S (cached per subject) ─► none: on to the router
 *                 │
 *                 ▼ check(body)
 *              passes ─► accepted++, on to the router
 *              breaks ─► rejected++, nothing routed or stored, then by action:
 *                 reject      -ERR; with a reply: the error PubAck (a stream captures S)
 *                             or the 400 status to the requester (headers negotiated)
 *                 deadLetter  as reject, and the event to <prefix>.schema.S
 *                 drop        nothing to the publisher (+OK when verbose), a log line now and then
 *
 * Subjects here are wire strings (one char per byte); the rules' subjects and
 * every text the validator makes are user strings (UTF-8), converted once.
 * The hub's own API subjects ($JS.API., $NE., …) never have a rule (ruleFor).
 */
import { bufferView, fromWire, latin1Slice, toWire } from '../protocol/bytes.js';
import { HEADER_VERSION } from '../protocol/constants.js';
import {
  deadLetterSubject,
  SCHEMA_ERROR_HEADER,
  SCHEMA_HEADER,
  SCHEMA_VIOLATION_DESCRIPTION,
  SCHEMA_VIOLATION_ERR_CODE,
  SCHEMA_VIOLATION_STATUS,
  SchemaAction,
  schemaPubAckDescription,
  schemaViolationText,
} from '../protocol/schemas.js';
import { SchemaViolationError } from '../errors.js';
import { ruleFor, type CompiledRule } from '../schema/validator.js';
import type { Logger } from './options.js';
import { statusToRequester } from './router.js';
import type { Message, PublishGate, Subscriber } from './types.js';

/** Subjects whose rule is remembered; past it the memory starts over, so random subjects cannot grow it. */
export const SUBJECT_CACHE_MAX = 4096;
/** At most one log line per this many ms for events the `drop` action discards (with the count since the last). */
export const DROP_LOG_INTERVAL_MS = 10_000;

/** A rule's counters (hub.stats().schemas, the metric). */
export interface RuleCounts {
  accepted: number;
  rejected: number;
}

/** What the gate uses of the hub. */
export interface GateHost {
  readonly logger: Logger;
  /** `<prefix>` of `<prefix>.schema.<subject>` (a user string). */
  deadLetterPrefix(): string;
  /** Routes a message from inside the hub: subscribers and streams take it, no rule checks it. */
  publish(msg: Message): void;
  /** Delivers the hub's answer to the subscribers of `subject` (a wire string), as a JetStream reply. */
  reply(subject: string, payload: Buffer): void;
  /** Whether a stream captures the wire subject: then a publish with a reply is a JetStream publish. */
  captures(subject: string): boolean;
}

/** A rule with its counters: what the cache holds, so a publish makes one look-up. */
interface Entry {
  readonly rule: CompiledRule;
  readonly counts: RuleCounts;
}

export class SchemaGate implements PublishGate {
  private readonly cache = new Map<string, Entry | null>();
  private readonly entries: ReadonlyMap<CompiledRule, Entry>;
  private lastDropLog = 0;
  private dropsUnlogged = 0;

  constructor(
    private readonly host: GateHost,
    private readonly rules: readonly CompiledRule[],
    counts: ReadonlyMap<CompiledRule, RuleCounts>,
  ) {
    this.entries = new Map(rules.map((rule) => [rule, { rule, counts: counts.get(rule)! }]));
  }

  /** How many subjects the cache holds now (tests: it stays within SUBJECT_CACHE_MAX). */
  get cached(): number {
    return this.cache.size;
  }

  /** The rule for a wire subject, remembered. */
  private entryOf(subject: string): Entry | null {
    let entry = this.cache.get(subject);
    if (entry === undefined) {
      const rule = ruleFor(this.rules, fromWire(subject));
      entry = rule === null ? null : this.entries.get(rule)!;
      if (this.cache.size >= SUBJECT_CACHE_MAX) this.cache.clear();
      this.cache.set(subject, entry);
    }
    return entry;
  }

  /** A client's publish (PublishGate): false when refused, the publisher answered here. */
  pass(from: Subscriber, subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array): boolean {
    const entry = this.entryOf(subject);
    if (entry === null) return true;
    const rule = entry.rule;
    const reason = rule.check(headerLength === 0 ? payload : payload.subarray(headerLength));
    if (reason === null) {
      entry.counts.accepted++;
      return true;
    }
    entry.counts.rejected++;
    if (rule.action === SchemaAction.DROP) {
      this.dropped(rule, subject, reason, from.id);
      // As if accepted: the publisher learns nothing.
      if (from.opts.verbose) from.send('+OK\r\n');
      return false;
    }
    const wireReason = toWire(reason);
    from.send(`-ERR '${schemaViolationText(subject, wireReason)}'\r\n`);
    this.host.logger.debug({ client: from.id, subject: fromWire(subject), schema: rule.name, reason }, 'schema violation');
    if (reply !== undefined) {
      if (this.host.captures(subject)) this.pubAckError(reply, reason);
      else if (from.opts.headers) statusToRequester(from, reply, violationStatus(reason));
    }
    if (rule.action === SchemaAction.DEAD_LETTER) this.deadLetter(rule, subject, headerLength, payload, reason);
    return false;
  }

  /**
   * hub.publish() from the process: false when the event is not to be
   * routed (dropped); throws SchemaViolationError when refused (after the
   * dead letter, for deadLetter).
   */
  passEmbedded(subject: string, payload: Buffer): boolean {
    const entry = this.entryOf(subject);
    if (entry === null) return true;
    const rule = entry.rule;
    const reason = rule.check(payload);
    if (reason === null) {
      entry.counts.accepted++;
      return true;
    }
    entry.counts.rejected++;
    if (rule.action === SchemaAction.DROP) {
      this.dropped(rule, subject, reason, undefined);
      return false;
    }
    if (rule.action === SchemaAction.DEAD_LETTER) this.deadLetter(rule, subject, 0, payload, reason);
    throw new SchemaViolationError(fromWire(subject), reason, rule.name);
  }

  /**
   * A will's event, checked at CONNECT (server/will.ts): true keeps it,
   * false discards it silently (drop), a string refuses the CONNECT with it.
   */
  willVerdict(subject: string, payload: Buffer): boolean | string {
    const entry = this.entryOf(subject);
    if (entry === null) return true;
    const rule = entry.rule;
    const reason = rule.check(payload);
    if (reason === null) return true;
    entry.counts.rejected++;
    if (rule.action === SchemaAction.DROP) {
      this.dropped(rule, subject, reason, undefined);
      return false;
    }
    return schemaViolationText(subject, toWire(reason));
  }

  /** The error PubAck a JetStream publish gets: the stream stored nothing. */
  private pubAckError(reply: string, reason: string): void {
    const error = { code: SCHEMA_VIOLATION_STATUS, err_code: SCHEMA_VIOLATION_ERR_CODE, description: schemaPubAckDescription(reason) };
    this.host.reply(reply, Buffer.from(JSON.stringify({ error }), 'utf8'));
  }

  /** The event, as published, to `<prefix>.schema.<subject>`: its headers kept, the rule and the reason added; no reply. */
  private deadLetter(rule: CompiledRule, subject: string, headerLength: number, payload: Uint8Array, reason: string): void {
    const added = `${SCHEMA_HEADER}: ${headerValue(rule.name)}\r\n${SCHEMA_ERROR_HEADER}: ${reason}\r\n\r\n`;
    let head = `${HEADER_VERSION}\r\n`;
    if (headerLength >= 4) {
      const block = bufferView(payload.buffer, payload.byteOffset, headerLength);
      // A block as clients write it ends with an empty line: ours go before it. Anything else cannot be
      // extended safely, and is replaced.
      if (latin1Slice(block, headerLength - 4, headerLength) === '\r\n\r\n') head = latin1Slice(block, 0, headerLength - 2);
    }
    const headers = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(added, 'utf8')]);
    const body = payload.subarray(headerLength);
    const target = deadLetterSubject(toWire(this.host.deadLetterPrefix()), subject);
    this.host.publish({ subject: target, reply: undefined, headerLength: headers.length, payload: Buffer.concat([headers, body]) });
  }

  private dropped(rule: CompiledRule, subject: string, reason: string, client: number | undefined): void {
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) {
      this.dropsUnlogged++;
      return;
    }
    const since = this.dropsUnlogged;
    this.lastDropLog = now;
    this.dropsUnlogged = 0;
    this.host.logger.warn(
      { client, subject: fromWire(subject), schema: rule.name, reason, droppedUnlogged: since },
      `schema violation: event dropped${since > 0 ? ` (and ${since} more since the last line)` : ''}`,
    );
  }
}

/** `NATS/1.0 400 Schema Violation` with the reason (wire string) in its header: the requester's answer. */
function violationStatus(reason: string): string {
  return `${HEADER_VERSION} ${SCHEMA_VIOLATION_STATUS} ${SCHEMA_VIOLATION_DESCRIPTION}\r\n${SCHEMA_ERROR_HEADER}: ${toWire(reason)}\r\n\r\n`;
}

/** One line, as a header value must be. */
function headerValue(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
