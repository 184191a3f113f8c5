/**
 * `npm run bench:micro`: the hub's hot paths in isolation, in one process.
 *
 *   parser     ServerParser over a stream of PUBs (hub ingress), ClientParser over MSGs
 *   subjects   Sublist.match: literal subjects (cache hits) and wildcard subscriptions
 *              against new subjects (cache misses: trie walk + cache insert/evict);
 *              subjectMatches and isValidLiteralSubject
 *   encoder    Outbound.msg (the MSG line + payload + CRLF a delivery queues), and the
 *              hub's whole outbound path: hub.publish → route → deliver → one socket
 *              write per turn, to 1 and to 4 subscribers on loopback
 *   hub        PUB chunks handed to a connection as its socket would: parse → route →
 *              deliver → write, to 1 and to 4 subscribers on loopback (W1/W2's hub work)
 *   payload    the client's encodePayload (what emit/request/publish do to a value
 *              before it is queued), and bus.emit of an object to a hub on loopback
 *
 * The modules are loaded from dist/src at run time, with structural types, so
 * that a change of an internal API makes one case say "skip" here instead of
 * breaking the project's build. Each case runs for --time ms (default 1000),
 * --runs times (default 3) after a warm-up; median and spread are reported.
 *
 *   npm run bench:micro -- [--time 1000] [--runs 3] [--only parser,subjects]
 */
import { connect as netConnect, type Socket } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { summarize, table, si, fixed, pct, type Summary } from './lib/stats.js';
import { parseCommandLine, positiveInt } from './lib/args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HELP = `usage: npm run bench:micro -- [options]

  --time MS      how long each case runs per repetition (default 1000)
  --runs N       repetitions of every case, after a warm-up (default 3)
  --only a,b     only the cases whose group or name contains one of these (groups: parser, subjects, encoder, hub, payload)
  --out FILE     JSON results file (default bench/results/micro-<time>.json)
`;

const args = parseCommandLine('bench:micro', HELP, () => {
  const { values } = parseArgs({
    options: { time: { type: 'string' }, runs: { type: 'string' }, only: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) return null;
  return { time: positiveInt(values.time, 'time', 1000), runs: positiveInt(values.runs, 'runs', 3), only: values.only, out: values.out };
});
const TIME_MS = args.time;
const RUNS = args.runs;
const ONLY = args.only?.split(',') ?? null;

async function load<T>(rel: string): Promise<T> {
  return (await import(pathToFileURL(join(ROOT, 'dist', 'src', rel)).href)) as T;
}

// ── structural views of the internals used ────────────────────────────────
type Handler = Record<string, (...a: never[]) => void>;
interface ParserModule {
  ServerParser: new (h: Handler, o?: object) => { parse(b: Buffer): void };
  ClientParser: new (h: Handler, o?: object) => { parse(b: Buffer): void };
}
interface SublistModule {
  Sublist: new (o?: { cacheSize?: number }) => { insert(s: object): void; match(subject: string): { plain: readonly unknown[] } };
}
interface SubjectModule {
  subjectMatches(p: string, s: string): boolean;
  isValidLiteralSubject(s: string): boolean;
}
interface OutboundModule {
  Outbound: new () => { msg?(head: Uint8Array, sid: Uint8Array, tail: Uint8Array, p: Uint8Array): void; latin1(s: string): void; bytes(b: Uint8Array): void; take(): Buffer[] | null };
}
interface IndexModule {
  createHub(o: object): { listen(): Promise<{ port?: number; url: string }[]>; publish(subject: string, payload: Uint8Array): void; close(o?: object): Promise<void> };
  connect(o: object): Promise<{ emit(subject: string, payload: unknown): boolean; flush(): Promise<void>; close(): Promise<void> }>;
}
interface CodecModule {
  /** The subject is the second argument since payload errors name it; older builds ignore it. */
  encodePayload(value: unknown, subject: string): Buffer;
}

/** One timed unit of work: `ops` operations over `bytes` input bytes. */
type Work = () => { ops: number; bytes: number } | Promise<{ ops: number; bytes: number }>;

interface Case {
  group: string;
  name: string;
  setup(): Promise<{ work: Work; teardown?: () => Promise<void> }>;
}

const PAYLOAD = Buffer.alloc(128, 0x61);

/** A typical event: a few fields, a short list (about 110 bytes of JSON). */
const EVENT = { id: 'T-1042', title: 'Printer on fire', tags: ['hardware', 'urgent'], priority: 2, open: true, createdAt: 1_700_000_000_000 };
/** A larger one: 20 records (about 2 KiB of JSON). */
const RECORDS = { page: 3, items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item-${i}`, price: i * 1.25, stock: i % 3 === 0 })) };
/** An event with an empty object inside: JSON has `{}` in it. */
const WITH_EMPTY = { ...EVENT, meta: {} };

/** A stream of n frames, the way a socket hands it over: 64 KiB chunks, frames split across them. */
function chunked(frame: Buffer, n: number): Buffer[] {
  const all = Buffer.concat(Array.from({ length: n }, () => frame));
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += 65536) out.push(all.subarray(i, i + 65536));
  return out;
}

const noop = (): void => {};

/** latin1Slice is on Buffer.prototype but not in the type definitions. */
function latin1(b: Buffer, start: number, end: number): string {
  return (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(start, end);
}


const cases: Case[] = [
  {
    group: 'parser',
    name: 'ServerParser: PUB stream, 128 B payloads',
    async setup() {
      const { ServerParser } = await load<ParserModule>('protocol/parser.js');
      const frame = Buffer.concat([Buffer.from('PUB bench.subject.one 128\r\n'), PAYLOAD, Buffer.from('\r\n')]);
      const chunks = chunked(frame, 20_000);
      let n = 0;
      const h: Handler = { connect: noop, pub: () => void n++, sub: noop, unsub: noop, ping: noop, pong: noop, error: noop };
      const p = new ServerParser(h, { maxPayload: 1 << 20 });
      const bytes = 20_000 * frame.length;
      return { work: () => { for (const c of chunks) p.parse(c); return { ops: 20_000, bytes }; } };
    },
  },
  {
    group: 'parser',
    name: 'ServerParser: PUB with reply subject (requests)',
    async setup() {
      const { ServerParser } = await load<ParserModule>('protocol/parser.js');
      const frame = Buffer.concat([Buffer.from('PUB svc.echo _INBOX.k2Lq0r3CdKq1B0FZbcXxYw.17 128\r\n'), PAYLOAD, Buffer.from('\r\n')]);
      const chunks = chunked(frame, 20_000);
      const h: Handler = { connect: noop, pub: noop, sub: noop, unsub: noop, ping: noop, pong: noop, error: noop };
      const p = new ServerParser(h, { maxPayload: 1 << 20 });
      const bytes = 20_000 * frame.length;
      return { work: () => { for (const c of chunks) p.parse(c); return { ops: 20_000, bytes }; } };
    },
  },
  {
    group: 'parser',
    name: '(floor) indexOf(LF) + latin1 subject + subarray per PUB, no checks',
    async setup() {
      // Not project code: the least any Buffer parser must do per frame, to show how far the real one is from it.
      const frame = Buffer.concat([Buffer.from('PUB bench.subject.one 128\r\n'), PAYLOAD, Buffer.from('\r\n')]);
      const all = Buffer.concat(Array.from({ length: 20_000 }, () => frame));
      let sink = 0;
      return {
        work: () => {
          let i = 0;
          while (i < all.length) {
            const lf = all.indexOf(10, i);
            const subject = latin1(all, i + 4, lf - 5);
            const p = all.subarray(lf + 1, lf + 129);
            sink += subject.length + p.length;
            i = lf + 131;
          }
          return { ops: 20_000 + (sink & 0), bytes: all.length };
        },
      };
    },
  },
  {
    group: 'parser',
    name: 'ClientParser: MSG stream, 128 B payloads',
    async setup() {
      const { ClientParser } = await load<ParserModule>('protocol/parser.js');
      const frame = Buffer.concat([Buffer.from('MSG bench.subject.one 1 128\r\n'), PAYLOAD, Buffer.from('\r\n')]);
      const chunks = chunked(frame, 20_000);
      const h: Handler = { info: noop, msg: noop, ok: noop, err: noop, ping: noop, pong: noop, error: noop };
      const p = new ClientParser(h, { maxPayload: 1 << 20 });
      const bytes = 20_000 * frame.length;
      return { work: () => { for (const c of chunks) p.parse(c); return { ops: 20_000, bytes }; } };
    },
  },
  {
    group: 'subjects',
    name: 'Sublist.match: literal, cached (1,000 subs, 100 subjects)',
    async setup() {
      const { Sublist } = await load<SublistModule>('server/sublist.js');
      const s = new Sublist();
      for (let i = 0; i < 1000; i++) s.insert({ subject: `bench.s${i}.data`, queue: undefined });
      s.insert({ subject: 'bench.*.data', queue: undefined });
      const subjects = Array.from({ length: 100 }, (_, i) => `bench.s${i * 7}.data`);
      let sink = 0;
      return {
        work: () => {
          for (let r = 0; r < 1000; r++) for (let i = 0; i < 100; i++) sink += s.match(subjects[i]!).plain.length;
          return { ops: 100_000 + (sink & 0), bytes: 0 };
        },
      };
    },
  },
  {
    group: 'subjects',
    name: 'Sublist.match: wildcard subs, new subjects (cache miss)',
    async setup() {
      const { Sublist } = await load<SublistModule>('server/sublist.js');
      const s = new Sublist();
      for (let i = 0; i < 1000; i++) s.insert({ subject: `bench.s${i}.data`, queue: undefined });
      for (const w of ['bench.*.data', 'bench.>', '*.*.data', 'orders.*.created', 'orders.>']) s.insert({ subject: w, queue: undefined });
      let k = 0;
      let sink = 0;
      return {
        work: () => {
          for (let i = 0; i < 20_000; i++) sink += s.match(`bench.u${k++}.data`).plain.length;
          return { ops: 20_000 + (sink & 0), bytes: 0 };
        },
      };
    },
  },
  {
    group: 'subjects',
    name: 'subjectMatches(pattern, subject)',
    async setup() {
      const { subjectMatches } = await load<SubjectModule>('protocol/subject.js');
      const pairs: [string, string][] = [['bench.*.data', 'bench.s1.data'], ['orders.>', 'orders.eu.created'], ['a.b.c', 'a.b.d'], ['*.*.data', 'bench.s2.data']];
      let sink = 0;
      return { work: () => { for (let i = 0; i < 100_000; i++) { const p = pairs[i & 3]!; if (subjectMatches(p[0], p[1])) sink++; } return { ops: 100_000 + (sink & 0), bytes: 0 }; } };
    },
  },
  {
    group: 'subjects',
    name: 'isValidLiteralSubject (each PUB of a pedantic client)',
    async setup() {
      const { isValidLiteralSubject } = await load<SubjectModule>('protocol/subject.js');
      let sink = 0;
      return { work: () => { for (let i = 0; i < 100_000; i++) if (isValidLiteralSubject('bench.subject.one')) sink++; return { ops: 100_000 + (sink & 0), bytes: 0 }; } };
    },
  },
  {
    group: 'encoder',
    name: 'Outbound.msg, as deliver: encoded subject head (per subject), sid (per subscription), size tail (per run)',
    async setup() {
      const { Outbound } = await load<OutboundModule>('protocol/outbound.js');
      const out = new Outbound();
      if (typeof out.msg !== 'function') throw new Error('Outbound.msg is gone');
      const head = Buffer.from('MSG bench.subject.one ', 'latin1');
      const sid = Buffer.from('1', 'latin1');
      const tail = Buffer.from(' ' + PAYLOAD.length + '\r\n', 'latin1');
      const size = head.length + sid.length + tail.length + PAYLOAD.length + 2;
      return {
        work: () => {
          for (let i = 0; i < 20_000; i++) {
            out.msg!(head, sid, tail, PAYLOAD);
            if ((i & 255) === 255) out.take();
          }
          out.take();
          return { ops: 20_000, bytes: 20_000 * size };
        },
      };
    },
  },
  ...[1, 4].map((subs): Case => ({
    group: 'hub',
    name: `hub PUB in → MSG out: 64 KiB chunks of PUBs into a connection → parse → route → deliver → write, ${subs} subscriber${subs > 1 ? 's' : ''}`,
    async setup() {
      // The hub's whole per-message path as in W1/W2, minus the publisher's socket read:
      // the chunks are handed to the publisher's connection as its socket would.
      const { createHub } = await load<IndexModule>('index.js');
      const hub = createHub({ host: '127.0.0.1', port: 0 });
      const [a] = await hub.listen();
      const sockets: Socket[] = [];
      const open = async (lines: string): Promise<Socket> => {
        const s = netConnect({ host: '127.0.0.1', port: a!.port! });
        await new Promise((r) => s.once('connect', r));
        s.write(`CONNECT {"verbose":false,"pedantic":false}\r\n${lines}PING\r\n`);
        await new Promise<void>((resolve) => s.on('data', (b: Buffer) => b.includes('PONG') && resolve()));
        s.removeAllListeners('data');
        s.resume(); // discard what the hub sends
        sockets.push(s);
        return s;
      };
      for (let i = 0; i < subs; i++) await open('SUB bench.subject.one 1\r\n');
      await open('');
      const conns = (hub as unknown as { connections: Set<{ receive(b: Buffer): void }> }).connections;
      if (!(conns instanceof Set)) throw new Error('hub.connections is gone');
      const publisher = [...conns].at(-1)!;
      const frame = Buffer.concat([Buffer.from('PUB bench.subject.one 128\r\n'), PAYLOAD, Buffer.from('\r\n')]);
      const chunks = chunked(frame, 20_000);
      const line = 'MSG bench.subject.one 1 128\r\n'.length + 130;
      return {
        work: async () => {
          for (let i = 0; i < chunks.length; i++) {
            publisher.receive(chunks[i]!);
            // A socket hands over a few reads per turn of the event loop.
            if ((i & 3) === 3) await new Promise((r) => setImmediate(r));
          }
          await new Promise((r) => setImmediate(r));
          return { ops: 20_000 * subs, bytes: 20_000 * subs * line };
        },
        teardown: async () => {
          for (const s of sockets) s.destroy();
          await hub.close({ grace: 0 });
        },
      };
    },
  })),
  ...[1, 4].map((subs): Case => ({
    group: 'encoder',
    name: `hub outbound path: publish → route → deliver → write, ${subs} subscriber${subs > 1 ? 's' : ''}`,
    async setup() {
      const { createHub } = await load<IndexModule>('index.js');
      const hub = createHub({ host: '127.0.0.1', port: 0 });
      const [a] = await hub.listen();
      const sockets: Socket[] = [];
      for (let i = 0; i < subs; i++) {
        const s = netConnect({ host: '127.0.0.1', port: a!.port! });
        await new Promise((r) => s.once('connect', r));
        s.write('CONNECT {"verbose":false,"pedantic":false}\r\nSUB bench.subject.one 1\r\nPING\r\n');
        await new Promise<void>((resolve) => s.on('data', (b: Buffer) => b.includes('PONG') && resolve()));
        s.removeAllListeners('data');
        s.resume(); // discard what the hub delivers
        sockets.push(s);
      }
      const line = 'MSG bench.subject.one 1 128\r\n'.length + 130;
      return {
        work: async () => {
          for (let b = 0; b < 20; b++) {
            for (let i = 0; i < 1000; i++) hub.publish('bench.subject.one', PAYLOAD);
            await new Promise((r) => setImmediate(r));
          }
          return { ops: 20_000 * subs, bytes: 20_000 * subs * line };
        },
        teardown: async () => {
          for (const s of sockets) s.destroy();
          await hub.close({ grace: 0 });
        },
      };
    },
  })),
  ...([
    ['a typical event object (~110 B of JSON)', EVENT],
    ['a 2 KiB object (20 records)', RECORDS],
    ['an event with an empty {} inside', WITH_EMPTY],
    ['a short string', 'printer on fire'],
  ] as const).map(([what, value]): Case => ({
    group: 'payload',
    name: `encodePayload: ${what}`,
    async setup() {
      const { encodePayload } = await load<CodecModule>('client/codec.js');
      const bytes = encodePayload(value, 'bench.subject.one').length;
      let sink = 0;
      return {
        work: () => {
          for (let i = 0; i < 20_000; i++) sink += encodePayload(value, 'bench.subject.one').length;
          return { ops: 20_000 + (sink & 0), bytes: 20_000 * bytes };
        },
      };
    },
  })),
  {
    group: 'payload',
    name: 'bus.emit of a typical event object, client → hub on loopback (nobody subscribed)',
    async setup() {
      const { createHub, connect } = await load<IndexModule>('index.js');
      const hub = createHub({ host: '127.0.0.1', port: 0 });
      const [a] = await hub.listen();
      const bus = await connect({ servers: a!.url, reconnect: false });
      return {
        work: async () => {
          for (let b = 0; b < 20; b++) {
            for (let i = 0; i < 1000; i++) if (!bus.emit('bench.subject.one', EVENT)) await bus.flush();
            await new Promise((r) => setImmediate(r));
          }
          await bus.flush();
          return { ops: 20_000, bytes: 0 };
        },
        teardown: async () => {
          await bus.close();
          await hub.close({ grace: 0 });
        },
      };
    },
  },
];

/**
 * Runs work for TIME_MS of wall time. Besides the wall-clock rates it reports
 * this process's CPU time (user + system) per operation: on a machine shared
 * with other work, wall time counts the moments the process was not running,
 * CPU time does not, so ns/op (CPU) is the figure to compare between builds.
 */
async function measure(work: Work): Promise<{ opsPerSec: number; mbPerSec: number; cpuNsPerOp: number }> {
  let ops = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < TIME_MS) {
    const r = await work();
    ops += r.ops;
    bytes += r.bytes;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  const c = process.cpuUsage(c0);
  return { opsPerSec: ops / (elapsed / 1000), mbPerSec: bytes / 1e6 / (elapsed / 1000), cpuNsPerOp: ((c.user + c.system) * 1000) / ops };
}

const results: { group: string; name: string; ops: Summary; mb: Summary | null; cpu: Summary | null; skipped?: string }[] = [];
console.log(`micro-benchmarks: ${RUNS} runs of ${TIME_MS} ms each after a warm-up, Node ${process.version}`);
for (const c of cases) {
  if (ONLY !== null && !ONLY.some((o) => c.group.includes(o) || c.name.includes(o))) continue;
  let ctx;
  try {
    ctx = await c.setup();
  } catch (err) {
    console.log(`skip ${c.group}: ${c.name}: ${(err as Error).message}`);
    results.push({ group: c.group, name: c.name, ops: summarize([]), mb: null, cpu: null, skipped: (err as Error).message });
    continue;
  }
  await measure(ctx.work); // warm-up: let the JIT settle
  const ops: number[] = [];
  const mbs: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const m = await measure(ctx.work);
    ops.push(m.opsPerSec);
    mbs.push(m.mbPerSec);
    cpus.push(m.cpuNsPerOp);
  }
  await ctx.teardown?.();
  const s = summarize(ops);
  const m = mbs.some((x) => x > 0) ? summarize(mbs) : null;
  const cpu = summarize(cpus);
  results.push({ group: c.group, name: c.name, ops: s, mb: m, cpu });
  console.log(`  ${c.group.padEnd(8)} ${c.name}: ${si(s.median)} ops/s${m ? `, ${fixed(m.median, 0)} MB/s` : ''}, ${fixed(cpu.median, 0)} CPU ns/op (spread ${pct(s.spread)} wall, ${pct(cpu.spread)} CPU)`);
}

const rows = [['group', 'case', 'ops/s', 'MB/s', 'ns/op (wall)', 'ns/op (CPU)', 'spread (wall)', 'spread (CPU)']];
for (const r of results) {
  if (r.skipped || r.cpu === null) rows.push([r.group, r.name, 'skipped', '', '', '', '', '']);
  else rows.push([r.group, r.name, si(r.ops.median), r.mb ? fixed(r.mb.median, 0) : '-', fixed(1e9 / r.ops.median, 0), fixed(r.cpu.median, 0), pct(r.ops.spread), pct(r.cpu.spread)]);
}
console.log(`\n${table(rows)}`);
const file = args.out ?? join(ROOT, 'bench', 'results', `micro-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ kind: 'netemitter-bench-micro', date: new Date().toISOString(), node: process.version, timeMs: TIME_MS, runs: RUNS, results }, null, 2));
console.log(`\nJSON: ${file}`);
console.log(JSON.stringify(results.map((r) => ({ case: `${r.group}: ${r.name}`, opsPerSec: r.skipped ? null : Math.round(r.ops.median), mbPerSec: r.mb ? Number(r.mb.median.toFixed(1)) : null, cpuNsPerOp: r.cpu ? Math.round(r.cpu.median) : null, spread: r.skipped ? null : Number(r.ops.spread.toFixed(3)) }))));
process.exit(0);
