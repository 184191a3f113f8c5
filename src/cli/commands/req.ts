/**
 * `netemitter req SUBJECT DATA`: sends a request and prints the reply. DATA
 * goes as raw UTF-8 text, as with `pub`. No responders, no reply in time or
 * a responder that failed: one line on stderr, exit 1.
 */
import type { Command } from 'commander';
import { ERROR_CODE_HEADER, ERROR_HEADER } from '../../client/bus.js';
import { decodePayload } from '../../client/codec.js';
import { ClientDefaults } from '../../client/options.js';
import { encodeHeaders } from '../../protocol/headers.js';
import type { RawReply } from '../../client/jetstream/api.js';
import { RemoteError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseDuration } from '../values.js';
import { checkSubject, connectBus, exitOnBrokenPipe, flagValue, headerOption, messageJson, parseHeaders, serverOption, withConnectionFlags, type ConnectionFlags } from './common.js';
import { json } from './format.js';

const HELP_AFTER = `
DATA is sent as raw UTF-8 text, not JSON-quoted. The reply prints as pretty
JSON when it is JSON, as text otherwise. --json prints the reply as one JSON
document: its headers, and its payload (parsed JSON, else text;
data_base64 for bytes that are not UTF-8), as sub --json prints a message.

Examples:
  netemitter req ticket.get '{"id":"T-1"}'
  netemitter req time.now '' --timeout 500ms`;

interface ReqFlags extends ConnectionFlags {
  header?: string[];
  timeout?: string;
  json?: boolean;
}

export function registerReq(program: Command): void {
  const command = program
    .command('req')
    .description('send a request and print the reply')
    .argument('<subject>', 'subject to send the request to')
    .argument('<data>', 'request payload, sent as raw UTF-8 text')
    .addOption(serverOption())
    .addOption(headerOption())
    .option('--json', 'print the reply as JSON: headers and payload')
    .option('--timeout <ms>', `how long to wait for the reply, e.g. 500, 2s (default: ${ClientDefaults.requestTimeout})`)
    .addHelpText('after', HELP_AFTER)
    .action(async function reqAction(this: Command, subject: string, data: string): Promise<void> {
      exitOnBrokenPipe();
      const flags = this.opts<ReqFlags>();
      checkSubject(subject, false);
      const headers = parseHeaders(flags.header);
      const timeout = flags.timeout === undefined ? ClientDefaults.requestTimeout : flagValue('--timeout', flags.timeout, (raw) => parseDuration(raw, 1));
      const bus = await connectBus(flags, 'req');
      let reply: RawReply;
      try {
        // Undecoded, for the headers --json shows; a responder's failure is checked here as request() would.
        reply = await bus.rawRequest(subject, headers === undefined ? null : encodeHeaders(headers), Buffer.from(data, 'utf8'), timeout);
        const failure = reply.headers?.get(ERROR_HEADER);
        if (failure !== undefined) throw new RemoteError(failure, Number(reply.headers?.get(ERROR_CODE_HEADER) ?? 500) || 500);
      } catch (err) {
        if (err instanceof RemoteError) throw new RemoteError(`the responder on ${JSON.stringify(subject)} failed: ${err.message} (status ${err.status})`, err.status);
        throw err;
      } finally {
        await bus.close();
      }
      if (flags.json === true) {
        process.stdout.write(json(messageJson({}, reply.headers?.toJSON(), reply.data)));
      } else {
        process.stdout.write(renderReply(decodePayload(reply.data)));
        process.stdout.write('\n');
      }
      exitWith(ExitCode.OK);
    });
  withConnectionFlags(command);
}

/** The client decodes replies (JSON parsed, text as a string, other bytes as a Buffer); print them back. */
function renderReply(reply: unknown): string | Buffer {
  if (reply === undefined) return '';
  if (Buffer.isBuffer(reply)) return reply;
  if (typeof reply === 'string') return reply;
  return JSON.stringify(reply, null, 2);
}
