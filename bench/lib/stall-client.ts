/**
 * Does one client's log-in stall the server's other clients? One connected
 * client pings (PING, wait for PONG, a short pause, again) while new
 * connections log in, `parallel` at a time; the round trips are timed before
 * the log-ins start (idle) and while they run (during).
 *
 *   pinger   ──PING─PONG──PING─PONG── … ──PING─PONG──PING─PONG─ … ─┐
 *   log-ins                      ├─ user 1 ─┤├─ user 3 ─┤ …          │
 *                                ├─ user 2 ─┤├─ user 4 ─┤ …   done ──┘
 *             └── idle pings ──┘└──────────── during ─────────────┘
 *
 * With bcrypt users each log-in is a full compare (~0.1 s of CPU at cost 11);
 * a server that runs it on the thread that serves its other clients answers
 * their PINGs only between compares. Everything is bounded: the idle pings
 * by count, the log-ins by count and each by setup-client's timeout, each
 * round trip by PING_TIMEOUT_MS.
 */
import { setUp, open, CaFiles, type Opened } from './setup-client.js';
import type { Login } from './security.js';
import type { StallResult } from './jobs.js';

/** The earlier throwaway script's pause: short next to a stall, long enough not to load the server by itself. */
export const PING_PAUSE_MS = 2;
/** A server that has not answered a PING by then fails the run. */
const PING_TIMEOUT_MS = 10_000;

export interface StallJob {
  readonly url: string;
  /** The pinger's login (a user of its own, logged in before anything is timed). */
  readonly pinger: Login;
  /** One log-in each, `parallel` at a time. */
  readonly logins: readonly Login[];
  readonly parallel: number;
  /** Round trips timed before the log-ins start. */
  readonly idlePings: number;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One PING → PONG in microseconds; a PING from the server on the way is answered. */
async function roundTrip(c: Opened): Promise<number> {
  const t0 = process.hrtime.bigint();
  c.stream.write('PING\r\n');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no PONG within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
  });
  const pong = (async (): Promise<void> => {
    for (;;) {
      const line = await c.lines.next();
      if (line === 'PONG') return;
      if (line === 'PING') c.stream.write('PONG\r\n');
      else if (line.startsWith('-ERR')) throw new Error(`the server sent ${line}`);
    }
  })();
  try {
    await Promise.race([pong, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return Number(process.hrtime.bigint() - t0) / 1000;
}

/** Log-ins `parallel` at a time, each as soon as a slot is free; their set-up times in µs, in order. */
async function logIns(host: string, port: number, logins: readonly Login[], parallel: number, cas: CaFiles): Promise<number[]> {
  const times = new Array<number>(logins.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < logins.length) {
      const i = next++;
      const login = logins[i]!;
      times[i] = await setUp(host, port, login, cas.get(login));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, logins.length) }, lane));
  return times;
}

export async function measureStall(j: StallJob): Promise<StallResult> {
  const url = new URL(j.url);
  const host = url.hostname;
  const port = Number(url.port);
  const cas = new CaFiles();
  const pinger = await open(host, port, j.pinger, cas.get(j.pinger));
  try {
    const idle: number[] = [];
    for (let i = 0; i < j.idlePings; i++) {
      idle.push(await roundTrip(pinger));
      await pause(PING_PAUSE_MS);
    }
    const during: number[] = [];
    let done = false;
    const t0 = process.hrtime.bigint();
    const logins = logIns(host, port, j.logins, j.parallel, cas).finally(() => (done = true));
    // A failed log-in ends the pinging too, and fails the run below.
    logins.catch(() => {});
    while (!done) {
      during.push(await roundTrip(pinger));
      if (!done) await pause(PING_PAUSE_MS);
    }
    const loginTimes = await logins;
    return { idle, during, logins: loginTimes, elapsedUs: Number(process.hrtime.bigint() - t0) / 1000 };
  } finally {
    pinger.raw.resetAndDestroy();
  }
}
