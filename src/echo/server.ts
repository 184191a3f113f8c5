/**
 * The seed echo server, from the lesson on TCP servers netemitter grew out
 * of: it echoes every chunk a client sends, then appends " exit", which the
 * seed client takes as its cue to hang up. Its output lines are part of the
 * contract (test/cli/echo.test.ts compares them with the original program's):
 *
 *   server listening on {"address":"127.0.0.1","family":"IPv4","port":1234}
 *   new client connected: 127.0.0.1:50412
 *   127.0.0.1:50412 Says: Hello World!
 *   connection from 127.0.0.1:50412 closed
 *   Connection 127.0.0.1:50413 error: read ECONNRESET
 *
 * A failing client only costs its own connection: the error is printed and
 * the server keeps serving the others.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { peerName, writeLine } from './format.js';

/** The defaults of the original programs. */
export const EchoDefaults = {
  host: 'localhost',
  port: 1234,
  message: 'Hello World!',
} as const;

/** Appended to every echo; the client hangs up on data that ends with it. */
export const EXIT_WORD = 'exit';

export interface EchoServerOptions {
  /** Receives each output line, without its newline. Default: stdout. */
  log?: (line: string) => void;
}

/**
 * A `net.Server` that echoes. Call `listen()` on it as on any server:
 * `createEchoServer().listen(1234, 'localhost')` or `.listen('/tmp/echo.sock')`.
 */
export function createEchoServer(opts: EchoServerOptions = {}): Server {
  const log = opts.log ?? writeLine;
  const server = createServer();
  server.on('listening', function echoListening() {
    log(`server listening on ${JSON.stringify(server.address())}`);
  });
  server.on('connection', function echoConnection(socket: Socket) {
    const peer = peerName(socket, server);
    log(`new client connected: ${peer}`);
    socket.on('data', function echoData(data: Buffer) {
      log(`${peer} Says: ${data}`);
      socket.write(data);
      socket.write(` ${EXIT_WORD}`);
    });
    socket.on('close', function echoClose() {
      log(`connection from ${peer} closed`);
    });
    socket.on('error', function echoError(err: Error) {
      log(`Connection ${peer} error: ${err.message}`);
    });
  });
  return server;
}
