/**
 * The `schemas` key of `netemitter serve`'s config file (issue #19), and the
 * list files it and `--schemas` may point at:
 *
 *   "schemas": [ { "subjects": ["ticket.created"], "schema": "schemas/ticket.created.json" }, … ]
 *   "schemas": "schemas/rules.json"      a list file holding that array
 *
 * A relative path is relative to the directory of the file it is written in:
 * a schema path in the config, to the config's directory; one in a list file,
 * to the list file's. They are made absolute here, so the hub finds them
 * wherever serve runs; the rule keeps the path as written as its name, so
 * names (dead-letter headers, stats, metrics) never show the machine's paths.
 *
 * Only the shape is checked here (types, unknown keys, actions, subject
 * syntax), naming the file and the rule. Reading and compiling the schemas
 * themselves is createHub()'s (src/schema/load.ts), so the library and the
 * CLI refuse the same schemas.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { SCHEMA_ACTIONS, type SchemaAction } from '../protocol/schemas.js';
import { isValidSubject } from '../protocol/subject.js';
import type { SchemaRule } from '../server/options.js';
import { InvalidValue } from './values.js';

/** Where the rules were written: named in messages; relative paths resolve against its directory. */
export interface RulesSource {
  readonly file: string;
}

const RULE_KEYS = ['subjects', 'schema', 'action'] as const;

function isObject(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw);
}

function invalid(path: string, src: RulesSource, expected: string): ConfigError {
  return new ConfigError(`invalid value for "${path}" in ${src.file}: expected ${expected}`);
}

/** A rule as the CLI hands it to createHub: its schema path absolute, its name the path as written. */
function rule(raw: unknown, path: string, src: RulesSource): SchemaRule {
  if (!isObject(raw)) throw invalid(path, src, 'an object { "subjects": [...], "schema": ..., "action": ... }');
  for (const key of Object.keys(raw)) {
    if (!(RULE_KEYS as readonly string[]).includes(key)) {
      // `subject`, `Subjects`, `actions`: the singular/plural slip and the case.
      const loose = (k: string): string => k.toLowerCase().replace(/[-_]/g, '').replace(/s$/, '');
      const near = RULE_KEYS.find((k) => loose(k) === loose(key));
      throw new ConfigError(`unknown key "${path}.${key}" in ${src.file}${near === undefined ? '' : ` (did you mean "${near}"?)`}`);
    }
  }
  const { subjects, schema, action } = raw;
  if (!Array.isArray(subjects) || subjects.length === 0 || !subjects.every((s) => typeof s === 'string')) {
    throw invalid(`${path}.subjects`, src, 'a non-empty list of subjects, e.g. ["orders.>"]');
  }
  const bad = subjects.find((s: string) => !isValidSubject(s));
  if (bad !== undefined) throw new ConfigError(`invalid subject ${JSON.stringify(bad)} in "${path}.subjects" in ${src.file}`);
  if (action !== undefined && !(typeof action === 'string' && (SCHEMA_ACTIONS as readonly string[]).includes(action))) {
    throw invalid(`${path}.action`, src, `one of ${SCHEMA_ACTIONS.join(', ')}`);
  }
  const out: { subjects: string[]; schema: SchemaRule['schema']; action?: SchemaAction; name?: string } = { subjects: [...(subjects as string[])], schema: true };
  if (typeof schema === 'string') {
    if (schema.length === 0) throw invalid(`${path}.schema`, src, 'a JSON Schema (an object) or the path of a JSON file holding one');
    out.schema = isAbsolute(schema) ? schema : resolve(dirname(src.file), schema);
    out.name = schema;
  } else if (isObject(schema) || typeof schema === 'boolean') {
    out.schema = schema;
  } else {
    throw invalid(`${path}.schema`, src, 'a JSON Schema (an object) or the path of a JSON file holding one');
  }
  if (action !== undefined) out.action = action as SchemaAction;
  return out;
}

/** A list of rules, parsed JSON; `path` is where it sits (`schemas`, or `` for a list file's top level). */
export function parseRuleList(raw: unknown, path: string, src: RulesSource): SchemaRule[] {
  if (!Array.isArray(raw)) throw invalid(path === '' ? '(root)' : path, src, 'a list of rules [{ "subjects": [...], "schema": ... }, ...]');
  return raw.map((r, i) => rule(r, `${path}[${i}]`, src));
}

/** The text of a JSON file, parsed; errors name the file and say what kind of file it was meant to be. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'a directory' : e.message;
    throw new ConfigError(`cannot read ${what} ${file}: ${why}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(`${what} ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** A list file: a JSON array of rules; its relative paths are relative to its own directory. */
export function readRuleListFile(file: string): SchemaRule[] {
  return parseRuleList(readJsonFile(file, 'schema list file'), '', { file });
}

/**
 * The config file's `schemas`: the list itself, or the path of a list file
 * (relative to the config's directory), which is read now.
 */
export function parseSchemasSection(raw: unknown, src: RulesSource): SchemaRule[] {
  if (typeof raw === 'string' && raw.length > 0) return readRuleListFile(isAbsolute(raw) ? raw : resolve(dirname(src.file), raw));
  if (!Array.isArray(raw)) throw invalid('schemas', src, 'a list of rules, or the path of a JSON file holding one');
  return parseRuleList(raw, 'schemas', src);
}

/** `--schemas` / NETEMITTER_SCHEMAS: a list file, relative to the working directory. */
export function parseSchemasFlag(raw: unknown): SchemaRule[] {
  if (typeof raw !== 'string' || raw.length === 0) throw new InvalidValue('the path of a JSON file holding a list of schema rules');
  return readRuleListFile(resolve(raw));
}
