/**
 * compileRules / check / ruleFor on inline schemas: verdicts per keyword
 * family, the reason texts, drafts, formats, annotations and typos, payloads
 * that are not JSON, and nesting depth (never a stack overflow).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRules, ruleFor, nestsDeeperThan, type CompiledRule } from '../../src/schema/validator.js';
import { ConfigError, SchemaCompileError } from '../../src/errors.js';
import { MAX_JSON_DEPTH, MAX_SCHEMA_REASON, type JsonSchema, type SchemaRuleInfo } from '../../src/protocol/schemas.js';

const enc = new TextEncoder();
const bytes = (s: string): Uint8Array => enc.encode(s);

function info(schema: JsonSchema, extra: Partial<SchemaRuleInfo> = {}): SchemaRuleInfo {
  return { name: 'inline#1', subjects: ['t.>'], action: 'reject', schema, refs: [], ...extra };
}
function rule(schema: JsonSchema, refs: JsonSchema[] = []): CompiledRule {
  return compileRules([info(schema, { refs })])[0]!;
}
const check = (r: CompiledRule, value: unknown): string | null => r.check(bytes(JSON.stringify(value)));

/** A reason as the -ERR may carry it. */
function assertReason(reason: string | null): asserts reason is string {
  assert.equal(typeof reason, 'string');
  assert.ok(reason!.length > 0 && reason!.length <= MAX_SCHEMA_REASON, reason!);
  assert.ok(!/['\r\n]/.test(reason!), reason!);
}
function compileError(schema: JsonSchema, refs: JsonSchema[] = []): SchemaCompileError {
  try {
    rule(schema, refs);
  } catch (err) {
    assert.ok(err instanceof SchemaCompileError, String(err));
    assert.ok(err instanceof ConfigError);
    assert.ok(!err.message.includes('\n'), err.message);
    assert.ok(err.message.includes('inline#1'), err.message);
    return err;
  }
  assert.fail('compiled');
}

const ticket: JsonSchema = {
  type: 'object',
  required: ['id', 'priority'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1 },
    priority: { enum: ['low', 'high'] },
    count: { type: 'integer', minimum: 0 },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
    kind: { const: 'ticket' },
  },
};

describe('check: keyword families', () => {
  const r = rule(ticket);
  it('passes a valid event', () => {
    assert.equal(check(r, { id: 'a', priority: 'low' }), null);
    assert.equal(check(r, { id: 'a', priority: 'high', count: 3, tags: ['x'], kind: 'ticket' }), null);
  });
  const cases: [string, unknown, RegExp][] = [
    ['type', { id: 7, priority: 'low' }, /^\/id must be string$/],
    ['required', { id: 'a' }, /^\(root\) must have required property "priority"$/],
    ['enum', { id: 'a', priority: 'urgent' }, /^\/priority must be equal to one of the allowed values: "low", "high"$/],
    ['additionalProperties', { id: 'a', priority: 'low', extra: 1 }, /^\(root\) must NOT have additional properties: "extra"$/],
    ['minimum', { id: 'a', priority: 'low', count: -1 }, /^\/count must be >= 0$/],
    ['integer', { id: 'a', priority: 'low', count: 1.5 }, /^\/count must be integer$/],
    ['minLength', { id: '', priority: 'low' }, /^\/id must NOT have fewer than 1 characters$/],
    ['items', { id: 'a', priority: 'low', tags: [1] }, /^\/tags\/0 must be string$/],
    ['maxItems', { id: 'a', priority: 'low', tags: ['a', 'b', 'c', 'd'] }, /^\/tags must NOT have more than 3 items$/],
    ['const', { id: 'a', priority: 'low', kind: 'order' }, /^\/kind must be equal to constant: "ticket"$/],
    ['root type', [1, 2], /^\(root\) must be object$/],
  ];
  for (const [family, value, want] of cases) {
    it(`refuses a ${family} violation with a short reason`, () => {
      const reason = check(r, value);
      assertReason(reason);
      assert.match(reason, want);
    });
  }
  it('composition: oneOf, not, if/then', () => {
    const c = rule({
      oneOf: [{ type: 'string' }, { type: 'number' }],
      not: { const: 0 },
      if: { type: 'string' },
      then: { pattern: '^[a-z]+$' },
    });
    assert.equal(check(c, 'abc'), null);
    assert.equal(check(c, 5), null);
    assertReason(check(c, 0));
    assertReason(check(c, true));
    assertReason(check(c, 'ABC'));
  });
  it('boolean schemas', () => {
    assert.equal(check(rule(true), { any: 1 }), null);
    assertReason(check(rule(false), { any: 1 }));
  });
  it('a long reason is cut to 200 characters', () => {
    const values = Array.from({ length: 40 }, (_, i) => `value-number-${i}`);
    const reason = check(rule({ enum: values }), 'nope');
    assertReason(reason);
    assert.equal(reason.length, MAX_SCHEMA_REASON);
    assert.ok(reason.endsWith('…'));
  });
  it('a property name with a quote or a newline stays on one line without single quotes', () => {
    const reason = check(rule({ type: 'object', additionalProperties: false }), { "it's\nbad": 1 });
    assertReason(reason);
  });
});

describe('check: payloads that are not JSON', () => {
  const r = rule({ type: 'object' });
  it('empty payload', () => {
    const reason = r.check(new Uint8Array(0));
    assertReason(reason);
    assert.match(reason, /empty/);
  });
  it('not JSON', () => {
    for (const text of ['hello', '{"a":', '{a:1}', "{'a':1}", '1 2', 'NaN', '\ufeff{}']) {
      const reason = r.check(bytes(text));
      assertReason(reason);
      assert.match(reason, /^payload is not JSON/, text);
    }
  });
  it('not UTF-8', () => {
    for (const raw of [[0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d], [0x22, 0xc3, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22]]) {
      const reason = r.check(Uint8Array.from(raw));
      assertReason(reason);
      assert.match(reason, /not valid UTF-8/);
    }
  });
  it('multi-byte UTF-8 passes', () => {
    assert.equal(rule({ type: 'string', maxLength: 3 }).check(bytes('"é€😀"')), null);
  });
  it('a view into a larger buffer is read within its bounds', () => {
    const whole = bytes('xx{"id":"a"}yy');
    assert.equal(r.check(whole.subarray(2, 12)), null);
  });
});

function nested(depth: number, open = '[', close = ']', inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}
function nestedObject(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('check: nesting depth', () => {
  const recursive = rule({ anyOf: [{ type: 'number' }, { type: 'array', items: { $ref: '#' } }, { type: 'object', additionalProperties: { $ref: '#' } }] });
  const anything = rule(true);
  it(`${MAX_JSON_DEPTH} levels pass, ${MAX_JSON_DEPTH + 1} do not`, () => {
    for (const r of [recursive, anything]) {
      assert.equal(r.check(bytes(nested(MAX_JSON_DEPTH))), null);
      assert.equal(r.check(bytes(nestedObject(MAX_JSON_DEPTH))), null);
      for (const text of [nested(MAX_JSON_DEPTH + 1), nestedObject(MAX_JSON_DEPTH + 1), nested(MAX_JSON_DEPTH + 1, '[', ']', '')]) {
        const reason = r.check(bytes(text));
        assertReason(reason);
        assert.match(reason, /deeper than 100 levels/);
      }
    }
  });
  it('a schema that loops on itself fails the compile, or (when only some payload loops) is a violation', () => {
    for (const schema of [{ $ref: '#' }, { allOf: [{ $ref: '#' }] }, { $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' }]) {
      assert.match(compileError(schema).message, /loops on itself/);
    }
    const r = rule({ if: { type: 'object', required: ['loop'] }, then: { $ref: '#' } });
    assert.equal(check(r, { other: 1 }), null);
    const reason = check(r, { loop: 1 });
    assertReason(reason);
    assert.match(reason, /recurses without end/);
  });
  it('100,000 levels: a violation, no stack overflow', () => {
    for (const text of [nested(100_000), nestedObject(100_000), '['.repeat(100_000), nested(100_000, '{"a":[', ']}')]) {
      const reason = recursive.check(bytes(text));
      assertReason(reason);
      assert.match(reason, /deeper than 100 levels/);
    }
  });
  it('brackets inside strings do not count', () => {
    const s = JSON.stringify(['['.repeat(500), '{\\"'.repeat(100), '\\'.repeat(301)]);
    assert.equal(nestsDeeperThan(bytes(s), MAX_JSON_DEPTH), false);
    assert.equal(anything.check(bytes(s)), null);
  });
  it('a long shallow payload passes the scan', () => {
    const s = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ i, s: `[{${i}` })));
    assert.equal(anything.check(bytes(s)), null);
  });
});

describe('drafts', () => {
  // `items` as an array: draft-07 tuple validation; 2020-12 has prefixItems instead
  // and refuses an array under `items`.
  it('draft-07 items array form', () => {
    const r = rule({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }, { type: 'number' }] });
    assert.equal(check(r, ['a', 1]), null);
    assertReason(check(r, [1, 'a']));
  });
  it('2020-12 (the default) refuses the items array form and has prefixItems', () => {
    const err = compileError({ type: 'array', items: [{ type: 'string' }] });
    assert.match(err.message, /items/);
    const r = rule({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false });
    assert.equal(check(r, ['a', 1]), null);
    assertReason(check(r, [1, 'a']));
    assertReason(check(r, ['a', 1, 2]));
  });
  it('prefixItems is unknown to draft-07', () => {
    compileError({ $schema: 'http://json-schema.org/draft-07/schema#', prefixItems: [] });
  });
  it('$schema with and without the trailing #', () => {
    for (const $schema of ['http://json-schema.org/draft-07/schema', 'https://json-schema.org/draft/2020-12/schema', 'https://json-schema.org/draft/2020-12/schema#']) {
      assert.equal(check(rule({ $schema, type: 'string' }), 'x'), null);
    }
  });
  it('an unsupported $schema fails with its name', () => {
    const err = compileError({ $schema: 'http://json-schema.org/draft-04/schema#' });
    assert.match(err.message, /unsupported \$schema "http:\/\/json-schema.org\/draft-04\/schema#"/);
  });
  it('a referenced schema declaring another draft fails', () => {
    const err = compileError(
      { $id: 'netemitter:/a.json', $ref: 'b.json' },
      [{ $id: 'netemitter:/b.json', $schema: 'http://json-schema.org/draft-07/schema#', type: 'string' }],
    );
    assert.match(err.message, /one draft/);
  });
  it('a referenced schema without $schema is read in the root draft', () => {
    const r = rule(
      { $schema: 'http://json-schema.org/draft-07/schema#', $id: 'netemitter:/a.json', $ref: 'b.json' },
      [{ $id: 'netemitter:/b.json', type: 'array', items: [{ type: 'string' }] }],
    );
    assert.equal(check(r, ['a']), null);
    assertReason(check(r, [1]));
  });
});

describe('formats, annotations, typos', () => {
  it('email, date-time, uuid', () => {
    const r = rule({
      type: 'object',
      properties: { e: { format: 'email' }, d: { format: 'date-time' }, u: { format: 'uuid' } },
    });
    assert.equal(check(r, { e: 'a@example.com', d: '2026-12-06T13:00:00Z', u: '3f1e4b1c-9a7b-4c55-8a1e-1d2b3c4d5e6f' }), null);
    assert.match(check(r, { e: 'not-an-email' }) ?? '', /^\/e must match format "email"$/);
    assert.match(check(r, { d: '2026-13-06' }) ?? '', /^\/d must match format "date-time"$/);
    assert.match(check(r, { u: 'xyz' }) ?? '', /^\/u must match format "uuid"$/);
  });
  it('an unknown format fails the compile', () => {
    const err = compileError({ type: 'string', format: 'emial' });
    assert.match(err.message, /^schema inline#1: unknown format "emial" at "#" \(known: .*\bemail\b.*\)$/);
  });
  it('x- annotation keywords are allowed anywhere', () => {
    const r = rule({ type: 'object', 'x-owner': 'team-a', properties: { a: { type: 'string', 'x-doc': { deep: [1] } } } });
    assert.equal(check(r, { a: 'b' }), null);
    assertReason(check(r, { a: 1 }));
  });
  it('a typo keyword fails with a clear line', () => {
    const err = compileError({ type: 'object', requird: ['id'] });
    assert.match(err.message, /^schema inline#1: strict mode: unknown keyword: "requird" \(a typo\? annotation keywords must start with "x-"\)$/);
  });
  it('an invalid schema fails', () => {
    const err = compileError({ type: 5 });
    assert.match(err.message, /schema is invalid/);
  });
  it('a $ref to nothing fails', () => {
    const err = compileError({ $ref: 'nope.json' });
    assert.match(err.message, /can.t resolve reference nope.json/);
  });
  it('$async schemas are refused', () => {
    compileError({ $async: true, type: 'object' });
  });
});

describe('compileRules: shape and sharing', () => {
  it('refuses a malformed rule with its name', () => {
    const bad: [Partial<SchemaRuleInfo>, RegExp][] = [
      [{ subjects: [] }, /subjects/],
      [{ subjects: ['a..b'] }, /invalid subject "a..b"/],
      [{ action: 'explode' as never }, /action must be one of reject, drop, deadLetter/],
      [{ schema: [] as never }, /JSON object or a boolean/],
      [{ refs: [{ type: 'string' }] }, /\$id/],
    ];
    for (const [extra, want] of bad) {
      assert.throws(() => compileRules([info({}, extra)]), (err: Error) => err instanceof SchemaCompileError && want.test(err.message) && err.message.startsWith('schema inline#1:'));
    }
  });
  it('two rules may share a schema id (one file for two subjects); different schemas under one id fail', () => {
    const file = { $id: 'netemitter:/t.json', type: 'string' };
    const rules = compileRules([
      info(file, { name: 't.json', subjects: ['a'] }),
      info(file, { name: 't.json', subjects: ['b'] }),
      info({ $id: 'netemitter:/u.json', $ref: 't.json' }, { name: 'u.json', subjects: ['c'], refs: [file] }),
    ]);
    assert.deepEqual(rules.map((r) => check(r, 'x')), [null, null, null]);
    assert.throws(
      () => compileRules([info(file), info({ $id: 'netemitter:/t.json', type: 'number' }, { name: 'other.json' })]),
      /schema other\.json: .*two different schemas/,
    );
  });
  it('a draft-07 and a 2020-12 rule side by side', () => {
    const rules = compileRules([
      info({ $schema: 'http://json-schema.org/draft-07/schema#', items: [{ type: 'string' }] }, { subjects: ['a'] }),
      info({ prefixItems: [{ type: 'string' }] }, { subjects: ['b'] }),
    ]);
    assert.deepEqual(rules.map((r) => check(r, [1]) === null), [false, false]);
  });
});

describe('ruleFor', () => {
  const rules = compileRules([
    info(true, { name: 'a', subjects: ['orders.created'] }),
    info(true, { name: 'b', subjects: ['orders.*', 'billing.>'] }),
    info(true, { name: 'c', subjects: ['>'] }),
  ]);
  it('the first rule whose subjects match', () => {
    assert.equal(ruleFor(rules, 'orders.created')?.name, 'a');
    assert.equal(ruleFor(rules, 'orders.paid')?.name, 'b');
    assert.equal(ruleFor(rules, 'billing.x.y')?.name, 'b');
    assert.equal(ruleFor(rules, 'billing')?.name, 'c');
    assert.equal(ruleFor(rules.slice(0, 2), 'orders.paid.late'), null);
    assert.equal(ruleFor([], 'x'), null);
  });
  it('never a rule for the hub own APIs, even under >', () => {
    for (const s of ['$JS.API.STREAM.INFO.x', '$JS.ACK.s.c.1.1.1.1.0', '$JS.FC.x.y', '$NE.SCHEMA.LIST', '$SYS.REQ.SERVER.PING']) {
      assert.equal(ruleFor(rules, s), null, s);
    }
    assert.equal(ruleFor(rules, '$KV.bucket.key')?.name, 'c');
    assert.equal(ruleFor(rules, '$O.store.x')?.name, 'c');
  });
  it('info is what was compiled', () => {
    assert.equal(rules[1]!.info.subjects[1], 'billing.>');
    assert.equal(rules[1]!.action, 'reject');
  });
});
