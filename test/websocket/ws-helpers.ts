/**
 * Helpers for the WebSocket listener's tests: a raw WebSocket (the `ws`
 * package) that records every message and the close, the official
 * WebSocket clients (nats.ws, and @nats-io/nats-core's wsconnect) on Node
 * 20, which has no global WebSocket, and a raw TCP socket for what a
 * WebSocket client library would never send. Every wait is bounded.
 */
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { wsconnect, type NatsConnection } from '@nats-io/nats-core';
import { connect as natsWsConnect, type NatsConnection as NatsWsConnection } from 'nats.ws';

export const WAIT_MS = 5_000;

/** A WebSocket that keeps what it received. */
export class RawWs {
  readonly ws: WebSocket;
  readonly messages: Array<{ data: Buffer; binary: boolean }> = [];
  closed: { code: number; reason: string } | null = null;
  error: Error | null = null;
  /** The HTTP status when the upgrade was refused. */
  refusedWith: number | null = null;
  private readonly wakers = new Set<() => void>();

  constructor(url: string, opts: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, { handshakeTimeout: WAIT_MS, ...opts });
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      this.messages.push({ data, binary });
      this.wake();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    this.ws.on('error', (err) => {
      this.error = err;
      this.wake();
    });
    this.ws.on('unexpected-response', (_req, res) => {
      this.refusedWith = res.statusCode ?? 0;
      res.resume();
      this.ws.terminate();
    });
  }

  private wake(): void {
    for (const w of this.wakers) w();
  }

  /** Everything received, as one string. */
  text(): string {
    return Buffer.concat(this.messages.map((m) => m.data)).toString('latin1');
  }

  /** Waits until `check` holds; rejects after `ms` with what was received. */
  until(what: string, check: () => boolean, ms = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(poke);
      };
      const poke = (): void => {
        if (check()) {
          done();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: not within ${ms} ms; received ${JSON.stringify(this.text().slice(-400))}, closed ${JSON.stringify(this.closed)}, error ${this.error?.message}`));
      }, ms);
      this.wakers.add(poke);
      poke();
    });
  }

  opened(): Promise<void> {
    return this.until('open', () => this.ws.readyState === WebSocket.OPEN || this.closed !== null || this.refusedWith !== null).then(() => {
      if (this.ws.readyState !== WebSocket.OPEN) throw new Error(`not opened: refused ${this.refusedWith}, closed ${JSON.stringify(this.closed)}, ${this.error?.message}`);
    });
  }

  /** Waits for `text` in what was received. */
  received(text: string, ms = WAIT_MS): Promise<void> {
    return this.until(`receive ${JSON.stringify(text)}`, () => this.text().includes(text), ms);
  }

  /** Waits for the close (or the refusal). */
  closedOrRefused(ms = WAIT_MS): Promise<void> {
    return this.until('close', () => this.closed !== null || this.refusedWith !== null, ms);
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Opens a raw WebSocket and waits for the server's INFO. */
export async function rawWs(url: string, opts: WebSocket.ClientOptions = {}): Promise<RawWs> {
  const c = new RawWs(url, opts);
  try {
    await c.opened();
    await c.received('INFO ');
  } catch (err) {
    c.terminate();
    throw err;
  }
  return c;
}

/** The INFO a raw WebSocket received first, parsed. */
export function firstInfo(c: RawWs): Record<string, unknown> {
  const first = c.messages[0]!.data.toString('latin1');
  if (!first.startsWith('INFO ')) throw new Error(`first message is not INFO: ${first}`);
  return JSON.parse(first.slice(5, first.indexOf('\r\n'))) as Record<string, unknown>;
}

/** A WebSocket class that trusts `ca`: nats.ws and wsconnect call `new WebSocket(url)` with no options. */
function webSocketWith(ca: Buffer | undefined): typeof WebSocket {
  if (ca === undefined) return WebSocket;
  return class TrustingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca });
    }
  } as typeof WebSocket;
}

/** Node 20 has no global WebSocket: the official browser clients get ws's. */
function installWebSocket(ca: Buffer | undefined): void {
  (globalThis as { WebSocket?: unknown }).WebSocket = webSocketWith(ca);
}

/** nats.ws (the browser client nats-io ships), connected to a ws:// or wss:// URL; no reconnects. */
export function natsWs(url: string, opts: { ca?: Buffer; user?: string; pass?: string; token?: string } = {}): Promise<NatsWsConnection> {
  installWebSocket(opts.ca);
  const { ca: _ca, ...auth } = opts;
  return natsWsConnect({ servers: url, reconnect: false, timeout: WAIT_MS, ...auth });
}

/** wsconnect of @nats-io/nats-core (the v3 client's WebSocket transport); no reconnects. */
export function wsConnect(url: string, opts: { ca?: Buffer; user?: string; pass?: string; token?: string } = {}): Promise<NatsConnection> {
  installWebSocket(opts.ca);
  const { ca: _ca, ...auth } = opts;
  return wsconnect({ servers: url, reconnect: false, timeout: WAIT_MS, ...auth });
}

/** A raw TCP connection to the WebSocket port, for requests no WebSocket library sends; resolves once connected. */
export function rawTcp(port: number): Promise<{ socket: Socket; text: () => string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (s: string) => {
      got += s;
    });
    const ended = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve({ socket, text: () => got, ended });
    });
  });
}

/** Resolves when `p` does, or rejects after `ms` saying what did not happen. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

/** Whether `text` holds a whole HTTP response (headers, and the body its Content-Length announces). */
function wholeResponse(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  return m === null || Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(m[1]);
}

/**
 * An HTTP request sent raw to the WebSocket port, and the server's answer: resolves once a whole response
 * arrived (nats-server keeps the connection open after it, as Go's net/http does) or the server closed.
 */
export async function rawHttp(port: number, request: string, ms = WAIT_MS): Promise<{ status: number; response: string }> {
  const c = await rawTcp(port);
  try {
    c.socket.write(request);
    const answered = new Promise<void>((resolve) => {
      const check = (): void => {
        if (wholeResponse(c.text())) resolve();
      };
      c.socket.on('data', check);
      check();
    });
    await within(Promise.race([answered, c.ended]), ms, `the server's answer to ${JSON.stringify(request.split('\r\n')[0])}`);
    const response = c.text();
    const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
    return { status: m === null ? 0 : Number(m[1]), response };
  } finally {
    c.socket.destroy();
  }
}
