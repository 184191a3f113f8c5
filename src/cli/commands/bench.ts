/**
 * `netemitter bench`: a load generator for sizing a deployment, in the
 * spirit of `nats bench`. Publishers and subscribers (or requesters and
 * responders) are separate connections of our client in this process,
 * against any hub or NATS server.
 *
 *   pub/sub: each publisher sends msgs/pubs messages on SUBJECT; every
 *            subscriber must receive all of them (or, with --queue, the
 *            group shares them). Payloads carry their send time, so
 *            latencies are end to end (queueing included under full load).
 *   request: each requester sends msgs/pubs requests, --concurrency at a
 *            time; --sub responders answer in a queue group.
 *
 * A progress bar on stderr (when it is a terminal), a table on stdout, or
 * JSON with --json.
 */
import type { Command } from 'commander';
import type { Bus } from '../../client/bus.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseCount, parseSize } from '../values.js';
import { checkSubject, connectBus, flagValue, serverOption, withConnectionFlags, type ConnectionFlags } from './common.js';

interface BenchFlags extends ConnectionFlags {
  pub: string;
  sub: string;
  msgs: string;
  size: string;
  request?: boolean;
  queue?: boolean;
  concurrency: string;
  json?: boolean;
}

export interface BenchResult {
  mode: 'pubsub' | 'request';
  server: string;
  publishers: number;
  subscribers: number;
  messages: number;
  size: number;
  seconds: number;
  published: { msgs: number; msgsPerSec: number; mbPerSec: number };
  received: { msgs: number; msgsPerSec: number; mbPerSec: number };
  /** null when nothing was timed: pub/sub with payloads under TIMESTAMP_BYTES, or no subscribers. */
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number } | null;
}

/** A pub/sub payload carries its send time in its first 8 bytes (a double). */
const TIMESTAMP_BYTES = 8;

const HELP_AFTER = `
Examples:
  netemitter bench bench.subject --pub 1 --sub 1 --msgs 1000000 --size 128
  netemitter bench bench.subject --pub 2 --sub 4 --queue
  netemitter bench svc.echo --request --pub 4 --sub 2 --concurrency 16 --json`;

export function registerBench(program: Command): void {
  const command = program
    .command('bench')
    .description('measure publish/subscribe or request/reply throughput and latency')
    .argument('[subject]', 'subject to use', 'netemitter.bench')
    .addOption(serverOption())
    .option('--pub <n>', 'publishers (requesters with --request)', '1')
    .option('--sub <n>', 'subscribers (responders with --request)', '1')
    .option('--msgs <n>', 'messages in total, shared by the publishers', '100000')
    .option('--size <bytes>', `payload size; pub/sub latency needs at least ${TIMESTAMP_BYTES} bytes for the send time`, '128')
    .option('--request', 'request/reply instead of publish/subscribe')
    .option('--queue', 'subscribers share the messages as a queue group')
    .option('--concurrency <n>', 'requests in flight per requester', '1')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', HELP_AFTER)
    .action(async function benchAction(this: Command, subject: string): Promise<void> {
      const f = this.opts<BenchFlags>();
      checkSubject(subject, false);
      const pubs = flagValue('--pub', f.pub, (r) => parseCount(r, 1));
      const subs = flagValue('--sub', f.sub, (r) => parseCount(r, f.request === true ? 1 : 0));
      const msgs = flagValue('--msgs', f.msgs, (r) => parseCount(r, 1));
      const size = flagValue('--size', f.size, (r) => parseSize(r, 0));
      const concurrency = flagValue('--concurrency', f.concurrency, (r) => parseCount(r, 1));
      const opts = { server: f.server, flags: f as ConnectionFlags, subject, pubs, subs, msgs, size, concurrency, queue: f.queue === true };
      const result = f.request === true ? await requestBench(opts) : await pubSubBench(opts);
      if (f.json === true) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(table(result));
      exitWith(ExitCode.OK);
    });
  withConnectionFlags(command);
}

interface Plan {
  server: string;
  /** How to connect: --server and the credential and TLS flags. */
  flags: ConnectionFlags;
  subject: string;
  pubs: number;
  subs: number;
  msgs: number;
  size: number;
  concurrency: number;
  queue: boolean;
}

/** Microseconds since an arbitrary origin, as a double (fits a payload's first 8 bytes). */
function nowUs(): number {
  return performance.timeOrigin * 1000 + performance.now() * 1000;
}

function payload(size: number): Buffer {
  return Buffer.alloc(size, 0x61);
}

class Progress {
  private readonly timer: NodeJS.Timeout | null;
  private done = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {
    this.timer = process.stderr.isTTY ? setInterval(() => this.draw(), 200) : null;
  }
  set(n: number): void {
    this.done = n;
  }
  private draw(): void {
    const width = 30;
    const frac = Math.min(1, this.done / this.total);
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    process.stderr.write(`\r${this.label} [${bar}] ${this.done}/${this.total}`);
  }
  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.draw();
    process.stderr.write('\n');
  }
}

async function open(flags: ConnectionFlags, n: number, role: string): Promise<Bus[]> {
  const out: Bus[] = [];
  for (let i = 0; i < n; i++) out.push(await connectBus(flags, `bench ${role} ${i + 1}`, { reconnect: false }));
  return out;
}

async function pubSubBench(p: Plan): Promise<BenchResult> {
  const subscribers = await open(p.flags, p.subs, 'sub');
  const publishers = await open(p.flags, p.pubs, 'pub');
  const expected = p.subs === 0 ? 0 : p.queue ? p.msgs : p.msgs * p.subs;
  const latencies = new Float64Array(p.size >= TIMESTAMP_BYTES ? Math.min(expected, 1_000_000) : 0);
  let received = 0;
  let allIn!: () => void;
  const complete = new Promise<void>((resolve) => (allIn = resolve));
  if (expected === 0) allIn();
  const onMsg = (data: Buffer): void => {
    if (data.length >= TIMESTAMP_BYTES && received < latencies.length) latencies[received] = nowUs() - data.readDoubleLE(0);
    if (++received === expected) allIn();
  };
  for (const s of subscribers) s.on(p.subject, onMsg, p.queue ? { queue: 'bench', raw: true } : { raw: true });
  await Promise.all(subscribers.map((s) => s.flush()));
  const progress = new Progress('bench', expected || p.msgs);
  const tick = setInterval(() => progress.set(received), 100);
  const start = performance.now();
  let published = 0;
  await Promise.all(
    publishers.map(async (bus, i) => {
      const mine = Math.floor(p.msgs / p.pubs) + (i < p.msgs % p.pubs ? 1 : 0);
      for (let k = 0; k < mine; k++) {
        const data = payload(p.size);
        if (p.size >= TIMESTAMP_BYTES) data.writeDoubleLE(nowUs(), 0);
        published++;
        // Flow control: past the high-water mark, wait for the server to catch up.
        if (!bus.emit(p.subject, data) || k % 1000 === 999) await bus.flush();
      }
      await bus.flush();
    }),
  );
  const pubSeconds = (performance.now() - start) / 1000;
  await complete;
  const seconds = (performance.now() - start) / 1000;
  clearInterval(tick);
  progress.set(received);
  progress.stop();
  await Promise.all([...publishers, ...subscribers].map((b) => b.close()));
  return {
    mode: 'pubsub',
    server: p.server,
    publishers: p.pubs,
    subscribers: p.subs,
    messages: p.msgs,
    size: p.size,
    seconds: round(seconds, 3),
    published: rate(published, p.size, pubSeconds),
    received: rate(received, p.size, seconds),
    latencyUs: percentiles(latencies.subarray(0, Math.min(received, latencies.length))),
  };
}

async function requestBench(p: Plan): Promise<BenchResult> {
  const responders = await open(p.flags, p.subs, 'reply');
  for (const r of responders) r.handle(p.subject, (_req: unknown, meta) => meta.data, { queue: 'bench' });
  await Promise.all(responders.map((r) => r.flush()));
  const requesters = await open(p.flags, p.pubs, 'req');
  const latencies = new Float64Array(Math.min(p.msgs, 1_000_000));
  let done = 0;
  const progress = new Progress('bench', p.msgs);
  const tick = setInterval(() => progress.set(done), 100);
  const data = payload(p.size);
  const start = performance.now();
  await Promise.all(
    requesters.map(async (bus, i) => {
      let left = Math.floor(p.msgs / p.pubs) + (i < p.msgs % p.pubs ? 1 : 0);
      const worker = async (): Promise<void> => {
        while (left > 0) {
          left--;
          const t0 = nowUs();
          await bus.request(p.subject, data, { timeout: 10_000 });
          if (done < latencies.length) latencies[done] = nowUs() - t0;
          done++;
        }
      };
      await Promise.all(Array.from({ length: p.concurrency }, worker));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  clearInterval(tick);
  progress.set(done);
  progress.stop();
  await Promise.all([...requesters, ...responders].map((b) => b.close()));
  const r = rate(done, p.size, seconds);
  return {
    mode: 'request',
    server: p.server,
    publishers: p.pubs,
    subscribers: p.subs,
    messages: p.msgs,
    size: p.size,
    seconds: round(seconds, 3),
    published: r,
    received: r,
    latencyUs: percentiles(latencies.subarray(0, Math.min(done, latencies.length))),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function rate(msgs: number, size: number, seconds: number): { msgs: number; msgsPerSec: number; mbPerSec: number } {
  const s = seconds > 0 ? seconds : 1e-9;
  return { msgs, msgsPerSec: Math.round(msgs / s), mbPerSec: round((msgs * size) / s / 1048576, 2) };
}

function percentiles(values: Float64Array): BenchResult['latencyUs'] {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: Math.round(sorted[sorted.length - 1]!) };
}

function table(r: BenchResult): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const mode = r.mode === 'pubsub' ? 'publish/subscribe' : 'request/reply';
  const who = r.mode === 'pubsub' ? `${r.publishers} publisher(s), ${r.subscribers} subscriber(s)` : `${r.publishers} requester(s), ${r.subscribers} responder(s)`;
  const rows = [
    ['', 'msgs', 'msgs/s', 'MB/s'],
    [r.mode === 'pubsub' ? 'published' : 'round trips', n(r.published.msgs), n(r.published.msgsPerSec), String(r.published.mbPerSec)],
  ];
  if (r.mode === 'pubsub') rows.push(['received', n(r.received.msgs), n(r.received.msgsPerSec), String(r.received.mbPerSec)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   '));
  const l = r.latencyUs;
  const why = r.size < TIMESTAMP_BYTES ? `payloads under ${TIMESTAMP_BYTES} bytes cannot carry the send time` : 'no message was received';
  return [
    `netemitter bench: ${mode}, ${who}, ${n(r.messages)} msgs of ${r.size} B, ${r.server}, ${r.seconds} s`,
    ...lines,
    l === null
      ? `latency (µs): n/a (${why})`
      : `latency (µs): p50 ${n(l.p50)}   p90 ${n(l.p90)}   p99 ${n(l.p99)}   p99.9 ${n(l.p999)}   max ${n(l.max)}`,
    '',
  ].join('\n');
}
