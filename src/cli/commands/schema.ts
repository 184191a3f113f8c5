/**
 * `netemitter schema check|test|types` (issue #19): the schemas a hub
 * enforces, without a hub. They read rules the way `serve` does (a config
 * file's `schemas`, or a list file) and compile them with the hub's own code
 * (src/schema/), so a verdict here is the hub's verdict.
 *
 * Exit codes (main.ts prints the one-line errors):
 *   check   0 every schema compiles        1 one does not (its one line)   2 usage
 *   test    0 the payload passes, or no    1 it breaks the rule (reason)   2 usage, or rules
 *             rule applies to the subject                                      that do not load
 *   types   0 written to stdout                                             2 usage, rules that do not load
 * `check` answers "is this file good?", so a bad file is its "no" (1);
 * `test` and `types` need good rules to work at all, and refuse bad ones as
 * serve does (2).
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { SchemaAction, schemaViolationText, type SchemaRuleInfo } from '../../protocol/schemas.js';
import { loadRules } from '../../schema/load.js';
import { compileRules, ruleFor } from '../../schema/validator.js';
import { generateEventTypes, DEFAULT_EVENTS_NAME } from '../../schema/typegen.js';
import { CONFIG_ENV, SERVE_OPTIONS, configPath, loadConfigFile } from '../config.js';
import { readJsonFile, readRuleListFile } from '../schema-config.js';
import type { SchemaRule } from '../../server/options.js';
import { ExitCode, exitWith } from '../errors.js';
import { checkSubject, notice } from './common.js';

/** The most `schema test` reads from stdin: far above any payload a hub accepts by default (1 MiB). */
export const MAX_TEST_PAYLOAD = 64 * 1024 * 1024;

/** What a FILE argument held. */
type Kind = 'config' | 'list' | 'schema';

interface Rules {
  kind: Kind;
  file: string;
  rules: SchemaRule[];
}

/** The top-level keys of serve's config file: none is a JSON Schema keyword. */
const CONFIG_KEYS = new Set(SERVE_OPTIONS.map((o) => o.section?.name ?? o.configKey));

/**
 * A config file (a JSON object with serve's keys), a list file (a JSON
 * array of rules) or, when `schemaFile` allows it, one JSON Schema file
 * (anything else), as a rule on `>`.
 */
function readRules(file: string, schemaFile: boolean): Rules {
  const json = readJsonFile(file, 'file');
  if (Array.isArray(json)) return { kind: 'list', file, rules: readRuleListFile(file) };
  if (json !== null && typeof json === 'object' && Object.keys(json).some((k) => CONFIG_KEYS.has(k))) {
    return { kind: 'config', file, rules: loadConfigFile(file).schemas ?? [] };
  }
  if (!schemaFile) throw new ConfigError(`${file} holds no rules: give a config file with a "schemas" key, or a JSON list of rules`);
  return { kind: 'schema', file, rules: [{ subjects: ['>'], schema: resolve(file), name: file }] };
}

/** Rules as the hub loads them: schema files read, `$ref`s followed, named relative to the file that lists them. */
function infos(r: Rules): SchemaRuleInfo[] {
  return loadRules(r.rules, dirname(resolve(r.file)));
}

/** A check's "no": not a usage error (exit 1, the one line main.ts prints). */
class CheckFailed extends Error {}

function check(files: string[]): void {
  for (const file of files) {
    try {
      const r = readRules(file, true);
      const loaded = infos(r);
      compileRules(loaded);
      if (r.kind === 'schema') {
        const refs = loaded[0]!.refs.length;
        process.stdout.write(`ok ${file}${refs > 0 ? ` (and the ${refs} file${refs === 1 ? '' : 's'} it references)` : ''}\n`);
      } else if (loaded.length === 0) {
        process.stdout.write(`ok ${file}: no rules\n`);
      } else {
        for (const rule of loaded) process.stdout.write(`ok ${file}: ${rule.name} on ${rule.subjects.join(', ')} (${rule.action})\n`);
      }
    } catch (err) {
      if (err instanceof ConfigError) throw new CheckFailed(err.message, { cause: err });
      throw err;
    }
  }
}

/** A payload from stdin, whole, bounded. */
async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY === true) notice('reading the payload from stdin; end with Ctrl-D');
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_TEST_PAYLOAD) throw new ConfigError(`the payload on stdin is larger than ${MAX_TEST_PAYLOAD / 1024 / 1024} MiB`);
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/** The rules `test` and `types` use: --config FILE, else NETEMITTER_CONFIG. */
function rulesOption(flag: string | undefined): Rules {
  const file = configPath(flag, process.env);
  if (file === undefined) throw new ConfigError(`no rules to use: give --config FILE (a config file or a list of rules), or set ${CONFIG_ENV}`);
  return readRules(file, false);
}

async function test(subject: string, payload: string | undefined, flags: { config?: string }): Promise<void> {
  checkSubject(subject, false);
  const r = rulesOption(flags.config);
  const body = payload === undefined || payload === '-' ? await readStdin() : Buffer.from(payload, 'utf8');
  const rule = ruleFor(compileRules(infos(r)), subject);
  if (rule === null) {
    process.stdout.write(`no rule applies to ${subject}: the hub does not check its payloads\n`);
    exitWith(ExitCode.OK);
    return;
  }
  process.stdout.write(`rule: ${rule.name} on ${rule.subjects.join(', ')} (${rule.action})\n`);
  const reason = rule.check(body);
  if (reason === null) {
    process.stdout.write('passes\n');
    exitWith(ExitCode.OK);
    return;
  }
  process.stdout.write(`fails: ${reason}\n`);
  const told = rule.action === SchemaAction.DROP ? 'nothing (the hub drops the event)' : `-ERR '${schemaViolationText(subject, reason)}'`;
  process.stdout.write(`the publisher gets: ${told}\n`);
  exitWith(ExitCode.FAILURE);
}

async function types(file: string, flags: { name?: string }): Promise<void> {
  const name = flags.name ?? DEFAULT_EVENTS_NAME;
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new ConfigError(`invalid value for --name: ${JSON.stringify(name)} (expected a TypeScript identifier)`);
  const r = readRules(file, false);
  const loaded = infos(r);
  // Compiled as the hub would, so types are never made from rules the hub refuses.
  compileRules(loaded);
  process.stdout.write(await generateEventTypes(loaded, { name, banner: `Generated by \`netemitter schema types\` from ${file}: do not edit.\nThe hub checks the payloads; these types follow the same schemas.` }));
}

const CHECK_HELP = `
FILE is a JSON Schema file (with the files its $refs name), a config file
(every rule of its "schemas"), or a list of rules. Prints one "ok" line per
schema; exit 0 when all compile, 1 with the problem on stderr when one does
not, 2 on a usage error.`;

const TEST_HELP = `
Says which rule applies to SUBJECT (the first whose subjects match) and
whether PAYLOAD passes, as the hub would decide. PAYLOAD is the event's text
as published (JSON); without it, or with -, it is read from stdin.
Exit 0: it passes, or no rule applies; 1: it breaks the rule; 2: a usage
error, or rules that do not load.

Examples:
  netemitter schema test ticket.created '{"id":"t1"}' --config hub.json
  netemitter schema test ticket.created --config hub.json < event.json`;

const TYPES_HELP = `
Writes TypeScript to stdout: a type per rule and an event map (interface
${DEFAULT_EVENTS_NAME}, or --name) for connect<${DEFAULT_EVENTS_NAME}>(url). Wildcard subjects become
template-literal keys: orders.> → \`orders.\${string}\`.

Example:
  netemitter schema types hub.json > src/events.d.ts`;

export function registerSchema(program: Command): void {
  const schema = program.command('schema').description('check schema files, test a payload against them, make TypeScript types from them');
  schema
    .command('check')
    .description('check that schema files compile, as the hub would load them')
    .argument('<file...>', 'a JSON Schema file, a config file or a list of rules')
    .addHelpText('after', CHECK_HELP)
    .action(function checkAction(files: string[]): void {
      check(files);
    });
  schema
    .command('test')
    .description('say which rule applies to a subject and whether a payload passes it')
    .argument('<subject>', 'the subject the event is published to')
    .argument('[payload]', 'the payload as text; read from stdin when absent or -')
    .option('--config <file>', `config file or list of rules (env ${CONFIG_ENV})`)
    .addHelpText('after', TEST_HELP)
    .action(async function testAction(this: Command, subject: string, payload: string | undefined): Promise<void> {
      await test(subject, payload, this.opts<{ config?: string }>());
    });
  schema
    .command('types')
    .description('print TypeScript types for the events of a config file or list of rules')
    .argument('<file>', 'a config file or a list of rules')
    .option('--name <name>', `name of the event map interface (default ${DEFAULT_EVENTS_NAME})`)
    .addHelpText('after', TYPES_HELP)
    .action(async function typesAction(this: Command, file: string): Promise<void> {
      await types(file, this.opts<{ name?: string }>());
    });
}
