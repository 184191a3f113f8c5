/**
 * Property tests (the issue): random JSON values get the same verdict from
 * CompiledRule.check as from ajv called directly on the same schema; random
 * bytes never throw and always get a verdict with a well-formed reason.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { compileRules } from '../../src/schema/validator.js';
import { MAX_SCHEMA_REASON, type JsonSchema } from '../../src/protocol/schemas.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const enc = new TextEncoder();

const schemas: [string, JsonSchema][] = [
  [
    'object of 5 fields',
    {
      type: 'object',
      required: ['id', 'priority'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', minLength: 1 },
        priority: { enum: ['low', 'high'] },
        count: { type: 'integer', minimum: 0 },
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        at: { type: 'string', format: 'date-time' },
      },
    },
  ],
  [
    'composition',
    {
      anyOf: [
        { type: 'string', maxLength: 3 },
        { type: 'number', multipleOf: 0.5 },
        { type: 'object', minProperties: 1, propertyNames: { pattern: '^[a-c]' } },
      ],
      not: { const: 'ab' },
    },
  ],
  [
    'recursive',
    { $defs: { node: { anyOf: [{ type: ['number', 'boolean', 'null'] }, { type: 'array', items: { $ref: '#/$defs/node' } }] } }, $ref: '#/$defs/node' },
  ],
  ['draft-07 tuple', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }], additionalItems: { type: 'number' } }],
];

/** Mostly near misses of the 5-field schema (each field right more often than not), and any JSON at all. */
const often = <T, U>(right: fc.Arbitrary<T>, wrong: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
  fc.oneof({ arbitrary: right, weight: 6 }, { arbitrary: wrong, weight: 1 });
const values = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      id: often(fc.string({ minLength: 1 }), fc.oneof(fc.constant(''), fc.integer(), fc.constant(undefined))),
      priority: often(fc.constantFrom('low', 'high'), fc.constantFrom('mid', 1)),
      count: often(fc.nat(), fc.oneof(fc.integer({ min: -3, max: -1 }), fc.double())),
      tags: often(fc.uniqueArray(fc.constantFrom('a', 'b', 'c')), fc.array(fc.constantFrom('a', 1))),
      at: often(fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()), fc.string()),
    },
    { requiredKeys: ['id', 'priority'] },
  ),
  fc.array(fc.oneof(fc.string({ maxLength: 2 }), fc.integer(), fc.constant(null))),
);

function ajvFor(schema: JsonSchema): (v: unknown) => boolean {
  const d07 = typeof schema === 'object' && typeof schema.$schema === 'string' && schema.$schema.includes('draft-07');
  const ajv = d07 ? new Ajv({ strictTypes: false, strictTuples: false }) : new Ajv2020({ strictTypes: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (v) => validate(v) === true;
}

function assertReason(reason: string): void {
  assert.ok(reason.length > 0 && reason.length <= MAX_SCHEMA_REASON, reason);
  assert.ok(!/['\r\n]/.test(reason), reason);
}

describe('check agrees with ajv', () => {
  for (const [label, schema] of schemas) {
    it(label, () => {
      const [rule] = compileRules([{ name: 'p.json', subjects: ['p'], action: 'reject', schema, refs: [] }]);
      const direct = ajvFor(schema);
      let passed = 0;
      fc.assert(
        fc.property(values, (v) => {
          const text = JSON.stringify(v);
          const reason = rule!.check(enc.encode(text));
          const want = direct(JSON.parse(text));
          if (reason !== null) assertReason(reason);
          if (want) passed++;
          return (reason === null) === want;
        }),
        { numRuns: 400 },
      );
      // Both verdicts occur, so the agreement means something.
      assert.ok(passed > 0 && passed < 400, `${passed} of 400 passed`);
    });
  }
});

describe('check on random bytes', () => {
  const [rule] = compileRules([{ name: 'any', subjects: ['p'], action: 'reject', schema: true, refs: [] }]);
  it('never throws; a verdict with a well-formed reason', () => {
    const jsonish = fc.array(fc.constantFrom(...'{}[]",:\\ 0123456789.eE+-tfn\u00e9'.split('')), { maxLength: 400 }).map((cs) => enc.encode(cs.join('')));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), jsonish), (bytes) => {
        const reason = rule!.check(bytes);
        if (reason !== null) assertReason(reason);
        let parsed = true;
        try {
          JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
        } catch {
          parsed = false;
        }
        // Schema `true`: the verdict is "is it JSON (of sane depth)".
        return parsed ? reason === null || /deeper than/.test(reason) : reason !== null;
      }),
      { numRuns: 2000 },
    );
  });
});
