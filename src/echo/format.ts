/**
 * How the seed programs name an endpoint in their output. TCP: ADDRESS:PORT,
 * as the original lesson prints it. A Unix socket has neither (a plain `net`
 * program prints `undefined:undefined`), so the socket path stands where the
 * address would be.
 */
import type { Server, Socket } from 'node:net';

/** Where a client connects: a host and port, or a Unix socket path. */
export type EchoTarget = { readonly host: string; readonly port: number } | { readonly path: string };

/**
 * The peer of a server-side socket. Read it when the client connects: the
 * remote address is gone once the socket has closed.
 */
export function peerName(socket: Socket, server: Server): string {
  const address = server.address();
  if (socket.remoteAddress === undefined && typeof address === 'string') return address;
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

/** What a client connected to, as it was asked: HOST:PORT or the socket path. */
export function targetName(target: EchoTarget): string {
  return 'path' in target ? target.path : `${target.host}:${target.port}`;
}

export function writeLine(line: string): void {
  process.stdout.write(`${line}\n`);
}
