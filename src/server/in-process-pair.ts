/**
 * Two connected byte streams in one process: what the hub serves and what
 * the client reads for hub.connect(), with no socket between them. Each end
 * is the part of a Node Duplex the hub (writer.ts, connection.ts) and the
 * client (transport.ts ByteStream) use, and behaves as a socket does there:
 *
 *   end A ──write──► A.queue ──(next turn, unless B is paused)──► B 'data'
 *   end B ──write──► B.queue ──(next turn, unless A is paused)──► A 'data'
 *
 * - Delivery comes after the writer's call returns (process.nextTick), never
 *   inside it, as a socket's bytes do. A turn of the event loop chains at
 *   most TICK_BUDGET such deliveries; later ones wait for the next turn
 *   (setImmediate), so two in-process clients trading messages still yield
 *   to timers and sockets: they cannot starve the hub's other connections.
 * - A queue is the socket's send buffer: `writableLength` counts it, write()
 *   returns false past HIGH_WATER_MARK and 'drain' fires once it is taken.
 *   A paused reader (the hub's flow control) leaves the writer's queue full,
 *   so backpressure, maxPending and the write deadline work as over TCP.
 * - Chunks are passed by reference, except large ones from an end made with
 *   `copy`: the client's, whose large payloads (COPY_LIMIT and up) are the
 *   caller's own Buffers (a socket copies them to the kernel; here the
 *   subscriber would see a later change to them). Smaller chunks are views
 *   of the client's outbound slabs, and the hub's, which are never rewritten.
 * - end() closes both ends once its queue has been delivered (a socket
 *   without half-open); destroy() closes both at once, dropping both queues.
 *   'close' comes once per end, on a later tick, as from a socket.
 */
import { EventEmitter } from 'node:events';
import { COPY_LIMIT } from '../protocol/outbound.js';

/** Bytes an end holds for its peer before write() returns false (a socket's send buffer, roughly). */
export const HIGH_WATER_MARK = 256 * 1024;
/** Deliveries one turn of the event loop chains before the rest wait for the next turn. */
export const TICK_BUDGET = 32;

let budget = TICK_BUDGET;
let refilling = false;

function refill(): void {
  budget = TICK_BUDGET;
  refilling = false;
}

export class PipeEnd extends EventEmitter {
  /** The other end; set once by pipePair(). */
  peer!: PipeEnd;
  /** Bytes written and not yet delivered to the peer. */
  writableLength = 0;
  /** write() returned false and 'drain' has not fired since. */
  writableNeedDrain = false;
  destroyed = false;
  private readonly queue: Buffer[] = [];
  private readonly copy: boolean;
  private corked = 0;
  private scheduled = false;
  /** This end's reading is paused: the peer's queue waits. */
  private paused = false;
  /** end() was called: close once the queue is delivered. */
  private ending = false;

  constructor(copy: boolean) {
    super();
    this.copy = copy;
    // Bytes wait for a reader, as a Readable does before its first 'data' listener.
    this.on('newListener', onNewListener);
  }

  write(chunk: Uint8Array | string, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    const done = typeof encoding === 'function' ? encoding : cb;
    if (this.destroyed || this.ending) {
      if (done !== undefined) process.nextTick(done, new Error('write after end'));
      return false;
    }
    const b =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8')
        : this.copy && chunk.length >= COPY_LIMIT
          ? Buffer.from(chunk)
          : Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.queue.push(b);
    this.writableLength += b.length;
    if (done !== undefined) process.nextTick(done, null);
    if (this.corked === 0) this.schedule();
    if (this.writableLength < HIGH_WATER_MARK) return true;
    this.writableNeedDrain = true;
    return false;
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked > 0 && --this.corked === 0) this.schedule();
  }

  /** Writes `chunk` if given, then closes both ends once everything queued is delivered. */
  end(chunk?: Uint8Array | string | (() => void)): this {
    if (chunk !== undefined && typeof chunk !== 'function') this.write(chunk);
    if (this.destroyed || this.ending) return this;
    this.ending = true;
    this.corked = 0;
    this.schedule();
    return this;
  }

  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.shut(err);
    this.peer.shut(undefined);
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (!this.paused) return this;
    this.paused = false;
    this.peer.schedule();
    return this;
  }

  isPaused(): boolean {
    return this.paused;
  }

  setNoDelay(): this {
    return this;
  }

  /** Delivers on the next turn what the queue holds (or closes, when ending). */
  schedule(): void {
    if (this.scheduled || this.destroyed) return;
    this.scheduled = true;
    if (budget > 0) {
      budget--;
      if (!refilling) {
        refilling = true;
        setImmediate(refill);
      }
      process.nextTick(deliver, this);
    } else {
      setImmediate(deliver, this);
    }
  }

  /** Hands the queue to the peer's reader, as far as it reads. */
  deliver(): void {
    this.scheduled = false;
    if (this.destroyed || this.corked > 0) return;
    const peer = this.peer;
    const q = this.queue;
    let i = 0;
    // A reader may pause, write or destroy from its 'data' listener: each is checked before the next chunk.
    while (i < q.length && !peer.paused && !peer.destroyed && !this.destroyed && peer.listenerCount('data') > 0) {
      const chunk = q[i++]!;
      this.writableLength -= chunk.length;
      peer.emit('data', chunk);
    }
    if (this.destroyed) return;
    q.splice(0, i);
    if (q.length === 0) {
      if (this.writableNeedDrain) {
        this.writableNeedDrain = false;
        this.emit('drain');
      }
      if (this.ending && !this.destroyed) {
        this.shut(undefined);
        peer.shut(undefined);
      }
    } else if (this.writableNeedDrain && this.writableLength < HIGH_WATER_MARK) {
      this.writableNeedDrain = false;
      this.emit('drain');
    }
  }

  /** Closes this end: its queue is dropped, 'error' (with err) and 'close' follow on a later tick. */
  private shut(err: Error | undefined): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.queue.length = 0;
    this.writableLength = 0;
    process.nextTick(emitClose, this, err);
  }
}

function onNewListener(this: PipeEnd, event: string | symbol): void {
  if (event === 'data') this.peer.schedule();
}

function deliver(end: PipeEnd): void {
  end.deliver();
}

function emitClose(end: PipeEnd, err: Error | undefined): void {
  // Nobody to tell is no crash: the reason is in the close that follows.
  if (err !== undefined && end.listenerCount('error') > 0) end.emit('error', err);
  end.emit('close');
}

/**
 * A connected pair: `server` for the hub, `client` for the bus. The
 * client's writes are copied (see above); the hub's are not.
 */
export function pipePair(): { server: PipeEnd; client: PipeEnd } {
  const server = new PipeEnd(false);
  const client = new PipeEnd(true);
  server.peer = client;
  client.peer = server;
  return { server, client };
}
