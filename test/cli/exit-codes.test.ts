/**
 * The exit code of every error class netemitter raises, and the table of
 * docs/operations.md that documents them. A new error class fails the first
 * test until it is given a row in EXPECTED, so its exit code is a decision.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import * as errors from '../../src/errors.js';
import * as storeErrors from '../../src/store/errors.js';
import { ListenerError } from '../../src/client/bus.js';
import { ExitCode, exitCodeFor } from '../../src/cli/errors.js';

const doc = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');

/** Each class, by name, and the code the CLI exits with when a command throws it. */
const EXPECTED: Record<string, number> = {
  ConfigError: ExitCode.USAGE,
  SchemaCompileError: ExitCode.USAGE,
  ProtocolError: ExitCode.FAILURE,
  ListenError: ExitCode.FAILURE,
  HubClosedError: ExitCode.FAILURE,
  ConnectionError: ExitCode.FAILURE,
  DisconnectedError: ExitCode.FAILURE,
  ClosedError: ExitCode.FAILURE,
  TimeoutError: ExitCode.FAILURE,
  NoRespondersError: ExitCode.FAILURE,
  RemoteError: ExitCode.FAILURE,
  BufferFullError: ExitCode.FAILURE,
  UnsentError: ExitCode.FAILURE,
  ServerError: ExitCode.FAILURE,
  AuthorizationError: ExitCode.FAILURE,
  PermissionError: ExitCode.FAILURE,
  PayloadTooLargeError: ExitCode.FAILURE,
  InvalidPayloadError: ExitCode.FAILURE,
  InvalidSubjectError: ExitCode.FAILURE,
  JetStreamApiError: ExitCode.FAILURE,
  JetStreamNotEnabledError: ExitCode.FAILURE,
  NoStreamError: ExitCode.FAILURE,
  DurableListenerError: ExitCode.FAILURE,
  TerminateError: ExitCode.FAILURE,
  ListenerError: ExitCode.FAILURE,
  InvalidKeyError: ExitCode.FAILURE,
  BucketNotFoundError: ExitCode.FAILURE,
  KeyExistsError: ExitCode.FAILURE,
  WrongRevisionError: ExitCode.FAILURE,
  WatchError: ExitCode.FAILURE,
  ObjectStoreError: ExitCode.FAILURE,
  DigestMismatchError: ExitCode.FAILURE,
  PresenceError: ExitCode.FAILURE,
  SchemaViolationError: ExitCode.FAILURE,
  StreamNotFoundError: ExitCode.FAILURE,
  StreamExistsError: ExitCode.FAILURE,
  ConsumerNotFoundError: ExitCode.FAILURE,
  ConsumerExistsError: ExitCode.FAILURE,
  TooManyStreamsError: ExitCode.FAILURE,
  StoreClosedError: ExitCode.FAILURE,
  StoreSchemaError: ExitCode.FAILURE,
  StoreOpenError: ExitCode.FAILURE,
  StoreInUseError: ExitCode.FAILURE,
};

type ErrorClass = abstract new (...args: never[]) => errors.NetEmitterError;

function errorClasses(): Map<string, ErrorClass> {
  const found = new Map<string, ErrorClass>();
  for (const v of [...Object.values(errors), ...Object.values(storeErrors), ListenerError]) {
    if (typeof v === 'function' && v.prototype instanceof errors.NetEmitterError) found.set(v.name, v as ErrorClass);
  }
  return found;
}

/** An instance for instanceof checks, without guessing each constructor's arguments. */
function instance(c: ErrorClass): Error {
  return Object.create(c.prototype) as Error;
}

/** The rows of the `## Exit codes` table: code → meaning. */
function exitTable(): Map<number, string> {
  const section = doc.slice(doc.indexOf('\n## Exit codes'));
  const body = section.slice(1, section.indexOf('\n## ', 1));
  const rows = new Map<number, string>();
  for (const m of body.matchAll(/^\| (\d+) \| (.*) \|$/gm)) rows.set(Number(m[1]), m[2]!);
  return rows;
}

describe('exit codes', () => {
  it('every error class exits with its documented code', () => {
    const classes = errorClasses();
    assert.deepEqual([...classes.keys()].sort(), Object.keys(EXPECTED).sort(), 'an error class without a decided exit code, or one gone');
    for (const [name, c] of classes) assert.equal(exitCodeFor(instance(c)), EXPECTED[name], name);
    assert.equal(exitCodeFor(new Error('a bug')), ExitCode.FAILURE);
  });

  it("commander's help and version exit 0, its parse errors 2", () => {
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '')), ExitCode.OK);
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.version', '')), ExitCode.OK);
    assert.equal(exitCodeFor(new CommanderError(1, 'commander.unknownOption', '')), ExitCode.USAGE);
    // `netemitter` or `netemitter stream` without a command: the help, on stderr, as an error.
    assert.equal(exitCodeFor(new CommanderError(1, 'commander.help', '')), ExitCode.USAGE);
  });

  it('docs/operations.md lists every code and says which failures give 1 and which 2', () => {
    const rows = exitTable();
    assert.deepEqual([...rows.keys()].sort((a, b) => a - b), Object.values(ExitCode).sort((a, b) => a - b));
    const failure = rows.get(ExitCode.FAILURE)!;
    for (const what of ['cannot listen', 'store', 'in use by another', 'cannot connect', 'no responders', 'stream not found']) {
      assert.ok(failure.includes(what), `the row for 1 does not mention "${what}": ${failure}`);
    }
    const usage = rows.get(ExitCode.USAGE)!;
    for (const what of ['unknown flag', 'invalid value', 'config file', '--force']) {
      assert.ok(usage.includes(what), `the row for 2 does not mention "${what}": ${usage}`);
    }
  });
});
