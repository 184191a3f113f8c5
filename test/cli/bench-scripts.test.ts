/**
 * The bench scripts' command lines (bench/lib/args.ts): `--help` prints the
 * usage and exits 0; an unknown option or a bad value gets one line naming
 * the script and exit code 2; with BENCH_CHECK_ARGS=1 a valid command line
 * prints `<script>: arguments ok` and exits 0. Nothing is benchmarked.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Child, killAll, oneLine } from '../helpers/cli.js';

after(killAll);

const BENCH_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));

/** [file under dist/bench, the name it reports, an option it rejects with its value] */
const SCRIPTS: [string, string, string[], RegExp][] = [
  ['main.js', 'bench', ['--messages', '0'], /--messages needs a positive number, got "0"/],
  ['peers.js', 'bench:peers', ['--workloads', 'w9'], /unknown workload w9/],
  ['micro.js', 'bench:micro', ['--runs', '1.5'], /--runs needs a positive whole number, got "1\.5"/],
  ['durable.js', 'bench:durable', ['--client', 'go'], /--client must be nats\.js or ours, got "go"/],
  ['store.js', 'bench:store', ['--slice', 'x'], /--slice needs a positive number, got "x"/],
  ['charts.js', 'bench:charts', ['--out', ''], /--out needs a directory/],
  ['startup.js', 'bench:startup', ['--peers', 'hub,go'], /unknown peer go: expected some of hub,nats-server/],
  ['kv.js', 'bench:kv', ['--workloads', 'w1'], /unknown workload w1: expected some of put,put-window,get,get-window,watch,obj-put,obj-get/],
];

async function run(file: string, args: string[], env: Record<string, string> = {}): Promise<Child> {
  const p = new Child(process.execPath, [BENCH_DIR + file, ...args], { env, name: `${file} ${args.join(' ')}` });
  await p.waitForExit(30_000);
  return p;
}

describe('bench scripts: --help, misuse and BENCH_CHECK_ARGS', () => {
  for (const [file, name, bad, message] of SCRIPTS) {
    it(`${file}: --help, an unknown option, a bad value`, async () => {
      const help = await run(file, ['--help']);
      assert.equal(help.exit?.code, 0, help.output());
      assert.match(help.stdout, /^usage: /);
      assert.equal(help.stderr, '');

      const unknown = await run(file, ['--no-such-option']);
      assert.equal(unknown.exit?.code, 2, unknown.output());
      assert.equal(oneLine(unknown.stderr), `${name}: Unknown option '--no-such-option' (--help lists the options)`);
      assert.equal(unknown.stdout, '');

      const value = await run(file, bad);
      assert.equal(value.exit?.code, 2, value.output());
      assert.match(oneLine(value.stderr), new RegExp(`^${name}: ${message.source}`));
      assert.equal(value.stdout, '');

      // BENCH_CHECK_ARGS=1 (the docs test): the same checks, then one line instead of a benchmark.
      const checked = await run(file, [], { BENCH_CHECK_ARGS: '1' });
      assert.equal(checked.exit?.code, 0, checked.output());
      assert.equal(checked.stdout, `${name}: arguments ok\n`);
      assert.equal(checked.stderr, '');
      const refused = await run(file, bad, { BENCH_CHECK_ARGS: '1' });
      assert.equal(refused.exit?.code, 2, refused.output());
      assert.equal(refused.stdout, '');
    });
  }
});

describe('bench scripts: the security options', () => {
  /** [file, arguments, the one line it refuses them with] */
  const REFUSED: [string, string, string[], RegExp][] = [
    ['main.js', 'bench', ['--auth', 'root'], /--auth must be perms or bcrypt, got "root"/],
    ['main.js', 'bench', ['--security', '--tls'], /--tls and --auth do not combine with --security/],
    ['main.js', 'bench', ['--security', '--profile'], /--profile does not run the security suite/],
    ['peers.js', 'bench:peers', ['--security', '--workloads', 'w3'], /unknown workload w3: expected some of w1,w2,setup,stall/],
    ['peers.js', 'bench:peers', ['--workloads', 'setup'], /unknown workload setup: expected some of w1,w2,w3,w4,w5/],
    ['main.js', 'bench', ['--security', '--setup-conns', '0'], /--setup-conns needs a positive number, got "0"/],
    ['main.js', 'bench', ['--security', '--stall-logins', '0'], /--stall-logins needs a positive number, got "0"/],
  ];
  for (const [file, name, args, message] of REFUSED) {
    it(`${file} ${args.join(' ')}: one line, exit 2`, async () => {
      const r = await run(file, args, { BENCH_CHECK_ARGS: '1' });
      assert.equal(r.exit?.code, 2, r.output());
      assert.match(oneLine(r.stderr), new RegExp(`^${name}: ${message.source}`));
      assert.equal(r.stdout, '');
    });
  }

  const ACCEPTED: [string, string, string[]][] = [
    ['main.js', 'bench', ['--security', '--workloads', 'w1,setup', '--setup-conns', '200', '--setup-bcrypt-conns', '20']],
    ['peers.js', 'bench:peers', ['--tls', '--auth', 'perms', '--peers', 'hub,nats-server']],
    ['main.js', 'bench', ['--profile', '--tls', '--workloads', 'w1']],
    ['main.js', 'bench', ['--security', '--workloads', 'stall', '--stall-logins', '4', '--stall-parallel', '1']],
  ];
  for (const [file, name, args] of ACCEPTED) {
    it(`${file} ${args.join(' ')}: accepted`, async () => {
      const r = await run(file, args, { BENCH_CHECK_ARGS: '1' });
      assert.equal(r.exit?.code, 0, r.output());
      assert.equal(r.stdout, `${name}: arguments ok\n`);
    });
  }
});
