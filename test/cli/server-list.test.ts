/**
 * `--server` takes a comma-separated list (as `nats --server a,b` does): the
 * command fails over along it, and when none answers it says why for each.
 * The built CLI as child processes, against our hub and a real nats-server.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'netemitter';
import { oneLine } from '../helpers/cli.js';
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

describe('--server with a list where nothing answers', () => {
  it('one line naming each server and why, exit 1', async () => {
    const [a, b] = [`nats://127.0.0.1:${await deadPort()}`, `nats://127.0.0.1:${await deadPort()}`];
    const p = await runCli(['pub', '--server', `${a},${b}`, 'list.none', 'x']);
    assert.equal(p.exit.code, 1, p.output());
    assert.equal(oneLine(p.stderr), `netemitter: could not connect to any server: ${a} (ECONNREFUSED), ${b} (ECONNREFUSED)`);
  });

  it('a malformed entry is a usage error naming it, exit 2', async () => {
    const p = await runCli(['pub', '--server', 'nats://127.0.0.1:4222,nats//127.0.0.1:4223', 'list.none', 'x']);
    assert.equal(p.exit.code, 2, p.output());
    assert.equal(oneLine(p.stderr), 'netemitter: invalid server URL "nats//127.0.0.1:4223": the scheme\'s "://" is mistyped (did you mean "nats://127.0.0.1:4223"?)');
  });
});
