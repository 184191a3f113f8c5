/**
 * examples/tickets end to end: the runner as a child process (as `npm run
 * example:tickets` runs it, minus the build), on its embedded hub and on a
 * real nats-server. The test reads the workers' own lines rather than
 * trusting the runner's verdict, and checks that the verdict can fail.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Proc, killProcs, lines } from '../cli/proc.js';
import { skipUnavailable, startTarget } from '../cli/targets.js';

const RUNNER = fileURLToPath(new URL('../../examples/tickets/run.js', import.meta.url));
/** The runner bounds each of its steps at 10 s; this bounds the whole run. */
const RUN_MS = 45_000;

after(killProcs);

async function runExample(args: string[]): Promise<Proc> {
  const p = new Proc(process.execPath, [RUNNER, ...args], {}, `tickets ${args.join(' ')}`);
  await p.waitForExit(RUN_MS);
  return p;
}

/** ticket id → the workers that printed `handled ticket <id>`. */
function handledBy(out: string): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const line of lines(out)) {
    const m = /^\[(worker-\d+)\]\s+handled ticket (T-\d+) /.exec(line);
    if (m !== null) by.set(m[2]!, [...(by.get(m[2]!) ?? []), m[1]!]);
  }
  return by;
}

function assertEachOnce(p: Proc, tickets: number): void {
  assert.equal(p.exit?.code, 0, p.output());
  const by = handledBy(p.stdout);
  assert.deepEqual(
    [...by.keys()].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2))),
    Array.from({ length: tickets }, (_, i) => `T-${i + 1}`),
    'every ticket handled',
  );
  for (const [id, workers] of by) assert.equal(workers.length, 1, `${id} handled by ${workers.join(', ')}`);
  assert.match(p.stdout, new RegExp(`^\\[run\\]\\s+all ${tickets} tickets handled exactly once \\(worker-`, 'm'));
}

describe('examples/tickets', () => {
  it('on the embedded hub: every ticket handled exactly once, by the three workers', async () => {
    const p = await runExample(['--tickets', '12']);
    assertEachOnce(p, 12);
    const out = lines(p.stdout);
    for (const role of ['sla', 'notifier', 'worker-1', 'worker-2', 'worker-3']) {
      assert.ok(out.some((l) => new RegExp(`^\\[${role}\\]\\s+ready: `).test(l)), `${role} was ready\n${p.output()}`);
    }
    // The notifier saw every ticket.created and every ticket.handled through ticket.>.
    assert.equal(out.filter((l) => /^\[notifier\]\s+to #support: new ticket T-\d+ /.test(l)).length, 12);
    assert.equal(out.filter((l) => /^\[notifier\]\s+to the requester of T-\d+: worker-\d+ is on it$/.test(l)).length, 12);
    // Request/reply through the SLA service, from the API and from the workers.
    assert.ok(out.some((l) => /^\[api\]\s+asked the SLA service about T-5: urgent, 1 note\(s\), answered$/.test(l)), p.output());
    assert.ok(out.every((l) => !/no SLA/.test(l)), 'every ticket.get was answered');
    assert.equal(p.stderr, '');
  });

  it('on a real nats-server (--server): the same', { skip: skipUnavailable('nats-server') }, async () => {
    const server = await startTarget('nats-server');
    try {
      const p = await runExample(['--server', server.url, '--tickets', '6']);
      assertEachOnce(p, 6);
      assert.match(p.stdout, new RegExp(`^\\[run\\]\\s+using the server at ${server.url.replaceAll('.', '\\.')}$`, 'm'));
    } finally {
      await server.stop();
    }
  });

  it('without the queue group every worker handles every ticket, and the run exits 1', async () => {
    const p = await runExample(['--tickets', '3', '--no-queue']);
    assert.equal(p.exit?.code, 1, p.output());
    for (const [id, workers] of handledBy(p.stdout)) assert.equal(workers.length, 3, id);
    assert.match(p.stderr, /^\[run\]\s+FAILED: ticket T-1 was handled 3 times \(by worker-\d, worker-\d, worker-\d\)$/m);
  });
});
