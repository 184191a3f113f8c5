/**
 * A connection keeps its hidden class when the hub's first PING is answered
 * (issue #20, docs/performance.md "Warm-up"): a field that starts as a small
 * integer and later holds a fraction gives the object a new class and
 * deoptimises every function on the publish and delivery path at once, in the
 * middle of a client's first burst. The check is V8's own (%HaveSameMap, in a
 * child started with --allow-natives-syntax), so it fails on the build before
 * the fix and needs no timing.
 */
import { it, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Child, killAll } from '../helpers/cli.js';

after(killAll);

/** dist/test/server → test/fixtures/jit (plain JS: natives syntax is not TypeScript). */
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/jit/connection-shape.mjs', import.meta.url));
const INDEX = fileURLToPath(new URL('../../src/index.js', import.meta.url));

it('a connection that answered the first PING has the same hidden class as one that has not', async () => {
  const p = new Child(process.execPath, ['--allow-natives-syntax', FIXTURE, INDEX], { name: 'connection-shape' });
  await p.waitForExit(30_000);
  assert.equal(p.exit?.code, 0, p.output());
  assert.equal(p.stdout, 'same map: true\n', p.output());
});
