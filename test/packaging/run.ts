/**
 * Child processes for the packaging test: npm, git and node, each bounded by
 * a timeout. npm starts processes of its own (a nested npm install, tsc, git),
 * so each command runs in its own process group and a timeout kills the whole
 * group; `killRunning()` in `after()` does the same for anything left.
 */
import { spawn } from 'node:child_process';
import { dirname, delimiter } from 'node:path';

export interface Ran {
  stdout: string;
  stderr: string;
  /** Wall time of the command. */
  ms: number;
}

export interface RunOptions {
  cwd: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

const running = new Set<number>();

/** The last `n` characters of a command's output, for an error message. */
function tail(text: string, n = 4000): string {
  return text.length <= n ? text : `…${text.slice(-n)}`;
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

/** Runs `cmd args` to the end; rejects on a non-zero exit, a signal or the timeout, with what it printed. */
export function run(cmd: string, args: string[], o: RunOptions): Promise<Ran> {
  const what = `${cmd} ${args.join(' ')} (in ${o.cwd})`;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? childEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid);
    }, o.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      reject(new Error(`${what}: could not start: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) {
        running.delete(pid);
        killGroup(pid); // whatever it started and left behind
      }
      const ms = Date.now() - started;
      if (code === 0 && !timedOut) {
        resolve({ stdout, stderr, ms });
        return;
      }
      const how = timedOut ? `did not finish within ${o.timeoutMs} ms` : signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new Error(`${what} ${how}\n--- stdout ---\n${tail(stdout)}\n--- stderr ---\n${tail(stderr)}`));
    });
  });
}

/** Kills the process group of every command still running. */
export function killRunning(): void {
  for (const pid of running) killGroup(pid);
  running.clear();
}

/**
 * The environment for npm and the installed programs: this one without what
 * an enclosing npm run (`npm test`) sets for its own package (npm_package_*,
 * npm_lifecycle_*, the local prefix: an npm started with those could act on
 * the repository instead of the temporary project), with this node first on
 * PATH, plus `extra`.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const key = k.toLowerCase();
    const local = key === 'init_cwd' || key === 'npm_config_local_prefix' || (key.startsWith('npm_') && !key.startsWith('npm_config_'));
    if (!local && !k.startsWith('NETEMITTER_')) env[k] = v;
  }
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  return { ...env, ...extra };
}
