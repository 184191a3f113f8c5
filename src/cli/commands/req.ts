/**
 * `netemitter req SUBJECT DATA`: sends a request and prints the reply. DATA
 * goes as raw UTF-8 text, as with `pub`. No responders, no reply in time or
 * a responder that failed: one line on stderr, exit 1.
 */
import type { Command } from 'commander';
import { ClientDefaults } from '../../client/options.js';
import { RemoteError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseDuration } from '../values.js';
import { checkSubject, connectBus, exitOnBrokenPipe, flagValue, headerOption, parseHeaders, serverOption } from './common.js';

const HELP_AFTER = `
DATA is sent as raw UTF-8 text, not JSON-quoted. The reply prints as pretty
JSON when it is JSON, as text otherwise.

Examples:
  netemitter req ticket.get '{"id":"T-1"}'
  netemitter req time.now '' --timeout 500ms`;

interface ReqFlags {
  server: string;
  header?: string[];
  timeout?: string;
}

export function registerReq(program: Command): void {
  program
    .command('req')
    .description('send a request and print the reply')
    .argument('<subject>', 'subject to send the request to')
    .argument('<data>', 'request payload, sent as raw UTF-8 text')
    .addOption(serverOption())
    .addOption(headerOption())
    .option('--timeout <ms>', `how long to wait for the reply, e.g. 500, 2s (default: ${ClientDefaults.requestTimeout})`)
    .addHelpText('after', HELP_AFTER)
    .action(async function reqAction(this: Command, subject: string, data: string): Promise<void> {
      exitOnBrokenPipe();
      const flags = this.opts<ReqFlags>();
      checkSubject(subject, false);
      const headers = parseHeaders(flags.header);
      const timeout = flags.timeout === undefined ? ClientDefaults.requestTimeout : flagValue('--timeout', flags.timeout, (raw) => parseDuration(raw, 1));
      const bus = await connectBus(flags.server, 'req');
      let reply: unknown;
      try {
        reply = await bus.request(subject, Buffer.from(data, 'utf8'), { timeout, ...(headers !== undefined ? { headers } : {}) });
      } catch (err) {
        if (err instanceof RemoteError) throw new RemoteError(`the responder on ${JSON.stringify(subject)} failed: ${err.message} (status ${err.status})`, err.status);
        throw err;
      } finally {
        await bus.close();
      }
      process.stdout.write(renderReply(reply));
      process.stdout.write('\n');
      exitWith(ExitCode.OK);
    });
}

/** The client decodes replies (JSON parsed, text as a string, other bytes as a Buffer); print them back. */
function renderReply(reply: unknown): string | Buffer {
  if (reply === undefined) return '';
  if (Buffer.isBuffer(reply)) return reply;
  if (typeof reply === 'string') return reply;
  return JSON.stringify(reply, null, 2);
}
