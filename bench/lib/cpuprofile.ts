/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and ranks functions
 * by self time. Positions in dist/ are mapped back to the TypeScript source
 * through the build's source maps.
 *
 *   nodes: [{ id, callFrame: { functionName, url, lineNumber, columnNumber }, children }]
 *   samples[i]: the node on top of the stack at sample i
 *   timeDeltas[i]: µs between sample i-1 and sample i, so sample i lasted timeDeltas[i+1]
 */
import { readFileSync, existsSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  location: string;
  /** µs */
  self: number;
  /** µs with everything it called (each sample counted once per function). */
  total: number;
}

export interface ProfileSummary {
  /** µs sampled in all. */
  sampled: number;
  idle: number;
  gc: number;
  program: number;
  /** Self time by where the code lives: netemitter src, node internals, V8/native, dependencies. */
  byArea: Record<string, number>;
  functions: FunctionTime[];
}

const maps = new Map<string, SourceMap | null>();

function sourceMapFor(file: string): SourceMap | null {
  let m = maps.get(file);
  if (m === undefined) {
    m = null;
    const mapFile = `${file}.map`;
    if (existsSync(mapFile)) {
      try {
        m = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
      } catch {
        m = null;
      }
    }
    maps.set(file, m);
  }
  return m;
}

function locate(cf: CallFrame, root: string): { location: string; area: string } {
  const url = cf.url;
  if (url === '') return { location: '(native)', area: 'V8 / native' };
  if (url.startsWith('node:')) return { location: `${url}:${cf.lineNumber + 1}`, area: 'node internals' };
  if (!url.startsWith('file://')) return { location: url, area: 'other' };
  const file = fileURLToPath(url);
  const rel = relative(root, file);
  const area = rel.includes('node_modules') ? 'dependencies' : rel.startsWith('dist/src') ? 'netemitter src' : rel.startsWith('dist/bench') ? 'bench' : 'other';
  const map = sourceMapFor(file);
  if (map !== null && cf.lineNumber >= 0) {
    const e = map.findEntry(cf.lineNumber, Math.max(0, cf.columnNumber)) as { originalSource?: string; originalLine?: number };
    if (e.originalSource !== undefined && e.originalLine !== undefined) {
      const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : e.originalSource;
      const orig = src.startsWith('/') ? relative(root, src) : relative(root, `${file}/../${src}`);
      return { location: `${orig}:${e.originalLine + 1}`, area };
    }
  }
  // A dependency by its package path (node_modules may be a link into another tree: ../main/node_modules/ws/… reads as node_modules/ws/…).
  const shown = area === 'dependencies' ? rel.slice(rel.lastIndexOf('node_modules/')) : rel;
  return { location: `${shown}:${cf.lineNumber + 1}`, area };
}

export function summarizeProfile(file: string, root: string): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const keyOf = (n: ProfileNode): string => `${n.callFrame.functionName}|${n.callFrame.url}|${n.callFrame.lineNumber}|${n.callFrame.columnNumber}`;
  const fns = new Map<string, FunctionTime & { area: string }>();
  const fnFor = (n: ProfileNode): FunctionTime & { area: string } => {
    const k = keyOf(n);
    let f = fns.get(k);
    if (f === undefined) {
      const { location, area } = locate(n.callFrame, root);
      f = { name: n.callFrame.functionName || '(anonymous)', location, self: 0, total: 0, area };
      fns.set(k, f);
    }
    return f;
  };
  let sampled = 0;
  let idle = 0;
  let gc = 0;
  let program = 0;
  const byArea: Record<string, number> = {};
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (dt <= 0) continue;
    sampled += dt;
    let node = byId.get(p.samples[i]!)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)') {
      idle += dt;
      continue;
    }
    if (name === '(garbage collector)') gc += dt;
    else if (name === '(program)') program += dt;
    const top = fnFor(node);
    top.self += dt;
    if (name !== '(garbage collector)' && name !== '(program)') byArea[top.area] = (byArea[top.area] ?? 0) + dt;
    // Inclusive time: each function once per sample, however deep its recursion.
    const seen = new Set<FunctionTime>();
    for (;;) {
      const f = fnFor(node);
      if (!seen.has(f)) {
        seen.add(f);
        f.total += dt;
      }
      const up = parent.get(node.id);
      if (up === undefined) break;
      node = byId.get(up)!;
    }
  }
  const functions = [...fns.values()]
    .filter((f) => f.self > 0 && f.name !== '(root)')
    .sort((a, b) => b.self - a.self)
    .map(({ name, location, self, total }) => ({ name, location, self, total }));
  return { sampled, idle, gc, program, byArea, functions };
}
