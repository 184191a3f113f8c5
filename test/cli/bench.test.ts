/**
 * `netemitter bench` against the target server (our hub, or nats-server with
 * NETEMITTER_TARGET=nats-server): every message accounted for, in both modes,
 * and usage errors. No speed is asserted.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/target.js';
import { runCli, killAll, oneLine } from '../helpers/cli.js';

after(killAll);

describe('netemitter bench', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('pub/sub: 2 publishers, 3 subscribers, every subscriber gets every message', async () => {
    const r = await runCli(['bench', 'bench.t1', '-s', server.url, '--pub', '2', '--sub', '3', '--msgs', '3001', '--size', '64', '--json'], {}, 60_000);
    assert.equal(r.exit.code, 0, r.output());
    const j = JSON.parse(r.stdout) as { published: { msgs: number }; received: { msgs: number }; latencyUs: { p50: number; p99: number } };
    assert.equal(j.published.msgs, 3001);
    assert.equal(j.received.msgs, 3001 * 3);
    assert.ok(j.latencyUs.p99 >= j.latencyUs.p50 && j.latencyUs.p50 > 0);
  });

  it('pub/sub with --queue: the group shares the messages, each once', async () => {
    const r = await runCli(['bench', 'bench.t2', '-s', server.url, '--sub', '3', '--queue', '--msgs', '2000', '--json'], {}, 60_000);
    assert.equal(r.exit.code, 0, r.output());
    assert.equal((JSON.parse(r.stdout) as { received: { msgs: number } }).received.msgs, 2000);
  });

  it('request mode prints a table with round trips and latency percentiles', async () => {
    const r = await runCli(['bench', 'bench.t3', '-s', server.url, '--request', '--pub', '2', '--sub', '2', '--concurrency', '4', '--msgs', '1000'], {}, 60_000);
    assert.equal(r.exit.code, 0, r.output());
    assert.match(r.stdout, /^netemitter bench: request\/reply, 2 requester\(s\), 2 responder\(s\), 1,000 msgs of 128 B/);
    assert.match(r.stdout, /round trips\s+1,000\s/);
    assert.match(r.stdout, /latency \(µs\): p50 [\d,]+ {3}p90 [\d,]+ {3}p99 [\d,]+/);
  });

  it('pub/sub with payloads under 8 bytes: latency is n/a in the table and null in --json, not 0', async () => {
    const [j, t] = await Promise.all([
      runCli(['bench', 'bench.t4', '-s', server.url, '--msgs', '500', '--size', '7', '--json'], {}, 60_000),
      runCli(['bench', 'bench.t5', '-s', server.url, '--msgs', '500', '--size', '0'], {}, 60_000),
    ]);
    assert.equal(j.exit.code, 0, j.output());
    const result = JSON.parse(j.stdout) as { received: { msgs: number }; latencyUs: unknown };
    assert.equal(result.received.msgs, 500);
    assert.equal(result.latencyUs, null);
    assert.equal(t.exit.code, 0, t.output());
    assert.match(t.stdout, /^latency \(µs\): n\/a \(payloads under 8 bytes cannot carry the send time\)$/m);
  });

  it('request/reply times round trips itself: latency with any payload size', async () => {
    const r = await runCli(['bench', 'bench.t6', '-s', server.url, '--request', '--msgs', '200', '--size', '0', '--json'], {}, 60_000);
    assert.equal(r.exit.code, 0, r.output());
    const l = (JSON.parse(r.stdout) as { latencyUs: { p50: number; max: number } | null }).latencyUs;
    assert.ok(l !== null && l.max >= l.p50, r.stdout);
  });

  it('a bad count is a usage error: one line, exit 2', async () => {
    const r = await runCli(['bench', '--msgs', 'lots', '-s', server.url]);
    assert.equal(r.exit.code, 2);
    assert.match(oneLine(r.stderr), /invalid value for --msgs: "lots"/);
  });

  it('an unreachable server is a runtime error: one line, exit 1', async () => {
    const r = await runCli(['bench', '-s', 'nats://127.0.0.1:1', '--msgs', '10'], {}, 20_000);
    assert.equal(r.exit.code, 1);
    oneLine(r.stderr);
  });
});
