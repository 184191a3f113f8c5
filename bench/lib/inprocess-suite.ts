/**
 * `npm run bench -- --inprocess`: what the in-process transport saves
 * (issue #18's Measure). W1 and W4 with our client, the hub and every bus in
 * ONE process, connected by hub.connect() against loopback TCP to the same
 * hub: only the transport differs. Each run is a fresh process
 * (bench/inprocess-run.ts); runs are interleaved and each figure is the
 * median of --runs. Targets: in-process ÷ TCP ≥ 2 for W1 msgs/s and ≥ 3 for
 * W4 round trips.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_BENCH, ROOT, type PeerDef } from './peers.js';
import { runSuite, type Case, type RatioDef } from './suite.js';
import { si } from './stats.js';
import type { RunOutcome } from './workloads.js';
import type { BenchOptions } from './options.js';

/** Not server/client peers: the two transports, both the hub with our client (server and client are nominal here). */
const INPROCESS: PeerDef = { id: 'in-process/ours', server: 'hub', client: 'ours' };
const TCP: PeerDef = { id: 'tcp/ours', server: 'hub', client: 'ours' };

const RUN_MS = 300_000;

/** One run in a fresh process; its last stdout line is the metrics. */
function runOnce(o: BenchOptions, peer: PeerDef, workload: 'w1' | 'w4', concurrency: number): Promise<RunOutcome> {
  const spec = {
    transport: peer === INPROCESS ? 'inprocess' : 'tcp',
    workload,
    messages: o.messages,
    size: o.size,
    batch: o.batch,
    inflight: o.inflight,
    window: o.window,
    durationMs: o.reqDurationMs,
    concurrency,
  };
  const flags: string[] = [];
  if (o.profile) {
    const dir = join(ROOT, 'bench', 'results', 'inprocess-prof');
    mkdirSync(dir, { recursive: true });
    flags.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${workload}-c${concurrency}-${spec.transport}-${Date.now()}.cpuprofile`);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, join(DIST_BENCH, 'inprocess-run.js'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`exited ${code ?? signal}: ${err.trim().split('\n').at(-1) ?? ''}`);
        resolve({ ok: true, metrics: JSON.parse(line) as Record<string, number> });
      } catch (e) {
        resolve({ ok: false, error: (e as Error).message, metrics: {} });
      }
    });
  });
}

export async function runInProcess(o: BenchOptions): Promise<void> {
  const peers = [INPROCESS, TCP];
  const cases: Case[] = [];
  const ratios: RatioDef[] = [];
  if (o.workloads.includes('w1')) {
    cases.push({
      id: 'w1',
      title: `W1 (in one process): 1 publisher → 1 subscriber, ${si(o.messages)} × ${o.size} B; our client over hub.connect() and over loopback TCP`,
      metric: 'msgs/s',
      higherIsBetter: true,
      columns: ['msgs/s', 'MB/s', 'process µs/msg'],
      peers,
      run: (p) => runOnce(o, p, 'w1', 1),
    });
    ratios.push({ caseId: 'w1', a: INPROCESS.id, b: TCP.id, target: '≥ 2', goal: 2 });
    ratios.push({ caseId: 'w1', metric: 'process µs/msg', a: INPROCESS.id, b: TCP.id });
  }
  if (o.workloads.includes('w4')) {
    for (const c of o.concurrency) {
      const id = `w4-c${c}`;
      cases.push({
        id,
        title: `W4 (in one process): request/reply, ${c} concurrent requester${c === 1 ? '' : 's'}, ${o.reqDurationMs / 1000} s; our client over hub.connect() and over loopback TCP`,
        metric: 'rt/s',
        higherIsBetter: true,
        columns: ['rt/s', 'process µs/rt'],
        peers,
        run: (p) => runOnce(o, p, 'w4', c),
      });
      ratios.push({ caseId: id, a: INPROCESS.id, b: TCP.id, target: '≥ 3', goal: 3 });
      ratios.push({ caseId: id, metric: 'process µs/rt', a: INPROCESS.id, b: TCP.id });
    }
  }
  await runSuite(o, { kind: 'inprocess', cases, ratios, skipped: {} });
}
