/**
 * The hub's schemas (issue #19): the rules, compiled at construction and at
 * each reload, the gate they make for the publish path (schema-gate.ts), the
 * generation INFO carries, the per-rule counters, and the answers to
 * `$NE.SCHEMA.LIST` / `$NE.SCHEMA.GET.<subject>`.
 *
 *   createHub({ schemas }) ─► compile (ConfigError: one line) ─► gate ─► HubCore.gate
 *   hub.reloadSchemas(rules?) ─► compile again; an error keeps the old rules
 *        └─ something changed ─► generation+1 ─► async INFO to ready clients
 *
 * Counters belong to a rule's name, so they survive a reload that keeps it.
 */
import { ConfigError } from '../errors.js';
import { fromWire } from '../protocol/bytes.js';
import { SCHEMA_GET_PREFIX, SCHEMA_LIST_SUBJECT, SCHEMAS_FEATURE, type SchemaList, type SchemaLookup } from '../protocol/schemas.js';
import { isValidLiteralSubject } from '../protocol/subject.js';
import { loadAndCompile } from '../schema/load.js';
import { ruleFor, type CompiledRule } from '../schema/validator.js';
import { SchemaGate, type GateHost, type RuleCounts } from './schema-gate.js';
import type { SchemaRule } from './options.js';
import type { PublishGate, SchemaStats, Subscriber } from './types.js';

/** What the service uses of the hub: the gate's needs, and a way to tell clients the rules changed. */
export interface SchemaHost extends GateHost {
  /** Sends every ready client an INFO with the current generation. */
  announce(): void;
}

/** A request handler as the lifecycle calls it (server/lifecycle.ts RequestHandler), structurally. */
type Answer = (from: Subscriber | null, reply: string | undefined, headerLength: number, payload: Uint8Array, subject: string) => void;

export class SchemaService {
  /** INFO's `netemitter_schemas`: 1 at start, +1 at each reload that changed the rules. */
  generation = 1;
  private rules: readonly CompiledRule[] = [];
  private counts = new Map<CompiledRule, RuleCounts>();
  /** The rules as given, read again by a reload without rules. */
  private source: SchemaRule[];
  private gate: SchemaGate | null = null;
  private core: { gate: PublishGate | null } | null = null;
  /** The LIST answer of this generation, made on first ask. */
  private listBody: Buffer | null = null;
  /** Relative schema paths resolve from the working directory the hub was created in. */
  private readonly baseDir = process.cwd();

  constructor(
    private readonly host: SchemaHost,
    rules: SchemaRule[] | undefined,
  ) {
    this.source = copyRules(rules);
    this.install(this.compile(this.source));
  }

  /** Where the gate goes: the hub's core, whose `gate` the connections read on each publish. */
  bind(core: { gate: PublishGate | null }): void {
    this.core = core;
    core.gate = this.gate;
  }

  private compile(rules: SchemaRule[]): CompiledRule[] {
    return rules.length === 0 ? [] : loadAndCompile(rules, this.baseDir);
  }

  private install(rules: CompiledRule[]): void {
    // A reload keeps the counters of every rule whose name stays (in order, when a name repeats).
    const old = new Map<string, RuleCounts[]>();
    for (const r of this.rules) {
      const list = old.get(r.name);
      if (list === undefined) old.set(r.name, [this.counts.get(r)!]);
      else list.push(this.counts.get(r)!);
    }
    const counts = new Map<CompiledRule, RuleCounts>();
    for (const r of rules) counts.set(r, old.get(r.name)?.shift() ?? { accepted: 0, rejected: 0 });
    this.rules = rules;
    this.counts = counts;
    this.listBody = null;
    this.gate = rules.length === 0 ? null : new SchemaGate(this.host, rules, counts);
    if (this.core !== null) this.core.gate = this.gate;
  }

  /**
   * Compiles `rules` (or the current ones, their files read again) and
   * enforces them from the next publish on. Throws ConfigError, keeping the
   * rules in force, when one does not compile. Returns whether anything
   * changed (then the generation moved and clients were told).
   */
  reload(rules?: SchemaRule[]): boolean {
    const source = rules === undefined ? this.source : copyRules(rules);
    const compiled = this.compile(source);
    this.source = source;
    if (sameRules(compiled, this.rules)) return false;
    this.install(compiled);
    this.generation++;
    this.host.announce();
    return true;
  }

  /** hub.publish(): false when dropped; throws SchemaViolationError when refused. */
  passEmbedded(subject: string, payload: Buffer): boolean {
    return this.gate === null || this.gate.passEmbedded(subject, payload);
  }

  /** A will at CONNECT (server/will.ts): true keeps it, false drops it, a string refuses the CONNECT. */
  willVerdict(subject: string, payload: Buffer): boolean | string {
    return this.gate === null ? true : this.gate.willVerdict(subject, payload);
  }

  /** The counters, rule by rule (hub.stats().schemas). */
  stats(): SchemaStats[] {
    return this.rules.map((r) => {
      const c = this.counts.get(r)!;
      return { name: r.name, subjects: [...r.subjects], action: r.action, accepted: c.accepted, rejected: c.rejected };
    });
  }

  /** How the lifecycle adds the service: INFO's feature, the LIST subject, the GET prefix. */
  hooks(): { feature: string; requests: Record<string, Answer>; prefixes: Record<string, Answer> } {
    const list: Answer = (_from, reply) => this.list(reply);
    const get: Answer = (_from, reply, _hl, _payload, subject) => this.get(reply, subject);
    // Anyone who may publish the request subject may ask (the publish path checked it), as for $NE.PRESENCE.LIST.
    return { feature: SCHEMAS_FEATURE, requests: { [SCHEMA_LIST_SUBJECT]: list }, prefixes: { [SCHEMA_GET_PREFIX]: get } };
  }

  private list(reply: string | undefined): void {
    if (reply === undefined) return;
    if (this.listBody === null) {
      const body: SchemaList = { generation: this.generation, rules: this.rules.map((r) => r.info) };
      this.listBody = Buffer.from(JSON.stringify(body), 'utf8');
    }
    this.host.reply(reply, this.listBody);
  }

  /** `$NE.SCHEMA.GET.<subject>`: the rule a publish on that literal subject meets (null: none, or not a literal subject). */
  private get(reply: string | undefined, wireSubject: string): void {
    if (reply === undefined) return;
    const subject = fromWire(wireSubject.slice(SCHEMA_GET_PREFIX.length));
    const rule = isValidLiteralSubject(subject) ? ruleFor(this.rules, subject) : null;
    const body: SchemaLookup = { generation: this.generation, subject, rule: rule === null ? null : rule.info };
    this.host.reply(reply, Buffer.from(JSON.stringify(body), 'utf8'));
  }
}

/** A copy of the rules as given, so the caller's later changes to its objects reach no reload. */
function copyRules(rules: SchemaRule[] | undefined): SchemaRule[] {
  if (rules === undefined) return [];
  if (!Array.isArray(rules)) throw new ConfigError(`option schemas must be an array of rules ({ subjects, schema, action }), got ${typeof rules}`);
  try {
    return structuredClone(rules);
  } catch (err) {
    throw new ConfigError(`option schemas must hold JSON values only: ${(err as Error).message.split('\n')[0]}`);
  }
}

function sameRules(a: readonly CompiledRule[], b: readonly CompiledRule[]): boolean {
  if (a.length !== b.length) return false;
  return JSON.stringify(a.map((r) => r.info)) === JSON.stringify(b.map((r) => r.info));
}
