/**
 * `netemitter reply SUBJECT RESPONSE`: a responder for trying out requests.
 * Answers every request with RESPONSE (raw UTF-8 text) and prints what it
 * received, until SIGINT/SIGTERM; then it drains (requests already received
 * are answered) and exits 0. Responders share a queue group, so several of
 * them split the requests.
 */
import type { Command } from 'commander';
import type { EventMeta } from '../../client/bus.js';
import { ClientDefaults } from '../../client/options.js';
import { ExitCode, exitWith } from '../errors.js';
import { checkQueue, checkSubject, connectBus, exitOnBrokenPipe, notice, serverOption, untilShutdown, writeMessage, withConnectionFlags, type ConnectionFlags } from './common.js';

const HELP_AFTER = `
RESPONSE is sent as raw UTF-8 text. Each request received prints like a
message of 'netemitter sub'.

Example:
  netemitter reply time.now "$(date)"`;

interface ReplyFlags extends ConnectionFlags {
  queue: string;
}

export function registerReply(program: Command): void {
  const command = program
    .command('reply')
    .description('answer every request on a subject with RESPONSE')
    .argument('<subject>', 'subject to answer on; * and > allowed')
    .argument('<response>', 'the reply payload, sent as raw UTF-8 text')
    .addOption(serverOption())
    .option('-q, --queue <group>', 'queue group of the responders', ClientDefaults.handlerQueue)
    .addHelpText('after', HELP_AFTER)
    .action(async function replyAction(this: Command, subject: string, response: string): Promise<void> {
      exitOnBrokenPipe();
      const flags = this.opts<ReplyFlags>();
      checkSubject(subject, true);
      const queue = checkQueue(flags.queue)!;
      const answer = Buffer.from(response, 'utf8');
      const shutdown = untilShutdown();
      const bus = await connectBus(flags, 'reply');
      let n = 0;
      bus.status.on('disconnect', (server, err) => notice(`disconnected from ${server}${err ? ` (${err.message})` : ''}: reconnecting`));
      bus.status.on('reconnect', (server) => notice(`reconnected to ${server}`));
      bus.handle(
        subject,
        (_request: unknown, meta: EventMeta) => {
          writeMessage(process.stdout, ++n, meta);
          return answer;
        },
        { queue },
      );
      await bus.flush();
      notice(`answering requests on ${JSON.stringify(subject)} in queue group ${JSON.stringify(queue)} on ${bus.server ?? flags.server}`);
      await shutdown.signal;
      shutdown.remove();
      await bus.drain();
      exitWith(ExitCode.OK);
    });
  withConnectionFlags(command);
}
