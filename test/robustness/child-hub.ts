/**
 * A hub in a child process (`netemitter serve`), for measurements that must
 * not include the load generator: its RSS is read from /proc (or ps).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ChildHub {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  rssMB(): number;
  stop(): Promise<void>;
}

export async function startChildHub(args: string[] = [], env: Record<string, string> = {}): Promise<ChildHub> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--log-level', 'info', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NETEMITTER_STORE: 'memory', ...env },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      // Never leave the child behind when it did not come up.
      child.kill('SIGKILL');
      reject(new Error(`hub did not start: ${out}`));
    }, 10_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on nats:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code}: ${out}`));
    });
  });
  child.stdout!.resume();
  const pid = child.pid!;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid,
    rssMB: () => rssOf(pid),
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

/** Resident set size of a process, in MB. */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    if (m) return Math.round(Number(m[1]) / 102.4) / 10;
  } catch {
    // Not Linux: ask ps.
  }
  const kb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString().trim());
  return Math.round(kb / 102.4) / 10;
}
