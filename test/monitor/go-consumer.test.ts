/**
 * The "done when" of the monitoring issue, tested with a real consumer:
 * test/consumers/monitor-reader (Go) reads /varz, /connz, /subsz, /jsz,
 * /healthz and /accountz into nats-server's own Go types, as nats-top and
 * prometheus-nats-exporter do, so a field of the wrong JSON type fails it.
 * Both targets. It needs Go and Debian's golang-github-nats-io-nats-server-dev
 * (.ci/run installs them); without them the suite says so and skips.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startServer, type TestServer } from '../helpers/target.js';
import { closeAll, connectTo } from '../helpers/client.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE = join(ROOT, 'test', 'consumers', 'monitor-reader');
const GOPATH = '/usr/share/gocode';
const GO_ENV = { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '' };

async function missing(): Promise<string | false> {
  if (!existsSync(join(GOPATH, 'src', 'github.com', 'nats-io', 'nats-server', 'server', 'monitor.go'))) {
    return 'needs Debian golang-github-nats-io-nats-server-dev (nats-server Go types)';
  }
  return run('go', ['version'], { timeout: 10_000 }).then(
    () => false as const,
    () => 'needs Go (Debian golang-go)',
  );
}

const skip = await missing();

describe('a Go consumer reads the monitoring documents into nats-server types', { skip }, () => {
  let server: TestServer;
  let dir: string;
  let reader: string;
  const conns: NatsConnection[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-go-'));
    reader = join(dir, 'monitor-reader');
    // The first build compiles nats-server's server package (about 10 s on two cores); Go caches it.
    await run('go', ['build', '-o', reader, '.'], { cwd: SOURCE, env: GO_ENV, timeout: 240_000 });
    server = await startServer({ monitor: true, jetstream: true });
    const nc = await connectTo(server, { name: 'go-reader-sub' });
    conns.push(nc);
    nc.subscribe('reader.>');
    for (let i = 0; i < 3; i++) nc.publish('reader.x', 'hello');
    await nc.flush();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'READER', subjects: ['reader.s.>'] });
    await jsm.consumers.add('READER', { durable_name: 'd1' });
    const gone = await connectTo(server, { name: 'go-reader-gone' });
    await gone.close();
  }, { timeout: 300_000 });
  after(async () => {
    await closeAll(...conns);
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('decodes every document, and reads the same state as the load made', async () => {
    // The closed connection shows in /connz once the server has processed it: read until it does, bounded.
    let out = '';
    for (let i = 0; i < 50 && !out.includes('go-reader-gone:'); i++) {
      out = (await run(reader, [server.monitorUrl!], { timeout: 30_000 })).stdout;
    }
    const line = (name: string): string => {
      const l = out.split('\n').find((x) => x.startsWith(name + ' '));
      assert.ok(l !== undefined, `no ${name} line in:\n${out}`);
      return l;
    };
    assert.match(line('varz'), /conns=[1-9]\d* total=[2-9]\d* subs=[1-9]/);
    assert.match(line('varz'), /start_ok=true ping_interval=2m0s max_payload=1048576/);
    assert.match(line('connz'), /go-reader-sub:[1-9]\d*:[3-9]\d*:\d+:/);
    assert.match(line('connz'), /go-reader-gone:0:0:0:Client Closed/);
    assert.match(line('connz-detail'), /limit=1 details=[1-9]/);
    assert.match(line('subsz'), /listed=[1-9]/);
    assert.match(line('jsz'), /disabled=false streams=1 consumers=1 messages=0 detail=\[READER:0:1\]/);
    assert.equal(line('healthz'), 'healthz status=ok');
    assert.match(line('accountz'), /accounts=[1-9]/);
    const gauges = Number(/gauges=(\d+)/.exec(line('exporter'))![1]);
    assert.ok(gauges >= 20, `only ${gauges} numeric /varz fields`);
  });
});
