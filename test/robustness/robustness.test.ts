/**
 * Robustness, scaled down to run in every `npm test` (the full-size runs are
 * `npm run soak` and `npm run stress`, recorded in docs/reliability.md):
 * mixed load without loss, connection floods, connect/disconnect churn
 * without leaks, a stalled subscriber that must not hurt anyone else, and
 * oversized declarations before CONNECT.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { createHub, type Hub } from '../../src/index.js';
import { RawClient, connectLine } from '../helpers/raw.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { soak } from './soak.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Memory the process really holds (heap + buffers) after a full GC, in MB. */
/**
 * Heap and ArrayBuffer memory still reachable, in MB. A Buffer's backing store is freed after the
 * collection that found it unreachable, in a later turn, so one gc() can still count 10-25 MB of dead
 * buffers: collect and yield until the figure stops falling.
 */
async function retainedMB(): Promise<number> {
  let last = Infinity;
  for (let round = 0; round < 50; round++) {
    gc();
    await new Promise((r) => setImmediate(r));
    const m = process.memoryUsage();
    const mb = (m.heapUsed + m.arrayBuffers) / 1048576;
    if (mb >= last - 0.05) return mb;
    last = mb;
  }
  return last;
}

const CONNECT = connectLine();

async function startHub(opts: Parameters<typeof createHub>[0] = {}): Promise<Hub> {
  const hub = createHub({ port: 0, ...opts });
  await hub.listen();
  after(() => hub.close({ grace: 0 }));
  return hub;
}

function addr(hub: Hub): { host: string; port: number } {
  return { host: '127.0.0.1', port: hub.addresses()[0]!.port! };
}

/** Opens a raw connection, sends CONNECT+PING, resolves once PONG arrives. */
async function handshake(port: number): Promise<Socket> {
  const s = netConnect({ host: '127.0.0.1', port });
  await pingPong(s, CONNECT);
  return s;
}

/** Writes `ops` then PING, resolves once the PONG arrives: the hub has applied `ops` by then. */
function pingPong(s: Socket, ops: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no PONG; got ${JSON.stringify(got)}`)), 10_000);
    s.on('error', reject); // stays: a later reset of a socket a test destroys is not a crash
    const onData = (c: Buffer): void => {
      got += c.toString('latin1');
      if (got.includes('PONG\r\n')) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve();
      }
    };
    s.on('data', onData);
    s.write(ops + 'PING\r\n');
  });
}

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe('robustness (scaled down)', () => {
  it('mixed load for 3 s: every event, job and request accounted for', async () => {
    const hub = await startHub();
    const r = await soak({ url: hub.url, seconds: 3, rate: 1000, requestRate: 100, sampleEvery: 1 });
    assert.deepEqual(r.errors, []);
    assert.ok(r.eventsSent > 0 && r.requestsSent > 0 && r.churnCycles > 0);
    assert.equal(r.eventsReceived, r.eventsSent * 4);
    assert.equal(r.jobsHandled, r.jobsSent);
    assert.equal(r.jobDuplicates, 0);
    assert.equal(r.requestsAnswered, r.requestsSent);
  });

  it('serves 1,000 concurrent connections, then lets them all go', async () => {
    const hub = await startHub();
    const port = addr(hub).port;
    const sockets: Socket[] = [];
    for (let i = 0; i < 1000; i += 100) {
      sockets.push(...(await Promise.all(Array.from({ length: 100 }, () => handshake(port)))));
    }
    assert.equal(hub.stats().connections, 1000);
    const gone = Promise.all(sockets.map((s) => once(s, 'close')));
    for (const s of sockets) s.destroy();
    await gone;
    const until = Date.now() + 5000;
    while (hub.stats().connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(hub.stats().connections, 0);
  });

  it('2,000 connect/disconnect cycles leave no sockets, timers or connections behind', async () => {
    const hub = await startHub();
    const port = addr(hub).port;
    const before = resources();
    for (let i = 0; i < 2000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => handshake(port)));
      await Promise.all(
        batch.map((s) => {
          const closed = once(s, 'close');
          s.end();
          return closed;
        }),
      );
    }
    const until = Date.now() + 5000;
    while (hub.stats().connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(hub.stats().connections, 0);
    assert.equal(hub.stats().totalConnections, 2000);
    const afterCounts = resources();
    for (const kind of ['TCPSocketWrap', 'Timeout']) {
      assert.ok((afterCounts[kind] ?? 0) <= (before[kind] ?? 0), `${kind}: ${before[kind] ?? 0} before, ${afterCounts[kind] ?? 0} after`);
    }
  });

  it('a stalled subscriber offered 40 MB is cut off; the publisher and other subscribers go on', async () => {
    const hub = await startHub({ maxPending: 2 * 1024 * 1024, writeDeadline: 500, maxPayload: 64 * 1024 });
    const cut: number[] = [];
    hub.on('slow_consumer', (c) => cut.push(c.id));
    // Both subscribe; the stalled one then stops reading.
    const stalled = await handshake(addr(hub).port);
    const healthy = await handshake(addr(hub).port);
    await Promise.all([pingPong(stalled, 'SUB big 1\r\n'), pingPong(healthy, 'SUB big 1\r\n')]);
    stalled.pause();
    let receivedBytes = 0;
    healthy.on('data', (c: Buffer) => (receivedBytes += c.length));
    const body = Buffer.alloc(32 * 1024, 120);
    const frame = Buffer.concat([Buffer.from(`PUB big ${body.length}\r\n`), body, Buffer.from('\r\n')]);
    const mem0 = await retainedMB();
    const pub = netConnect({ host: '127.0.0.1', port: addr(hub).port });
    pub.on('data', () => {});
    pub.write(CONNECT);
    const count = 1280; // 40 MiB
    for (let i = 0; i < count; i++) {
      if (!pub.write(frame)) await once(pub, 'drain');
    }
    // Every message reaches the healthy subscriber.
    const expected = count * (`MSG big 1 ${body.length}\r\n`.length + body.length + 2);
    const until = Date.now() + 30_000;
    while (receivedBytes < expected && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(receivedBytes, expected);
    assert.equal(cut.length, 1);
    // Once it reads again it finds its connection closed by the hub.
    const stalledClosed = once(stalled, 'close');
    stalled.on('data', () => {});
    stalled.resume();
    await stalledClosed;
    const closed = Promise.all([once(pub, 'close'), once(healthy, 'close')]);
    pub.destroy();
    healthy.destroy();
    await closed;
    // Measured once the hub has closed its side too: until then it still holds those connections' buffers
    // (a fixed 50 ms wait measured 17.4 MB on a busy machine).
    const gone = Date.now() + 10_000;
    while (hub.stats().connections > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 10));
    assert.equal(hub.stats().connections, 0);
    const grownMB = (await retainedMB()) - mem0;
    assert.ok(grownMB < 4, `the process still holds ${grownMB.toFixed(1)} MB more after 40 MB was offered`);
  });

  it('an enormous declared size before CONNECT is refused on the line, nothing allocated', async () => {
    const hub = await startHub();
    const mem0 = await retainedMB();
    for (let i = 0; i < 20; i++) {
      const raw = await RawClient.connect(addr(hub));
      raw.send(`PUB x 999999999\r\n`);
      await raw.expect("-ERR 'Maximum Payload Violation'\r\n");
      assert.equal(await raw.waitClosed(), true);
    }
    assert.ok((await retainedMB()) - mem0 < 8, 'nothing was allocated for the declared payloads');
  });
});
