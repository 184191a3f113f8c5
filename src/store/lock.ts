/**
 * One process per store directory, and who it is.
 *
 * The lock is SQLite's own: sqlite.ts opens netemitter.db in exclusive
 * locking mode, so the first connection to read it holds a POSIX lock on the
 * file until it closes the database, and with no busy timeout a second one is
 * refused at once (SQLITE_BUSY), whether in another process or in this one.
 * The kernel drops the lock with the process that held it, so a hub killed
 * with SIGKILL, an OOM kill or a crash leaves nothing behind that blocks the
 * next start. A lock file of our own would have to guess whether the pid in it
 * is still the hub that wrote it: after a reboot or in a container (pid 1
 * every time), a recycled pid looks alive and the directory stays locked.
 *
 * What SQLite cannot say is who holds the lock. The holder writes its pid to
 * PID_FILE once it has the lock and removes it when it closes the store; the
 * file is read only when the lock is refused, to name the holder in the
 * error. A file left by a killed hub decides nothing: the next holder
 * overwrites it, and a pid in it that is not running is not named.
 */
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreInUseError } from './errors.js';

/** Holds the pid of the process that has the store open. */
export const PID_FILE = 'netemitter.pid';

/**
 * mkdir -p, one level at a time: Node 20's recursive mkdirSync never returns
 * for a path under a read-only pseudo file system such as /proc.
 */
export function ensureDir(dir: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st !== undefined) {
    if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
    return;
  }
  const parent = dirname(dir);
  if (parent !== dir) ensureDir(parent);
  mkdirSync(dir);
}

/** SQLite refused its lock: another connection has the database (SQLITE_BUSY, or SQLITE_LOCKED within a process). */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** The pid in PID_FILE, if the file holds one and that process is running. */
function holder(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, PID_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** `err` from opening the database, as a StoreInUseError naming the holder when it is a lock conflict. */
export function lockError(dir: string, err: unknown): unknown {
  const busy = isBusy(err) || isBusy((err as { cause?: unknown } | null)?.cause);
  return busy ? new StoreInUseError(dir, holder(dir)) : err;
}

/**
 * Says that this process holds the store: call once SQLite's lock is taken.
 * Written to a temporary file and renamed, so a reader never sees half a pid.
 * A failure to write is ignored: the file only names the holder, the lock is
 * what keeps a second process out.
 */
export function claimPidFile(dir: string): void {
  const tmp = join(dir, `${PID_FILE}.${process.pid}`);
  try {
    writeFileSync(tmp, `${process.pid}\n`);
    renameSync(tmp, join(dir, PID_FILE));
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing written
    }
  }
}

/** Removes PID_FILE when it names this process (at close, or when the open failed after the claim). */
export function releasePidFile(dir: string): void {
  const file = join(dir, PID_FILE);
  try {
    if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
  } catch {
    // already gone
  }
}
