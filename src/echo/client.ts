/**
 * The seed echo client: connects, prints where to, sends one message, prints
 * whatever comes back, and hangs up once the received data ends with "exit"
 * (what the echo server appends). Its output, as the original's:
 *
 *   Client connected to: localhost:1234
 *   Client received: Hello World! exit
 *   Client closed
 *
 * The echo and its " exit" are two writes on the server side, so they may
 * arrive as one chunk or two: one "Client received:" line per chunk.
 */
import { connect, type Socket } from 'node:net';
import { ConnectionError } from '../errors.js';
import { targetName, writeLine, type EchoTarget } from './format.js';
import { EXIT_WORD, EchoDefaults } from './server.js';

export interface EchoClientOptions {
  /** Default 'localhost'. Ignored when `path` is given. */
  host?: string;
  /** Default 1234. Ignored when `path` is given. */
  port?: number;
  /** A Unix socket path, instead of host and port. */
  path?: string;
  /** What to send. Default 'Hello World!'. */
  message?: string | Buffer;
  /** Receives each output line, without its newline. Default: stdout. */
  log?: (line: string) => void;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ENOENT: 'no such socket file',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  EACCES: 'permission denied',
};

function describe(err: NodeJS.ErrnoException, where: string, connected: boolean): ConnectionError {
  const reason = (err.code !== undefined ? REASONS[err.code] : undefined) ?? err.message;
  return new ConnectionError(connected ? `connection to ${where} failed: ${reason}` : `cannot connect to ${where}: ${reason}`, { cause: err });
}

/**
 * Runs one exchange. Resolves once the connection has closed normally;
 * rejects with a ConnectionError (and prints nothing more) when it cannot
 * connect or the connection fails.
 */
export function runEchoClient(opts: EchoClientOptions = {}): Promise<void> {
  const log = opts.log ?? writeLine;
  const target: EchoTarget =
    opts.path !== undefined ? { path: opts.path } : { host: opts.host ?? EchoDefaults.host, port: opts.port ?? EchoDefaults.port };
  const where = targetName(target);
  const message = opts.message ?? EchoDefaults.message;
  return new Promise((resolve, reject) => {
    const socket: Socket = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    let connected = false;
    let failure: Error | null = null;
    socket.on('connect', () => {
      connected = true;
      log(`Client connected to: ${where}`);
      socket.write(message);
    });
    socket.on('data', (data: Buffer) => {
      log(`Client received: ${data}`);
      if (data.toString().endsWith(EXIT_WORD)) socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure = describe(err, where, connected);
    });
    socket.on('close', () => {
      if (failure !== null) return reject(failure);
      log('Client closed');
      resolve();
    });
  });
}
