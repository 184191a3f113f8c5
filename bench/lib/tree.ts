/** CPU and memory of a process and every process under it (a browser and its helpers), from /proc. */
import { readdirSync, readFileSync } from 'node:fs';
import { procStats } from './proc.js';

export interface TreeStats {
  /** User + system CPU seconds since each process started. */
  cpu: number;
  /** Resident set sizes summed, bytes (shared pages count once per process: an upper bound). */
  rss: number;
  procs: number;
}

export function treeStats(root: number): TreeStats {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone since the listing
    }
  }
  const out: TreeStats = { cpu: 0, rss: 0, procs: 0 };
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    const s = procStats(pid);
    if (!Number.isNaN(s.cpu)) {
      out.cpu += s.cpu;
      out.rss += Number.isNaN(s.rss) ? 0 : s.rss;
      out.procs++;
    }
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}
