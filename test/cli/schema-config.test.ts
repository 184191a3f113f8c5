/**
 * The `schemas` key of serve's config, `--schemas` and list files
 * (src/cli/schema-config.ts): shapes, one-line errors naming the file, and
 * paths relative to the file they are written in.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerFromEnv, layerFromFlags, loadConfigFile, parseConfigText, SERVE_OPTIONS } from '../../src/cli/config.js';
import { parseSchemasSection, readRuleListFile } from '../../src/cli/schema-config.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ne-schema-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configError(message: string | RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return true;
  };
}

describe('config "schemas": a list of rules', () => {
  const conf = join(dir, 'etc', 'hub.json');

  it('keeps inline schemas, makes schema paths absolute from the config file\'s directory, and names them as written', () => {
    const rules = parseSchemasSection(
      [
        { subjects: ['ticket.created'], schema: 'schemas/ticket.created.json', action: 'deadLetter' },
        { subjects: ['orders.>', 'carts.*'], schema: { type: 'object' } },
        { subjects: ['abs'], schema: '/srv/schemas/a.json', action: 'drop' },
      ],
      { file: conf },
    );
    assert.deepEqual(rules, [
      { subjects: ['ticket.created'], schema: join(dir, 'etc', 'schemas', 'ticket.created.json'), name: 'schemas/ticket.created.json', action: 'deadLetter' },
      { subjects: ['orders.>', 'carts.*'], schema: { type: 'object' } },
      { subjects: ['abs'], schema: '/srv/schemas/a.json', name: '/srv/schemas/a.json', action: 'drop' },
    ]);
  });

  it('refuses bad shapes with one line naming the file and the rule', () => {
    const at = { file: 'hub.json' };
    assert.throws(() => parseSchemasSection({ subjects: ['a'] }, at), configError('invalid value for "schemas" in hub.json: expected a list of rules, or the path of a JSON file holding one'));
    assert.throws(() => parseSchemasSection(['x'], at), configError(/^invalid value for "schemas\[0\]" in hub\.json: expected an object/));
    assert.throws(() => parseSchemasSection([{ schema: {} }], at), configError(/^invalid value for "schemas\[0\]\.subjects" in hub\.json: expected a non-empty list of subjects/));
    assert.throws(() => parseSchemasSection([{ subjects: [], schema: {} }], at), configError(/"schemas\[0\]\.subjects"/));
    assert.throws(() => parseSchemasSection([{ subjects: ['a..b'], schema: {} }], at), configError('invalid subject "a..b" in "schemas[0].subjects" in hub.json'));
    assert.throws(() => parseSchemasSection([{ subjects: ['a'], schema: {} }, { subjects: ['a'], schema: 5 }], at), configError(/^invalid value for "schemas\[1\]\.schema" in hub\.json: expected a JSON Schema/));
    assert.throws(() => parseSchemasSection([{ subjects: ['a'], schema: {}, action: 'bounce' }], at), configError('invalid value for "schemas[0].action" in hub.json: expected one of reject, drop, deadLetter'));
    assert.throws(() => parseSchemasSection([{ subject: ['a'], schema: {} }], at), configError('unknown key "schemas[0].subject" in hub.json (did you mean "subjects"?)'));
  });

  it('is read by loadConfigFile beside the other keys', () => {
    mkdirSync(join(dir, 'etc'), { recursive: true });
    writeFileSync(conf, JSON.stringify({ port: 0, schemas: [{ subjects: ['a.b'], schema: 'a.json' }] }));
    assert.deepEqual(loadConfigFile(conf).schemas, [{ subjects: ['a.b'], schema: join(dir, 'etc', 'a.json'), name: 'a.json' }]);
  });
});

describe('config "schemas": a list file', () => {
  it('is read relative to the config; the paths inside it are relative to the list file', () => {
    mkdirSync(join(dir, 'conf', 'rules'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'rules', 'list.json'), JSON.stringify([{ subjects: ['t.>'], schema: 't.json' }]));
    const layer = parseConfigText(JSON.stringify({ schemas: 'rules/list.json' }), join(dir, 'conf', 'hub.json'));
    assert.deepEqual(layer.schemas, [{ subjects: ['t.>'], schema: join(dir, 'conf', 'rules', 't.json'), name: 't.json' }]);
  });

  it('errors name the list file', () => {
    const list = join(dir, 'bad-list.json');
    writeFileSync(list, JSON.stringify([{ subjects: ['a'], schema: {}, action: 'nope' }]));
    assert.throws(() => readRuleListFile(list), configError(`invalid value for "[0].action" in ${list}: expected one of reject, drop, deadLetter`));
    writeFileSync(list, '{"subjects":');
    assert.throws(() => readRuleListFile(list), configError(new RegExp(`^schema list file ${list} is not valid JSON: `)));
    writeFileSync(list, '{}');
    assert.throws(() => readRuleListFile(list), configError(`invalid value for "(root)" in ${list}: expected a list of rules [{ "subjects": [...], "schema": ... }, ...]`));
    assert.throws(() => readRuleListFile(join(dir, 'none.json')), configError(`cannot read schema list file ${join(dir, 'none.json')}: no such file`));
  });

  it('--schemas and NETEMITTER_SCHEMAS name a list file relative to the working directory', () => {
    const list = join(dir, 'flag-list.json');
    writeFileSync(list, JSON.stringify([{ subjects: ['f'], schema: 'f.json', action: 'drop' }]));
    const want = [{ subjects: ['f'], schema: join(dir, 'f.json'), name: 'f.json', action: 'drop' }];
    assert.deepEqual(layerFromFlags({ schemas: list }).schemas, want);
    assert.deepEqual(layerFromEnv({ NETEMITTER_SCHEMAS: list }).schemas, want);
    const spec = SERVE_OPTIONS.find((o) => o.key === 'schemas');
    assert.equal(spec?.flag, '--schemas');
    assert.throws(() => layerFromEnv({ NETEMITTER_SCHEMAS: join(dir, 'missing.json') }), configError(/^cannot read schema list file .*missing\.json: no such file$/));
  });
});
