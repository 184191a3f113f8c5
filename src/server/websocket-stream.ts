/**
 * One accepted WebSocket as the Duplex the hub serves: the protocol's bytes
 * arrive in WebSocket messages (text or binary, as nats-server takes both)
 * and leave in binary ones. The hub's writer corks a flush of several chunks;
 * `_writev` then sends the whole batch as ONE message (a frame per large
 * chunk, uncopied, and per run of small ones, joined; in one socket write),
 * where ws's own createWebSocketStream sends one message per chunk (a
 * browser's onmessage each).
 *
 *   hub writer ──cork, write×n, uncork──► _writev ──one binary message (≤ n frames)──► ws
 *   ws 'message' (text|binary) ──push──► 'data' ──► Connection.receive
 *   ws 'ping' / 'pong' ──────────────────────────► onActivity (liveness)
 *
 * Backpressure: a write completes when ws has handed the frame to the
 * socket, so writableLength and 'drain' report the socket's backlog as they
 * do for TCP; a paused Duplex (the hub's flow control) pauses the socket.
 *
 * Closing: end() sends a close frame after what is queued, with the status
 * and reason nats-server gives for the hub's CloseReason (closeWith(), which
 * the hub calls as it closes the Connection); destroy() drops the TCP
 * connection at once (slow consumer, socket error, a peer that never
 * answers the close). A close frame from the client ends the stream, which
 * the hub sees as 'close' (CloseReason.CLIENT), as a FIN on TCP.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { ProtocolErrorText } from '../protocol/constants.js';
import { CloseReason } from './types.js';

/** RFC 6455 status codes the hub sends. */
export const WsStatus = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
} as const;
export type WsStatus = (typeof WsStatus)[keyof typeof WsStatus];

/**
 * The close frame for a CloseReason: nats-server's status and reason text
 * (its ClosedState names). One deliberate difference: nats-server 2.9
 * closes a stale connection with 1006, a code RFC 6455 forbids on the wire
 * (ws and browsers fail the connection on it); the hub sends 1001.
 */
export function closeFrameFor(reason: CloseReason, err?: Error & { text?: string }): { code: WsStatus; text: string } {
  switch (reason) {
    case CloseReason.CLIENT:
      return { code: WsStatus.NORMAL, text: 'Client Closed' };
    case CloseReason.AUTH_TIMEOUT:
      return { code: WsStatus.POLICY_VIOLATION, text: 'Authentication Timeout' };
    case CloseReason.CONNECT_TIMEOUT:
      return { code: WsStatus.POLICY_VIOLATION, text: 'Connect Timeout' };
    case CloseReason.AUTH_FAILED:
      return { code: WsStatus.POLICY_VIOLATION, text: 'Authentication Failure' };
    case CloseReason.SLOW_CONSUMER:
      return { code: WsStatus.POLICY_VIOLATION, text: 'Slow Consumer' };
    case CloseReason.MAX_CONNECTIONS:
      return { code: WsStatus.POLICY_VIOLATION, text: 'Maximum Connections Exceeded' };
    case CloseReason.PROTOCOL:
      if (err?.text === ProtocolErrorText.MAX_PAYLOAD) return { code: WsStatus.MESSAGE_TOO_BIG, text: 'Maximum Message Payload Exceeded' };
      if (err?.text === ProtocolErrorText.BAD_PROTOCOL) return { code: WsStatus.PROTOCOL_ERROR, text: 'Bad Client Protocol Version' };
      return { code: WsStatus.PROTOCOL_ERROR, text: 'Protocol Violation' };
    case CloseReason.STALE:
      return { code: WsStatus.GOING_AWAY, text: 'Stale Connection' };
    case CloseReason.SERVER_SHUTDOWN:
      return { code: WsStatus.GOING_AWAY, text: 'Server Shutdown' };
    case CloseReason.TLS_HANDSHAKE:
      return { code: WsStatus.PROTOCOL_ERROR, text: 'TLS Handshake Failure' };
    case CloseReason.SOCKET_ERROR:
      return { code: WsStatus.GOING_AWAY, text: 'Read Error' };
  }
}

const kStream = Symbol('netemitter.websocketStream');
/** ws.send options: a frame that ends its message, and one that a continuation frame follows. */
const FINAL = { binary: true, fin: true } as const;
const FRAGMENT = { binary: true, fin: false } as const;
/** Chunks this large go out as frames of their own, uncopied; smaller ones are joined with their neighbours. */
const UNCOPIED = 8 * 1024;

function join(chunks: Array<{ chunk: Buffer }>, from: number, to: number, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = from; i < to; i++) {
    const c = chunks[i]!.chunk;
    c.copy(out, at);
    at += c.length;
  }
  return out;
}
type StreamWs = WebSocket & { [kStream]: WebSocketStream };

export class WebSocketStream extends Duplex {
  readonly ws: WebSocket;
  private closeCode: number = WsStatus.NORMAL;
  private closeText = '';
  /** Called for every frame that carries no protocol bytes (ping, pong): the peer is alive. */
  onActivity: (() => void) | null = null;

  constructor(ws: WebSocket) {
    // Not half-open: a close frame ends both directions, as in the WebSocket protocol.
    super({ allowHalfOpen: false });
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    (ws as StreamWs)[kStream] = this;
    ws.on('message', wsOnMessage);
    ws.on('ping', wsOnControl);
    ws.on('pong', wsOnControl);
    ws.on('error', wsOnError);
    ws.on('close', wsOnClose);
  }

  /** The status and text of the close frame end() will send. */
  closeWith(code: number, text: string): void {
    this.closeCode = code;
    this.closeText = text;
  }

  /** The reader wants more: a socket paused for backpressure reads again. */
  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.ws.send(chunk, FINAL, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    // One message, in a frame per large chunk (sent as it is) and per run of small ones (joined): copying
    // every byte into one buffer cost the hub as much as all the rest of the write; a frame per small chunk
    // cost more than the copy. The socket is corked so the frames leave in one write.
    const ws = this.ws;
    const socket = (ws as WebSocket & { _socket?: Socket })._socket;
    socket?.cork();
    let run = 0;
    let runBytes = 0;
    let pending: Buffer | null = null;
    const n = chunks.length;
    for (let i = 0; i <= n; i++) {
      const chunk = i < n ? chunks[i]!.chunk : null;
      if (chunk !== null && chunk.length < UNCOPIED) {
        run++;
        runBytes += chunk.length;
        continue;
      }
      if (run > 0) {
        // The run of small chunks before this one, joined (or the one chunk as it is).
        if (pending !== null) ws.send(pending, FRAGMENT);
        pending = run === 1 ? chunks[i - 1]!.chunk : join(chunks, i - run, i, runBytes);
        run = 0;
        runBytes = 0;
      }
      if (chunk !== null) {
        if (pending !== null) ws.send(pending, FRAGMENT);
        pending = chunk;
      }
    }
    ws.send(pending!, FINAL, cb);
    socket?.uncork();
  }

  override _final(cb: (err?: Error | null) => void): void {
    // The hub gives its reason (closeWith) in the same turn as end(): read it one tick later.
    process.nextTick(finalClose, this, cb);
  }

  /** Sends the close frame (unless the WebSocket is already closing). */
  sendClose(): void {
    const ws = this.ws;
    if (ws.readyState === ws.OPEN) ws.close(this.closeCode, this.closeText);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const ws = this.ws;
    // CLOSING once a close frame went out (ours, or ws's own 1009): ws finishes that handshake, bounded by its
    // closeTimeout. Destroying the socket now could reset it, unread input pending, and lose the frame.
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
    cb(err);
  }

  /** ws 'message': the protocol's bytes. */
  received(data: Buffer): void {
    if (data.length === 0) {
      // An empty message carries nothing for the parser, but it is traffic.
      this.onActivity?.();
      return;
    }
    if (!this.push(data)) this.ws.pause();
  }

  /** ws 'close': the WebSocket is gone, whoever closed it. */
  gone(): void {
    this.push(null);
    this.destroy();
  }

  /** ws 'error' (a bad frame, a message over maxPayload): ws has sent its close frame; the stream ends with the error. */
  failed(err: Error): void {
    this.destroy(err);
  }
}

function finalClose(s: WebSocketStream, cb: (err?: Error | null) => void): void {
  s.sendClose();
  cb();
}

function wsOnMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[]): void {
  (this as StreamWs)[kStream].received(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
}

function wsOnControl(this: WebSocket): void {
  (this as StreamWs)[kStream].onActivity?.();
}

function wsOnError(this: WebSocket, err: Error): void {
  (this as StreamWs)[kStream].failed(err);
}

function wsOnClose(this: WebSocket): void {
  (this as StreamWs)[kStream].gone();
}
