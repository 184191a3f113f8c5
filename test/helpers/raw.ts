/**
 * A raw protocol client for golden tests (over TCP, or in-process when the
 * server's url is an inprocess:// one): it sends exactly the bytes a
 * test gives it and records exactly the bytes the server sends back, so a
 * test can compare them with a wire capture of nats-server.
 *
 *   connect() ──► INFO line (parsed: info, infoLine)
 *                 everything after it ──► received  (cursor: where expect() is)
 *
 * Every wait is bounded and ends early when the server closes the socket, so
 * a wrong guess fails fast with what was received instead of hanging.
 * Strings are sent as latin1 (one char, one byte): protocol text is ASCII and
 * a test can still write any byte value in a string.
 */
import { connect as netConnect } from 'node:net';
import type { ByteStream } from '../../src/index.js';
import { dialInProcess } from '../../src/in-process.js';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_TIMEOUT_MS = 2_000;

const PONG = 'PONG\r\n';

/**
 * The CONNECT nats.js sends, as in the capture (test/fixtures/wire/), with
 * `overrides` merged in. Tests that need something else write it out.
 */
export function connectLine(overrides: Record<string, unknown> = {}): string {
  const opts = {
    verbose: false,
    pedantic: false,
    protocol: 1,
    headers: true,
    no_responders: true,
    lang: 'raw',
    version: '0',
    ...overrides,
  };
  return `CONNECT ${JSON.stringify(opts)}\r\n`;
}

interface Waiter {
  check(): boolean;
}

export class RawClient {
  /** The INFO line as received, CRLF included. */
  readonly infoLine: string;
  /** The INFO JSON. */
  readonly info: Record<string, unknown>;
  private readonly socket: ByteStream;
  private buf: Buffer;
  private cursor = 0;
  private closed = false;
  private closedByUs = false;
  private readonly waiters = new Set<Waiter>();

  private constructor(socket: ByteStream, infoLine: string, rest: Buffer) {
    this.socket = socket;
    this.infoLine = infoLine;
    const json = infoLine.replace(/^INFO\s+/i, '').trim();
    this.info = JSON.parse(json) as Record<string, unknown>;
    this.buf = rest;
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects and reads the INFO line (bounded by timeoutMs). */
  static async connect(server: { host: string; port: number; url?: string }, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RawClient> {
    const inProcess = server.url?.startsWith('inprocess://') === true ? server.url.slice('inprocess://'.length) : undefined;
    const socket: ByteStream =
      inProcess === undefined ? netConnect({ host: server.host, port: server.port, noDelay: true }) : await dialInProcess({ inprocess: inProcess }, new AbortController().signal);
    return new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const fail = (why: string): void => {
        cleanup();
        socket.destroy();
        reject(new Error(`raw connect to ${server.host}:${server.port}: ${why}; received ${show(head)}`));
      };
      const timer = setTimeout(() => fail(`no INFO line within ${timeoutMs} ms`), timeoutMs);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const lf = head.indexOf('\r\n');
        if (lf === -1) return;
        cleanup();
        const line = head.subarray(0, lf + 2).toString('latin1');
        if (!/^INFO\s/i.test(line)) {
          socket.destroy();
          reject(new Error(`raw connect: the first line is not INFO: ${JSON.stringify(line)}`));
          return;
        }
        resolve(new RawClient(socket, line, head.subarray(lf + 2)));
      };
      const onError = (err: Error): void => fail(err.message);
      const onClose = (): void => fail('closed before INFO');
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
        // A reset after a server-side close is normal in these tests: 'close' reports it.
        socket.on('error', () => {});
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
    });
  }

  /** Everything received after the INFO line. */
  get received(): Buffer {
    return this.buf;
  }

  /** `received` as a latin1 string (byte for char). */
  text(): string {
    return this.buf.toString('latin1');
  }

  /** Whether the socket has closed (either side). */
  get isClosed(): boolean {
    return this.closed;
  }

  send(data: string | Uint8Array): void {
    if (this.closed) return;
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /**
   * Sends each part in its own write, `delayMs` apart, so they leave as
   * separate TCP segments (Nagle is off) and reach the server as separate reads.
   */
  async sendParts(parts: readonly (string | Uint8Array)[], delayMs = 10): Promise<void> {
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) await sleep(delayMs);
      this.send(parts[i]!);
    }
  }

  /**
   * Waits until `pred(received)` holds. Rejects on timeout, or as soon as
   * the socket closes with the predicate still false; the message shows
   * what was received.
   */
  readUntil(pred: (received: Buffer) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (pred(this.buf)) {
            done();
            resolve(this.buf);
            return true;
          }
          if (this.closed) {
            done();
            reject(new Error(`socket closed while waiting; received ${show(this.buf)}`));
            return true;
          }
          return false;
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms; received ${show(this.buf)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!waiter.check()) this.waiters.add(waiter);
    });
  }

  /** Waits until the received text contains `s` (after the cursor). */
  async until(s: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const from = this.cursor;
    await this.readUntil((b) => b.indexOf(s, from, 'latin1') !== -1, timeoutMs);
    return this.text();
  }

  /**
   * Asserts that the next bytes after the cursor are exactly `expected`
   * (waiting for as many bytes), then moves the cursor past them.
   */
  async expect(expected: string | Uint8Array, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const want = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : Buffer.from(expected);
    const from = this.cursor;
    try {
      await this.readUntil((b) => b.length - from >= want.length, timeoutMs);
    } catch {
      // Fall through: the comparison below shows what arrived instead.
    }
    const got = this.buf.subarray(from, from + want.length);
    assert.equal(got.toString('latin1'), want.toString('latin1'));
    this.cursor = from + want.length;
  }

  /**
   * Sends `data` followed by PING and waits for the PONG answering it: the
   * server handles a connection's input in order, so when that PONG arrives
   * everything `data` caused on this connection has been sent. Returns the
   * whole received text.
   */
  async roundTrip(data = '', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const pongs = countOf(this.text(), PONG) + 1;
    this.send(data + 'PING\r\n');
    await this.readUntil((b) => countOf(b.toString('latin1'), PONG) >= pongs, timeoutMs);
    return this.text();
  }

  /** Resolves true when the server closes the socket within timeoutMs, false otherwise. */
  async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<boolean> {
    try {
      await this.readUntil(() => this.closed, timeoutMs);
    } catch {
      // Timed out (readUntil rejects on close only when the predicate is false).
    }
    return this.closed && !this.closedByUs;
  }

  /** Closes our side and waits for the socket to be gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closedByUs = true;
    const gone = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.destroy();
    await gone;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w.check();
  }
}

function countOf(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** A bounded, escaped preview of received bytes for error messages. */
function show(b: Buffer): string {
  const s = b.toString('latin1');
  return JSON.stringify(s.length > 600 ? `${s.slice(0, 300)}…${s.slice(-300)}` : s);
}

/** Runs `fn` with a fresh raw connection and always closes it. */
export async function withRaw<T>(
  server: { host: string; port: number },
  fn: (c: RawClient) => Promise<T>,
): Promise<T> {
  const c = await RawClient.connect(server);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}
