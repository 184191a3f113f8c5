/**
 * TypeScript types from the schema rules the hub enforces (issue #19,
 * `netemitter schema types`): one type per rule, built by
 * json-schema-to-typescript, and an event map for `connect<Events>()`:
 *
 *   rule ticket.created.json on ["ticket.created"]   'ticket.created': TicketCreated;
 *   rule order.json on ["orders.>"]                  [subject: `orders.${string}`]: Order;
 *   `*` and `>` both become ${string}                (TypeScript cannot say "one token")
 *
 * The first rule whose subjects match a publish applies at the hub, so a
 * literal subject that an earlier rule's pattern matches gets no key of its
 * own: the earlier rule's index signature types it, as the hub checks it.
 * TypeScript wants a literal key's type to fit every index signature whose
 * template matches it, so such a signature's type also admits that key's
 * type (a union): a little looser than the hub, never stricter.
 *
 * The rules come as loadRules() gives them (SchemaRuleInfo: each schema with
 * its `$id`, and the files it references). They are bundled into one
 * document, each file once under `definitions`, its `$ref`s rewritten to JSON
 * pointers into it, so json-schema-to-typescript never reads a file and a
 * type shared by several rules is declared once.
 *
 * json-schema-to-typescript (and prettier behind it) is big: it is loaded
 * only when types are generated.
 */
import type { JsonSchema, SchemaRuleInfo } from '../protocol/schemas.js';
import { hasWildcard, subjectMatches } from '../protocol/subject.js';

export interface TypegenOptions {
  /** The event map's name. Default `Events`. */
  name?: string;
  /** A comment for the top of the file (without comment markers). */
  banner?: string;
}

export const DEFAULT_EVENTS_NAME = 'Events';

/** The wrapper json-schema-to-typescript sees as its root; removed from the output. */
const ROOT = 'NetemitterSchemaRoot';

type Obj = { [key: string]: unknown };

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `schemas/ticket.created.json` → TicketCreated; `inline#2` → Inline2; a title `ticket update` → TicketUpdate. */
export function typeNameOf(ruleName: string): string {
  const base = ruleName.split('/').pop()!.replace(/\.json$/i, '');
  const name = base
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== '')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
  if (name === '') return 'Schema';
  return /^[0-9]/.test(name) ? `Schema${name}` : name;
}

function unique(name: string, taken: Set<string>): string {
  let n = name;
  for (let i = 2; taken.has(n); i++) n = `${name}${i}`;
  taken.add(n);
  return n;
}

/** A document's base URL (its `$id`), and the document without `$id` / `$schema` (json-schema-to-typescript would name types after them). */
function documentOf(schema: JsonSchema, fallback: string): { id: string; body: Obj } {
  if (typeof schema === 'boolean') return { id: fallback, body: schema ? {} : { not: {} } };
  const { $id, $schema: _draft, ...body } = schema;
  return { id: typeof $id === 'string' && $id !== '' ? $id : fallback, body };
}

function withoutHash(url: string): string {
  const i = url.indexOf('#');
  return i === -1 ? url : url.slice(0, i);
}

function resolveRef(ref: string, base: string): { doc: string; pointer: string } {
  let abs: string;
  try {
    abs = new URL(ref, base).href;
  } catch {
    abs = ref.startsWith('#') ? `${withoutHash(base)}${ref}` : ref;
  }
  const i = abs.indexOf('#');
  return i === -1 ? { doc: abs, pointer: '' } : { doc: abs.slice(0, i), pointer: decodeURIComponent(abs.slice(i + 1)) };
}

/** Every `$ref` rewritten to a pointer into the bundle: `#/definitions/<key><pointer>`. */
function rewrite(node: unknown, base: string, keyOf: (doc: string) => string | undefined): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, base, keyOf));
  if (!isObj(node)) return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      const { doc, pointer } = resolveRef(v, base);
      const key = keyOf(doc);
      out[k] = key === undefined ? v : `#/definitions/${key}${pointer.startsWith('/') ? pointer : ''}`;
    } else if (k === '$id' || k === '$schema') {
      continue;
    } else {
      out[k] = rewrite(v, base, keyOf);
    }
  }
  return out;
}

interface Bundle {
  root: Obj;
  /** Per rule, the name of its type. */
  types: string[];
}

function bundle(rules: readonly SchemaRuleInfo[], reserved: Set<string>): Bundle {
  const keys = new Map<string, string>(); // document URL → key under definitions
  const docs: { key: string; id: string; body: Obj }[] = [];
  const add = (schema: JsonSchema, fallback: string, name: string): string => {
    const { id, body } = documentOf(schema, fallback);
    const doc = withoutHash(id);
    const known = keys.get(doc);
    if (known !== undefined) return known;
    // A schema's title names its type (json-schema-to-typescript's rule); set to the unique name, so the map and the declarations agree.
    const key = unique(typeof body.title === 'string' && body.title.trim() !== '' ? typeNameOf(body.title) : name, reserved);
    keys.set(doc, key);
    docs.push({ key, id, body: { ...body, title: key } });
    return key;
  };
  const types = rules.map((r, i) => add(r.schema, `netemitter-typegen:/rule/${i}`, typeNameOf(r.name)));
  rules.forEach((r, i) =>
    r.refs.forEach((ref, j) => {
      const id = typeof ref === 'object' && typeof ref.$id === 'string' ? ref.$id : `netemitter-typegen:/rule/${i}/ref/${j}`;
      add(ref, id, typeNameOf(new URL(id, 'netemitter-typegen:/').pathname));
    }),
  );
  const definitions: Obj = {};
  for (const d of docs) definitions[d.key] = rewrite(d.body, d.id, (doc) => keys.get(doc));
  const properties: Obj = {};
  for (const t of types) properties[t] = { $ref: `#/definitions/${t}` };
  return { root: { type: 'object', properties, additionalProperties: false, definitions }, types };
}

/** A subject pattern as a TypeScript key: a quoted literal, or a template literal type. */
function keyOf(subject: string): { literal: boolean; text: string; matches: RegExp } {
  if (!hasWildcard(subject)) return { literal: true, text: `'${subject.replace(/[\\']/g, '\\$&')}'`, matches: /^$/ };
  const tokens = subject.split('.').map((t) => (t === '*' || t === '>' ? '${string}' : t.replace(/[\\`$]/g, '\\$&')));
  const re = subject
    .split('.')
    .map((t) => (t === '*' || t === '>' ? '.*' : t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('\\.');
  return { literal: false, text: `\`${tokens.join('.')}\``, matches: new RegExp(`^${re}$`) };
}

interface Entry {
  key: string;
  literal: boolean;
  matches: RegExp;
  subject: string;
  types: string[];
}

/** The event map's entries, first rule first (see the module comment for the overlaps). */
function entries(rules: readonly SchemaRuleInfo[], types: readonly string[]): Entry[] {
  const out: Entry[] = [];
  const seen: string[] = [];
  rules.forEach((rule, i) => {
    for (const subject of rule.subjects) {
      const k = keyOf(subject);
      if (k.literal && seen.some((p) => subjectMatches(p, subject))) continue;
      seen.push(subject);
      const same = out.find((e) => e.key === k.text);
      if (same !== undefined) {
        if (!same.types.includes(types[i]!)) same.types.push(types[i]!);
      } else {
        out.push({ key: k.text, literal: k.literal, matches: k.matches, subject, types: [types[i]!] });
      }
    }
  });
  for (const index of out.filter((e) => !e.literal)) {
    for (const lit of out.filter((e) => e.literal && index.matches.test(e.subject))) {
      for (const t of lit.types) if (!index.types.includes(t)) index.types.push(t);
    }
  }
  return out;
}

/** The declarations json-schema-to-typescript wrote, without the wrapper and its "referenced by" notes. */
function tidy(ts: string): string {
  return ts
    .replace(new RegExp(`export interface ${ROOT} \\{[^}]*\\}\\n`), '')
    .replace(/^[ \t]*\/\*\*\n[ \t]*\* This interface was referenced by `[^`]*`'s JSON-Schema\n[ \t]*\* via the `definition` "[^"]*"\.\n[ \t]*\*\/\n/gm, '')
    .trim();
}

/**
 * The TypeScript source of the types of `rules` and of their event map: an
 * `interface Events` (or options.name) to pass to `connect<Events>()`.
 */
export async function generateEventTypes(rules: readonly SchemaRuleInfo[], options: TypegenOptions = {}): Promise<string> {
  const name = options.name ?? DEFAULT_EVENTS_NAME;
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new TypeError(`not a TypeScript identifier: ${JSON.stringify(name)}`);
  const { compile } = await import('json-schema-to-typescript');
  const { root, types } = bundle(rules, new Set([name, ROOT]));
  const declarations = rules.length === 0 ? '' : tidy(await compile(root as never, ROOT, { bannerComment: '', unreachableDefinitions: false, declareExternallyReferenced: true, format: true }));
  const lines = entries(rules, types).map((e) =>
    e.literal ? `  ${e.key}: ${e.types.join(' | ')};` : `  [subject: ${e.key}]: ${e.types.join(' | ')};`,
  );
  const banner = options.banner === undefined ? '' : `${options.banner.split('\n').map((l) => `// ${l}`.trimEnd()).join('\n')}\n\n`;
  const map = `/** The events of the subjects that have a schema: connect<${name}>(url) type-checks emit/on against them. */\nexport interface ${name} {\n${lines.join('\n')}\n}\n`;
  return `${banner}${declarations === '' ? '' : `${declarations}\n\n`}${map}`;
}
