/**
 * What docs/browser.md promises a browser TypeScript project: with the DOM
 * library, no Node types and `skipLibCheck` (Vite's default), code importing
 * `netemitter/browser` compiles, and the event map is checked. tsc's API runs
 * in-process over a temporary project whose node_modules/netemitter is this
 * package (a link), as an installed copy would be.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** dist/test/packaging/ → the repository. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: [],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
};

const PAGE = `
import { connect, PermissionError } from 'netemitter/browser';
interface TicketEvents { 'ticket.created': { id: string; priority: 'low' | 'high' } }
const bus = await connect<TicketEvents>('ws://127.0.0.1:8080');
bus.on('ticket.created', (ticket) => document.title = ticket.id.toUpperCase());
bus.status.on('error', (err) => { if (err instanceof PermissionError) console.log(err.message); });
bus.emit('ticket.created', { id: 'T-1', priority: 'high' });
const bucket = await bus.kv('tickets');
const watch = await bucket.watch();
watch.on('change', (entry) => console.log(entry.key.length));
`;

function diagnostics(dir: string, file: string, text: string): string[] {
  const path = join(dir, file);
  writeFileSync(path, text);
  const program = ts.createProgram([path], OPTIONS);
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file === undefined ? '' : `${d.file.fileName.slice(dir.length + 1)}: `}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}

describe('the browser types', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-browser-types-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'netemitter'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a page module compiles with the DOM library, no Node types and skipLibCheck', () => {
    assert.deepEqual(diagnostics(dir, 'page.ts', PAGE), []);
  });

  it('the event map is checked: a wrong payload is an error at the emit', () => {
    const errors = diagnostics(dir, 'wrong.ts', `${PAGE}\nbus.emit('ticket.created', { id: 7, priority: 'urgent' });\n`);
    assert.ok(errors.length > 0, 'a wrong payload compiled');
    for (const e of errors) assert.match(e, /^wrong\.ts: .*not assignable/);
  });
});
