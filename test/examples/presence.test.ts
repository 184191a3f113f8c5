/**
 * examples/presence end to end: the runner as a child process (as `npm run
 * example:presence` runs it, minus the build). The test reads the
 * supervisor's own lines rather than trusting the runner's verdict.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Proc, killProcs, lines } from '../cli/proc.js';

const RUNNER = fileURLToPath(new URL('../../examples/presence/run.js', import.meta.url));
/** The runner bounds each of its steps at 10 s; this bounds the whole run. */
const RUN_MS = 45_000;

after(killProcs);

describe('examples/presence', () => {
  it('the supervisor sees the workers join and get ready, the SIGKILLed one leave (and its will), the others leave cleanly', async () => {
    const p = new Proc(process.execPath, [RUNNER, '--workers', '3'], {}, 'presence example');
    await p.waitForExit(RUN_MS);
    assert.equal(p.exit?.code, 0, p.output());
    const sup = lines(p.stdout)
      .filter((l) => l.startsWith('[supervisor]'))
      .map((l) => l.replace(/^\[supervisor\]\s+/, ''));
    for (const n of [1, 2, 3]) {
      assert.ok(sup.some((l) => new RegExp(`^joined: workers\\.${n} \\{"role":"worker","queue":"tickets","pid":\\d+,"status":"starting"\\}$`).test(l)), p.output());
      assert.ok(sup.includes(`update: workers.${n} is ready`), p.output());
    }
    assert.ok(sup.includes('left: workers.2 (Client Closed)'), p.output());
    assert.ok(sup.includes('left: workers.1 (Client Closed)') && sup.includes('left: workers.3 (Client Closed)'), p.output());
    const wills = sup.filter((l) => l.startsWith('will: '));
    // Until the hub offers last wills (INFO's netemitter list), the runner says so and checks the leave alone.
    const offered = !p.stdout.includes('this hub offers no last wills');
    assert.deepEqual(wills.map((l) => l.split(' ')[1]), offered ? ['workers.2'] : []);
    assert.equal(p.stderr, '');
  });
});
