/**
 * Runs the whole help desk on one machine and checks it:
 *
 *   hub (embedded, free port) ◄── api        emits ticket.created / ticket.updated / note.created
 *                             ◄── worker-1 ┐
 *                             ◄── worker-2 ├ queue group "workers" on ticket.created
 *                             ◄── worker-3 ┘ (each asks ticket.get, then emits ticket.handled)
 *                             ◄── notifier   listens on ticket.>
 *                             ◄── sla        follows tickets, answers ticket.get
 *                             ◄── this runner, counting ticket.handled
 *
 * Every role is its own process, prefixed in the output: `[worker-2] handled
 * ticket T-3 …`. The runner starts the listeners, waits until each says it
 * is ready, starts the API, waits until every ticket is handled, stops the
 * roles (SIGTERM: they drain), and exits 0 only if every ticket was handled
 * exactly once. Every wait is bounded.
 *
 *   npm run example:tickets                    (builds first)
 *   node dist/examples/tickets/run.js [--tickets 9] [--workers 3] [--server URL] [--no-queue]
 *
 * --server uses a running hub or nats-server instead of the embedded hub;
 * --no-queue starts the workers without their queue group, to see the check fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, createHub, type Hub } from 'netemitter';
import type { TicketEvents } from './events.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The bound on each wait: roles ready, API done, tickets handled, roles stopped. */
const WAIT_MS = 10_000;
const NAME_WIDTH = '[worker-10]'.length;

function print(name: string, line: string, stream: NodeJS.WriteStream = process.stdout): void {
  stream.write(`${`[${name}]`.padEnd(NAME_WIDTH)} ${line}\n`);
}

function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** One role process, its output prefixed with its name. */
class Role {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once its output is read. */
  readonly exited: Promise<number | null>;
  /** Resolves on its `ready: …` line; rejects if it exits first. */
  readonly ready: Promise<void>;

  constructor(
    readonly name: string,
    script: string,
    server: string,
    extra: string[] = [],
  ) {
    this.child = spawn(process.execPath, [join(HERE, `${script}.js`), '--server', server, '--name', name, ...extra], {
      // The IPC channel is unused but for its end: a role exits when the runner dies (role.ts).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let isReady!: () => void;
    let notReady!: (err: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      isReady = resolve;
      notReady = reject;
    });
    this.ready.catch(() => {}); // Awaited later, or never for the API.
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      print(name, line);
      if (line.startsWith('ready: ')) isReady();
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => print(name, line, process.stderr));
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code) => {
        notReady(new Error(`${name} exited before it was ready`));
        resolve(code);
      });
    });
  }

  /** SIGTERM (the role drains and exits 0); SIGKILL if it is still there after the bound. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    try {
      return await within(this.exited, `${this.name} stopping`);
    } catch {
      this.child.kill('SIGKILL');
      await this.exited;
      return null;
    }
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      tickets: { type: 'string', default: '9' },
      workers: { type: 'string', default: '3' },
      server: { type: 'string' },
      'no-queue': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const tickets = Number(values.tickets);
  const workers = Number(values.workers);
  if (!Number.isInteger(tickets) || tickets < 1 || !Number.isInteger(workers) || workers < 1 || workers > 99) {
    throw new Error('--tickets and --workers must be positive integers (workers at most 99)');
  }

  let hub: Hub | undefined;
  let server = values.server;
  if (server === undefined) {
    hub = createHub({ host: '127.0.0.1', port: 0 });
    server = (await hub.listen())[0]!.url;
    print('hub', `listening on ${server}`);
  } else {
    print('run', `using the server at ${server}`);
  }

  // The runner's own view of the bus: which tickets exist, who handled what.
  const bus = await connect<TicketEvents>({ servers: server, name: 'tickets runner' });
  const created = new Set<string>();
  const handledBy = new Map<string, string[]>();
  let allHandled!: () => void;
  const done = new Promise<void>((resolve) => (allHandled = resolve));
  const check = (): void => {
    if (created.size === tickets && [...created].every((id) => handledBy.has(id))) allHandled();
  };
  bus.on('ticket.created', (t) => {
    created.add(t.id);
    check();
  });
  bus.on('ticket.handled', ({ id, worker }) => {
    handledBy.set(id, [...(handledBy.get(id) ?? []), worker]);
    check();
  });
  await bus.flush();

  const queueFlag = values['no-queue'] === true ? ['--no-queue'] : [];
  const roles = [
    new Role('sla', 'sla', server),
    new Role('notifier', 'notifier', server),
    ...Array.from({ length: workers }, (_, i) => new Role(`worker-${i + 1}`, 'worker', server, queueFlag)),
  ];
  const onSignal = (): void => {
    for (const r of roles) r.child.kill('SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const problems: string[] = [];
  const exits = new Map<string, number | null>();
  try {
    await within(Promise.all(roles.map((r) => r.ready)), 'starting the roles');
    const api = new Role('api', 'api', server, ['--tickets', String(tickets)]);
    roles.push(api);
    exits.set('api', await within(api.exited, 'the API'));
    await within(done, `handling ${tickets} tickets`);
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    // Roles drain on SIGTERM: what they emitted has reached the server when they exit.
    for (const [name, code] of await Promise.all(roles.map(async (r) => [r.name, await r.stop()] as const))) {
      if (!exits.has(name)) exits.set(name, code);
    }
    // Everything the server routed to the runner before this PONG has been dispatched:
    // a late duplicate would be counted now.
    await bus.flush().catch(() => {});
    await bus.close();
    await hub?.close({ grace: 0 });
  }

  for (const [name, code] of exits) if (code !== 0) problems.push(`${name} exited with ${code ?? 'a signal'}`);
  // Every worker, those that got no ticket too (their 0 is part of the picture).
  const perWorker = new Map<string, number>(Array.from({ length: workers }, (_, i) => [`worker-${i + 1}`, 0]));
  for (let i = 1; i <= tickets; i++) {
    const id = `T-${i}`;
    const by = handledBy.get(id) ?? [];
    if (by.length !== 1) problems.push(`ticket ${id} was handled ${by.length} times${by.length > 0 ? ` (by ${by.join(', ')})` : ''}`);
    for (const w of by) perWorker.set(w, (perWorker.get(w) ?? 0) + 1);
  }
  const shares = [...perWorker].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([w, n]) => `${w}: ${n}`);
  if (problems.length > 0) {
    for (const p of problems) print('run', `FAILED: ${p}`, process.stderr);
    return 1;
  }
  print('run', `all ${tickets} tickets handled exactly once (${shares.join(', ')})`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    print('run', `FAILED: ${err instanceof Error ? err.message : String(err)}`, process.stderr);
    process.exit(1);
  },
);
