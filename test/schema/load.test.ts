/**
 * loadRules / loadAndCompile over real files in a temp directory: `$ref`
 * across files (subdirectories, `../`, cycles, fragments), ids that keep the
 * hub's paths private yet resolve the same in a client compiling what LIST
 * sends, rule names, drafts across files, and bad files failing with one line
 * naming the file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadAndCompile, loadRules, SCHEMA_ID_BASE } from '../../src/schema/load.js';
import { compileRules, ruleFor, type CompiledRule } from '../../src/schema/validator.js';
import { SchemaCompileError } from '../../src/errors.js';
import type { SchemaRule } from '../../src/server/options.js';

let top: string;
/** The config's directory; `outside/` is its sibling. */
let base: string;

function write(rel: string, content: unknown): void {
  const path = join(base, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
}

const enc = new TextEncoder();
const check = (r: CompiledRule, v: unknown): string | null => r.check(enc.encode(JSON.stringify(v)));

before(() => {
  top = mkdtempSync(join(tmpdir(), 'ne-schema-load-'));
  base = join(top, 'conf');
  write('schemas/order.json', {
    type: 'object',
    required: ['id', 'customer'],
    properties: {
      id: { type: 'string' },
      customer: { $ref: 'customer.json' },
      address: { $ref: '../shared/address.json#/$defs/address' },
      lines: { type: 'array', items: { $ref: 'lines/line.json' } },
      note: { $ref: '../../outside/note.json' },
      example: { const: { $ref: 'not-a-file.json' } },
    },
  });
  // customer ↔ order: a cycle
  write('schemas/customer.json', {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string' }, lastOrder: { $ref: 'order.json' } },
  });
  write('schemas/lines/line.json', {
    type: 'object',
    required: ['sku'],
    properties: { sku: { type: 'string', pattern: '^[A-Z]+$' }, by: { $ref: '../customer.json' } },
  });
  write('shared/address.json', { $defs: { address: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } } } });
  mkdirSync(join(top, 'outside'), { recursive: true });
  writeFileSync(join(top, 'outside', 'note.json'), JSON.stringify({ type: 'string', maxLength: 5 }));
  write('schemas/pair/a.json', { $ref: 'b.json' });
  write('schemas/pair/b.json', { type: 'string' });
  write('schemas/with space.json', { type: 'integer' });
  write('schemas/spaced-ref.json', { $ref: 'with%20space.json' });
  write('schemas/own-id.json', { $id: 'https://example.com/schemas/own-id.json', type: 'boolean' });
  write('schemas/d07.json', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ $ref: 'plain.json' }] });
  write('schemas/plain.json', { type: 'string' });
  write('schemas/refs-d07.json', { $ref: 'd07.json' });
  write('schemas/true.json', 'true');
  write('bad/not-json.json', '{ "type": ');
  write('bad/invalid.json', { type: 5 });
  write('bad/typo.json', { type: 'object', requird: ['id'] });
  write('bad/refs-missing.json', { properties: { a: { $ref: 'missing.json' } } });
  write('bad/refs-not-json.json', { $ref: 'not-json.json' });
  write('bad/refs-array.json', { $ref: 'array.json' });
  write('bad/array.json', '[1]');
  write('bad/refs-bad-pointer.json', { $ref: '../schemas/plain.json#/nope' });
  mkdirSync(join(base, 'bad', 'dir.json'));
});
after(() => rmSync(top, { recursive: true, force: true }));

const orderRules = (): SchemaRule[] => [
  { subjects: ['orders.>'], schema: 'schemas/order.json' },
  { subjects: ['customers.*'], schema: 'schemas/customer.json', action: 'deadLetter' },
  { subjects: ['inline.ref'], schema: { type: 'object', properties: { c: { $ref: 'schemas/customer.json' } } }, action: 'drop' },
  { subjects: ['inline.plain'], schema: { type: 'number' } },
];

const good = {
  id: 'o1',
  customer: { name: 'Ann', lastOrder: { id: 'o0', customer: { name: 'Ann' } } },
  address: { city: 'Oslo' },
  lines: [{ sku: 'ABC', by: { name: 'Bob' } }],
  note: 'hi',
};
const payloads: [string, unknown, boolean][] = [
  ['orders.created', good, true],
  ['orders.created', { ...good, customer: { name: 7 } }, false],
  ['orders.created', { ...good, customer: { name: 'A', lastOrder: { id: 'x' } } }, false], // the cycle, one level down
  ['orders.created', { ...good, address: {} }, false],
  ['orders.created', { ...good, lines: [{ sku: 'abc' }] }, false],
  ['orders.created', { ...good, lines: [{ sku: 'A', by: {} }] }, false],
  ['orders.created', { ...good, note: 'too long' }, false],
  ['customers.new', { name: 'x' }, true],
  ['customers.new', {}, false],
  ['inline.ref', { c: { name: 'x' } }, true],
  ['inline.ref', { c: { name: 1 } }, false],
  ['inline.plain', 1, true],
  ['inline.plain', 'one', false],
];

describe('loadRules: $ref across files', () => {
  it('resolves refs by file name relative to the referring file (subdirectories, ../, cycles, fragments)', () => {
    const rules = loadAndCompile(orderRules(), base);
    for (const [subject, value, pass] of payloads) {
      const reason = check(ruleFor(rules, subject)!, value);
      assert.equal(reason === null, pass, `${subject} ${JSON.stringify(value)}: ${reason}`);
    }
    assert.match(check(ruleFor(rules, 'orders.x')!, { ...good, customer: { name: 7 } }) ?? '', /^\/customer\/name must be string$/);
  });

  it('names, actions, subjects', () => {
    const infos = loadRules(orderRules(), base);
    assert.deepEqual(infos.map((i) => [i.name, i.action, i.subjects]), [
      ['schemas/order.json', 'reject', ['orders.>']],
      ['schemas/customer.json', 'deadLetter', ['customers.*']],
      ['inline#1', 'drop', ['inline.ref']],
      ['inline#2', 'reject', ['inline.plain']],
    ]);
    const named = loadRules([{ subjects: ['a'], schema: join(base, 'schemas/plain.json'), name: 'schemas/plain.json' }], '/');
    assert.equal(named[0]!.name, 'schemas/plain.json');
  });

  it('ids never hold the base directory, and every referenced file travels once', () => {
    const infos = loadRules(orderRules(), base);
    const text = JSON.stringify(infos);
    assert.ok(!text.includes(top), text);
    assert.ok(!text.includes(tmpdir()), text);
    const order = infos[0]!;
    assert.equal((order.schema as { $id: string }).$id, `${SCHEMA_ID_BASE}conf/schemas/order.json`);
    assert.deepEqual(order.refs.map((r) => (r as { $id: string }).$id).sort(), [
      `${SCHEMA_ID_BASE}conf/schemas/customer.json`,
      `${SCHEMA_ID_BASE}conf/schemas/lines/line.json`,
      `${SCHEMA_ID_BASE}conf/shared/address.json`,
      `${SCHEMA_ID_BASE}outside/note.json`,
    ]);
    // An inline schema without file refs gets no id; with refs it is placed in baseDir.
    assert.equal((infos[3]!.schema as { $id?: string }).$id, undefined);
    assert.equal((infos[2]!.schema as { $id?: string }).$id, `${SCHEMA_ID_BASE}conf/inline%231`);
    // `{ const: { $ref: 'not-a-file.json' } }` is data: not read (it would fail), and kept as written.
    assert.ok(text.includes('{"const":{"$ref":"not-a-file.json"}}'), text);
  });

  it('ids below baseDir when every file is there', () => {
    const infos = loadRules([{ subjects: ['a'], schema: 'schemas/pair/a.json' }], base);
    assert.equal((infos[0]!.schema as { $id: string }).$id, `${SCHEMA_ID_BASE}a.json`);
    assert.equal((infos[0]!.refs[0] as { $id: string }).$id, `${SCHEMA_ID_BASE}b.json`);
    assert.equal(check(compileRules(infos)[0]!, 'x'), null);
  });

  it('a client compiling what LIST sent (no files) gives the same verdicts', () => {
    const hub = loadAndCompile(orderRules(), base);
    const wire = JSON.parse(JSON.stringify(loadRules(orderRules(), base)));
    const client = compileRules(wire);
    for (const [subject, value] of payloads) {
      assert.equal(check(ruleFor(client, subject)!, value), check(ruleFor(hub, subject)!, value), subject);
    }
  });

  it('a file with its own $id keeps it; a percent-encoded name; a boolean file', () => {
    const rules = loadAndCompile([
      { subjects: ['a'], schema: 'schemas/own-id.json' },
      { subjects: ['b'], schema: 'schemas/spaced-ref.json' },
      { subjects: ['c'], schema: 'schemas/true.json' },
    ], base);
    assert.equal((rules[0]!.info.schema as { $id: string }).$id, 'https://example.com/schemas/own-id.json');
    assert.equal(check(rules[0]!, true), null);
    assert.notEqual(check(rules[0]!, 1), null);
    assert.equal(check(rules[1]!, 1), null);
    assert.notEqual(check(rules[1]!, 1.5), null);
    assert.equal(rules[2]!.info.schema, true);
    assert.equal(check(rules[2]!, { x: 1 }), null);
  });

  it('draft-07 file: its $schema-less refs are read as draft-07; a 2020-12 file referring to it fails', () => {
    const [d07] = loadAndCompile([{ subjects: ['a'], schema: 'schemas/d07.json' }], base);
    assert.equal(check(d07!, ['x', 1]), null);
    assert.notEqual(check(d07!, [1]), null);
    assert.throws(
      () => loadAndCompile([{ subjects: ['a'], schema: 'schemas/refs-d07.json' }], base),
      (err: Error) => err instanceof SchemaCompileError && /^schema schemas\/refs-d07\.json: .*d07\.json.* declares draft-07 but the rule.s schema is 2020-12/.test(err.message),
    );
  });
});

describe('loadRules: bad files and rules', () => {
  const cases: [string, RegExp][] = [
    ['bad/missing.json', /^schema bad\/missing\.json: cannot read bad\/missing\.json \(no such file\)$/],
    ['bad/dir.json', /^schema bad\/dir\.json: cannot read bad\/dir\.json \(is a directory\)$/],
    ['bad/not-json.json', /^schema bad\/not-json\.json: bad\/not-json\.json is not JSON: /],
    ['bad/array.json', /^schema bad\/array\.json: bad\/array\.json does not hold a schema/],
    ['bad/invalid.json', /^schema bad\/invalid\.json: schema is invalid: data\/type /],
    ['bad/typo.json', /^schema bad\/typo\.json: strict mode: unknown keyword: "requird"/],
    ['bad/refs-missing.json', /^schema bad\/refs-missing\.json: \$ref "missing\.json" in bad\/refs-missing\.json: cannot read bad\/missing\.json \(no such file\)$/],
    ['bad/refs-not-json.json', /^schema bad\/refs-not-json\.json: \$ref "not-json\.json" in bad\/refs-not-json\.json: bad\/not-json\.json is not JSON/],
    ['bad/refs-array.json', /^schema bad\/refs-array\.json: \$ref "array\.json" in bad\/refs-array\.json: bad\/array\.json does not hold a schema/],
    ['bad/refs-bad-pointer.json', /^schema bad\/refs-bad-pointer\.json: can.t resolve reference \.\.\/schemas\/plain\.json#\/nope/],
  ];
  for (const [file, want] of cases) {
    it(`${file}: one line naming the file`, () => {
      assert.throws(
        () => loadAndCompile([{ subjects: ['ok'], schema: 'schemas/plain.json' }, { subjects: ['a'], schema: file }], base),
        (err: Error) => {
          assert.ok(err instanceof SchemaCompileError, String(err));
          assert.ok(!err.message.includes('\n'), err.message);
          assert.ok(!err.message.includes(top), err.message);
          assert.match(err.message, want);
          return true;
        },
      );
    });
  }
  it('rule shapes', () => {
    const bad: [unknown, RegExp][] = [
      [{ subjects: [], schema: {} }, /^schema inline#1: subjects must be a non-empty array/],
      [{ subjects: ['a b'], schema: 'schemas/plain.json' }, /^schema schemas\/plain\.json: invalid subject "a b"/],
      [{ subjects: ['a'], schema: {}, action: 'bounce' }, /^schema inline#1: action must be one of reject, drop, deadLetter \(got "bounce"\)$/],
      [{ subjects: ['a'], schema: 5 }, /^schema inline#1: schema must be a JSON Schema/],
      [{ subjects: ['a'], schema: '' }, /schema must be a JSON Schema/],
      [null, /^schema schemas\[0\]: a rule must be an object/],
    ];
    for (const [rule, want] of bad) {
      assert.throws(() => loadRules([rule as SchemaRule], base), (err: Error) => err instanceof SchemaCompileError && want.test(err.message), String(want));
    }
    assert.throws(() => loadRules({} as never, base), /schemas must be an array/);
  });
  it('inline rules are counted from 1 among inline rules only', () => {
    assert.throws(
      () => loadAndCompile([{ subjects: ['a'], schema: 'schemas/plain.json' }, { subjects: ['b'], schema: {} }, { subjects: ['c'], schema: { type: 'nope' } }], base),
      /schema inline#2: schema is invalid/,
    );
  });
});
