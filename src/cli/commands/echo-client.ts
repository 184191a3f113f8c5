/**
 * `netemitter echo-client [MESSAGE]`: the seed echo client (src/echo/client.ts)
 * as a command. Exits 0 once the server has answered and the connection has
 * closed; a connection error prints one line and exits 1.
 */
import type { Command } from 'commander';
import { runEchoClient } from '../../echo/client.js';
import { EchoDefaults } from '../../echo/server.js';
import { ConfigError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parsePort } from '../values.js';
import { flagValue } from './common.js';

interface EchoClientFlags {
  host?: string;
  port?: string;
  unix?: string;
}

export function registerEchoClient(program: Command): void {
  program
    .command('echo-client')
    .description('the seed echo client: sends MESSAGE, prints the echo, hangs up on "exit"')
    .argument('[message]', 'what to send', EchoDefaults.message)
    .option('--host <host>', `server host (default: ${EchoDefaults.host})`)
    .option('--port <port>', `server port (default: ${EchoDefaults.port})`)
    .option('--unix <path>', 'connect to a Unix socket instead of TCP')
    .action(async function echoClientAction(this: Command, message: string): Promise<void> {
      const flags = this.opts<EchoClientFlags>();
      if (flags.unix !== undefined && (flags.host !== undefined || flags.port !== undefined)) {
        throw new ConfigError('--unix cannot be combined with --host or --port');
      }
      // Nothing sent, nothing echoed: the client would wait forever.
      if (message.length === 0) throw new ConfigError('the message cannot be empty');
      if (flags.unix !== undefined) await runEchoClient({ path: flags.unix, message });
      else {
        const port = flags.port === undefined ? EchoDefaults.port : flagValue('--port', flags.port, (raw) => parsePort(raw));
        await runEchoClient({ host: flags.host ?? EchoDefaults.host, port, message });
      }
      exitWith(ExitCode.OK);
    });
}
