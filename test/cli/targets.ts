/**
 * Servers for the client-command tests: our hub in this process, and the
 * real nats-server as a child process (`-a 127.0.0.1 -p -1`: it picks a free
 * port and logs it, so there is no window between choosing a port and
 * binding it). The same tests run against both.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { createHub } from 'netemitter';
import { Proc } from './proc.js';

export type TargetKind = 'hub' | 'nats-server';
export const TARGET_KINDS: readonly TargetKind[] = ['hub', 'nats-server'];

export interface Target {
  readonly kind: TargetKind;
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  stop(): Promise<void>;
}

/** Where Debian installs the reference server; NATS_SERVER_BIN overrides. */
export function natsServerBin(): string | null {
  const bin = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
  try {
    accessSync(bin, fsConstants.X_OK);
    return bin;
  } catch {
    return null;
  }
}

/** For `describe(name, { skip }, …)`: a reason to skip, or false. */
export function skipUnavailable(kind: TargetKind): string | false {
  return kind === 'nats-server' && natsServerBin() === null ? 'no nats-server binary (set NATS_SERVER_BIN)' : false;
}

export async function startTarget(kind: TargetKind): Promise<Target> {
  if (kind === 'hub') {
    const hub = createHub({ host: '127.0.0.1', port: 0 });
    const [address] = await hub.listen();
    return { kind, url: address!.url, stop: () => hub.close({ grace: 0 }) };
  }
  const server = new Proc(natsServerBin()!, ['-a', '127.0.0.1', '-p', '-1'], {}, 'nats-server');
  try {
    const m = await server.waitForStderr(/Listening for client connections on 127\.0\.0\.1:(\d+)/);
    return {
      kind,
      url: `nats://127.0.0.1:${m[1]}`,
      async stop() {
        server.kill('SIGTERM');
        await server.waitForExit();
      },
    };
  } catch (err) {
    server.kill('SIGKILL');
    throw err;
  }
}
