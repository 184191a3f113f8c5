/**
 * Runs the presence example on one machine and checks it:
 *
 *   hub (embedded, free port, heartbeats every 2 s) ◄── supervisor   bus.presence + the will subject
 *                                                   ◄── workers.1..3 presence metadata + a last will
 *                                                   ◄── this runner, counting wills
 *
 * The runner starts the supervisor, then the workers, waits until the
 * supervisor has seen each of them ready, kills one with SIGKILL (no
 * goodbye), waits for the supervisor to report its leave and, when the hub
 * offers last wills, its will; then stops the others cleanly (SIGTERM: they
 * drain, so no will). It exits 0 only if the killed worker's leave (and
 * will) came and no clean one left a will. Every wait is bounded.
 *
 *   npm run example:presence                    (builds first)
 *   node dist/examples/presence/run.js [--workers 3] [--wait 10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, createHub } from 'netemitter';

const HERE = dirname(fileURLToPath(import.meta.url));
const NAME_WIDTH = '[workers.10]'.length;
let waitMs = 10_000;

function print(name: string, line: string, stream: NodeJS.WriteStream = process.stdout): void {
  stream.write(`${`[${name}]`.padEnd(NAME_WIDTH)} ${line}\n`);
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${waitMs / 1000} s`)), waitMs);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** One process, its lines prefixed with its name; `line(re)` resolves on the first line that matches. */
class Role {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly seen: string[] = [];
  private readonly waiting = new Set<{ re: RegExp; resolve: (line: string) => void }>();

  constructor(
    readonly name: string,
    script: string,
    args: string[],
  ) {
    // The IPC channel is unused but for its end: a role exits when the runner dies.
    this.child = spawn(process.execPath, [join(HERE, `${script}.js`), ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      print(name, line);
      this.seen.push(line);
      for (const w of this.waiting) {
        if (w.re.test(line)) {
          this.waiting.delete(w);
          w.resolve(line);
        }
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => print(name, line, process.stderr));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  line(re: RegExp, what: string): Promise<string> {
    const old = this.seen.find((l) => re.test(l));
    if (old !== undefined) return Promise.resolve(old);
    return within(new Promise<string>((resolve) => this.waiting.add({ re, resolve })), `${this.name}: ${what}`);
  }

  lines(re: RegExp): string[] {
    return this.seen.filter((l) => re.test(l));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    try {
      return await within(this.exited, `${this.name} stopping`);
    } catch {
      this.child.kill('SIGKILL');
      return this.exited;
    }
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { workers: { type: 'string', default: '3' }, wait: { type: 'string', default: '10' } }, strict: true });
  const count = Number(values.workers);
  if (!Number.isInteger(count) || count < 2 || count > 99) throw new Error('--workers must be an integer from 2 to 99');
  const wait = Number(values.wait);
  if (!Number.isFinite(wait) || wait <= 0 || wait > 3600) throw new Error(`--wait takes seconds, more than 0 and at most 3600, got ${JSON.stringify(values.wait)}`);
  waitMs = wait * 1000;

  // A process that is killed has its socket closed by the kernel: the hub sees it at once. A machine that
  // vanishes is found by heartbeats, within pingInterval × (maxPingsOut + 1): 6 s here, 6 min by default.
  const hub = createHub({ host: '127.0.0.1', port: 0, pingInterval: 2_000, maxPingsOut: 2 });
  const server = (await hub.listen())[0]!.url;
  print('hub', `listening on ${server}`);
  const roles: Role[] = [];
  const bus = await connect({ servers: server, name: 'presence runner' });
  try {
    const wills: string[] = [];
    bus.on('workers.died', (w: { name: string }) => void wills.push(w.name));
    const willsOffered = bus.info?.netemitter?.includes('will') === true;

    const supervisor = new Role('supervisor', 'supervisor', ['--server', server]);
    roles.push(supervisor);
    await supervisor.line(/^ready: /, 'ready');
    const workers = Array.from({ length: count }, (_, i) => new Role(`workers.${i + 1}`, 'worker', ['--server', server, '--name', `workers.${i + 1}`]));
    roles.push(...workers);
    for (const w of workers) await w.line(/^ready: /, 'ready');
    for (const w of workers) await supervisor.line(new RegExp(`^update: ${w.name} is ready$`), `seeing ${w.name} ready`);

    const doomed = workers[1]!;
    print('run', `SIGKILL ${doomed.name} (pid ${doomed.child.pid})`);
    await doomed.stop('SIGKILL');
    await supervisor.line(new RegExp(`^left: ${doomed.name} \\(`), `the leave of ${doomed.name}`);
    if (willsOffered) await supervisor.line(new RegExp(`^will: ${doomed.name} `), `the will of ${doomed.name}`);
    else print('run', 'this hub offers no last wills: checking the leave only');

    const clean = workers.filter((w) => w !== doomed);
    for (const w of clean) await w.stop();
    for (const w of clean) await supervisor.line(new RegExp(`^left: ${w.name} \\(Client Closed\\)$`), `the leave of ${w.name}`);
    // Any will is routed with the leave: after this round trip the runner has every will there was.
    await bus.flush();
    const expected = willsOffered ? [doomed.name] : [];
    if (wills.join() !== expected.join()) {
      print('run', `FAILED: wills from ${JSON.stringify(wills)}, expected ${JSON.stringify(expected)}`);
      return 1;
    }
    print('run', `${doomed.name} was reported gone${willsOffered ? ' and its will delivered' : ''}; ${clean.length} clean exits left no will`);
    return 0;
  } finally {
    await Promise.all(roles.map((r) => r.stop()));
    await bus.close();
    await hub.close({ grace: 0 });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    print('run', `FAILED: ${err instanceof Error ? err.message : String(err)}`, process.stderr);
    process.exit(1);
  },
);
