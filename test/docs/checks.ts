/**
 * What the docs test does with each kind of block (test/docs/README.md lists
 * the conventions). `planDoc()` schedules every block of one Markdown file on
 * the world's lanes and returns, per block, a promise of what was checked:
 * the block passes when it resolves with at least one note.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Child, CLI_PATH, RawConnection, type Endpoint } from '../helpers/cli.js';
import { parseConfigText, resolveServeConfig, toHubOptions } from '../../src/cli/config.js';
import { readRuleListFile } from '../../src/cli/schema-config.js';
import { loadAndCompile } from '../../src/schema/load.js';
import type { SchemaRule } from '../../src/server/options.js';
import { resolveOptions } from '../../src/server/options.js';
import { natsServerBin } from '../cli/targets.js';
import { attr, label, type Block } from './blocks.js';
import { commandLines, shellWords, splitAssignments, type CommandLine } from './shell.js';
import { typecheck, type TypeError } from './typecheck.js';
import { checkPage, SKIP_PAGES } from './page.js';
import { parseSession, playSession } from './wire.js';
import { deferred, ROOT, WAIT_MS, type Deferred, type World } from './world.js';

export type Notes = string[];

/** What a doc's blocks share: the world, the doc's working directory, what its programs and commands printed. */
export interface Doc {
  world: World;
  file: string;
  dir: string;
  /** Program names (`worker.js`) and commands as written (`npm run example:tickets`) → what they printed. */
  outputs: Map<string, Deferred<string>>;
  /** Program names → their source as documented, for `continues=`. */
  sources: Map<string, string>;
  /** The servers ```wire sessions play against. */
  wire: WireTargets;
  typecheck: () => Promise<Map<Block, TypeError[]>>;
}

export interface WireTargets {
  /** A plain hub (no JetStream) in this process. */
  hubPort: number;
  /** nats-server, when installed. */
  natsPort: number | null;
}

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An output sample's line as a pattern: each run of digits matches any number, `…` matches anything. */
export function samplePattern(line: string): RegExp {
  const re = line
    .split(/(\d+|…)/)
    .map((p) => (p === '…' ? '.*' : /^\d+$/.test(p) ? '\\d+' : escapeRe(p)))
    .join('');
  return new RegExp(`^${re}$`);
}

const exactLine = (s: string): RegExp => new RegExp(`^${escapeRe(s)}$`, 'm');

function lines(text: string): string[] {
  const l = text.split('\n').map((x) => x.replace(/\r$/, '').trimEnd());
  while (l.length > 0 && l.at(-1) === '') l.pop();
  return l;
}

function onceClosed(c: Child): Promise<void> {
  return c.exit !== null ? Promise.resolve() : new Promise((r) => c.child.once('close', () => r()));
}

function fail(b: Block, why: string, c?: Child): never {
  throw new Error(`${label(b)}: ${why}${c !== undefined ? `\n${c.output()}` : ''}`);
}

// ── ```js ────────────────────────────────────────────────────────────────

/** `// worker.js` as a block's first line: a file of a multi-process example. */
function fileName(b: Block): string | undefined {
  return /^\/\/ ([\w.-]+\.[cm]?js)\s*$/.exec(b.text.split('\n')[0]!)?.[1];
}

interface Prepared {
  name: string;
  file: string;
  /** `// → line`: lines the program prints. */
  expects: string[];
  /** Subjects it listens on with on/once/handle (not durable listeners): readiness of a program others talk to. */
  listens: string[];
}

async function prepare(doc: Doc, b: Block, name: string, source: string): Promise<Prepared> {
  const { world } = doc;
  // A program that makes its own hub gets a free port for the documented 4222; a client, the shared hub's.
  const ownHub = /\bcreateHub\s*\(/.test(source);
  const port = ownHub ? await world.freePort() : world.port;
  // 8080, the documented WebSocket port: the shared hub's WebSocket listener, or a free port in a block with its own hub.
  const wsPort = ownHub ? await world.freePort() : world.wsPort;
  const src = world
    .relocate(source)
    .replace(/\b(?:127\.0\.0\.1|localhost):4222\b/g, `127.0.0.1:${port}`)
    .replace(/\bport: 4222\b/g, `port: ${port}`)
    .replace(/\b(?:127\.0\.0\.1|localhost):8080\b/g, `127.0.0.1:${wsPort}`)
    .replace(/\bport: 8080\b/g, `port: ${wsPort}`);
  if (/\b4222\b/.test(src)) fail(b, 'uses port 4222 in a way the test cannot map to its own port (write nats://127.0.0.1:4222 or port: 4222)');
  for (const m of src.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)) {
    const spec = (m[1] ?? m[2] ?? m[3])!;
    if (spec === 'netemitter' || spec.startsWith('node:') || spec.startsWith('.') || spec.startsWith('/')) continue;
    const parts = spec.split('/');
    world.linkPackage(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
  }
  const file = join(doc.dir, name);
  writeFileSync(file, src);
  const listens: string[] = [];
  for (const l of src.split('\n')) {
    if (l.includes('durable:')) continue;
    for (const m of l.matchAll(/\.(?:on|once|addListener|prependListener|prependOnceListener|handle)\(\s*'([^']+)'/g)) listens.push(m[1]!);
  }
  return { name, file, expects: [...src.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1]!.trim()), listens };
}

function start(doc: Doc, b: Block, p: Prepared): Child {
  return new Child(process.execPath, [p.file], { cwd: doc.dir, env: doc.world.env(), name: `${label(b)}: node ${p.name}`, waitMs: WAIT_MS });
}

async function expectLines(b: Block, c: Child, p: Prepared): Promise<void> {
  for (const e of p.expects) {
    try {
      await c.waitForStdout(exactLine(e));
    } catch {
      fail(b, `${p.name} did not print "${e}" (its // → line)`, c);
    }
  }
}

function clean(b: Block, c: Child, name: string): void {
  if (c.stderr !== '') fail(b, `${name} wrote to stderr`, c);
}

/** Consecutive named js blocks: the files run together, each but the last beside the next ones. */
async function runGroup(doc: Doc, files: { b: Block; name: string }[]): Promise<Notes> {
  const started: { b: Block; p: Prepared; c: Child; before: boolean }[] = [];
  const notes: Notes = [];
  try {
    for (const [i, f] of files.entries()) {
      const p = await prepare(doc, f.b, f.name, f.b.text);
      const since = doc.world.subscriptions.length;
      const c = start(doc, f.b, p);
      started.push({ b: f.b, p, c, before: i < files.length - 1 });
      if (i === files.length - 1) break;
      if (p.listens.length === 0) fail(f.b, `${f.name} runs beside ${files[i + 1]!.name} but listens on nothing the test can wait for`);
      await doc.world.waitForSubscriptions(p.listens, since, onceClosed(c), `${label(f.b)}: ${f.name}`).catch((err: Error) => fail(f.b, err.message, c));
      notes.push(`${f.name} started, subscribed to ${p.listens.join(', ')}`);
    }
    const last = started.at(-1)!;
    const exit = await last.c.waitForExit().catch(() => fail(last.b, `${last.p.name} did not exit within ${WAIT_MS} ms`, last.c));
    if (exit.code !== 0) fail(last.b, `${last.p.name} exited with ${JSON.stringify(exit)}`, last.c);
    notes.push(`${last.p.name} ran and exited 0`);
    for (const s of started) {
      await expectLines(s.b, s.c, s.p);
      if (s.p.expects.length > 0) notes.push(`${s.p.name} printed ${s.p.expects.map((e) => JSON.stringify(e)).join(', ')}`);
    }
    for (const s of started.filter((x) => x.before)) {
      if (s.c.exit !== null) fail(s.b, `${s.p.name} ended before ${last.p.name} was done`, s.c);
    }
  } finally {
    for (const s of started) s.c.kill('SIGTERM');
    await Promise.all(started.map((s) => s.c.waitForExit().catch(() => undefined)));
    for (const s of started) doc.outputs.get(s.p.name)?.resolve(s.c.stdout);
    for (const f of files) doc.outputs.get(f.name)?.reject(new Error(`${f.name} did not run`));
  }
  for (const s of started) clean(s.b, s.c, s.p.name);
  return notes;
}

/** One program: it exits 0 by itself, or (`keeps-running`) it is stopped once it printed its `// →` lines. */
async function runProgram(doc: Doc, b: Block, name: string, source: string): Promise<Notes> {
  try {
    return await runProgramOnce(doc, b, name, source);
  } finally {
    doc.outputs.get(name)?.reject(new Error(`${name} did not run`));
  }
}

async function runProgramOnce(doc: Doc, b: Block, name: string, source: string): Promise<Notes> {
  const keeps = attr(b, 'keeps-running') !== undefined;
  const p = await prepare(doc, b, name, source);
  if (keeps && p.expects.length === 0) fail(b, 'a keeps-running program needs a // → line: the test stops it once it printed them all');
  const c = start(doc, b, p);
  try {
    if (keeps) {
      await expectLines(b, c, p);
      if (c.exit !== null) fail(b, `${name} is keeps-running but ended`, c);
    } else {
      const exit = await c.waitForExit().catch(() => fail(b, `did not exit within ${WAIT_MS} ms (a program that keeps running is marked keeps-running)`, c));
      if (exit.code !== 0) fail(b, `exited with ${JSON.stringify(exit)}`, c);
      await expectLines(b, c, p);
    }
  } finally {
    c.kill('SIGTERM');
    await c.waitForExit().catch(() => undefined);
    doc.outputs.get(name)?.resolve(c.stdout);
  }
  clean(b, c, name);
  const printed = p.expects.length > 0 ? `, printed ${p.expects.map((e) => JSON.stringify(e)).join(', ')}` : '';
  return [keeps ? `ran until it printed its // → lines, stopped${printed}` : `ran and exited 0${printed}`];
}

// ── commands (```sh, ```ini ExecStart) ───────────────────────────────────

interface Started {
  what: string;
  c: Child;
  /** Stops it the way a user would (Ctrl-C unless said otherwise) and checks how it ended. */
  stop(): Promise<string>;
}

interface Ran {
  note: string;
  started?: Started;
  output?: () => string;
}

interface CommandOptions {
  background: boolean;
  /** stdin for a command at the end of a pipe from a program the test does not run. */
  input: string | null;
  exitCode: number;
  /** The signal a supervisor stops it with, and how long it waits (ms). */
  stopSignal?: NodeJS.Signals;
  stopMs?: number;
}

const PIPE_INPUT = 'first line\nsecond line\n';

function isBuild(part: string): boolean {
  return part === 'node scripts/build.mjs' || part === 'npm run build';
}

class Commands {
  constructor(
    private readonly doc: Doc,
    private readonly b: Block,
  ) {}

  private get world(): World {
    return this.doc.world;
  }

  async run(argv: string[], env: Record<string, string>, o: CommandOptions): Promise<Ran> {
    const [prog, ...args] = argv;
    if (prog === undefined) fail(this.b, 'an empty command');
    if (prog === 'netemitter' || prog.endsWith('/netemitter')) return this.cli(args, env, o);
    if (prog === 'node') return this.node(args, env, o);
    if (prog === 'npm') return this.npm(args, env, o);
    if (prog === 'npx') return this.npx(args);
    return this.external(prog);
  }

  /** Any other program (tail, ulimit, date): it must exist; it is not run. */
  async external(prog: string): Promise<Ran> {
    const found = await new Promise<boolean>((resolve) => execFile('sh', ['-c', 'command -v "$1"', 'sh', prog], (err) => resolve(err === null)));
    if (!found) fail(this.b, `${prog}: no such command or shell builtin`);
    return { note: `${prog}: exists (not run)` };
  }

  private proc(args: string[], env: Record<string, string>, o: CommandOptions, name: string): Child {
    const c = new Child(process.execPath, args, { cwd: this.doc.dir, env: this.world.env(env), name, waitMs: WAIT_MS, stdin: o.input !== null ? 'pipe' : 'ignore' });
    if (o.input !== null) c.child.stdin!.end(o.input);
    return c;
  }

  private async quick(c: Child, o: CommandOptions, what: string, ms = WAIT_MS): Promise<Ran> {
    const exit = await c.waitForExit(ms).catch(() => fail(this.b, `${what} did not finish within ${ms} ms`, c));
    if (exit.code !== o.exitCode) fail(this.b, `${what} exited with ${JSON.stringify(exit)}, expected code ${o.exitCode}`, c);
    return { note: `${what}: exit ${o.exitCode}`, output: () => c.stdout + c.stderr };
  }

  /** Starts a long-running command and waits until `ready` says it works. */
  private async long(c: Child, o: CommandOptions, what: string, ready: () => Promise<string>): Promise<Ran> {
    let readiness: string;
    try {
      readiness = await ready();
    } catch (err) {
      c.kill('SIGKILL');
      await c.waitForExit().catch(() => undefined);
      fail(this.b, `${what}: ${(err as Error).message}`, c);
    }
    const signal = o.stopSignal ?? 'SIGINT';
    const started: Started = {
      what,
      c,
      stop: async () => {
        c.kill(signal);
        const exit = await c.waitForExit(o.stopMs ?? WAIT_MS).catch(() => fail(this.b, `${what} did not stop within ${o.stopMs ?? WAIT_MS} ms of ${signal}`, c));
        if (exit.code !== 0) fail(this.b, `${what} ended with ${JSON.stringify(exit)} after ${signal}`, c);
        return `stopped by ${signal}, exit 0`;
      },
    };
    return { note: `${what}: ${readiness}`, started, output: () => c.stdout + c.stderr };
  }

  private async cli(args0: string[], env: Record<string, string>, o: CommandOptions): Promise<Ran> {
    const sub = args0.find((a) => !a.startsWith('-'));
    const args = args0.map((a) => a.replace(/\b(?:127\.0\.0\.1|localhost):4222\b/g, `127.0.0.1:${this.world.port}`));
    const what = `netemitter ${args0.join(' ')}`;
    if (sub === 'serve') return this.serve(args, env, o, what);
    if (sub === 'bench') {
      const i = args.indexOf('--msgs');
      if (i !== -1 && Number(args[i + 1]) > 1000) args[i + 1] = '1000'; // the same run, smaller
    }
    const smaller = sub === 'bench' && args.join(' ') !== args0.join(' ') ? ' (run with --msgs 1000)' : '';
    const c = this.proc([CLI_PATH, ...args], env, o, what);
    const long = o.background || sub === 'sub' || sub === 'reply' || sub === 'echo-server';
    if (!long) return this.quick(c, o, `${what}${smaller}`);
    const ready: Record<string, () => Promise<RegExpMatchArray>> = {
      sub: () => c.waitForStderr(/^subscribed to .*$/m),
      reply: () => c.waitForStderr(/^answering requests on .*$/m),
      'echo-server': () => c.waitForStdout(/server listening on .*$/m),
    };
    const wait = ready[sub ?? ''];
    if (wait === undefined) fail(this.b, `${what}: runs in the background, and the test knows no line that says it is ready`);
    return this.long(c, o, what, async () => `ready ("${(await wait())[0]}")`);
  }

  /** `netemitter serve`: on a free port and loopback, checked by connecting to each address it lists. */
  private async serve(args0: string[], env0: Record<string, string>, o: CommandOptions, what: string): Promise<Ran> {
    const args = [...args0];
    const env = { ...env0 };
    let port = false;
    let unix = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--host' && (args[i + 1] === '0.0.0.0' || args[i + 1] === '::')) args[i + 1] = '127.0.0.1';
      if (a === '--port') {
        port = true;
        if (args[i + 1] !== '0') args[i + 1] = String(await this.world.freePort());
      }
      if (a === '--unix') unix = true;
    }
    if (env.NETEMITTER_HOST === '0.0.0.0' || env.NETEMITTER_HOST === '::') env.NETEMITTER_HOST = '127.0.0.1';
    if (!port && !unix && env.NETEMITTER_PORT === undefined) env.NETEMITTER_PORT = String(await this.world.freePort());
    // The documented default store (./data, here in the doc's working directory), not the tests' memory store.
    if (env.NETEMITTER_STORE === undefined) env.NETEMITTER_STORE = '';
    const listeners = (unix ? 1 : 0) + (port || !unix ? 1 : 0);
    const c = this.proc([CLI_PATH, ...args], env, o, what);
    if (o.exitCode !== 0) return this.quick(c, o, what); // a documented failure
    return this.long(c, o, what, async () => {
      const one = 'listening on (nats://[\\d.]+:\\d+|unix://[^\\s"]+)';
      await c.waitForStdout(new RegExp(Array(listeners).fill(one).join('[\\s\\S]*')));
      const urls = [...c.stdout.matchAll(new RegExp(one, 'g'))].map((m) => m[1]!).filter((u, i, all) => all.indexOf(u) === i);
      for (const u of urls) {
        const to: Endpoint = u.startsWith('unix://') ? { path: u.slice('unix://'.length) } : { port: Number(u.split(':').at(-1)) };
        const conn = await RawConnection.open(to);
        conn.send('PING\r\n');
        await conn.waitFor(/PONG\r\n/);
        conn.close();
      }
      return `listening and answering on ${urls.length === 1 ? 'its address' : `${urls.length} addresses`}`;
    });
  }

  private async node(argv: string[], env: Record<string, string>, o: CommandOptions): Promise<Ran> {
    const flags: string[] = [];
    let i = 0;
    while (argv[i]?.startsWith('-') === true) flags.push(argv[i++]!);
    const script = argv[i];
    if (script === undefined) fail(this.b, `node ${argv.join(' ')}: no script`);
    const rest = argv.slice(i + 1);
    const abs = isAbsolute(script) ? script : join(ROOT, script);
    if (!existsSync(abs)) fail(this.b, `node ${script}: no such file (built: ${script.startsWith('dist/') ? 'yes' : 'not under dist/'})`);
    const what = `node ${argv.join(' ')}`;
    if (script === 'dist/src/cli/main.js') return this.cli(rest, env, o);
    // The browser bundle's sizes (npm run size): quick, it reads dist/browser.
    if (script === 'scripts/size.mjs') return this.quick(this.proc([abs, ...rest], env, o, what), o, what);
    if (/^dist\/bench\/[\w-]+\.js$/.test(script)) return this.benchArgs(abs, script, rest);
    if (/^dist\/bench\/servers\/[\w-]+\.js$/.test(script)) {
      const c = this.proc([...flags, abs, ...rest], env, o, what);
      const ran = await this.long(c, o, what, async () => `ready ("${(await c.waitForStdout(/^LISTENING \d+$/m))[0]}")`);
      const profDir = flags.find((f) => f.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length);
      if (flags.includes('--cpu-prof') && ran.started !== undefined) {
        const inner = ran.started;
        ran.started = {
          ...inner,
          stop: async () => {
            const how = await inner.stop();
            const dir = profDir ?? this.doc.dir;
            if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.cpuprofile'))) fail(this.b, `${what}: no .cpuprofile in ${dir} after it stopped`);
            return `${how}, wrote its .cpuprofile`;
          },
        };
      }
      return ran;
    }
    const args = rest.map((a) => a.replace(/\b(?:127\.0\.0\.1|localhost):4222\b/g, `127.0.0.1:${this.world.port}`));
    // The example bounds each step at 10 s; its five processes start beside everything else here: 30 s.
    if (script === 'dist/examples/tickets/run.js' && !args.some((a) => a === '--wait' || a.startsWith('--wait='))) args.push('--wait', '30');
    if (script === 'dist/examples/tickets/run.js' && args.some((a) => a === '--web' || a.startsWith('--web='))) {
      // With its page it keeps running after the check: ready once it says so; the page on a free port.
      const web: string[] = [];
      for (let j = 0; j < args.length; j++) {
        const a = args[j]!;
        if (a !== '--web' && !a.startsWith('--web=')) web.push(a);
        else {
          web.push('--web', '0');
          if (a === '--web' && /^\d+$/.test(args[j + 1] ?? '')) j++;
        }
      }
      const c = this.proc([abs, ...web], env, o, what);
      return this.long(c, o, what, async () => `ready ("${(await c.waitForStdout(/^\[run\]\s+still running for the page at .*$/m, 120_000))[0]}")`);
    }
    if (script === 'dist/examples/tickets/run.js') return this.quick(this.proc([abs, ...args], env, o, what), o, what, 120_000);
    if (/^dist\/examples\/tickets\/(worker|notifier|sla)\.js$/.test(script)) {
      const c = this.proc([abs, ...args], env, o, what);
      return this.long(c, o, what, async () => `ready ("${(await c.waitForStdout(/^ready: .*$/m))[0]}")`);
    }
    if (/^dist\/examples\/tickets\/api\.js$/.test(script)) return this.quick(this.proc([abs, ...args], env, o, what), o, what);
    return fail(this.b, `${what}: the docs test has no rule for this script (test/docs/checks.ts, Commands.node)`);
  }

  /** A benchmark: too long to run here, so its command line is checked by the script itself (BENCH_CHECK_ARGS=1). */
  private async benchArgs(abs: string, script: string, args: string[]): Promise<Ran> {
    const key = [script, ...args].join('\0');
    let check = sharedBenchChecks.get(key);
    if (check === undefined) {
      check = (async () => {
        const c = new Child(process.execPath, [abs, ...args], { env: { BENCH_CHECK_ARGS: '1' }, name: `BENCH_CHECK_ARGS=1 node ${script} ${args.join(' ')}`, waitMs: WAIT_MS });
        const exit = await c.waitForExit().catch(() => fail(this.b, `node ${script}: the argument check did not finish`, c));
        if (exit.code !== 0 || !/: arguments ok$/m.test(c.stdout)) fail(this.b, `node ${script} ${args.join(' ')}: its command line is refused`, c);
      })();
      sharedBenchChecks.set(key, check);
    }
    await check;
    return { note: `node ${script} ${args.join(' ')}: arguments accepted (BENCH_CHECK_ARGS=1; not benchmarked)` };
  }

  private async npm(argv: string[], env: Record<string, string>, o: CommandOptions): Promise<Ran> {
    if (argv.length === 1 && argv[0] === 'install') {
      for (const f of ['package.json', 'package-lock.json']) if (!existsSync(join(ROOT, f))) fail(this.b, `npm install: no ${f}`);
      return { note: 'npm install: package.json and package-lock.json are there (not run)' };
    }
    let name: string | undefined;
    let rest: string[];
    if (argv[0] === 'start' || argv[0] === 'test') [name, rest] = [argv[0], argv.slice(1)];
    else if (argv[0] === 'run') [name, rest] = [argv[1], argv.slice(2)];
    else return fail(this.b, `npm ${argv.join(' ')}: the docs test knows npm install, start, test and run`);
    if (name === undefined) fail(this.b, 'npm run: which script?');
    if (name === 'build' && rest.length === 0) {
      if (!isBuild(PKG.scripts.build ?? '')) fail(this.b, `npm run build: package.json's build is "${PKG.scripts.build}", not node scripts/build.mjs`);
      return { note: 'npm run build: the build script of package.json (not run: dist is built)' };
    }
    if (rest.length > 0 && rest[0] !== '--') fail(this.b, `npm ${argv.join(' ')}: arguments for the script go after --`);
    const extra = rest.slice(1);
    const script = PKG.scripts[name];
    if (script === undefined) fail(this.b, `npm ${argv[0]} ${name}: package.json has no script "${name}"`);
    const pre = PKG.scripts[`pre${name}`];
    if (pre !== undefined && !isBuild(pre)) fail(this.b, `npm ${name}: pre${name} is "${pre}", not a build; the test cannot tell what it does`);
    const parts = script.split('&&').map((p) => p.trim()).filter((p) => !isBuild(p));
    if (parts.length !== 1 || !parts[0]!.startsWith('node ') || /['"]/.test(parts[0]!)) {
      fail(this.b, `npm ${name}: "${script}" is not a build followed by one node command`);
    }
    if (name === 'test') {
      if (parts[0] !== 'node scripts/test.mjs' || !existsSync(join(ROOT, 'scripts', 'test.mjs'))) fail(this.b, `npm test runs "${script}"`);
      return { note: 'npm test: package.json runs node scripts/test.mjs, this suite (not run from inside it)' };
    }
    const ran = await this.node([...parts[0]!.split(/\s+/).slice(1), ...extra], env, o);
    return { ...ran, note: `npm ${argv.join(' ')} → ${parts[0]}${extra.length > 0 ? ` ${extra.join(' ')}` : ''} (the build is skipped: dist is built): ${ran.note}` };
  }

  private npx(argv: string[]): Ran {
    if (argv[0] !== 'tsc') fail(this.b, `npx ${argv.join(' ')}: the docs test knows npx tsc`);
    const cmd = argv.join(' ');
    if (!PKG.scripts.build!.split('&&').map((p) => p.trim()).includes(cmd)) fail(this.b, `npx ${cmd}: not the build of package.json ("${PKG.scripts.build}")`);
    return { note: `npx ${cmd}: the build script of package.json (not run: dist is built)` };
  }
}

/** Identical bench command lines in several docs are checked once. */
const sharedBenchChecks = new Map<string, Promise<void>>();

/** A command line that talks to the shared hub: a netemitter client command, an example role, anything given --server. */
function usesSharedHub(text: string): boolean {
  return /(^|[\s;&|])netemitter\s+(?!serve\b|echo-server\b|echo-client\b|--help\b)/.test(text) || text.includes('--server') || /dist\/examples\/tickets\/(?!run\.js)/.test(text);
}

/** Lines that touch neither the shared hub nor a working directory run on the pool, beside the rest. */
function standsAlone(cl: CommandLine): boolean {
  return cl.commands.every(
    (c) =>
      !c.text.includes('--server') &&
      /^(npm run (bench|example:tickets)\b|npm (test|install)$|npx |node (--\S+ )*dist\/(bench\/[\w-]+\.js|examples\/tickets\/run\.js)\b)/.test(c.text) &&
      c.op !== '|',
  );
}

async function runLine(doc: Doc, b: Block, cl: CommandLine): Promise<Notes> {
  const cmds = new Commands(doc, b);
  const exitCode = Number(/\bexit (\d+)\b/.exec(cl.comment)?.[1] ?? 0);
  const notes: Notes = [];
  const started: Started[] = [];
  const printed: [string, () => string][] = [];
  let input: string | null = null;
  let failure: unknown = null;
  try {
    for (const [i, c] of cl.commands.entries()) {
      const words = await shellWords(doc.world.relocate(c.text), doc.dir);
      const { env, argv } = splitAssignments(words);
      if (c.op === '|') {
        if (argv[0] === 'netemitter' || argv[0] === 'node' || argv[0] === 'npm') fail(b, `line ${cl.line}: the docs test runs only other programs at the start of a pipe`);
        notes.push(`${(await cmds.external(argv[0]!)).note}; the next command reads ${JSON.stringify(PIPE_INPUT)} instead`);
        input = PIPE_INPUT;
        continue;
      }
      const last = i === cl.commands.length - 1;
      const ran = await cmds.run(argv, env, { background: c.op === '&', input, exitCode: last ? exitCode : 0 });
      input = null;
      notes.push(ran.note);
      if (ran.started !== undefined) started.push(ran.started);
      if (ran.output !== undefined) printed.push([c.text, ran.output]);
    }
  } catch (err) {
    failure = err;
  }
  // Long-running commands stop at the end of their line, the last started first.
  for (const s of started.reverse()) {
    try {
      notes.push(`${s.what}: ${await s.stop()}`);
    } catch (err) {
      failure ??= err;
    }
  }
  for (const [text, output] of printed) doc.outputs.get(text)?.resolve(output());
  for (const c of cl.commands) doc.outputs.get(c.text)?.reject(new Error(`${c.text} (${label(b)}, line ${cl.line}) did not run to the end`));
  if (failure !== null) throw failure;
  return notes.map((n) => `line ${cl.line}: ${n}`);
}

function planSh(doc: Doc, b: Block): Promise<Notes> {
  let cls: CommandLine[];
  try {
    cls = commandLines(b.text, b.line);
  } catch (err) {
    return Promise.reject(new Error(`${label(b)}: ${(err as Error).message}`));
  }
  for (const cl of cls) for (const c of cl.commands) if (!doc.outputs.has(c.text)) doc.outputs.set(c.text, deferred());
  const runs = cls.map((cl) =>
    usesSharedHub(cl.code)
      ? doc.world.serial(() => runLine(doc, b, cl))
      : standsAlone(cl)
        ? doc.world.pooled(() => runLine(doc, b, cl))
        : doc.world.lane(doc.file, () => runLine(doc, b, cl)),
  );
  for (const r of runs) r.catch(() => {});
  return Promise.all(runs).then((n) => n.flat());
}

// ── ```console ───────────────────────────────────────────────────────────

async function runConsole(doc: Doc, b: Block): Promise<Notes> {
  const steps: { cmd: string; line: number; expected: string[] }[] = [];
  b.text.split('\n').forEach((l, i) => {
    if (l.startsWith('$ ')) steps.push({ cmd: l.slice(2), line: b.line + 1 + i, expected: [] });
    else if (steps.length === 0) {
      if (l.trim() !== '') fail(b, `a console block starts with a "$ command" line, not: ${l}`);
    } else steps.at(-1)!.expected.push(l);
  });
  if (steps.length === 0) fail(b, 'no "$ command" line');
  const notes: Notes = [];
  for (const s of steps) {
    const c = new Child('sh', ['-c', `exec 2>&1\n${doc.world.relocate(s.cmd)}`], {
      cwd: doc.dir,
      env: doc.world.env({ NETEMITTER_PORT: String(await doc.world.freePort()) }),
      name: `${label(b)}: $ ${s.cmd}`,
      waitMs: WAIT_MS,
    });
    await c.waitForExit().catch(() => fail(b, `line ${s.line}: $ ${s.cmd} did not finish within ${WAIT_MS} ms`, c));
    const want = lines(doc.world.relocate(s.expected.join('\n')));
    const got = lines(c.stdout);
    const same = want.length === got.length && want.every((w, i) => samplePattern(w).test(got[i]!));
    if (!same) fail(b, `line ${s.line}: $ ${s.cmd} printed\n${got.join('\n')}\n--- the doc shows ---\n${want.join('\n')}`);
    notes.push(`line ${s.line}: $ ${s.cmd}: printed what the doc shows`);
  }
  return notes;
}

// ── output samples (```text, ```json with `output of`) ────────────────────

async function checkSample(doc: Doc, b: Block, of: string): Promise<Notes> {
  const out = doc.outputs.get(of);
  if (out === undefined) fail(b, `output of "${of}": no program or command of that name comes before this block in ${doc.file}`);
  const got = lines(await out.promise);
  const missing = lines(doc.world.relocate(b.text)).filter((w) => w.trim() !== '' && !got.some((g) => samplePattern(w).test(g)));
  if (missing.length > 0) fail(b, `output of ${of}: no line like\n${missing.join('\n')}\n--- it printed ---\n${got.join('\n')}`);
  return [`each line appears in what ${of} printed (numbers aside)`];
}

// ── ```json config, ```conf, ```ini ───────────────────────────────────────

function checkConfig(doc: Doc, b: Block): Notes {
  if (attr(b, 'schema') !== undefined || attr(b, 'rules') !== undefined) return checkSchemaFile(doc, b);
  const file = attr(b, 'file') ?? 'config.json';
  let schemas: SchemaRule[] | undefined;
  try {
    // Named as in the doc's directory: relative schema paths in it resolve there, where the doc's schema files are.
    const options = toHubOptions(resolveServeConfig({ file: parseConfigText(b.text, join(doc.dir, file)) }));
    resolveOptions(options);
    schemas = options.schemas;
  } catch (err) {
    fail(b, `not a valid netemitter serve config: ${(err as Error).message}`);
  }
  const notes = ['a valid netemitter serve config (src/cli/config.ts)'];
  if (schemas !== undefined && schemas.length > 0) notes.push(`its ${compiled(b, schemas, doc.dir)}`);
  if (attr(b, 'file') !== undefined) {
    // Written for the commands after it; served on loopback only.
    writeFileSync(join(doc.dir, file), doc.world.relocate(b.text).replace(/"(0\.0\.0\.0|::)"/g, '"127.0.0.1"'));
    notes.push(`written as ${file} for the blocks after it`);
  }
  return notes;
}

function compiled(b: Block, rules: SchemaRule[], dir: string): string {
  try {
    loadAndCompile(rules, dir);
  } catch (err) {
    fail(b, `its schemas do not load: ${(err as Error).message}`);
  }
  return `${rules.length} schema rule${rules.length === 1 ? '' : 's'} load and compile as the hub loads them (src/schema/load.ts)`;
}

/**
 * ```json schema file=schemas/x.json: a JSON Schema file; ```json rules file=…: a list of rules. Written to the
 * doc's directory for the blocks after it (a schema may $ref files written before it), and it must compile.
 * One that has a namesake in examples/tickets/ must be that file: the docs show the example's schemas.
 */
function checkSchemaFile(doc: Doc, b: Block): Notes {
  const file = attr(b, 'file');
  if (file === undefined || file === '' || isAbsolute(file) || file.split('/').includes('..')) fail(b, 'a schema or rules block needs file=PATH, relative, inside the doc\'s directory');
  let json: unknown;
  try {
    json = JSON.parse(b.text);
  } catch (err) {
    fail(b, `not JSON: ${(err as Error).message}`);
  }
  const notes: Notes = [];
  const twin = join(ROOT, 'examples', 'tickets', file);
  if (existsSync(twin)) {
    if (!isDeepStrictEqual(json, JSON.parse(readFileSync(twin, 'utf8')))) fail(b, `differs from examples/tickets/${file}, which it shows`);
    notes.push(`the same JSON as examples/tickets/${file}`);
  }
  const path = join(doc.dir, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, b.text);
  let rules: SchemaRule[];
  try {
    rules = attr(b, 'rules') !== undefined ? readRuleListFile(path) : [{ subjects: ['>'], schema: path, name: file }];
  } catch (err) {
    fail(b, `not a list of schema rules: ${(err as Error).message}`);
  }
  notes.push(compiled(b, rules, doc.dir), `written as ${file} for the blocks after it`);
  return notes;
}

async function checkNatsConf(doc: Doc, b: Block): Promise<Notes> {
  const bin = natsServerBin();
  if (bin === null) return ['not checked: nats-server is not installed'];
  const file = join(doc.dir, attr(b, 'file') ?? 'nats-server.conf');
  writeFileSync(file, b.text);
  const c = new Child(bin, ['-t', '-c', file], { name: `nats-server -t -c ${basename(file)}`, waitMs: WAIT_MS });
  const exit = await c.waitForExit();
  if (exit.code !== 0) fail(b, 'nats-server -t refuses it', c);
  return ['nats-server -t: the configuration is valid'];
}

/** A systemd unit: its ExecStart runs, and stops within TimeoutStopSec on KillSignal. */
async function checkUnit(doc: Doc, b: Block): Promise<Notes> {
  const keys = new Map<string, string>();
  let section = '';
  for (const l of lines(b.text)) {
    const s = /^\[(\w+)\]$/.exec(l);
    if (s !== null) section = s[1]!;
    else if (l.trim() !== '') {
      const m = /^(\w+)=(.*)$/.exec(l);
      if (m === null) fail(b, `not a unit file line: ${l}`);
      keys.set(`${section}.${m[1]}`, m[2]!);
    }
  }
  const exec = keys.get('Service.ExecStart');
  if (exec === undefined) fail(b, 'no [Service] ExecStart');
  const signal = (keys.get('Service.KillSignal') ?? 'SIGTERM') as NodeJS.Signals;
  const stopSec = Number(/^(\d+)s?$/.exec(keys.get('Service.TimeoutStopSec') ?? '90')?.[1]);
  const words = await shellWords(exec, doc.dir);
  if (!words[0]!.endsWith('/netemitter') || words[1] !== 'serve') fail(b, `ExecStart runs ${words.slice(0, 2).join(' ')}, not netemitter serve`);
  const grace = words.indexOf('--lame-duck-grace-period');
  const graceSec = grace === -1 ? 2 : Number(/^(\d+)s$/.exec(words[grace + 1] ?? '')?.[1]);
  if (!(stopSec > graceSec)) fail(b, `TimeoutStopSec ${stopSec} s does not leave the hub its grace period (${graceSec} s)`);
  const nofile = keys.get('Service.LimitNOFILE');
  const mc = words.indexOf('--max-connections');
  const maxConn = mc === -1 ? 65536 : Number(words[mc + 1]);
  if (nofile !== undefined && !(maxConn < Number(nofile))) fail(b, `--max-connections ${maxConn} is not below LimitNOFILE ${nofile} (docs/operations.md: keep it below, with headroom)`);
  const ran = await new Commands(doc, b).run(words, {}, { background: false, input: null, exitCode: 0, stopSignal: signal, stopMs: stopSec * 1000 });
  if (ran.started === undefined) fail(b, 'ExecStart did not keep running');
  const how = await ran.started.stop();
  return [`ExecStart: ${ran.note}; ${how} within TimeoutStopSec`, `TimeoutStopSec > grace period, --max-connections < LimitNOFILE`];
}

// ── ```wire ──────────────────────────────────────────────────────────────

/** Sessions share their servers, so they take turns: a subscriber of one must not see another's messages. */
let wireTail: Promise<unknown> = Promise.resolve();

function checkWire(doc: Doc, b: Block): Promise<Notes> {
  const run = wireTail.then(() => playBoth(doc, b));
  wireTail = run.catch(() => {});
  return run;
}

async function playBoth(doc: Doc, b: Block): Promise<Notes> {
  const session = parseSession(b.text, b.line, doc.file);
  await playSession(session, doc.wire.hubPort, doc.file, { info: true });
  const notes = ['the hub answers exactly as shown'];
  if (doc.wire.natsPort !== null) {
    await playSession(session, doc.wire.natsPort, `${doc.file} (against nats-server)`, { info: false });
    notes.push('nats-server answers the same');
  }
  return notes;
}

// ── a doc ────────────────────────────────────────────────────────────────

export interface Planned {
  block: Block;
  /** Set when the block is not checked, with the reason. */
  skip?: string;
  result: Promise<Notes>;
}

const KINDS = ['js', 'cjs', 'ts', 'sh', 'console', 'json', 'text', 'wire', 'conf', 'ini', 'html'];

/** Schedules every block of one doc; the promises settle as the lanes get to them. */
export function planDoc(doc: Doc, blocks: Block[]): Planned[] {
  const planned: Planned[] = [];
  // Named js files in a row run together; register their names first so `output of` can find them.
  for (const b of blocks) {
    const name = b.lang === 'js' ? fileName(b) : undefined;
    if (name !== undefined) {
      doc.outputs.set(name, deferred());
      doc.sources.set(name, b.text);
    }
  }
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    const reject = (why: string): Promise<Notes> => Promise.reject(new Error(`${label(b)}: ${why}`));
    if (b.directive?.kind === 'skip') {
      planned.push({ block: b, skip: b.directive.arg, result: Promise.resolve([]) });
      continue;
    }
    if (b.directive?.kind === 'output') {
      const of = b.directive.arg;
      planned.push({ block: b, result: b.lang === 'text' || b.lang === 'json' ? checkSample(doc, b, of) : reject('an output sample is a ```text or ```json block') });
      continue;
    }
    let result: Promise<Notes>;
    switch (b.lang) {
      case 'js': {
        const name = fileName(b);
        const group: { b: Block; name: string }[] = [];
        for (let j = i; j < blocks.length && blocks[j]!.lang === 'js' && fileName(blocks[j]!) !== undefined && blocks[j]!.directive === null; j++) {
          group.push({ b: blocks[j]!, name: fileName(blocks[j]!)! });
        }
        if (group.length > 1) {
          const run = doc.world.serial(() => runGroup(doc, group));
          for (const g of group) planned.push({ block: g.b, result: run.then((n) => [`one multi-process example with ${group.map((x) => x.name).join(', ')}`, ...n]) });
          i += group.length - 1;
          continue;
        }
        const cont = attr(b, 'continues');
        if (cont !== undefined) {
          const base = doc.sources.get(cont);
          result = base === undefined ? reject(`continues=${cont}: no block named ${cont} (a // ${cont} first line) in ${doc.file}`) : doc.world.serial(() => runProgram(doc, b, `${cont.replace(/\.m?js$/, '')}+${b.line}.js`, `${base}\n${b.text}`));
        } else if (/\bcreateHub\s*\(/.test(b.text)) result = doc.world.lane(doc.file, () => runProgram(doc, b, name ?? `block-${b.line}.js`, b.text));
        else result = doc.world.serial(() => runProgram(doc, b, name ?? `block-${b.line}.js`, b.text));
        break;
      }
      case 'cjs': {
        // CommonJS: the same as a lone ```js program, in a .cjs file, so node loads it as CommonJS.
        const name = fileName(b) ?? `block-${b.line}.cjs`;
        if (!name.endsWith('.cjs')) {
          result = reject(`a \`\`\`cjs block's file name ends in .cjs, not ${name}`);
          break;
        }
        const run = (): Promise<Notes> => runProgram(doc, b, name, b.text);
        result = /\bcreateHub\s*\(/.test(b.text) ? doc.world.lane(doc.file, run) : doc.world.serial(run);
        break;
      }
      case 'ts':
        result = doc.typecheck().then((errors) => {
          const e = errors.get(b) ?? [];
          if (e.length > 0) throw new Error(`${label(b)}: does not type-check against the built package\n${e.map((x) => `${doc.file}:${x.line}: ${x.message}`).join('\n')}`);
          return ['type-checks against the built package (tsc --strict)'];
        });
        break;
      case 'sh':
        result = planSh(doc, b);
        break;
      case 'console': {
        const cmds = b.text.split('\n').filter((l) => l.startsWith('$ '));
        result = cmds.some((l) => usesSharedHub(l)) ? doc.world.serial(() => runConsole(doc, b)) : doc.world.lane(doc.file, () => runConsole(doc, b));
        break;
      }
      case 'json':
        result = doc.world.lane(doc.file, async () => checkConfig(doc, b));
        break;
      case 'text':
        result = reject('a ```text block is an output sample: put <!-- doc-test: output of PROGRAM-OR-COMMAND --> or <!-- doc-test: skip REASON --> just above it');
        break;
      case 'wire':
        result = checkWire(doc, b);
        break;
      case 'conf':
        result = doc.world.pooled(() => checkNatsConf(doc, b));
        break;
      case 'ini':
        result = doc.world.lane(doc.file, () => checkUnit(doc, b));
        break;
      case 'html':
        if (SKIP_PAGES !== false) {
          planned.push({ block: b, skip: SKIP_PAGES, result: Promise.resolve([]) });
          continue;
        }
        result = doc.world.serial(() => checkPage(doc.world, b));
        break;
      default:
        result = reject(`${b.lang === '' ? 'a block without a kind' : `unknown kind "${b.lang}"`}: give it one of ${KINDS.join(', ')} (test/docs/README.md)`);
    }
    planned.push({ block: b, result });
  }
  for (const p of planned) p.result.catch(() => {});
  return planned;
}

/** For the final check: a doc's first multi-process example, to run again after everything else. */
export function firstGroup(blocks: Block[]): { b: Block; name: string }[] {
  for (let i = 0; i < blocks.length; i++) {
    const group: { b: Block; name: string }[] = [];
    for (let j = i; j < blocks.length && blocks[j]!.lang === 'js' && fileName(blocks[j]!) !== undefined; j++) group.push({ b: blocks[j]!, name: fileName(blocks[j]!)! });
    if (group.length > 1) return group;
  }
  return [];
}

export { runGroup, typecheck };
