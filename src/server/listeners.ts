/**
 * Listeners: TCP (IPv4/IPv6), Unix domain sockets and Windows named pipes.
 * A Unix socket path left behind by a crashed hub is replaced; one that a
 * live process still answers on is refused, and so is a path that is not a
 * socket (we never delete a user's file).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { lstat, unlink, chmod, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ListenError } from '../errors.js';
import { isWindowsPipe } from '../transport.js';
import { isPathSpec, type ListenSpec } from './options.js';

export interface HubAddress {
  /** nats://host:port for TCP, unix:///path for a Unix socket, the pipe path for a Windows pipe. */
  readonly url: string;
  readonly host?: string;
  readonly port?: number;
  readonly family?: string;
  readonly path?: string;
}

/** Whether something accepts connections on a Unix socket path. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    const done = (live: boolean): void => {
      probe.destroy();
      resolve(live);
    };
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
    probe.setTimeout(1000, () => done(true));
  });
}

async function clearStaleSocket(path: string): Promise<void> {
  // Node reports a missing directory as EACCES; say what is really wrong.
  try {
    if (!(await stat(dirname(path))).isDirectory()) throw new ListenError(`cannot listen on ${path}: ${dirname(path)} is not a directory`);
  } catch (err) {
    if (err instanceof ListenError) throw err;
    throw new ListenError(`cannot listen on ${path}: the directory ${dirname(path)} does not exist`, { cause: err });
  }
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ListenError(`cannot use ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!st.isSocket()) throw new ListenError(`cannot listen on ${path}: the file exists and is not a socket`);
  if (await socketIsLive(path)) throw new ListenError(`cannot listen on ${path}: another process is listening there`);
  await unlink(path);
}

function describe(err: NodeJS.ErrnoException, where: string): ListenError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ListenError(`cannot listen on ${where}: address already in use`, { cause: err });
    case 'EACCES':
      return new ListenError(`cannot listen on ${where}: permission denied`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new ListenError(`cannot listen on ${where}: address not available on this machine`, { cause: err });
    default:
      return new ListenError(`cannot listen on ${where}: ${err.message}`, { cause: err });
  }
}

/** Opens one listener; `onSocket` is called with `ctx` as `this` for each accepted socket. */
export async function openListener<T>(
  spec: ListenSpec,
  onSocket: (this: T, socket: Socket, address: HubAddress) => void,
  ctx: T,
): Promise<{ server: Server; address: HubAddress }> {
  const server = createServer({ noDelay: true });
  let where: string;
  if (isPathSpec(spec)) {
    where = spec.path;
    if (!isWindowsPipe(spec.path)) await clearStaleSocket(spec.path);
  } else {
    where = spec.host !== undefined && spec.host.includes(':') ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(describe(err, where));
    server.once('error', onError);
    const ready = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (isPathSpec(spec)) server.listen(spec.path, ready);
    else server.listen(spec.port, spec.host, ready);
  });
  let address: HubAddress;
  if (isPathSpec(spec)) {
    if (spec.mode !== undefined && !isWindowsPipe(spec.path)) {
      try {
        await chmod(spec.path, spec.mode);
      } catch (err) {
        server.close();
        throw new ListenError(`cannot set mode ${spec.mode.toString(8)} on ${spec.path}: ${(err as Error).message}`, { cause: err });
      }
    }
    address = { url: isWindowsPipe(spec.path) ? spec.path : `unix://${spec.path}`, path: spec.path };
  } else {
    const a = server.address();
    if (a === null || typeof a === 'string') throw new ListenError(`cannot listen on ${where}: no address`);
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    address = { url: `nats://${host}:${a.port}`, host: a.address, port: a.port, family: a.family };
  }
  server.on('connection', (socket: Socket) => onSocket.call(ctx, socket, address));
  return { server, address };
}
