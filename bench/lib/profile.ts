/**
 * `npm run bench -- --profile`: runs W1 and W2 (and W4 when asked with
 * --workloads) once against a hub started with `node --cpu-prof`, then prints
 * where the hub spent its CPU: the top 20 functions by self time, and the
 * split between our code, Node's internals (net, streams) and V8/native work
 * (syscalls, GC). With --profile-clients the client processes are profiled
 * too (top 10 each). With --websocket the hub serves its clients over ws://
 * (nats.ws, or our client with --client ours): W1 only. Open a .cpuprofile
 * in Chrome DevTools (Performance → Load profile) for the whole call tree.
 */
import { mkdirSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, withVariant, type PeerDef, type StartOptions } from './peers.js';
import { pubsub, requestReply, type RunOutcome } from './workloads.js';
import { summarizeProfile } from './cpuprofile.js';
import { SCHEMA_EVENT } from './schema-fixture.js';
import { table, si, fixed } from './stats.js';
import type { BenchOptions } from './options.js';

/** Prints where a process spent its CPU, from the .cpuprofile it wrote in `dir`. */
export function printProfile(dir: string, label: string, top: number): void {
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  if (file === undefined) {
    console.log(`  ${label}: no .cpuprofile was written in ${dir}`);
    return;
  }
  const path = join(dir, file);
  const s = summarizeProfile(path, ROOT);
  const busy = s.sampled - s.idle;
  const share = (us: number): string => `${((us / busy) * 100).toFixed(1)}%`;
  console.log(`\n  ${label}: ${path}`);
  console.log(
    `  sampled ${fixed(s.sampled / 1000, 0)} ms: busy ${fixed(busy / 1000, 0)} ms, idle ${fixed(s.idle / 1000, 0)} ms; of busy: GC ${share(s.gc)}, (program) ${share(s.program)}, ` +
      Object.entries(s.byArea).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${share(v)}`).join(', '),
  );
  const rows = [['#', 'self ms', 'self %', 'total %', 'function', 'where']];
  s.functions.slice(0, top).forEach((f, i) => rows.push([String(i + 1), fixed(f.self / 1000, 1), share(f.self), share(f.total), f.name, f.location]));
  console.log(`  top ${top} by self time (% of busy time; total = with callees):`);
  console.log(table(rows).replace(/^/gm, '  '));
  // By file: which module the time is in (ws's receiver or sender, a stream adapter, the parser), whichever of its functions spent it.
  const byFile = new Map<string, number>();
  for (const f of s.functions) {
    const file = f.location.replace(/:\d+$/, '');
    byFile.set(file, (byFile.get(file) ?? 0) + f.self);
  }
  const files = [['self ms', 'self %', 'file']];
  for (const [file, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 10)) files.push([fixed(us / 1000, 1), share(us), file]);
  console.log('  top 10 files by self time:');
  console.log(table(files).replace(/^/gm, '  '));
}

export async function runProfile(o: BenchOptions): Promise<void> {
  const workloads = o.workloads.filter((w) => w === 'w1' || w === 'w2' || w === 'w4');
  if (workloads.length === 0) throw new Error('--profile runs W1, W2 and W4: pass --workloads w1,w2 (the default) or w4');
  // Without --workloads, W1 and W2.
  const chosen = workloads.length === 3 && o.workloads.length === 5 ? ['w1', 'w2'] : workloads;
  const root = join(ROOT, 'bench', 'results', 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  // --websocket: the hub's ws:// listener, loaded by nats.ws (or our client over ws://).
  // --schemas: the hub checking the W1 event's schema, loaded with that event.
  const plain: PeerDef = o.schemas
    ? { id: 'hub+schema/nats.js', server: 'hub-schema', client: 'nats' }
    : o.websocket
    ? { id: `hub+ws/${o.client === 'nats' ? 'nats.ws' : 'ours'}`, server: 'hub-ws', client: o.client === 'nats' ? 'nats-ws' : 'ours' }
    : { id: `hub/${o.client === 'nats' ? 'nats.js' : 'ours'}`, server: 'hub', client: o.client };
  // --tls, --auth: the profiled hub with that security set-up.
  const peer = o.variant === null ? plain : withVariant(plain, o.variant);
  for (const w of chosen) {
    const base = join(root, w);
    const hubDir = join(base, 'hub');
    mkdirSync(hubDir, { recursive: true });
    const opts: StartOptions = { cpuProfDir: hubDir, ...(o.profileClients ? { clientProfDir: base } : {}) };
    let r: RunOutcome;
    let roles: string[];
    if (w === 'w4') {
      const c = o.concurrency[o.concurrency.length - 1]!;
      console.log(`\nW4 against the hub under --cpu-prof: request/reply, ${c} concurrent requesters, ${o.reqDurationMs / 1000} s, client ${peer.id}`);
      r = await requestReply(peer, o, c, opts);
      console.log(`  ${si(r.metrics['rt/s'] ?? NaN)} round trips/s${r.ok ? '' : `  FAILED: ${r.error}`}  (profiling slows the hub)`);
      roles = ['req', 'rep'];
    } else {
      const subs = w === 'w1' ? 1 : o.w2Subscribers;
      const count = w === 'w1' ? o.messages : o.w2Messages;
      console.log(`\n${w.toUpperCase()} against the hub under --cpu-prof: 1 publisher → ${subs} subscriber${subs > 1 ? 's' : ''}, ${si(count)} × ${o.schemas ? `a ${Buffer.byteLength(SCHEMA_EVENT)} B JSON event` : `${o.size} B`}, client ${peer.id}`);
      r = await pubsub(peer, o, subs, count, opts, o.schemas ? SCHEMA_EVENT : undefined);
      const m = r.metrics;
      console.log(`  ${si(m['msgs/s'] ?? NaN)} msgs/s delivered, hub CPU ${fixed(m['server µs/msg'] ?? NaN, 2)} µs/msg${r.ok ? '' : `  FAILED: ${r.error}`}  (profiling slows the hub)`);
      roles = ['pub', 'sub'];
    }
    printProfile(hubDir, 'hub', 20);
    if (o.profileClients) for (const role of roles) printProfile(join(base, role), `${role} (${peer.id.split('/')[1]})`, 10);
  }
}
