/**
 * `netemitter stream get|rmm`: one stored message, read (STREAM.MSG.GET) or
 * removed (STREAM.MSG.DELETE), as `nats stream get` and `nats stream rmm` do.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseCount } from '../values.js';
import { checkSubject, flagValue, serverOption, type ConnectionFlags } from './common.js';
import { confirm, json } from './format.js';
import { checkStreamName, renderMessage, storedJson, withBus } from './js-common.js';

interface GetFlags extends ConnectionFlags {
  lastFor?: string;
  json?: boolean;
}

interface RmmFlags extends ConnectionFlags {
  erase?: boolean;
  force?: boolean;
  json?: boolean;
}

function out(text: string): void {
  process.stdout.write(text);
}

function sequence(raw: string): number {
  return flagValue('SEQ', raw, (r) => parseCount(r, 1));
}

/** Adds get and rmm to the `stream` command. */
export function registerStreamMessages(stream: Command): void {
  stream
    .command('get')
    .description('print one stored message: by sequence, or the last on a subject')
    .argument('<name>', 'stream name')
    .argument('[seq]', 'the message\'s sequence number')
    .addOption(serverOption())
    .option('--last-for <subject>', 'the newest message on this subject instead of a sequence')
    .option('--json', 'print the message as JSON (seq, subject, time, headers, payload)')
    .action(async function streamGet(this: Command, name: string, seq: string | undefined): Promise<void> {
      const f = this.opts<GetFlags>();
      checkStreamName(name);
      if ((seq === undefined) === (f.lastFor === undefined)) throw new ConfigError('stream get: give a sequence number or --last-for SUBJECT (one of them)');
      const query = seq !== undefined ? { seq: sequence(seq) } : { lastBySubject: checkSubject(f.lastFor!, false) };
      const m = await withBus(f, 'stream get', (bus) => bus.streams.getMessage(name, query));
      out(f.json === true ? json(storedJson(m)) : renderMessage(m));
      exitWith(ExitCode.OK);
    });

  stream
    .command('rmm')
    .description('delete one message from a stream, by sequence')
    .argument('<name>', 'stream name')
    .argument('<seq>', 'the message\'s sequence number')
    .addOption(serverOption())
    .option('--erase', 'have the server overwrite the message\'s bytes on disk too (nats-server; the netemitter hub removes them either way)')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function streamRmm(this: Command, name: string, rawSeq: string): Promise<void> {
      const f = this.opts<RmmFlags>();
      checkStreamName(name);
      const seq = sequence(rawSeq);
      if (!(await confirm(`Really delete message ${seq} from stream ${name}?`, f.force))) return exitWith(ExitCode.OK, 'nothing deleted');
      const success = await withBus(f, 'stream rmm', (bus) => bus.streams.deleteMessage(name, seq, { erase: f.erase === true }));
      out(f.json === true ? json({ success }) : `Deleted message ${seq} from ${name}\n`);
      exitWith(ExitCode.OK);
    });
}
