/**
 * Reads the schema rules of a config (`createHub({ schemas })`, the CLI) into
 * SchemaRuleInfo: every schema a rule needs, with no file paths left in them,
 * so the hub and a client (which compiles what LIST sends, with no file
 * access) resolve `$ref`s alike.
 *
 * A `$ref` to another file is resolved by file name, relative to the
 * referring file's directory (an inline schema's directory is `baseDir`),
 * recursively; cycles are fine. Every file without an `$id` gets one:
 *
 *   /etc/ne/schemas/order.json        netemitter:/schemas/order.json
 *   /etc/ne/schemas/customer.json ──► netemitter:/schemas/customer.json
 *   /etc/ne/shared/address.json       netemitter:/shared/address.json
 *
 * i.e. the path below the deepest directory holding every file read, under
 * a scheme of our own: relative `$ref`s resolve in ajv exactly as on disk,
 * and the hub's absolute paths never show.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

import { ConfigError, SchemaCompileError } from '../errors.js';
import {
  SCHEMA_ACTIONS,
  SchemaAction,
  inlineSchemaName,
  type JsonSchema,
  type SchemaRuleInfo,
} from '../protocol/schemas.js';
import { isValidSubject } from '../protocol/subject.js';
import type { SchemaRule } from '../server/options.js';
import { compileRules, type CompiledRule } from './validator.js';
import { forEachKey } from './walk.js';

/** The scheme of the `$id`s given to schema files that have none. */
export const SCHEMA_ID_BASE = 'netemitter:/';

/** Keywords whose values are data, not schemas: a `$ref` inside is no reference. */
const DATA_KEYWORDS = new Set(['const', 'enum', 'examples', 'default']);
/** A URI with a scheme (`https:`, `urn:`): an `$id` to look up, not a file. */
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** A schema document: a file, or an inline rule's schema (`path` its virtual place in baseDir). */
interface Doc {
  /** Absolute path (for an inline schema: where it would be, to resolve its refs). */
  readonly path: string;
  readonly schema: JsonSchema;
  /** Absolute paths of the files it refers to. */
  readonly refs: string[];
  /** Its `$id`: its own, or given in assignIds; undefined for an inline schema that needs none. */
  id: string | undefined;
  /** The `$id` it had in the file. */
  readonly ownId: string | undefined;
  readonly inline: boolean;
}

function posix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/** Each `$ref` string in a schema (iterative: a deeply nested file costs no stack). */
function refsOf(schema: JsonSchema): string[] {
  const out: string[] = [];
  forEachKey(schema, (k, x) => {
    if (k === '$ref' && typeof x === 'string') {
      out.push(x);
      return false;
    }
    return !DATA_KEYWORDS.has(k);
  });
  return out;
}

/** The file a `$ref` names, or null when it names no file (`#…`, or a URI with a scheme). */
function refFile(ref: string, fromPath: string): string | null {
  const hash = ref.indexOf('#');
  const part = hash === -1 ? ref : ref.slice(0, hash);
  if (part === '' || HAS_SCHEME.test(part)) return null;
  let name = part;
  try {
    name = decodeURIComponent(part);
  } catch {
    // not percent-encoded: the name as written
  }
  return resolve(dirname(fromPath), name);
}

/** Reads rule files and the files they refer to, each once. */
class Loader {
  readonly docs = new Map<string, Doc>();

  constructor(readonly baseDir: string) {}

  /** A path as shown in errors and rule names: relative to baseDir, '/'-separated. */
  show(path: string): string {
    return posix(relative(this.baseDir, path));
  }

  /** Reads `path` and, recursively, every file it refers to. Throws a problem text for `rule`. */
  loadFile(path: string, referrer?: { ref: string; path: string }): Doc {
    const known = this.docs.get(path);
    if (known !== undefined) return known;
    const where = referrer === undefined ? '' : `$ref ${JSON.stringify(referrer.ref)} in ${this.show(referrer.path)}: `;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${where}cannot read ${this.show(path)} (${readProblem(err)})`);
    }
    let schema: unknown;
    try {
      schema = JSON.parse(text);
    } catch (err) {
      throw new Error(`${where}${this.show(path)} is not JSON: ${(err as Error).message}`);
    }
    if (typeof schema === 'boolean' && referrer === undefined) return this.add(path, schema, false);
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new Error(`${where}${this.show(path)} does not hold a schema (a JSON object${referrer === undefined ? ' or boolean' : ''})`);
    }
    return this.add(path, schema as JsonSchema, false);
  }

  /** An inline schema, placed in baseDir for its relative `$ref`s. */
  loadInline(name: string, schema: JsonSchema): Doc {
    const path = resolve(this.baseDir, name);
    const doc = this.add(path, schema, true);
    this.docs.delete(path); // not a file others can refer to
    return doc;
  }

  private add(path: string, schema: JsonSchema, inline: boolean): Doc {
    const ownId = typeof schema === 'object' && typeof schema.$id === 'string' ? schema.$id : undefined;
    const doc: Doc = { path, schema, refs: [], id: ownId, ownId, inline };
    this.docs.set(path, doc);
    if (typeof schema === 'object') {
      for (const ref of refsOf(schema)) {
        const file = refFile(ref, path);
        if (file === null) continue;
        this.loadFile(file, { ref, path });
        if (!doc.refs.includes(file)) doc.refs.push(file);
      }
    }
    return doc;
  }
}

/** The deepest directory holding every path. */
function commonDir(paths: readonly string[]): string {
  let dir = dirname(paths[0]!);
  for (const p of paths) {
    while (relative(dir, p).startsWith('..') || isAbsolute(relative(dir, p))) {
      const up = dirname(dir);
      if (up === dir) return dir;
      dir = up;
    }
  }
  return dir;
}

function idFor(root: string, path: string): string {
  return SCHEMA_ID_BASE + relative(root, path).split(sep).map(encodeURIComponent).join('/');
}

/** The rule's name: `rule.name`, its path relative to baseDir, or inline#N. */
function ruleName(rule: SchemaRule, i: number, inlineN: number, loader: Loader): string {
  const given: unknown = rule?.name;
  if (typeof given === 'string' && given !== '') return given;
  if (typeof rule?.schema === 'string') return loader.show(resolve(loader.baseDir, rule.schema)) || rule.schema;
  return inlineN > 0 ? inlineSchemaName(inlineN) : `schemas[${i}]`;
}

function checkRule(rule: SchemaRule, name: string): SchemaAction {
  const fail = (problem: string): never => {
    throw new SchemaCompileError(name, problem);
  };
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) fail('a rule must be an object { subjects, schema, action }');
  if (!Array.isArray(rule.subjects) || rule.subjects.length === 0) fail('subjects must be a non-empty array of subjects');
  for (const s of rule.subjects) {
    if (typeof s !== 'string' || !isValidSubject(s)) fail(`invalid subject ${JSON.stringify(s)}`);
  }
  const action = rule.action ?? SchemaAction.REJECT;
  if (!SCHEMA_ACTIONS.includes(action)) fail(`action must be one of ${SCHEMA_ACTIONS.join(', ')} (got ${JSON.stringify(action)})`);
  const s = rule.schema;
  const isSchema = typeof s === 'boolean' || (typeof s === 'object' && s !== null && !Array.isArray(s));
  if (!isSchema && (typeof s !== 'string' || s === '')) fail('schema must be a JSON Schema (object or boolean) or the path of a schema file');
  return action;
}

function withId(schema: JsonSchema, id: string | undefined): JsonSchema {
  if (typeof schema !== 'object' || id === undefined || schema.$id === id) return schema;
  return { $id: id, ...schema };
}

/**
 * Reads the rules' schema files (paths relative to baseDir) and every file
 * they refer to, and checks each rule's shape. Throws SchemaCompileError (a
 * ConfigError): one line naming the rule and the problem. Compiling is
 * compileRules' job (loadAndCompile does both).
 */
export function loadRules(rules: readonly SchemaRule[], baseDir: string): SchemaRuleInfo[] {
  if (!Array.isArray(rules)) throw new ConfigError('schemas must be an array of rules');
  const base = resolve(baseDir);
  const loader = new Loader(base);
  let inlineN = 0;
  const loaded = rules.map((rule, i) => {
    const inline = typeof rule === 'object' && rule !== null && typeof rule.schema !== 'string';
    if (inline) inlineN++;
    const name = ruleName(rule, i, inline ? inlineN : 0, loader);
    const action = checkRule(rule, name);
    try {
      const doc =
        typeof rule.schema === 'string'
          ? loader.loadFile(resolve(base, rule.schema))
          : loader.loadInline(inlineSchemaName(inlineN), rule.schema);
      return { rule, name, action, doc };
    } catch (err) {
      throw new SchemaCompileError(name, (err as Error).message, { cause: err });
    }
  });

  // Ids: the files' places below the one directory holding them all (and
  // baseDir, when an inline schema refers to files).
  const placed = [...loader.docs.keys()];
  for (const { doc } of loaded) if (doc.inline && doc.refs.length > 0) placed.push(doc.path);
  if (placed.length > 0) {
    const root = commonDir(placed);
    for (const path of placed) {
      const doc = loader.docs.get(path) ?? loaded.find((l) => l.doc.path === path)!.doc;
      if (doc.id === undefined) doc.id = idFor(root, path);
    }
  }

  return loaded.map(({ rule, name, action, doc }) => {
    const refs: JsonSchema[] = [];
    const seen = new Set<string>([doc.path]);
    const queue = [...doc.refs];
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const ref = loader.docs.get(path)!;
      refs.push(withId(ref.schema, ref.id));
      queue.push(...ref.refs);
    }
    return { name, subjects: [...rule.subjects], action, schema: withId(doc.schema, doc.id), refs };
  });
}

/** loadRules, then compileRules. */
export function loadAndCompile(rules: readonly SchemaRule[], baseDir: string): CompiledRule[] {
  return compileRules(loadRules(rules, baseDir));
}
