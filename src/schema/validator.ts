/**
 * The JSON Schema machinery shared by the hub (publish path), the client
 * (`validate: 'local'`) and the CLI: compiles SchemaRuleInfo with ajv and
 * checks payload bytes against them.
 *
 * No file access and no node: imports here: the browser bundle loads this
 * module (files are read by load.ts, which hands over SchemaRuleInfo with
 * every referenced schema inlined and given an `$id`).
 *
 *   check(bytes) ── empty ─────────────► "payload is empty (not JSON)"
 *                ── deeper than 100 ───► "payload nests deeper than 100 levels"  (byte scan, no recursion)
 *                ── not UTF-8 ─────────► "payload is not UTF-8"
 *                ── JSON.parse fails ──► "payload is not JSON: …"
 *                ── ajv (first error) ─► "/path must …"
 *                └─ null: passes
 */
import type { Ajv, AnySchemaObject, ErrorObject, Options, ValidateFunction } from 'ajv';
import { ajvKit } from './ajv-kit.js';

import { SchemaCompileError } from '../errors.js';
import {
  MAX_JSON_DEPTH,
  SCHEMA_ACTIONS,
  isHubApiSubject,
  shortReason,
  type JsonSchema,
  type SchemaAction,
  type SchemaRuleInfo,
} from '../protocol/schemas.js';
import { isValidSubject, matchesTokens, type Tokens } from '../protocol/subject.js';
import { forEachKey } from './walk.js';

export interface CompiledRule {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly action: SchemaAction;
  /** What LIST/GET send to clients. */
  readonly info: SchemaRuleInfo;
  /** null: the payload passes; else the short reason (one line, ≤200 characters, no '). */
  check(body: Uint8Array): string | null;
}

/** The drafts a rule may declare in `$schema`; none declared: 2020-12. */
export const SchemaDraft = {
  D2020_12: '2020-12',
  D07: 'draft-07',
} as const;
export type SchemaDraft = (typeof SchemaDraft)[keyof typeof SchemaDraft];

const DRAFT_URIS: ReadonlyMap<string, SchemaDraft> = new Map([
  ['https://json-schema.org/draft/2020-12/schema', SchemaDraft.D2020_12],
  ['http://json-schema.org/draft-07/schema', SchemaDraft.D07],
]);

/**
 * The draft a schema declares through `$schema` (without: `fallback`), or a
 * string saying why it is not supported.
 */
export function schemaDraft(schema: JsonSchema, fallback: SchemaDraft = SchemaDraft.D2020_12): SchemaDraft | { unsupported: string } {
  if (typeof schema === 'boolean' || schema.$schema === undefined) return fallback;
  const uri = schema.$schema;
  if (typeof uri !== 'string') return { unsupported: '$schema must be a string' };
  const draft = DRAFT_URIS.get(uri.endsWith('#') ? uri.slice(0, -1) : uri);
  if (draft === undefined) {
    return { unsupported: `unsupported $schema ${JSON.stringify(uri)} (supported: draft 2020-12, draft-07)` };
  }
  return draft;
}

const AJV_OPTIONS: Options = {
  // Unknown keywords (a typo such as `requird`) and unknown formats fail the
  // compile (the issue); the type/tuple/required lints would only log, and the
  // hub logs nothing of its own accord.
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allErrors: false,
  logger: false,
};

/**
 * One ajv per draft for a compileRules call: rules sharing a file share its
 * compiled code. Ids already registered are checked to carry the same schema.
 */
class DraftCompiler {
  private readonly ajv: Ajv;
  private readonly known = new Map<string, string>();
  private readonly annotations = new Set<string>();

  constructor(draft: SchemaDraft) {
    const kit = ajvKit();
    this.ajv = draft === SchemaDraft.D07 ? new kit.Ajv(AJV_OPTIONS) : new kit.Ajv2020(AJV_OPTIONS);
    kit.addFormats(this.ajv);
  }

  compile(root: JsonSchema, refs: readonly JsonSchema[]): ValidateFunction {
    for (const s of [root, ...refs]) this.allowAnnotations(s);
    for (const ref of refs) {
      if (this.register(ref)) this.ajv.addSchema(ref as AnySchemaObject);
    }
    const id = typeof root === 'object' ? root.$id : undefined;
    if (typeof id === 'string' && !this.register(root)) return this.ajv.getSchema(id) ?? this.ajv.compile(root);
    return this.ajv.compile(root);
  }

  /** The names of the formats this ajv knows. */
  formats(): string[] {
    return Object.keys(this.ajv.formats);
  }

  /** Whether the schema's `$id` is new here; throws if the id is known with another schema. */
  private register(schema: JsonSchema): boolean {
    if (typeof schema !== 'object') return true;
    const id = schema.$id;
    if (typeof id !== 'string') return true;
    const text = JSON.stringify(schema);
    const seen = this.known.get(id);
    if (seen === undefined) {
      this.known.set(id, text);
      return true;
    }
    if (seen !== text) throw new Error(`$id ${JSON.stringify(id)} is given to two different schemas`);
    return false;
  }

  /** `x-*` keywords are annotations (the issue): declared to ajv so strict mode lets them pass. */
  private allowAnnotations(schema: JsonSchema): void {
    forEachKey(schema, (k) => {
      if (k.startsWith('x-') && !this.annotations.has(k)) {
        this.annotations.add(k);
        if (this.ajv.getKeyword(k) === false) this.ajv.addKeyword({ keyword: k });
      }
      return true;
    });
  }
}

const EMPTY = 'payload is empty (not JSON)';
const NOT_UTF8 = 'payload is not JSON: not valid UTF-8';
const TOO_DEEP = `payload nests deeper than ${MAX_JSON_DEPTH} levels`;
const LOOPS = '(root) cannot be checked: the schema recurses without end';
/** A payload this short cannot nest deeper than MAX_JSON_DEPTH (each level takes two bytes). */
const SHALLOW_MAX = 2 * MAX_JSON_DEPTH + 1;

// fatal: invalid UTF-8 is a violation, not U+FFFD; ignoreBOM: a BOM stays in
// the text so JSON.parse refuses it, in every runtime alike.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Whether the JSON text in `b` opens more than `max` arrays/objects at once.
 * Counted over bytes, strings skipped, so a payload of any depth costs one
 * pass and no stack. Not a JSON validator: JSON.parse judges the syntax.
 */
export function nestsDeeperThan(b: Uint8Array, max: number): boolean {
  let depth = 0;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = b[i]!;
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** The reason for ajv's first error: where, what, and the params a reader needs. */
export function reasonOf(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath;
  let what = e.message ?? `fails ${e.keyword}`;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'enum':
      what += `: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'const':
      what += `: ${JSON.stringify(p.allowedValue)}`;
      break;
    case 'additionalProperties':
      what += `: ${JSON.stringify(p.additionalProperty)}`;
      break;
    case 'unevaluatedProperties':
      what += `: ${JSON.stringify(p.unevaluatedProperty)}`;
      break;
  }
  return shortReason(`${where} ${what}`);
}

class Rule implements CompiledRule {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly action: SchemaAction;
  readonly info: SchemaRuleInfo;
  /** @internal */
  readonly tokens: readonly Tokens[];
  private readonly validate: ValidateFunction;

  constructor(info: SchemaRuleInfo, validate: ValidateFunction) {
    this.name = info.name;
    this.subjects = info.subjects;
    this.action = info.action;
    this.info = info;
    this.tokens = info.subjects.map((s) => s.split('.'));
    this.validate = validate;
  }

  check(body: Uint8Array): string | null {
    if (body.length === 0) return EMPTY;
    if (body.length > SHALLOW_MAX && nestsDeeperThan(body, MAX_JSON_DEPTH)) return TOO_DEEP;
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      return NOT_UTF8;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return shortReason(`payload is not JSON: ${(err as Error).message}`);
    }
    try {
      if (this.validate(data) === true) return null;
    } catch {
      // A schema that recurses without consuming the payload (`{"$ref": "#"}`
      // under some branch) overflows the stack: a violation, not a crash.
      return LOOPS;
    }
    const first = this.validate.errors?.[0];
    return first === undefined ? '(root) does not match the schema' : reasonOf(first);
  }
}

/** Throws unless `info` has a rule's shape (it may come off the wire). */
function checkShape(info: SchemaRuleInfo, index: number): void {
  const name = typeof info?.name === 'string' && info.name !== '' ? info.name : `rule #${index + 1}`;
  const fail = (problem: string): never => {
    throw new SchemaCompileError(name, problem);
  };
  if (typeof info !== 'object' || info === null) fail('a rule must be an object');
  if (typeof info.name !== 'string' || info.name === '') fail('name must be a non-empty string');
  if (!Array.isArray(info.subjects) || info.subjects.length === 0) fail('subjects must be a non-empty array of subjects');
  for (const s of info.subjects) {
    if (typeof s !== 'string' || !isValidSubject(s)) fail(`invalid subject ${JSON.stringify(s)}`);
  }
  if (!SCHEMA_ACTIONS.includes(info.action)) {
    fail(`action must be one of ${SCHEMA_ACTIONS.join(', ')} (got ${JSON.stringify(info.action)})`);
  }
  const isSchema = (s: unknown): boolean => typeof s === 'boolean' || (typeof s === 'object' && s !== null && !Array.isArray(s));
  if (!isSchema(info.schema)) fail('the schema must be a JSON object or a boolean');
  if (!Array.isArray(info.refs)) fail('refs must be an array');
  for (const r of info.refs) {
    if (typeof r !== 'object' || r === null || Array.isArray(r) || typeof r.$id !== 'string') {
      fail('every referenced schema must be an object with an $id');
    }
  }
}

/**
 * Payloads tried once at compile time: a schema that recurses on itself for
 * one of them (`{"$ref": "#"}`) fails the compile instead of every check.
 */
const PROBES: readonly unknown[] = [null, true, 0, 1.5, '', 'x', [], [[]], {}, { a: {} }];

/** ajv's compile error as one line a user can act on. */
function describe(err: unknown, formats: readonly string[]): string {
  const text = err instanceof Error ? err.message : String(err);
  if (err instanceof RangeError) return `schema nests too deeply or a $ref loops on itself (${text})`;
  if (/unknown keyword/.test(text)) return `${text} (a typo? annotation keywords must start with "x-")`;
  // ajv says "ignored", but in strict mode the compile fails.
  const format = /^unknown format (".*") ignored in schema at path (".*")$/.exec(text);
  if (format !== null) return `unknown format ${format[1]} at ${format[2]} (known: ${formats.join(', ')})`;
  return text;
}

/**
 * Compiles every rule (ajv; draft 2020-12 by default, draft-07 when `$schema`
 * says so; ajv-formats; `x-*` annotation keywords allowed; an unknown format
 * or keyword is an error). A rule's referenced schemas are read in the root's
 * draft; one declaring another draft is an error. Throws SchemaCompileError,
 * one line naming the rule and the problem.
 */
export function compileRules(infos: readonly SchemaRuleInfo[]): CompiledRule[] {
  const compilers = new Map<SchemaDraft, DraftCompiler>();
  return infos.map((info, i) => {
    checkShape(info, i);
    const draft = schemaDraft(info.schema);
    if (typeof draft === 'object') throw new SchemaCompileError(info.name, draft.unsupported);
    for (const ref of info.refs) {
      const d = schemaDraft(ref, draft);
      const id = JSON.stringify((ref as { $id: string }).$id);
      if (typeof d === 'object') throw new SchemaCompileError(info.name, `${id}: ${d.unsupported}`);
      if (d !== draft) {
        throw new SchemaCompileError(info.name, `${id} declares ${d} but the rule's schema is ${draft}; a rule's files must share one draft`);
      }
    }
    let compiler = compilers.get(draft);
    if (compiler === undefined) compilers.set(draft, (compiler = new DraftCompiler(draft)));
    let validate: ValidateFunction;
    try {
      validate = compiler.compile(info.schema, info.refs);
    } catch (err) {
      throw new SchemaCompileError(info.name, describe(err, compiler.formats()), { cause: err });
    }
    if ((validate as { $async?: boolean }).$async === true) {
      throw new SchemaCompileError(info.name, '$async schemas are not supported');
    }
    for (const probe of PROBES) {
      try {
        validate(probe);
      } catch (err) {
        throw new SchemaCompileError(info.name, `a $ref loops on itself without reading the payload (${(err as Error).message} on ${JSON.stringify(probe)})`, { cause: err });
      }
    }
    return new Rule(info, validate);
  });
}

/**
 * The first rule with a subject pattern matching `subject` (a literal
 * subject), or null; always null for the hub's own APIs (isHubApiSubject), so
 * a catch-all `>` rule breaks no JetStream ack or hub request. Uncached.
 */
export function ruleFor(rules: readonly CompiledRule[], subject: string): CompiledRule | null {
  if (rules.length === 0 || isHubApiSubject(subject)) return null;
  const tokens = subject.split('.');
  for (const rule of rules) {
    const patterns = rule instanceof Rule ? rule.tokens : rule.subjects.map((s) => s.split('.'));
    for (const p of patterns) if (matchesTokens(p, tokens)) return rule;
  }
  return null;
}
