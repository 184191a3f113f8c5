/**
 * The bench's WebSocket suite (`npm run bench -- --websocket`,
 * bench/lib/websocket-suite.ts): its command line is checked like the other
 * suites' (BENCH_CHECK_ARGS=1: nothing is benchmarked). No speed is asserted.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Child, killAll, oneLine } from '../helpers/cli.js';

after(killAll);

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
