/**
 * Two fuzzers, both deterministic for a seed:
 *
 * - parser: each input is parsed whole and in random chunks; both runs must
 *   report the same operations (the oracle), no exception may escape, and no
 *   input may take long.
 * - pipeline: each input is sent to a live hub on its own connection, in
 *   random chunks; an observer subscribed to `>` parses everything the hub
 *   sends it (any malformed frame fails), the hub must keep routing (a
 *   health check every few hundred inputs), and at the end no connection or
 *   subscription may be left behind and memory must be bounded.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { ServerParser, ClientParser, type ServerParserHandler } from '../../src/protocol/parser.js';
import { createHub } from '../../src/index.js';
import { CONNECT, Rng, input, split } from './corpus.js';

export interface FuzzResult {
  target: string;
  runs: number;
  seed: number;
  failures: string[];
  maxInputMs: number;
  rssStartMB: number;
  rssEndMB: number;
  seconds: number;
}

const mb = (n: number): number => Math.round((n / 1048576) * 10) / 10;

function recorder(): { events: string[]; handler: ServerParserHandler } {
  const events: string[] = [];
  return {
    events,
    handler: {
      connect: (j) => events.push(`C ${j}`),
      pub: (s, r, h, p, w) => events.push(`P ${s} ${r} ${h} ${w} ${Buffer.from(p).toString('base64')}`),
      sub: (s, q, sid) => events.push(`S ${s} ${q} ${sid}`),
      unsub: (sid, max) => events.push(`U ${sid} ${max}`),
      ping: () => events.push('PING'),
      pong: () => events.push('PONG'),
      error: (e) => events.push(`E ${e.text}`),
    },
  };
}

export function fuzzParser(runs: number, seed: number, onProgress?: (done: number) => void): FuzzResult {
  const rng = new Rng(seed);
  const failures: string[] = [];
  const start = performance.now();
  const rss0 = process.memoryUsage().rss;
  let maxMs = 0;
  const opts = { maxControlLine: 4096, maxPayload: 1024 * 1024 };
  for (let i = 0; i < runs; i++) {
    const data = input(rng);
    const chunks = split(rng, data);
    const t0 = performance.now();
    try {
      const whole = recorder();
      new ServerParser(whole.handler, opts).parse(data);
      const parts = recorder();
      const p = new ServerParser(parts.handler, opts);
      for (const c of chunks) p.parse(c);
      const a = whole.events.join('\n');
      const b = parts.events.join('\n');
      if (a !== b && failures.length < 20) {
        failures.push(`input ${i}: split parse differs from whole parse: ${JSON.stringify(data.toString('latin1').slice(0, 200))}`);
      }
      // The client-side parser must survive the same bytes.
      const cp = new ClientParser({ info() {}, msg() {}, ok() {}, err() {}, ping() {}, pong() {}, error() {} });
      for (const c of chunks) cp.parse(c);
    } catch (err) {
      if (failures.length < 20) failures.push(`input ${i}: exception ${(err as Error).stack}`);
    }
    const dt = performance.now() - t0;
    if (dt > maxMs) maxMs = dt;
    if (onProgress !== undefined && (i + 1) % 100_000 === 0) onProgress(i + 1);
  }
  return {
    target: 'parser',
    runs,
    seed,
    failures,
    maxInputMs: Math.round(maxMs * 100) / 100,
    rssStartMB: mb(rss0),
    rssEndMB: mb(process.memoryUsage().rss),
    seconds: Math.round((performance.now() - start) / 100) / 10,
  };
}

/** Sends one input on its own connection; resolves when the socket is gone (bounded). */
function sendOne(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const sock: Socket = netConnect({ host: '127.0.0.1', port });
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    };
    const timer = setTimeout(done, 2000);
    sock.on('error', () => {});
    sock.on('close', done);
    sock.on('data', () => {});
    sock.once('connect', () => {
      for (const c of chunks) sock.write(c);
      sock.end();
    });
  });
}

export async function fuzzPipeline(runs: number, seed: number, onProgress?: (done: number) => void): Promise<FuzzResult> {
  const rng = new Rng(seed);
  const failures: string[] = [];
  const start = performance.now();
  const hub = createHub({ port: 0, maxPayload: 64 * 1024, maxPending: 4 * 1024 * 1024, writeDeadline: 2000, connectTimeout: 1000 });
  const [addr] = await hub.listen();
  const port = addr!.port!;
  let observed = 0;
  let markers = 0;
  // The observer: everything the hub sends must parse.
  const observer = netConnect({ host: '127.0.0.1', port });
  const parser = new ClientParser({
    info() {},
    msg(subject) {
      observed++;
      if (subject === 'fuzz.health') markers++;
    },
    ok() {},
    err(text) {
      if (failures.length < 20) failures.push(`observer got -ERR ${text}`);
    },
    ping() {
      observer.write('PONG\r\n');
    },
    pong() {},
    error(e) {
      if (failures.length < 20) failures.push(`hub sent malformed bytes to the observer: ${e.message}`);
    },
  });
  observer.on('data', (c: Buffer) => parser.parse(c));
  observer.write(CONNECT + 'SUB > 1\r\nPING\r\n');
  const healthy = netConnect({ host: '127.0.0.1', port });
  healthy.on('data', () => {});
  healthy.write(CONNECT);
  await new Promise((r) => setTimeout(r, 100));
  const rss0 = process.memoryUsage().rss;

  const health = async (): Promise<void> => {
    const want = markers + 1;
    healthy.write('PUB fuzz.health 2\r\nok\r\n');
    const until = Date.now() + 5000;
    while (markers < want && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    if (markers < want && failures.length < 20) failures.push(`hub stopped routing (health check ${want} not delivered)`);
  };

  let maxMs = 0;
  const WIDTH = 16;
  for (let i = 0; i < runs; i += WIDTH) {
    const batch: Promise<void>[] = [];
    const t0 = performance.now();
    for (let k = 0; k < WIDTH && i + k < runs; k++) batch.push(sendOne(port, split(rng, input(rng))));
    await Promise.all(batch);
    const dt = performance.now() - t0;
    if (dt > maxMs) maxMs = dt;
    if ((i / WIDTH) % 32 === 0) await health();
    if (onProgress !== undefined && Math.floor((i + WIDTH) / 10_000) > Math.floor(i / 10_000)) onProgress(Math.min(i + WIDTH, runs));
    if (failures.length >= 20) break;
  }
  await health();
  // Every fuzz connection is gone: only the observer and the health publisher remain.
  const settle = Date.now() + 3000;
  while (hub.stats().connections > 2 && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
  const s = hub.stats();
  if (s.connections !== 2) failures.push(`connections left behind: ${s.connections - 2}`);
  if (s.subscriptions !== 1) failures.push(`subscriptions left behind: ${s.subscriptions - 1}`);
  const rss1 = process.memoryUsage().rss;
  observer.destroy();
  healthy.destroy();
  await hub.close({ grace: 0 });
  void observed;
  return {
    target: 'pipeline',
    runs,
    seed,
    failures,
    maxInputMs: Math.round(maxMs),
    rssStartMB: mb(rss0),
    rssEndMB: mb(rss1),
    seconds: Math.round((performance.now() - start) / 100) / 10,
  };
}
