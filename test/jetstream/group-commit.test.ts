/**
 * Group commit across connections (issue #20): publishes into a stream that
 * the hub reads in one turn of its event loop share one SQLite commit,
 * whichever connections they came from, and no PubAck leaves before it.
 *
 * The publishers run in a worker thread (group-commit-worker.ts) while this
 * thread, the hub's, is blocked in Atomics.wait: every PUB is in the kernel
 * before the hub polls again, so its next poll reads all of them. That makes
 * the test deterministic: a hub that committed per connection (or per read)
 * would commit N times here, every run. The hub's own, in-process (not
 * against nats-server: it counts the hub's commits).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createHub, type Hub } from '../../src/index.js';

type FromWorker = { type: 'ready' } | { type: 'acks'; acks: { stream: string; seq: number }[] };

/** The next message of a worker, or the reason it has none within `ms`. */
function nextMessage(w: Worker, ms: number): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no message from the publishers' worker within ${ms} ms`)), ms);
    const onMessage = (m: FromWorker): void => done(null, m);
    const onError = (err: Error): void => done(err);
    const onExit = (code: number): void => done(new Error(`the publishers' worker exited (${code})`));
    function done(err: Error | null, m?: FromWorker): void {
      clearTimeout(timer);
      w.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (err !== null) reject(err);
      else resolve(m!);
    }
    w.on('message', onMessage).once('error', onError).once('exit', onExit);
  });
}

describe('group commit across connections', () => {
  let dir: string;
  let hub: Hub;
  let nc: NatsConnection;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-group-commit-'));
    hub = createHub({ host: '127.0.0.1', port: 0, jetstream: { store: { dir, sync: 'normal' } } });
    const [address] = await hub.listen();
    assert.ok(address?.port !== undefined, 'the hub listens on a TCP port');
    port = address.port;
    nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false });
  });

  after(async () => {
    await nc?.close();
    await hub?.close({ grace: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  for (const conns of [16, 64]) {
    it(`${conns} connections' publishes read in one turn: one commit, then ${conns} PubAcks`, async () => {
      const stream = `GC${conns}`;
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`gc${conns}.>`] });
      const flag = new SharedArrayBuffer(4);
      const worker = new Worker(new URL('./group-commit-worker.js', import.meta.url), {
        workerData: { port, conns, subject: `gc${conns}.event`, flag },
      });
      try {
        assert.equal((await nextMessage(worker, 20_000)).type, 'ready');
        const js = hub.jetstream!;
        const sentAtCommit: number[] = [];
        const before = hub.stats().outMsgs;
        js.commitObserver = () => sentAtCommit.push(hub.stats().outMsgs - before);
        const acks = nextMessage(worker, 20_000);
        worker.postMessage('go');
        // Blocks the hub's thread until every PUB is written ('not-equal': written before the wait began; the
        // thread has not gone back to its event loop either way): its next poll finds all the sockets readable.
        const written = new Int32Array(flag);
        Atomics.wait(written, 0, 0, 10_000);
        assert.equal(Atomics.load(written, 0), 1, 'the worker wrote its PUBs within 10 s');
        const m = await acks;
        js.commitObserver = null;
        assert.equal(m.type, 'acks');
        const seqs = (m as Extract<FromWorker, { type: 'acks' }>).acks.map((a) => {
          assert.equal(a.stream, stream);
          return a.seq;
        });
        assert.deepEqual(seqs.sort((a, b) => a - b), Array.from({ length: conns }, (_, i) => i + 1), 'every connection got a PubAck of its own');
        assert.deepEqual(sentAtCommit, [0], `one commit, and no message sent before it (messages sent at each commit: ${sentAtCommit.join(', ')})`);
        assert.ok(hub.stats().outMsgs - before >= conns, 'the PubAcks were counted as sent after the commit');
        assert.equal((await jsm.streams.info(stream)).state.messages, conns);
      } finally {
        await worker.terminate();
      }
    });
  }
});
