/**
 * `netemitter sub SUBJECT`: prints the events on a subject (wildcards
 * allowed) until SIGINT/SIGTERM, or until --count events have arrived.
 *
 * Once the subscription is in place on the server (a flush after SUB), one
 * line on stderr says so: scripts and tests wait for it before publishing,
 * and stdout holds only messages.
 */
import { Option, type Command } from 'commander';
import type { EventMeta } from '../../client/bus.js';
import { UnsentError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseCount } from '../values.js';
import {
  checkQueue, checkSubject, connectBus, exitOnBrokenPipe, flagValue, messageJson, notice, serverOption, untilShutdown, writeMessage, writeRaw, withConnectionFlags, type ConnectionFlags,
} from './common.js';

const HELP_AFTER = `
Each message prints as its subject, its headers, then its payload: pretty JSON
when it parses as JSON, the raw bytes otherwise. --raw prints payloads only,
one per line. --json prints one JSON object per line and message: subject,
reply, headers, and the payload (parsed JSON, else text; data_base64 for
bytes that are not UTF-8).

Examples:
  netemitter sub 'orders.>'
  netemitter sub orders.new --queue billing --count 1`;

interface SubFlags extends ConnectionFlags {
  queue?: string;
  count?: string;
  raw?: boolean;
  json?: boolean;
}

export function registerSub(program: Command): void {
  const command = program
    .command('sub')
    .description('print the events published on a subject')
    .argument('<subject>', 'subject to listen on; * matches one token, > the rest')
    .addOption(serverOption())
    .option('-q, --queue <group>', 'join a queue group: each event goes to one member')
    .option('--count <n>', 'exit 0 after n events')
    .option('--raw', 'print payloads only, one per line')
    .addOption(new Option('--json', 'one JSON object per line and message: subject, reply, headers, payload').conflicts('raw'))
    .addHelpText('after', HELP_AFTER)
    .action(async function subAction(this: Command, subject: string): Promise<void> {
      exitOnBrokenPipe();
      const flags = this.opts<SubFlags>();
      checkSubject(subject, true);
      const queue = checkQueue(flags.queue);
      const count = flags.count === undefined ? undefined : flagValue('--count', flags.count, (raw) => parseCount(raw, 1));
      const shutdown = untilShutdown();
      const bus = await connectBus(flags, 'sub');

      let received = 0;
      let enough!: () => void;
      const done = new Promise<void>((resolve) => (enough = resolve));
      const print = (_payload: unknown, meta: EventMeta): void => {
        // Events already on their way when the count is reached are not printed.
        if (count !== undefined && received >= count) return;
        received++;
        if (flags.raw === true) writeRaw(process.stdout, meta.data);
        else if (flags.json === true) process.stdout.write(`${JSON.stringify(messageJson({ subject: meta.subject, reply: meta.reply }, meta.headers?.toJSON(), meta.data))}\n`);
        else writeMessage(process.stdout, received, meta);
        if (received === count) enough();
      };
      bus.status.on('disconnect', (server, err) => notice(`disconnected from ${server}${err ? ` (${err.message})` : ''}: reconnecting`));
      bus.status.on('reconnect', (server) => notice(`reconnected to ${server}`));
      bus.on(subject, print, { raw: true, ...(queue !== undefined ? { queue } : {}) });
      await bus.flush();
      notice(`subscribed to ${JSON.stringify(subject)}${queue !== undefined ? ` in queue group ${JSON.stringify(queue)}` : ''} on ${bus.server ?? flags.server}`);

      await Promise.race([done, shutdown.signal]);
      shutdown.remove();
      // After --count, what is still in flight is not wanted: close. After a
      // signal, drain: the events the server had already sent are printed;
      // disconnected, there is nothing to drain. Either way, what the client
      // could not send is its own SUB, UNSUB and PING (sub publishes nothing),
      // so the UnsentError that reports lost events does not apply.
      const stopping = (count !== undefined && received >= count) || !bus.isConnected ? bus.close() : bus.drain();
      await stopping.catch((err: unknown) => {
        if (!(err instanceof UnsentError)) throw err;
      });
      exitWith(ExitCode.OK);
    });
  withConnectionFlags(command);
}
