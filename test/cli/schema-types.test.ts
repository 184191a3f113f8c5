/**
 * `netemitter schema types` and src/schema/typegen.ts: the event map's keys
 * follow the hub's first-rule-wins order, and the generated file type-checks
 * a client: a right emit compiles, a wrong one does not (tsc, strict, against
 * the built package, as a user's project would see it).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { generateEventTypes, typeNameOf } from '../../src/schema/typegen.js';
import type { SchemaRuleInfo } from '../../src/protocol/schemas.js';
import { killAll, runCli } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RULES = join(ROOT, 'examples', 'tickets', 'schemas', 'rules.json');

const dir = mkdtempSync(join(tmpdir(), 'ne-schema-types-'));
after(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

const info = (name: string, subjects: string[], schema: SchemaRuleInfo['schema'], refs: SchemaRuleInfo['refs'] = []): SchemaRuleInfo => ({ name, subjects, action: 'reject', schema, refs });

describe('typegen: the event map', () => {
  it('names types after the rule: file name in PascalCase, inline#N as InlineN', () => {
    assert.equal(typeNameOf('schemas/ticket.created.json'), 'TicketCreated');
    assert.equal(typeNameOf('inline#2'), 'Inline2');
    assert.equal(typeNameOf('3d-model.json'), 'Schema3dModel');
  });

  it('literal subjects are keys, wildcards template-literal index signatures; a subject an earlier rule matches is left to it', async () => {
    const out = await generateEventTypes([
      info('a.json', ['orders.>'], { type: 'object', properties: { n: { type: 'integer' } } }),
      info('b.json', ['orders.special', 'ticket.created'], { type: 'object', properties: { s: { type: 'string' } } }),
      info('c.json', ['*.audit'], { type: 'string' }),
    ]);
    assert.match(out, /export interface Events \{\n {2}\[subject: `orders\.\$\{string\}`\]: A;\n {2}'ticket\.created': B;\n {2}\[subject: `\$\{string\}\.audit`\]: C;\n\}/);
    assert.doesNotMatch(out, /'orders\.special'/, 'the hub applies a.json to orders.special: no key of its own');
  });

  it('a literal key whose subject an index signature of a later rule also matches widens that signature (TypeScript needs the literal to fit it)', async () => {
    const out = await generateEventTypes([info('lit.json', ['x.y'], { type: 'string' }), info('any.json', ['x.*'], { type: 'number' })], { name: 'Bus' });
    assert.match(out, /export interface Bus \{\n {2}'x\.y': Lit;\n {2}\[subject: `x\.\$\{string\}`\]: Any \| Lit;\n\}/);
  });

  it('a file referenced by several rules is declared once; its $refs become types', async () => {
    const common = { $id: 'netemitter:/schemas/common.json', title: 'Priority', enum: ['low', 'high'] };
    const out = await generateEventTypes([
      info('a.json', ['a'], { $id: 'netemitter:/schemas/a.json', type: 'object', properties: { p: { $ref: 'common.json' } }, required: ['p'] }, [common]),
      info('b.json', ['b'], { $id: 'netemitter:/schemas/b.json', type: 'object', properties: { q: { $ref: 'common.json' } }, required: ['q'] }, [common]),
    ]);
    assert.equal(out.match(/export type Priority = /g)?.length, 1, out);
    assert.match(out, /p: Priority;/);
    assert.match(out, /q: Priority;/);
  });
});

/** Type-checks `files` in a project where `netemitter` is this repository (built); returns the diagnostics as lines. */
function typecheck(project: string, files: Record<string, string>): string[] {
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(project, 'node_modules', 'netemitter'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(project, name), text);
  writeFileSync(join(project, 'package.json'), '{"type":"module"}\n');
  const program = ts.createProgram(
    Object.keys(files).map((f) => join(project, f)),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
    },
  );
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file === undefined ? '' : `${d.file.fileName.slice(project.length + 1)}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}): `;
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/** A client of the generated map: a right emit, and wrong ones that must not compile. */
const CLIENT = (events: string): string => `import { connect } from 'netemitter';
import type { ${events} } from './events.js';

export async function main(): Promise<void> {
  const bus = await connect<${events}>('nats://127.0.0.1:4222');
  bus.emit('ticket.created', { id: 'T-1', title: 'Printer on fire', priority: 'urgent', status: 'open', createdAt: '2026-12-06T10:00:00Z' });
  bus.emit('note.created', { ticketId: 'T-1', author: 'ada', text: 'On it.' });
  bus.on('ticket.updated', (u) => console.log(u.id, u.changes.priority));
  // @ts-expect-error priority is not one of the schema's values
  bus.emit('ticket.created', { id: 'T-2', title: 'x', priority: 'asap', status: 'open', createdAt: '2026-12-06T10:00:00Z' });
  // @ts-expect-error note.created has no "body": the schema forbids extra properties
  bus.emit('note.created', { ticketId: 'T-1', author: 'ada', body: 'On it.' });
  // @ts-expect-error no schema for this subject, so it is not in the map
  bus.emit('ticket.deleted', { id: 'T-1' });
  await bus.close();
}
`;

describe('schema types: a client type-checks against the generated map (tsc)', () => {
  let generated = '';
  before(async () => {
    const p = await runCli(['schema', 'types', RULES, '--name', 'TicketEvents'], {}, 60_000);
    assert.equal(p.exit.code, 0, p.output());
    generated = p.stdout;
  });

  it('prints the map of the tickets example schemas', () => {
    assert.match(generated, /^\/\/ Generated by `netemitter schema types` from /);
    assert.match(generated, /export interface TicketEvents \{\n {2}'ticket\.created': Ticket;\n {2}'ticket\.updated': TicketUpdate;\n {2}'note\.created': Note;\n {2}'ticket\.handled': Handled;\n\}/);
    assert.match(generated, /priority: "low" \| "normal" \| "high" \| "urgent";/);
  });

  it('the right emits compile and every wrong one is an error (each @ts-expect-error is used)', () => {
    const errors = typecheck(join(dir, 'typed'), { 'events.ts': generated, 'client.ts': CLIENT('TicketEvents') });
    assert.deepEqual(errors, []);
  });

  it('can fail: with an untyped map the wrong emits compile, and tsc reports each unused @ts-expect-error', () => {
    const loose = 'export interface TicketEvents { [subject: string]: any }\n';
    const errors = typecheck(join(dir, 'loose'), { 'events.ts': loose, 'client.ts': CLIENT('TicketEvents') });
    assert.equal(errors.filter((e) => /Unused '@ts-expect-error' directive/.test(e)).length, 3, errors.join('\n'));
  });

  it('can fail: a right emit that breaks the map is an error', () => {
    const broken = generated.replace(/"urgent"/g, '"critical"');
    const errors = typecheck(join(dir, 'broken'), { 'events.ts': broken, 'client.ts': CLIENT('TicketEvents') });
    assert.ok(errors.some((e) => /client\.ts\(6\)/.test(e) && /"urgent"/.test(e)), errors.join('\n'));
  });
});
