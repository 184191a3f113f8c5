/**
 * A WebSocket as the client's ByteStream: the NATS protocol is a byte
 * stream, so each WebSocket message carries some of its bytes and any split
 * is valid. One adapter serves the ws package in Node and the page's
 * WebSocket in a browser, which share the WHATWG API (send, bufferedAmount,
 * close, addEventListener); they differ only in how backpressure is seen:
 *
 *   ws (Node)   send(data, cb): cb fires once the bytes are written to the
 *               socket, so writableLength counts what is sent and not yet
 *               called back, and 'drain' fires from the callbacks
 *   browser     no callbacks and no drain event: writableLength is
 *               bufferedAmount, and a timer polls it only while it is above
 *               the high-water mark
 *
 * The write queue hands a whole flush over as one chunk; it goes out in
 * messages of at most maxMessage bytes, so a burst never trips a server's
 * message-size limit (nats-server's websocket listener and the hub's
 * maxMessageSize). Events: 'data' (Buffer), 'drain', 'error', and 'close'
 * once, after which nothing else is emitted.
 *
 * This file imports only node:events (the browser build maps it to the
 * events package) and uses the global Buffer (injected there).
 */
import { EventEmitter } from 'node:events';
import type { ByteStream, DialTarget } from '../transport.js';

/** The URL a WebSocket target is dialed at (credentials never go in it: they are in CONNECT). */
export function webSocketUrl(target: DialTarget): string {
  const ws = target.websocket!;
  const host = target.host!.includes(':') ? `[${target.host!}]` : target.host!;
  return `${ws.secure ? 'wss' : 'ws'}://${host}:${target.port!}${ws.path}`;
}

/** The WHATWG WebSocket API this adapter needs (lib "dom" is not in the build's types). */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  /** ws only: closes the TCP connection at once, without the closing handshake. */
  terminate?(): void;
  addEventListener(type: string, fn: (ev: WebSocketEvent) => void): void;
  removeEventListener(type: string, fn: (ev: WebSocketEvent) => void): void;
}

/** The fields of message, close and error events this adapter reads. */
export interface WebSocketEvent {
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
  /** ws's error events carry the Error; a browser's carry nothing. */
  readonly error?: unknown;
  readonly message?: string;
}

export const WebSocketStreamDefaults = {
  /**
   * Bytes of one WebSocket message at most. Small enough that a server's
   * WebSocket reader (ws's Receiver in the hub) does not gather and copy
   * large frames spanning many TCP reads: with 64 KiB the hub spent ~20%
   * less CPU per message than with 1 MiB (ws-bench, W1); below it, no gain.
   * The hub's websocket.maxMessageSize must be at least this.
   */
  maxMessage: 64 * 1024,
  /** writableNeedDrain past this many bytes not yet handed to the network. */
  highWaterMark: 1024 * 1024,
  /** 'drain' once the backlog is down to this. */
  lowWaterMark: 256 * 1024,
  /** ms between two looks at bufferedAmount while above the high-water mark (browsers). */
  pollInterval: 4,
} as const;

/** How the backlog is seen: ws's send callbacks, or polling bufferedAmount. */
export type DrainBy = 'callback' | 'poll';

const OPEN = 1;

export class WebSocketStream extends EventEmitter implements ByteStream {
  private readonly ws: WebSocketLike;
  private readonly drainBy: DrainBy;
  /** Bytes sent and not yet called back (drainBy 'callback'). */
  private pending = 0;
  private needDrain = false;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private done = false;
  /**
   * Messages that came before anyone listened for 'data': ws can deliver the
   * server's first message in the tick of 'open', before the dialer's caller
   * has attached. A socket holds its data until then (paused mode); so do we.
   */
  private early: Buffer[] | null = [];
  /** Closed while `early` still held messages: 'close' waits for them. */
  private closing: { err: Error | undefined } | null = null;

  constructor(ws: WebSocketLike, drainBy: DrainBy) {
    super();
    this.ws = ws;
    this.drainBy = drainBy;
    this.onMessage = this.onMessage.bind(this);
    this.onClose = this.onClose.bind(this);
    this.onError = this.onError.bind(this);
    ws.addEventListener('message', this.onMessage);
    ws.addEventListener('close', this.onClose);
    ws.addEventListener('error', this.onError);
    this.on('newListener', this.onNewListener);
  }

  private readonly onNewListener = (event: string | symbol): void => {
    if (event !== 'data') return;
    this.off('newListener', this.onNewListener);
    // After the listener is added (newListener fires before), and in order with what still arrives meanwhile.
    queueMicrotask(() => {
      const early = this.early ?? [];
      this.early = null;
      for (const chunk of early) this.emit('data', chunk);
      if (this.closing !== null) this.emitClose(this.closing.err);
    });
  };

  get writableLength(): number {
    return this.drainBy === 'callback' ? this.pending : this.ws.bufferedAmount;
  }

  get writableNeedDrain(): boolean {
    return this.needDrain;
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.done || this.ws.readyState !== OPEN) return false;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const max = WebSocketStreamDefaults.maxMessage;
    for (let at = 0; at < bytes.length; at += max) {
      const piece = at === 0 && bytes.length <= max ? bytes : bytes.subarray(at, Math.min(at + max, bytes.length));
      if (this.drainBy === 'callback') {
        const n = piece.length;
        this.pending += n;
        this.ws.send(piece, () => this.sent(n));
      } else {
        this.ws.send(piece);
      }
    }
    if (this.writableLength >= WebSocketStreamDefaults.highWaterMark) {
      this.needDrain = true;
      if (this.drainBy === 'poll') this.poll();
    }
    return !this.needDrain;
  }

  end(): void {
    if (this.done) return;
    // Both APIs send the close frame after the messages already queued.
    this.ws.close(1000);
  }

  destroy(err?: Error): void {
    if (this.done) return;
    if (this.ws.terminate !== undefined) this.ws.terminate();
    else this.ws.close(1000);
    this.finish(err);
  }

  /** ws wrote `n` bytes to the socket, or failed to (it is closing: then 'close' follows). */
  private sent(n: number): void {
    this.pending -= n;
    if (this.needDrain && this.pending <= WebSocketStreamDefaults.lowWaterMark) this.drained();
  }

  private onMessage(ev: WebSocketEvent): void {
    if (this.done) return;
    const d = ev.data;
    let chunk: Buffer;
    if (d instanceof ArrayBuffer) chunk = Buffer.from(d);
    else if (ArrayBuffer.isView(d)) chunk = Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    // A text message (a server should not send one): its UTF-8 bytes are still protocol bytes.
    else if (typeof d === 'string') chunk = Buffer.from(d, 'utf8');
    else return;
    if (this.early !== null) this.early.push(chunk);
    else this.emit('data', chunk);
  }

  private onClose(ev: WebSocketEvent): void {
    // 1000 (normal) and 1005 (no code) are a clean close; anything else says why in the error.
    const code = ev.code ?? 1005;
    const clean = code === 1000 || code === 1005;
    this.finish(clean ? undefined : new Error(`the WebSocket closed with code ${code}${ev.reason ? `: ${ev.reason}` : ''}`));
  }

  private onError(ev: WebSocketEvent): void {
    if (this.done) return;
    const err = ev.error instanceof Error ? ev.error : new Error(ev.message || 'WebSocket error');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** Detaches from the WebSocket and emits 'close' once (an error first, when there is one and someone listens). */
  private finish(err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.ws.removeEventListener('message', this.onMessage);
    this.ws.removeEventListener('close', this.onClose);
    this.ws.removeEventListener('error', this.onError);
    // A late error from the socket (after terminate) must not go unhandled.
    this.ws.addEventListener('error', ignore);
    // Node streams emit 'error' and 'close' on a later tick than destroy(): listeners set up after it still see them.
    if (this.early !== null && this.early.length > 0) this.closing = { err };
    else queueMicrotask(() => this.emitClose(err));
  }

  private emitClose(err: Error | undefined): void {
    if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', err);
    this.emit('close');
  }

  private poll(): void {
    if (this.pollTimer !== null || this.done) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      if (this.done) return;
      if (this.ws.bufferedAmount <= WebSocketStreamDefaults.lowWaterMark) this.drained();
      else this.poll();
    }, WebSocketStreamDefaults.pollInterval);
  }

  private drained(): void {
    if (!this.needDrain) return;
    this.needDrain = false;
    this.emit('drain');
  }
}

function ignore(): void {}
