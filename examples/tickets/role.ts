/**
 * What every role process shares: its command line (`--server URL --name
 * NAME`, plus role options), printing, the "ready" line the runner waits
 * for, and a clean stop on SIGTERM/SIGINT (drain, then exit 0).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { connect, type Bus } from 'netemitter';
import type { TicketEvents } from './events.js';

export interface RoleArgs {
  server: string;
  name: string;
  values: Record<string, string | boolean | undefined>;
}

export function roleArgs(defaultName: string, options: ParseArgsConfig['options'] = {}): RoleArgs {
  followParent();
  const { values } = parseArgs({
    options: { server: { type: 'string' }, name: { type: 'string' }, ...options },
    strict: true,
  });
  const server = (values.server as string | undefined) ?? process.env.NETEMITTER_SERVER ?? 'nats://127.0.0.1:4222';
  return { server, name: (values.name as string | undefined) ?? defaultName, values: values as RoleArgs['values'] };
}

/**
 * Started by the runner (it opens an IPC channel): exit when the runner goes
 * away, even killed, rather than reconnect forever to the hub it embedded.
 * Started by hand, there is no channel and nothing to follow.
 */
function followParent(): void {
  if (process.channel === undefined) return;
  process.channel.unref();
  process.once('disconnect', () => process.exit(1));
}

/** One line on stdout; the runner prefixes it with the role's name. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function connectRole(args: RoleArgs): Promise<Bus<TicketEvents>> {
  return connect<TicketEvents>({ servers: args.server, name: `tickets ${args.name}` });
}

/**
 * Prints `ready: …` once the server has every subscription made so far
 * (flush: the PONG comes after the SUBs), so the runner starts the API only
 * when nobody would miss an event.
 */
export async function ready(bus: Bus<TicketEvents>, what: string): Promise<void> {
  await bus.flush();
  say(`ready: ${what}`);
}

/**
 * Stops on SIGTERM/SIGINT: `beforeDrain` (work in progress), then drain
 * (unsubscribe, deliver what was in flight, flush), then exit 0.
 */
export function stopOnSignal(bus: Bus<TicketEvents>, beforeDrain: () => Promise<void> = async () => {}): void {
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await beforeDrain();
    await bus.drain();
    process.exit(0);
  };
  const onSignal = (): void => void stop().catch(fail);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** An uncaught failure in a role: one line, exit 1. */
export function fail(err: unknown): never {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
