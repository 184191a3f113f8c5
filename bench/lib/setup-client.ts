/**
 * Connection set-up, timed from a bare NATS client so that the client's own
 * share is as small as it can be and the difference between servers shows:
 *
 *   t0 ── TCP connect ── INFO ──[ TLS handshake, server certificate verified ]──
 *         CONNECT {user, pass} + PING ── PONG ── t1
 *
 * The TLS step is nats-server's default flow: a plaintext INFO carrying
 * `tls_required`, then the handshake on the same socket. Connections run one
 * after another; each is reset once timed (thousands of sockets left in
 * TIME_WAIT by a normal close would use up the ephemeral ports of later runs).
 */
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Login } from './security.js';

/** A connection that has not finished its set-up by then fails the run. */
const SETUP_TIMEOUT_MS = 10_000;
/** A server's line before PONG is INFO, +OK or PING here; a longer one means something is wrong. */
const MAX_LINE = 64 * 1024;

/** Lines (without CRLF) from a stream, one awaited at a time. */
export class Lines {
  private buf = '';
  private waiter: { resolve: (l: string) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(private readonly stream: Duplex) {
    stream.on('data', this.onData);
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
  }

  next(): Promise<string> {
    const line = this.take();
    if (line !== null) return Promise.resolve(line);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Stops reading: the TLS socket that wraps this stream reads from now on. */
  detach(): void {
    this.stream.off('data', this.onData);
    this.stream.off('error', this.onError);
    this.stream.off('close', this.onClose);
  }

  private take(): string | null {
    const end = this.buf.indexOf('\r\n');
    if (end === -1) return null;
    const line = this.buf.slice(0, end);
    this.buf = this.buf.slice(end + 2);
    return line;
  }

  private readonly onData = (b: Buffer): void => {
    this.buf += b.toString('latin1');
    if (this.buf.length > MAX_LINE) this.fail(new Error(`a server line longer than ${MAX_LINE} bytes`));
    if (this.waiter === null) return;
    const line = this.take();
    if (line === null) return;
    const w = this.waiter;
    this.waiter = null;
    w.resolve(line);
  };

  private readonly onError = (err: Error): void => this.fail(err);
  private readonly onClose = (): void => this.fail(new Error('the server closed the connection'));

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(this.failure);
  }
}

function ignore(): void {}

/** Lines up to PONG; an -ERR (e.g. 'Authorization Violation') is the run's error. */
async function untilPong(lines: Lines): Promise<void> {
  for (;;) {
    const line = await lines.next();
    if (line === 'PONG') return;
    if (line.startsWith('-ERR')) throw new Error(`the server answered CONNECT with ${line}`);
  }
}

/** A connection that has answered its CONNECT's PING; `lines` reads what comes after. */
export interface Opened {
  readonly raw: Socket;
  readonly stream: Duplex;
  readonly lines: Lines;
}

/**
 * Connects and logs in, up to the PONG answering CONNECT + PING. The caller
 * owns the connection from then on (and resets `raw` when done); on failure
 * it is reset here.
 */
export async function open(host: string, port: number, login: Login, ca: Buffer | undefined): Promise<Opened> {
  const raw: Socket = netConnect({ host, port, noDelay: true });
  // After detach() the TLS socket reports errors; a late one on the raw socket must not crash the worker.
  raw.on('error', ignore);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a connection was not set up within ${SETUP_TIMEOUT_MS} ms`)), SETUP_TIMEOUT_MS);
  });
  const run = async (): Promise<Opened> => {
    let lines = new Lines(raw);
    const info = await lines.next();
    if (!info.startsWith('INFO ')) throw new Error(`expected INFO, got ${JSON.stringify(info.slice(0, 80))}`);
    let stream: Duplex = raw;
    if (ca !== undefined) {
      lines.detach();
      const secure = tlsConnect({ socket: raw, ca, host });
      secure.on('error', ignore);
      await once(secure, 'secureConnect');
      stream = secure;
      lines = new Lines(secure);
    }
    const connect = { verbose: false, pedantic: false, protocol: 1, name: 'bench-setup', lang: 'bench', version: '0', ...login.user !== undefined ? { user: login.user, pass: login.pass } : {} };
    stream.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
    await untilPong(lines);
    return { raw, stream, lines };
  };
  try {
    return await Promise.race([run(), timeout]);
  } catch (err) {
    raw.resetAndDestroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** One connection's set-up time in microseconds; the connection is reset once timed. */
export async function setUp(host: string, port: number, login: Login, ca: Buffer | undefined): Promise<number> {
  const t0 = process.hrtime.bigint();
  const { raw } = await open(host, port, login, ca);
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  raw.resetAndDestroy();
  return us;
}

/** Each login's CA file read once: the bytes the TLS client verifies the server with. */
export class CaFiles {
  private readonly files = new Map<string, Buffer>();

  get(login: Login): Buffer | undefined {
    if (login.ca === undefined) return undefined;
    let ca = this.files.get(login.ca);
    if (ca === undefined) this.files.set(login.ca, (ca = readFileSync(login.ca)));
    return ca;
  }
}

/**
 * Sets up `count` connections one after another, connection i logging in
 * with logins[i mod logins.length]. Returns each one's time in microseconds.
 */
export async function timeSetups(url: URL, count: number, logins: readonly Login[]): Promise<number[]> {
  const host = url.hostname;
  const port = Number(url.port);
  const cas = new CaFiles();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const login = logins[i % logins.length] ?? {};
    times.push(await setUp(host, port, login, cas.get(login)));
  }
  return times;
}
