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
 *   node dist/examples/tickets/run.js [--tickets 9] [--workers 3] [--server URL] [--no-queue] [--web [PORT]]
 *
 * --server uses a running hub or nats-server instead of the embedded hub;
 * --no-queue starts the workers without their queue group, to see the check fail.
 * --web also opens the hub's WebSocket listener and serves a page (web/) on
 * http://127.0.0.1:PORT (default 8080, 0 for a free port) that shows the
 * tickets live and creates some: a browser tab as one more process on the
 * bus. The runner then keeps everything running after its check, until Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, createHub, type Bus, type Hub } from 'netemitter';
import type { TicketEvents } from './events.js';
import type { StaticServer } from './static.js';
import { serveTicketsPage } from './web.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The bound on each wait: roles ready, API done, tickets handled, roles stopped. */
const WAIT_MS = 10_000;
const NAME_WIDTH = '[worker-10]'.length;
/** The page's port when --web has none. */
const WEB_PORT = 8080;

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

/**
 * `--web [PORT]`: an option with an optional value, which parseArgs does
 * not do; taken out of argv before it parses the rest.
 */
function webOption(argv: string[]): { argv: string[]; web: number | undefined } {
  const rest: string[] = [];
  let web: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const inline = /^--web=(.*)$/.exec(a);
    if (a !== '--web' && inline === null) {
      rest.push(a);
      continue;
    }
    let value = inline?.[1];
    if (value === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) value = argv[++i];
    web = value === undefined ? WEB_PORT : Number(value);
    if (!Number.isInteger(web) || web < 0 || web > 65535) throw new Error(`--web takes a port (0 for a free one), got ${JSON.stringify(value)}`);
  }
  return { argv: rest, web };
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopRequested(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function main(): Promise<number> {
  const { argv, web } = webOption(process.argv.slice(2));
  const { values } = parseArgs({
    args: argv,
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

  if (web !== undefined && values.server !== undefined) throw new Error('--web serves the embedded hub: leave out --server');

  let hub: Hub | undefined;
  let page: StaticServer | undefined;
  let server = values.server;
  if (server === undefined) {
    // With --web, a WebSocket listener too (plain ws:// on this machine), for the page.
    hub = createHub({ host: '127.0.0.1', port: 0, ...(web === undefined ? {} : { websocket: { port: 0 } }) });
    server = (await hub.listen())[0]!.url;
    print('hub', `listening on ${server}`);
    if (web !== undefined) {
      const ws = hub.websocketAddress!.url;
      print('hub', `WebSocket listener on ${ws}`);
      try {
        page = await serveTicketsPage({ host: '127.0.0.1', port: web, server: ws });
      } catch (err) {
        await hub.close({ grace: 0 });
        throw err;
      }
      print('web', `open ${page.url}/ in a browser: the tickets, live`);
    }
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
    if (page !== undefined) {
      // The check is on what happened so far (and reached the runner before this PONG); then the
      // page's own tickets come on top, and everything runs until Ctrl-C.
      await bus.flush();
      const verdict = verdictOf(tickets, workers, handledBy);
      for (const p of verdict.problems) print('run', `FAILED: ${p}`, process.stderr);
      if (verdict.problems.length === 0) print('run', verdict.summary);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const stop = stopRequested();
      print('run', `still running for the page at ${page.url}/: Ctrl-C stops everything`);
      await stop;
      print('run', 'stopping');
      return (await finish([], exits, roles, bus, hub, page, null)) || (verdict.problems.length > 0 ? 1 : 0);
    }
  } catch (err) {
    problems.push((err as Error).message);
  }
  return finish(problems, exits, roles, bus, hub, page, { tickets, workers, handledBy });
}

/** What the runner checks: every ticket handled exactly once; and the share of each worker. */
function verdictOf(tickets: number, workers: number, handledBy: Map<string, string[]>): { problems: string[]; summary: string } {
  const problems: string[] = [];
  // Every worker, those that got no ticket too (their 0 is part of the picture).
  const perWorker = new Map<string, number>(Array.from({ length: workers }, (_, i) => [`worker-${i + 1}`, 0]));
  for (let i = 1; i <= tickets; i++) {
    const id = `T-${i}`;
    const by = handledBy.get(id) ?? [];
    if (by.length !== 1) problems.push(`ticket ${id} was handled ${by.length} times${by.length > 0 ? ` (by ${by.join(', ')})` : ''}`);
    for (const w of by) perWorker.set(w, (perWorker.get(w) ?? 0) + 1);
  }
  const shares = [...perWorker].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([w, n]) => `${w}: ${n}`);
  return { problems, summary: `all ${tickets} tickets handled exactly once (${shares.join(', ')})` };
}

/**
 * Stops the roles, the runner's bus, the hub and the page, and reports.
 * `pending`: the check still to make once the roles are stopped (null when
 * it was made and printed already, with --web). Returns the exit code.
 */
async function finish(
  problems: string[],
  exits: Map<string, number | null>,
  roles: Role[],
  bus: Bus<TicketEvents>,
  hub: Hub | undefined,
  page: StaticServer | undefined,
  pending: { tickets: number; workers: number; handledBy: Map<string, string[]> } | null,
): Promise<number> {
  // Roles drain on SIGTERM: what they emitted has reached the server when they exit.
  for (const [name, code] of await Promise.all(roles.map(async (r) => [r.name, await r.stop()] as const))) {
    if (!exits.has(name)) exits.set(name, code);
  }
  // Everything the server routed to the runner before this PONG has been dispatched:
  // a late duplicate would be counted now.
  await bus.flush().catch(() => {});
  await bus.close();
  await page?.close();
  await hub?.close({ grace: 0 });

  for (const [name, code] of exits) if (code !== 0) problems.push(`${name} exited with ${code ?? 'a signal'}`);
  const verdict = pending === null ? null : verdictOf(pending.tickets, pending.workers, pending.handledBy);
  if (verdict !== null) problems.push(...verdict.problems);
  if (problems.length > 0) {
    for (const p of problems) print('run', `FAILED: ${p}`, process.stderr);
    return 1;
  }
  if (verdict !== null) print('run', verdict.summary);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    print('run', `FAILED: ${err instanceof Error ? err.message : String(err)}`, process.stderr);
    process.exit(1);
  },
);
