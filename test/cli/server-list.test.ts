/**
 * `--server` takes a comma-separated list (as `nats --server a,b` does): the
 * command fails over along it, and when none answers it says why for each.
 * The built CLI as child processes, against our hub and a real nats-server.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'netemitter';
import { killProcs, runCli } from './proc.js';
import { TARGET_KINDS, skipUnavailable, startTarget, type Target } from './targets.js';

after(killProcs);

/** A loopback port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

for (const kind of TARGET_KINDS) {
  describe(`--server with a list, against ${kind}`, { skip: skipUnavailable(kind) }, () => {
    let target: Target;
    before(async () => {
      target = await startTarget(kind);
    });
    after(() => target?.stop());

    it('pub --server DEAD,LIVE reaches the live server', async () => {
      const bus = await connect(target.url);
      try {
        const got = new Promise<unknown>((resolve) => bus.once('list.pub', (payload) => resolve(payload)));
        await bus.flush();
        const servers = `nats://127.0.0.1:${await deadPort()},${target.url}`;
        const pub = await runCli(['pub', '--server', servers, 'list.pub', '{"via":"second"}']);
        assert.equal(pub.exit.code, 0, pub.output());
        assert.deepEqual(await got, { via: 'second' });
      } finally {
        await bus.close();
      }
    });
  });
}
