/**
 * `bus.schemas` (issue #19): the schemas a netemitter hub enforces, asked
 * for on `$NE.SCHEMA.LIST` / `$NE.SCHEMA.GET.<subject>`, and, with
 * `validate: 'local'`, the hub's own rules compiled here so an event that
 * breaks them is refused before it is sent.
 *
 *   connect() ─► start() ─► LIST ─► compileRules() ─► check(subject, bytes)
 *                                                     in emit / request / publish / respond
 *   reconnect, INFO netemitter_schemas: n ─► refresh() ─► LIST ─► swap
 *                                            (the rules in force meanwhile: the last ones)
 *
 * This file is loaded on first use (bus.ts imports it dynamically), and the
 * validator (ajv) in turn only by start(): neither is in what connect()
 * loads unless validate is 'local'.
 *
 * A server without the `schemas` feature (nats-server) enforces nothing:
 * list() and get() answer so without a request ({ generation: 0, rules: [] }
 * and null), and there is nothing to check here.
 */
import { ClosedError, InvalidSubjectError, ServerError, SchemaViolationError } from '../errors.js';
import type { MsgHeaders } from '../protocol/headers.js';
import { INFO_SCHEMAS_FIELD, SCHEMAS_FEATURE, SCHEMA_GET_PREFIX, SCHEMA_LIST_SUBJECT } from '../protocol/schemas.js';
import type { SchemaList, SchemaLookup, SchemaRuleInfo } from '../protocol/schemas.js';
import type { CompiledRule } from '../schema/validator.js';
import { isValidLiteralSubject } from '../protocol/subject.js';
import type { ServerInfo } from './types.js';

/** @internal What the schemas need from the bus. */
export interface SchemaHost {
  /** The INFO of the server connected to last. */
  readonly info: ServerInfo | null;
  rawRequest(subject: string, headers: Buffer | null, payload: Buffer, timeout: number): Promise<{ readonly headers: MsgHeaders | undefined; readonly data: Buffer }>;
  /** A background failure (a refresh after a reconnect or a reload): bus.status 'error'. */
  reportError(err: Error): void;
}

/** `bus.schemas`: every method returns a promise (the code loads on the first call). */
export interface Schemas {
  /** Every rule the hub enforces, in the order it applies them, with its generation. */
  list(): Promise<SchemaList>;
  /** The rule that applies to a literal subject (the first whose subjects match), or null. */
  get(subject: string): Promise<SchemaRuleInfo | null>;
  /**
   * With validate: 'local', resolves once the rules checked here are the
   * hub's latest known ones (a refresh under way has ended); rejects with
   * the last refresh's error while it failed. At once otherwise.
   */
  ready(): Promise<void>;
}

/** Subjects whose rule is remembered (an emit repeats its subjects); past it, the memory starts over. */
const MAX_CACHED_SUBJECTS = 10_000;

const EMPTY = Buffer.alloc(0);

type Validator = typeof import('../schema/validator.js');

export class SchemaApi implements Schemas {
  private readonly host: SchemaHost;
  private readonly timeout: number;
  /** validate: 'local' is on (start() was called). */
  private local = false;
  private validator: Validator | null = null;
  private rules: readonly CompiledRule[] = [];
  /** The generation of `rules` (undefined: none fetched, or the server has no schemas). */
  private generation: number | undefined;
  private readonly bySubject = new Map<string, CompiledRule | null>();
  private running: Promise<void> | null = null;
  /** A change was announced while a refresh was under way: one more. */
  private again = false;
  /** Why the last refresh failed (the rules are then not the latest): ready() rejects with it. */
  private failure: Error | null = null;

  constructor(host: SchemaHost, opts: { requestTimeout: number }) {
    this.host = host;
    this.timeout = opts.requestTimeout;
  }

  async list(): Promise<SchemaList> {
    if (!this.served()) return { generation: 0, rules: [] };
    const answer = await this.ask(SCHEMA_LIST_SUBJECT);
    if (!isSchemaList(answer)) throw new ServerError(`the answer to ${SCHEMA_LIST_SUBJECT} is not a schema list`);
    return answer;
  }

  async get(subject: string): Promise<SchemaRuleInfo | null> {
    // The validator's import, not client/subject-check.ts: one shared chunk fewer in the browser bundle.
    if (typeof subject !== 'string' || !isValidLiteralSubject(subject)) throw new InvalidSubjectError(String(subject), 'get() takes a literal subject (no wildcards)');
    if (!this.served()) return null;
    const answer = await this.ask(SCHEMA_GET_PREFIX + subject);
    if (!isSchemaLookup(answer)) throw new ServerError(`the answer to ${SCHEMA_GET_PREFIX}${subject} is not a schema lookup`);
    return answer.rule;
  }

  ready(): Promise<void> {
    return this.running ?? (this.failure === null ? Promise.resolve() : Promise.reject(this.failure));
  }

  // ── validate: 'local' ───────────────────────────────────────────────────

  /** @internal validate: 'local' at connect(): the first rules, or why there are none (connect() fails with it). */
  start(): Promise<void> {
    this.local = true;
    return this.refresh();
  }

  /** @internal Connected to a server again: its rules may differ (another hub, a reload while away). */
  reconnected(): void {
    if (this.local) this.refreshInBackground();
  }

  /** @internal An INFO while connected: a reload on the hub bumps its generation. */
  infoUpdated(info: ServerInfo): void {
    if (!this.local) return;
    const announced = schemaGeneration(info);
    if (announced !== this.generation) this.refreshInBackground();
  }

  /**
   * @internal Throws SchemaViolationError when the payload breaks the rule of
   * `subject`: the same check on the same bytes as the hub's, so the same
   * verdict. Whatever the rule's action: the hub would not deliver it either.
   */
  check(subject: string, data: Uint8Array): void {
    if (this.rules.length === 0) return;
    let rule = this.bySubject.get(subject);
    if (rule === undefined) {
      rule = this.validator!.ruleFor(this.rules, subject);
      if (this.bySubject.size >= MAX_CACHED_SUBJECTS) this.bySubject.clear();
      this.bySubject.set(subject, rule);
    }
    if (rule === null) return;
    const reason = rule.check(data);
    if (reason !== null) throw new SchemaViolationError(subject, reason, rule.name);
  }

  private refreshInBackground(): void {
    // Closed meanwhile: nothing left to check, nothing to report.
    this.refresh().catch((err: Error) => {
      if (!(err instanceof ClosedError)) this.host.reportError(err);
    });
  }

  /** Fetches and compiles the rules; one fetch at a time, and one more if a change came meanwhile. */
  private refresh(): Promise<void> {
    this.again = true;
    this.running ??= this.fetchWhileStale()
      .then(
        () => void (this.failure = null),
        (err: Error) => {
          this.failure = err;
          throw err;
        },
      )
      .finally(() => (this.running = null));
    return this.running;
  }

  private async fetchWhileStale(): Promise<void> {
    while (this.again) {
      this.again = false;
      if (!this.served()) {
        this.use([], undefined);
        continue;
      }
      this.validator ??= await import('../schema/validator.js');
      const list = await this.list();
      // A rule that does not compile here fails like one the hub could not load: loudly, old rules kept.
      this.use(this.validator.compileRules(list.rules), list.generation);
    }
  }

  private use(rules: readonly CompiledRule[], generation: number | undefined): void {
    this.rules = rules;
    this.generation = generation;
    this.bySubject.clear();
  }

  /** Whether the server connected to (or last) enforces schemas. */
  private served(): boolean {
    return this.host.info?.netemitter?.includes(SCHEMAS_FEATURE) === true;
  }

  private async ask(subject: string): Promise<unknown> {
    const reply = await this.host.rawRequest(subject, null, EMPTY, this.timeout);
    const h = reply.headers;
    if (h !== undefined && h.code >= 400) throw new ServerError(`${subject} answered ${h.code}${h.description === '' ? '' : ` ${h.description}`}`);
    try {
      return JSON.parse(reply.data.toString('utf8')) as unknown;
    } catch {
      throw new ServerError(`the answer to ${subject} is not JSON`);
    }
  }
}

/** INFO's schema generation, when the server has schemas. */
function schemaGeneration(info: ServerInfo): number | undefined {
  const n: unknown = info[INFO_SCHEMAS_FIELD];
  return info.netemitter?.includes(SCHEMAS_FEATURE) === true && typeof n === 'number' ? n : undefined;
}

function isRuleInfo(v: unknown): v is SchemaRuleInfo {
  if (v === null || typeof v !== 'object') return false;
  const r = v as Partial<SchemaRuleInfo>;
  return typeof r.name === 'string' && Array.isArray(r.subjects) && typeof r.action === 'string' && Array.isArray(r.refs) && (typeof r.schema === 'boolean' || (typeof r.schema === 'object' && r.schema !== null));
}

function isSchemaList(v: unknown): v is SchemaList {
  const l = v as Partial<SchemaList> | null;
  return l !== null && typeof l === 'object' && typeof l.generation === 'number' && Array.isArray(l.rules) && l.rules.every(isRuleInfo);
}

function isSchemaLookup(v: unknown): v is SchemaLookup {
  const l = v as Partial<SchemaLookup> | null;
  return l !== null && typeof l === 'object' && typeof l.generation === 'number' && (l.rule === null || isRuleInfo(l.rule));
}
