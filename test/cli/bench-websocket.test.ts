/**
 * The bench's WebSocket suite (`npm run bench -- --websocket`,
 * bench/lib/websocket-suite.ts): its command line is checked like the other
 * suites' (BENCH_CHECK_ARGS=1: nothing is benchmarked); its nats.ws client
 * (bench/lib/clients.ts) publishes, subscribes and requests over the target
 * server's ws:// listener (our hub, or nats-server with
 * NETEMITTER_TARGET=nats-server); and one tiny run of the suite succeeds for
 * every peer over WebSocket, the hub's and nats-server's listeners started by
 * the bench itself. No speed is asserted.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, killAll, oneLine } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/target.js';
import { openClient, type BenchClient } from '../../bench/lib/clients.js';

const servers: TestServer[] = [];
const clients: BenchClient[] = [];
after(async () => {
  await killAll();
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled(servers.map((s) => s.stop()));
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]);
}

const MAIN = fileURLToPath(new URL('../../bench/main.js', import.meta.url));

async function checkArgs(args: string[]): Promise<Child> {
  const p = new Child(process.execPath, [MAIN, ...args], { env: { BENCH_CHECK_ARGS: '1' }, name: `bench ${args.join(' ')}` });
  await p.waitForExit(30_000);
  return p;
}

describe('bench --websocket: the command line', () => {
  const ACCEPTED: string[][] = [
    ['--websocket'],
    ['--websocket', '--runs', '5', '--workloads', 'w1', '--messages', '300000'],
    ['--websocket', '--workloads', 'w3', '--rate', '5000', '--duration', '3', '--peers', 'hub,nats-server'],
    ['--profile', '--websocket'],
    ['--profile', '--websocket', '--client', 'ours', '--messages', '300000'],
  ];
  for (const args of ACCEPTED) {
    it(`${args.join(' ')}: accepted`, async () => {
      const r = await checkArgs(args);
      assert.equal(r.exit?.code, 0, r.output());
      assert.equal(r.stdout, 'bench: arguments ok\n');
      assert.equal(r.stderr, '');
    });
  }

  /** [arguments, the one line they are refused with] */
  const REFUSED: [string[], RegExp][] = [
    [['--websocket', '--workloads', 'w2'], /unknown workload w2: expected some of w1,w3/],
    [['--websocket', '--security'], /--websocket runs on its own \(or with --profile\): not with --security, --monitor, --tls or --auth/],
    [['--websocket', '--tls'], /--websocket runs on its own \(or with --profile\)/],
    [['--websocket', '--auth', 'perms'], /--websocket runs on its own \(or with --profile\)/],
    [['--websocket', '--monitor'], /--websocket runs on its own \(or with --profile\)/],
    [['--websocket', '--runs', '0'], /--runs needs a positive number, got "0"/],
  ];
  for (const [args, message] of REFUSED) {
    it(`${args.join(' ')}: one line, exit 2`, async () => {
      const r = await checkArgs(args);
      assert.equal(r.exit?.code, 2, r.output());
      assert.match(oneLine(r.stderr), new RegExp(`^bench: ${message.source}`));
      assert.equal(r.stdout, '');
    });
  }

  it('--help lists --websocket', async () => {
    const p = new Child(process.execPath, [MAIN, '--help'], { name: 'bench --help' });
    await p.waitForExit(30_000);
    assert.equal(p.exit?.code, 0, p.output());
    assert.match(p.stdout, /^ {2}--websocket {11}W1 with nats\.ws and with our client over ws:\/\//m);
  });
});

describe('bench --websocket: the nats.ws client', () => {
  it('publishes, subscribes and requests over the target\'s ws:// listener', async () => {
    const s = await startServer({ websocket: true });
    servers.push(s);
    const url = s.wsUrl;
    assert.ok(url !== undefined && url.startsWith('ws://'), String(url));
    const sub = await openClient('nats-ws', url);
    clients.push(sub);
    const pub = await openClient('nats-ws', url);
    clients.push(pub);
    const got: string[] = [];
    const all = new Promise<void>((resolve) => {
      void sub.subscribe('bench.pubsub', (d) => {
        got.push(Buffer.from(d).toString());
        if (got.length === 3) resolve();
      });
    });
    await withTimeout(sub.roundTrip(), 5000, 'subscriber flush');
    await sub.serve('bench.request');
    for (const m of ['a', 'bb', 'ccc']) pub.publish('bench.pubsub', Buffer.from(m));
    await withTimeout(pub.roundTrip(), 5000, 'publisher flush');
    await withTimeout(all, 5000, 'the three messages');
    assert.deepEqual(got, ['a', 'bb', 'ccc']);
    const reply = (await withTimeout(pub.request('bench.request', Buffer.from('ping')), 5000, 'the reply')) as { data: Uint8Array };
    assert.equal(Buffer.from(reply.data).toString(), 'ping');
  });

  it('refuses a URL that is not ws:// or wss://', async () => {
    await assert.rejects(openClient('nats-ws', 'nats://127.0.0.1:4222'), /nats\.ws needs a ws:\/\/ or wss:\/\/ URL, got nats:\/\/127\.0\.0\.1:4222/);
  });
});

describe('bench --websocket: one tiny run', () => {
  it('--websocket --runs 1, the WebSocket peers: every run succeeds, and the report has the hub ÷ nats-server ratios', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netemitter-bench-ws-'));
    try {
      const out = join(dir, 'websocket.json');
      const args = [MAIN, '--websocket', '--runs', '1', '--messages', '3000', '--rate', '1000', '--duration', '1', '--peers', '+ws/', '--out', out];
      const p = new Child(process.execPath, args, { name: 'bench --websocket' });
      await p.waitForExit(180_000);
      assert.equal(p.exit?.code, 0, p.output());
      type Report = { kind: string; skipped: Record<string, string>; records: { caseId: string; peer: string; ok: boolean; error?: string; metrics: Record<string, number> }[]; ratios: { workload: string; a: string; b: string }[] };
      const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
      assert.equal(report.kind, 'netemitter-bench-websocket');
      const expected: Record<string, string[]> = {
        w1: ['hub+ws/nats.ws', 'nats-server+ws/nats.ws', 'hub+ws/ours', 'nats-server+ws/ours'],
        w3: ['hub+ws/nats.ws', 'nats-server+ws/nats.ws'],
      };
      for (const [caseId, peers] of Object.entries(expected)) {
        for (const peer of peers) {
          const r = report.records.find((x) => x.caseId === caseId && x.peer === peer);
          // The hub is always there; nats-server when installed.
          if (r === undefined && peer.startsWith('nats-server') && report.skipped[peer] !== undefined) continue;
          assert.ok(r !== undefined, `${caseId} ${peer}: no run in ${JSON.stringify(report.records.map((x) => `${x.caseId} ${x.peer}`))}`);
          assert.equal(r.ok, true, `${caseId} ${peer}: ${r.error}`);
          const lead = caseId === 'w1' ? r.metrics['msgs/s'] : r.metrics['p99 µs'];
          assert.ok(lead !== undefined && Number.isFinite(lead) && lead > 0, `${caseId} ${peer}: ${JSON.stringify(r.metrics)}`);
        }
      }
      // The TCP baseline was not selected: no run of it.
      assert.ok(!report.records.some((r) => !r.peer.includes('+ws/')), JSON.stringify(report.records.map((r) => r.peer)));
      if (report.skipped['nats-server+ws/nats.ws'] === undefined) {
        assert.ok(report.ratios.some((r) => r.workload === 'w1' && r.a === 'hub+ws/nats.ws' && r.b === 'nats-server+ws/nats.ws'), JSON.stringify(report.ratios));
        assert.match(p.stdout, /w1 +msgs\/s +hub\+ws\/nats\.ws ÷ nats-server\+ws\/nats\.ws +[\d.]+×/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
