/**
 * `netemitter echo-server`: the seed echo server (src/echo/server.ts) as a
 * command. Runs until SIGINT/SIGTERM, then closes every connection and
 * exits 0.
 */
import { connect, type Server, type Socket } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import type { Command } from 'commander';
import { createEchoServer, EchoDefaults } from '../../echo/server.js';
import { ConfigError, ListenError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parsePort } from '../values.js';
import { flagValue, untilShutdown } from './common.js';

interface EchoServerFlags {
  host?: string;
  port?: string;
  unix?: string;
}

export function registerEchoServer(program: Command): void {
  program
    .command('echo-server')
    .description('the seed echo server: echoes what each client sends, then " exit"')
    .option('--host <host>', `address to listen on (default: ${EchoDefaults.host})`)
    .option('--port <port>', `TCP port, 0 for any free one (default: ${EchoDefaults.port})`)
    .option('--unix <path>', 'listen on a Unix socket instead of TCP')
    .action(async function echoServerAction(this: Command): Promise<void> {
      const flags = this.opts<EchoServerFlags>();
      if (flags.unix !== undefined && (flags.host !== undefined || flags.port !== undefined)) {
        throw new ConfigError('--unix cannot be combined with --host or --port');
      }
      const port = flags.port === undefined ? EchoDefaults.port : flagValue('--port', flags.port, parsePort);
      const shutdown = untilShutdown();
      const server = createEchoServer();
      const sockets = new Set<Socket>();
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      try {
        if (flags.unix !== undefined) await listenOnPath(server, flags.unix);
        else await listen(server, () => server.listen(port, flags.host ?? EchoDefaults.host), `${flags.host ?? EchoDefaults.host}:${port}`);
      } catch (err) {
        shutdown.remove();
        throw err;
      }
      await shutdown.signal;
      shutdown.remove();
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
      exitWith(ExitCode.OK);
    });
}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

function listen(server: Server, start: () => void, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const reason = (err.code !== undefined ? LISTEN_REASONS[err.code] : undefined) ?? err.message;
      reject(new ListenError(`cannot listen on ${where}: ${reason}`, { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    start();
  });
}

/** A socket file left by a killed server is replaced; one a live process answers on is not. */
async function listenOnPath(server: Server, path: string): Promise<void> {
  const stale = await lstat(path).then(
    (st) => st.isSocket(),
    () => false,
  );
  if (stale && !(await answers(path))) await unlink(path);
  await listen(server, () => server.listen(path), path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
