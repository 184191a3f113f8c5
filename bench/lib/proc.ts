/**
 * Processes: every server and every client of a run is its own OS process,
 * started under `bash -c 'ulimit -n <hard>; exec …'` so 10,000 connections
 * fit, and tracked so that nothing outlives the harness (stopped at the end
 * of each run, and again on exit or Ctrl-C).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Raise the soft fd limit to the hard one, then run the command in place of the shell. */
const ULIMIT = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote to stdout/stderr (last 64 KiB), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Give the child an IPC channel (Node children only). */
  ipc?: boolean;
  /** Inherit stdout/stderr instead of capturing them. */
  inherit?: boolean;
}

export function start(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Proc {
  const out = opts.inherit ? 'inherit' : 'pipe';
  const stdio = opts.ipc ? (['ignore', out, out, 'ipc'] as const) : (['ignore', out, out] as const);
  const child = spawn('bash', ['-c', ULIMIT, cmd, ...args], { stdio: [...stdio], env: opts.env ?? process.env });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  live.add(child);
  let log = '';
  const keep = (b: Buffer): void => {
    log = (log + b.toString()).slice(-65536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  return {
    child,
    pid: child.pid,
    output: () => log,
    exited,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A port free on 127.0.0.1 right now (for servers that cannot report the one they picked). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, proc: Proc, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (proc.child.exitCode !== null) throw new Error(`server exited (${proc.child.exitCode}) before listening: ${proc.output().trim()}`);
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms: ${proc.output().trim()}`);
    await sleep(50);
  }
}

/** Resolves with the first stdout line matching `re` (a Node server printing its port). */
export function waitForLine(proc: Proc, re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error(`no line matching ${re} after ${timeoutMs} ms: ${proc.output().trim()}`)), timeoutMs);
    const onData = (b: Buffer): void => {
      buf += b.toString();
      const m = buf.match(re);
      if (m) done(null, m);
    };
    const onExit = (code: number | null): void => done(new Error(`exited (${code}) before ready: ${proc.output().trim()}`));
    function done(err: Error | null, m?: RegExpMatchArray): void {
      clearTimeout(timer);
      proc.child.stdout?.off('data', onData);
      proc.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    }
    proc.child.stdout?.on('data', onData);
    proc.child.once('exit', onExit);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

export interface ProcStats {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size, bytes. */
  hwm: number;
  /** User + system CPU time of all the process's threads, seconds. */
  cpu: number;
  /** read-like and write-like system calls so far (/proc/<pid>/io syscr, syscw). */
  reads: number;
  writes: number;
}

/** Reads /proc (Linux). NaN fields where it is not available. */
export function procStats(pid: number): ProcStats {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => {
      const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
      return m ? Number(m[1]) * 1024 : NaN;
    };
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) / ticksPerSecond();
    let reads = NaN;
    let writes = NaN;
    try {
      const io = readFileSync(`/proc/${pid}/io`, 'utf8');
      reads = Number(io.match(/^syscr: (\d+)/m)?.[1] ?? NaN);
      writes = Number(io.match(/^syscw: (\d+)/m)?.[1] ?? NaN);
    } catch {
      // /proc/<pid>/io needs the same user (or root); the rest is still useful.
    }
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), cpu, reads, writes };
  } catch {
    return { rss: NaN, hwm: NaN, cpu: NaN, reads: NaN, writes: NaN };
  }
}

/** A command's first output line, or null when it cannot run. */
export function firstLine(cmd: string, args: readonly string[]): string | null {
  try {
    const r = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
    return r.toString().split('\n')[0]!.trim();
  } catch (err) {
    // mosquitto -h exits non-zero but prints its version.
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    const text = `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`.trim();
    return text.length > 0 ? text.split('\n')[0]!.trim() : null;
  }
}
