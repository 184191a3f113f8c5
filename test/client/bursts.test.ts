/**
 * Bursts through the write queue: many messages a turn, spanning several
 * outbound slabs, which the client fills again once the socket has taken
 * their bytes. Every event must arrive whole, with its own bytes, in order:
 * whether the burst left in one turn or several, after a flush or not, with
 * large payloads (queued by reference) among the small ones, and in-process,
 * where the hub reads the client's chunks without a copy. Runs against
 * NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect, type Bus } from '../../src/index.js';
import type { ByteStream, Dialer } from '../../src/transport.js';
import { skipInProcess, startServer, type ServerHandle } from './helpers/server.js';
import { within } from './helpers/wait.js';

/**
 * A slow link: the chunks written are kept by reference (writableLength
 * counts them) and passed on to the socket a timer later, as a stream
 * that cannot write at once holds them. Bytes written over them meanwhile
 * would reach the server.
 */
class SlowLink extends EventEmitter implements ByteStream {
  private readonly held: Uint8Array[] = [];
  private timer: NodeJS.Timeout | null = null;
  writableLength = 0;
  readonly writableNeedDrain = false;
  constructor(private readonly socket: Socket) {
    super();
    socket.on('data', (d: Buffer) => this.emit('data', d));
    socket.on('error', (e: Error) => this.emit('error', e));
    socket.on('close', () => this.emit('close'));
  }
  write(chunk: Uint8Array | string): boolean {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.held.push(b);
    this.writableLength += b.length;
    this.timer ??= setTimeout(() => this.pass(), 1);
    return true;
  }
  private pass(): void {
    this.timer = null;
    for (const b of this.held.splice(0)) this.socket.write(b);
    this.writableLength = 0;
  }
  end(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.pass();
    this.socket.end();
  }
  destroy(err?: Error): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.socket.destroy(err);
  }
}

const slowDialer: Dialer = (target) =>
  new Promise((resolve, reject) => {
    const s = netConnect({ host: target.host!, port: target.port! }, () => resolve(new SlowLink(s)));
    s.once('error', reject);
  });

const BIG = 9 * 1024;

/** Event i: its index, then a fill that differs from its neighbours'; every 500th is large. */
function event(i: number): Buffer {
  const n = i % 500 === 499 ? BIG : 40 + (i % 7) * 30;
  const b = Buffer.alloc(n, i % 251);
  b.writeUInt32LE(i, 0);
  return b;
}

function check(i: number, got: Buffer): string | null {
  const want = event(i);
  if (got.length !== want.length) return `event ${i}: ${got.length} bytes, expected ${want.length}`;
  if (!got.equals(want)) return `event ${i}: its bytes differ (it reads as event ${got.readUInt32LE(0)})`;
  return null;
}

/** Listens on `subject` and checks each event against event(i); resolves when `total` arrived or one is wrong. */
function expectEvents(sub: Bus, subject: string, total: number): Promise<{ problem: string | null; count: number }> {
  let next = 0;
  let problem: string | null = null;
  return new Promise((resolve) => {
    sub.on(
      subject,
      (data: Buffer) => {
        if (problem === null) problem = check(next, data);
        if (++next === total || problem !== null) resolve({ problem, count: next });
      },
      { raw: true },
    );
  });
}

describe('bursts through the write queue', () => {
  let server: ServerHandle;
  let pub: Bus;
  let sub: Bus;

  before(async () => {
    server = await startServer();
    pub = await connect({ servers: server.url, name: 'bursts-pub' });
    sub = await connect({ servers: server.url, name: 'bursts-sub' });
  });

  after(async () => {
    await Promise.allSettled([pub?.close(), sub?.close()]);
    await server?.stop();
  });

  it('delivers every event of many multi-slab bursts whole and in order', async () => {
    const BURST = 20_000;
    const BURSTS = 8;
    const total = BURST * BURSTS;
    const all = expectEvents(sub, 'bursts.a', total);
    await sub.flush();
    let i = 0;
    for (let b = 0; b < BURSTS; b++) {
      for (let k = 0; k < BURST; k++) pub.emit('bursts.a', event(i++));
      // The next burst: in the same turn, after the server confirmed this one, or on a later turn.
      if (b % 3 === 1) await pub.flush();
      else if (b % 3 === 2) await new Promise((r) => setImmediate(r));
    }
    await pub.flush();
    assert.deepEqual(await within(all, 30_000, 'every event of the bursts'), { problem: null, count: total });
  });

  it('never writes over chunks a stream still holds (a slow link)', { skip: skipInProcess('dials TCP') }, async () => {
    const slow = await connect({ servers: server.url, name: 'bursts-slow', dialer: slowDialer });
    try {
      const BURST = 3000;
      const BURSTS = 6;
      const total = BURST * BURSTS;
      const all = expectEvents(sub, 'bursts.b', total);
      await sub.flush();
      let i = 0;
      for (let b = 0; b < BURSTS; b++) {
        for (let k = 0; k < BURST; k++) slow.emit('bursts.b', event(i++));
        // A later turn, while the link still holds the last burst's chunks.
        await new Promise((r) => setImmediate(r));
      }
      await slow.flush();
      assert.deepEqual(await within(all, 30_000, 'every event over the slow link'), { problem: null, count: total });
    } finally {
      await slow.close();
    }
  });
});
