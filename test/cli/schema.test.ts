/**
 * `netemitter schema check|test` and `serve` with schemas, as a user runs
 * them: the built CLI as a child process, the tickets example's schema files
 * (examples/tickets/schemas), exit codes and one-line errors; a running
 * serve whose verdicts change on SIGHUP.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hub } from '../../src/server/hub.js';
import { CliProcess, killAll, oneLine, RawConnection } from '../helpers/cli.js';
import { runCli } from './proc.js';

const SCHEMAS = fileURLToPath(new URL('../../../examples/tickets/schemas/', import.meta.url));
const RULES = join(SCHEMAS, 'rules.json');

const dir = mkdtempSync(join(tmpdir(), 'ne-schema-cli-'));
after(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The hub's side (createHub compiling the rules, hub.reloadSchemas) lands with #19's gate; tests marked HUB need it. */
const NO_GATE = typeof (Hub.prototype as { reloadSchemas?: unknown }).reloadSchemas === 'function' ? false : 'needs the hub\'s schema gate (Hub.reloadSchemas)';

const TICKET = { id: 'T-7', title: 'Printer on fire', priority: 'urgent', status: 'open', createdAt: '2026-12-06T10:00:00Z' };

/** A directory with the example's schema files and `hub.json` holding `config`. */
function project(name: string, config: unknown): string {
  const at = join(dir, name);
  mkdirSync(join(at, 'schemas'), { recursive: true });
  for (const f of readdirSync(SCHEMAS)) copyFileSync(join(SCHEMAS, f), join(at, 'schemas', f));
  writeFileSync(join(at, 'hub.json'), JSON.stringify(config));
  return at;
}

describe('schema check', () => {
  it('a schema file, with the files it references: ok, exit 0', async () => {
    const p = await runCli(['schema', 'check', join(SCHEMAS, 'ticket.created.json'), join(SCHEMAS, 'ticket.handled.json')]);
    assert.equal(p.exit.code, 0, p.output());
    assert.equal(p.stdout, `ok ${join(SCHEMAS, 'ticket.created.json')} (and the 1 file it references)\nok ${join(SCHEMAS, 'ticket.handled.json')}\n`);
    assert.equal(p.stderr, '');
  });

  it('a list of rules, and a config file: one ok line per rule, named as written', async () => {
    const list = await runCli(['schema', 'check', RULES]);
    assert.equal(list.exit.code, 0, list.output());
    assert.deepEqual(list.stdout.trim().split('\n'), [
      `ok ${RULES}: ticket.created.json on ticket.created (reject)`,
      `ok ${RULES}: ticket.updated.json on ticket.updated (reject)`,
      `ok ${RULES}: note.created.json on note.created (deadLetter)`,
      `ok ${RULES}: ticket.handled.json on ticket.handled (drop)`,
    ]);
    const at = project('check-config', { port: 0, schemas: [{ subjects: ['ticket.>'], schema: 'schemas/ticket.updated.json' }, { subjects: ['x'], schema: { type: 'string' } }] });
    const conf = await runCli(['schema', 'check', join(at, 'hub.json')]);
    assert.equal(conf.exit.code, 0, conf.output());
    assert.equal(conf.stdout, `ok ${join(at, 'hub.json')}: schemas/ticket.updated.json on ticket.> (reject)\nok ${join(at, 'hub.json')}: inline#1 on x (reject)\n`);
    writeFileSync(join(at, 'plain.json'), JSON.stringify({ port: 0, maxPayload: '1MB' }));
    const plain = await runCli(['schema', 'check', join(at, 'plain.json')]);
    assert.equal(plain.exit.code, 0, plain.output());
    assert.equal(plain.stdout, `ok ${join(at, 'plain.json')}: no rules\n`);
  });

  it('a schema that does not compile: exit 1, one line naming the file and the problem', async () => {
    const bad = join(dir, 'typo.json');
    writeFileSync(bad, JSON.stringify({ type: 'object', requird: ['id'] }));
    const p = await runCli(['schema', 'check', bad]);
    assert.equal(p.exit.code, 1, p.output());
    const line = oneLine(p.stderr);
    assert.match(line, /^netemitter: .*typo\.json.*requird/);
    const missing = await runCli(['schema', 'check', join(dir, 'nope.json')]);
    assert.equal(missing.exit.code, 1, missing.output());
    assert.match(oneLine(missing.stderr), /^netemitter: cannot read file .*nope\.json: no such file$/);
    const shape = join(dir, 'shape.json');
    writeFileSync(shape, JSON.stringify([{ subjects: ['a'], schema: {}, action: 'bounce' }]));
    const s = await runCli(['schema', 'check', shape]);
    assert.equal(s.exit.code, 1, s.output());
    assert.equal(oneLine(s.stderr), `netemitter: invalid value for "[0].action" in ${shape}: expected one of reject, drop, deadLetter`);
  });

  it('no file: a usage error, exit 2', async () => {
    const p = await runCli(['schema', 'check']);
    assert.equal(p.exit.code, 2, p.output());
    assert.match(oneLine(p.stderr), /^netemitter: missing required argument/);
  });
});

describe('schema test', () => {
  it('a payload that passes: the rule, "passes", exit 0', async () => {
    const p = await runCli(['schema', 'test', 'ticket.created', JSON.stringify(TICKET), '--config', RULES]);
    assert.equal(p.exit.code, 0, p.output());
    assert.equal(p.stdout, 'rule: ticket.created.json on ticket.created (reject)\npasses\n');
  });

  it('one that breaks it: the reason and what the publisher gets, exit 1', async () => {
    const p = await runCli(['schema', 'test', 'ticket.created', JSON.stringify({ ...TICKET, priority: 'asap' }), '--config', RULES]);
    assert.equal(p.exit.code, 1, p.output());
    const [rule, fails, told] = p.stdout.trim().split('\n');
    assert.equal(rule, 'rule: ticket.created.json on ticket.created (reject)');
    assert.match(fails!, /^fails: \/priority .*"urgent"/);
    assert.equal(told, `the publisher gets: -ERR 'Schema Violation for Publish to "ticket.created": ${fails!.slice('fails: '.length)}'`);
    assert.equal(p.stderr, '');
  });

  it('drop: the publisher is told nothing', async () => {
    const p = await runCli(['schema', 'test', 'ticket.handled', '{"id":"T-1"}', '--config', RULES]);
    assert.equal(p.exit.code, 1, p.output());
    assert.match(p.stdout, /^rule: ticket\.handled\.json on ticket\.handled \(drop\)\nfails: \(root\) .*worker.*\nthe publisher gets: nothing \(the hub drops the event\)\n$/);
  });

  it('the payload from stdin (absent, or -); not JSON is a violation', async () => {
    const piped = await runCli(['schema', 'test', 'note.created', '--config', RULES], { input: JSON.stringify({ ticketId: 'T-1', author: 'ada', text: 'hi' }) });
    assert.equal(piped.exit.code, 0, piped.output());
    assert.match(piped.stdout, /\npasses\n$/);
    const dash = await runCli(['schema', 'test', 'note.created', '-', '--config', RULES], { input: 'hello' });
    assert.equal(dash.exit.code, 1, dash.output());
    assert.match(dash.stdout, /\nfails: payload is not JSON: /);
    const empty = await runCli(['schema', 'test', 'note.created', '--config', RULES], { input: '' });
    assert.equal(empty.exit.code, 1, empty.output());
    assert.match(empty.stdout, /\nfails: payload is empty/);
  });

  it('a subject no rule covers, or a hub API subject: exit 0, nothing checked', async () => {
    for (const subject of ['ticket.deleted', '$JS.API.INFO']) {
      const p = await runCli(['schema', 'test', subject, 'anything', '--config', RULES]);
      assert.equal(p.exit.code, 0, p.output());
      assert.equal(p.stdout, `no rule applies to ${subject}: the hub does not check its payloads\n`);
    }
  });

  it('usage errors exit 2 with one line: no rules given, a wildcard subject, rules that do not load', async () => {
    const none = await runCli(['schema', 'test', 'a', '{}']);
    assert.equal(none.exit.code, 2, none.output());
    assert.match(oneLine(none.stderr), /^netemitter: no rules to use: give --config FILE/);
    const wild = await runCli(['schema', 'test', 'ticket.*', '{}', '--config', RULES]);
    assert.equal(wild.exit.code, 2, wild.output());
    assert.match(oneLine(wild.stderr), /^netemitter: invalid subject "ticket\.\*"/);
    const at = project('test-bad', { schemas: [{ subjects: ['a'], schema: 'schemas/missing.json' }] });
    const bad = await runCli(['schema', 'test', 'a', '{}', '--config', join(at, 'hub.json')]);
    assert.equal(bad.exit.code, 2, bad.output());
    assert.match(oneLine(bad.stderr), /^netemitter: .*missing\.json/);
  });
});

describe('serve with schemas', () => {
  it('HUB: a schema that does not compile: one line naming the file on stderr, exit 2', { skip: NO_GATE }, async () => {
    const at = project('serve-bad', { port: 0, schemas: [{ subjects: ['ticket.created'], schema: 'schemas/broken.json' }] });
    writeFileSync(join(at, 'schemas', 'broken.json'), JSON.stringify({ type: 'objekt' }));
    const p = new CliProcess(['serve', '--config', join(at, 'hub.json')]);
    const exit = await p.waitForExit();
    assert.equal(exit.code, 2, p.output());
    assert.match(oneLine(p.stderr), /^netemitter: .*schemas\/broken\.json.*/);
    assert.doesNotMatch(p.stderr, new RegExp(at.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the name as written, not the absolute path');
  });

  it('HUB: SIGHUP re-reads the rules: new verdicts from then on; a bad file keeps the old rules and logs one error line', { skip: NO_GATE }, async () => {
    const at = project('serve-reload', { port: 0, schemas: 'schemas/rules.json' });
    const hub = new CliProcess(['serve', '--config', join(at, 'hub.json')], { NETEMITTER_LOG_LEVEL: 'info' });
    const port = await hub.tcpPort();
    const c = await RawConnection.open({ port });
    try {
      c.send('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
      await c.waitFor(/PONG\r\n/);
      const bad = JSON.stringify({ ticketId: 'T-1', author: 'ada', text: 'hi', mood: 'happy' });
      let pings = 1;
      /** Publishes `body` to note.created; resolves with the -ERR text it got, or null (accepted: the next PONG came first). */
      const verdict = async (body: string): Promise<string | null> => {
        const before = c.received.length;
        c.send(`PUB note.created ${Buffer.byteLength(body)}\r\n${body}\r\nPING\r\n`);
        pings++;
        await c.waitFor(new RegExp(`(PONG\\r\\n[\\s\\S]*){${pings}}`));
        const m = /-ERR '([^\r]*)'\r\n/.exec(c.received.slice(before));
        return m === null ? null : m[1]!;
      };
      assert.match((await verdict(bad)) ?? 'accepted', /^Schema Violation for Publish to "note\.created": .*mood/);

      // The rule now allows extra properties: the same event passes after SIGHUP.
      writeFileSync(join(at, 'schemas', 'note.created.json'), JSON.stringify({ type: 'object', required: ['ticketId', 'author', 'text'] }));
      hub.kill('SIGHUP');
      await hub.waitForOutput(/received SIGHUP: schemas reloaded, 4 rules in use/);
      assert.equal(await verdict(bad), null);

      // A file that does not parse: logged at error level, the rules in use stay.
      writeFileSync(join(at, 'schemas', 'note.created.json'), '{"type":');
      hub.kill('SIGHUP');
      await hub.waitForOutput(/"level":50,[^\n]*received SIGHUP: schemas not reloaded, the old rules stay in use: [^\n]*note\.created\.json/);
      assert.equal(await verdict(bad), null);
      assert.match((await verdict('{"ticketId":"T-1"}')) ?? 'accepted', /^Schema Violation for Publish to "note\.created": /);
    } finally {
      c.close();
    }
    hub.kill('SIGTERM');
    assert.equal((await hub.waitForExit()).code, 0, hub.output());
  });

  it('HUB: rules added to the config after start apply after SIGHUP; --schemas names a list file', { skip: NO_GATE }, async () => {
    const at = project('serve-added', { port: 0 });
    const hub = new CliProcess(['serve', '--config', join(at, 'hub.json')]);
    const port = await hub.tcpPort();
    const c = await RawConnection.open({ port });
    try {
      c.send('CONNECT {"verbose":true,"pedantic":false}\r\nPUB ticket.handled 2\r\n{}\r\n');
      await c.waitFor(/\+OK\r\n\+OK\r\n/);
      writeFileSync(join(at, 'hub.json'), JSON.stringify({ port: 0, schemas: [{ subjects: ['ticket.handled'], schema: 'schemas/ticket.handled.json' }] }));
      hub.kill('SIGHUP');
      await hub.waitForOutput(/received SIGHUP: schemas reloaded, 1 rule in use/);
      c.send('PUB ticket.handled 2\r\n{}\r\n');
      await c.waitFor(/-ERR 'Schema Violation for Publish to "ticket\.handled": \(root\) must have required property "id"'\r\n/);
    } finally {
      c.close();
    }
    hub.kill('SIGTERM');
    assert.equal((await hub.waitForExit()).code, 0, hub.output());

    const flagged = new CliProcess(['serve', '--port', '0', '--schemas', join(at, 'schemas', 'rules.json')]);
    const p2 = await flagged.tcpPort();
    const d = await RawConnection.open({ port: p2 });
    try {
      d.send('CONNECT {"verbose":false,"pedantic":false}\r\nPUB note.created 2\r\n{}\r\nPING\r\n');
      await d.waitFor(/-ERR 'Schema Violation for Publish to "note\.created": \(root\) must have required property "ticketId"'\r\n/);
    } finally {
      d.close();
    }
    flagged.kill('SIGTERM');
    assert.equal((await flagged.waitForExit()).code, 0, flagged.output());
  });
});
