/**
 * What the start-up bench (bench/startup.ts) waits for, from outside the
 * server: the first PONG on a raw TCP connection (the moment a client can do
 * anything), then the moment every stream answers `$JS.API.STREAM.INFO` with
 * the message count it was filled with (the moment a durable client can).
 * Both are polls with a deadline: a server that never gets there is an error
 * naming what it printed, not a hang.
 */
import { connect as tcpConnect } from 'node:net';
import { connect } from '@nats-io/transport-node';

/** Between connection attempts while nothing listens yet: short against a start-up of tens of ms. */
const RETRY_MS = 2;

/** One attempt: connect, read INFO, send CONNECT {} + PING, resolve on PONG; false when refused. */
function pingOnce(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    let got = '';
    let sent = false;
    const timer = setTimeout(() => finish(new Error(`no PONG within ${timeoutMs} ms of connecting (got ${JSON.stringify(got.slice(0, 200))})`)), timeoutMs);
    function finish(err: Error | null, ok = false): void {
      clearTimeout(timer);
      s.destroy();
      if (err !== null) reject(err);
      else resolve(ok);
    }
    s.setNoDelay(true);
    s.on('data', (b: Buffer) => {
      got += b.toString('latin1');
      if (!sent && got.includes('\r\n')) {
        sent = true;
        s.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
      }
      if (got.includes('PONG\r\n')) finish(null, true);
      else if (got.includes('-ERR')) finish(new Error(`server refused: ${got.trim()}`));
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') finish(null, false);
      else finish(err);
    });
    // Closed after accepting, before PONG: still starting (or stopping); the caller retries.
    s.once('close', () => finish(null, false));
  });
}

/**
 * Polls 127.0.0.1:port until a PONG comes back. `alive()` says whether the
 * server process still runs (an exited one fails at once, with `why()`).
 */
export async function firstPong(port: number, deadline: number, alive: () => boolean, why: () => string): Promise<void> {
  for (;;) {
    if (!alive()) throw new Error(`the server exited before answering PING: ${why()}`);
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`no PONG before the deadline: ${why()}`);
    if (await pingOnce(port, left)) return;
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

interface StreamInfoReply {
  state?: { messages?: number };
  error?: { description?: string };
}

/**
 * Asks every stream's `$JS.API.STREAM.INFO` until each answers with its
 * expected message count (a server may accept clients before its streams are
 * loaded). Resolves with the counts seen.
 */
export async function streamsReady(port: number, expected: ReadonlyMap<string, number>, deadline: number): Promise<void> {
  const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, timeout: Math.max(1, deadline - performance.now()) });
  try {
    for (const [name, count] of expected) {
      let last = 'no answer';
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`stream ${name}: not usable before the deadline (${last})`);
        try {
          const m = await nc.request(`$JS.API.STREAM.INFO.${name}`, '', { timeout: Math.min(left, 5000) });
          const r = m.json<StreamInfoReply>();
          if (r.state?.messages === count) break;
          last = r.error !== undefined ? `error ${r.error.description ?? ''}` : `${r.state?.messages ?? '?'} messages of ${count}`;
        } catch (err) {
          // No responders or a timeout while JetStream starts: ask again.
          last = (err as Error).message;
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      }
    }
  } finally {
    await nc.close();
  }
}
