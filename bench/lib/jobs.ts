/**
 * What the harness asks a worker process to do, and what it answers. The
 * worker gets its job as JSON in argv and talks over the IPC channel.
 *
 *   harness ──spawn(job)──► worker: connects, subscribes   ──► { ready }
 *   harness ──{ go }──────► worker: runs                    ──► { progress n } …
 *   harness ──{ credit n }► publisher (flow control)        ──► { done result }
 *   harness ──{ stop }────► worker: reports what it has, closes, exits
 *
 * Times are process.hrtime.bigint() values as numbers of nanoseconds:
 * CLOCK_MONOTONIC, one clock for every process on the machine, so a
 * timestamp written by the publisher can be read by a subscriber.
 */
import type { ClientKind } from './clients.js';
import type { Login } from './security.js';
import type { ScaleJob } from './scale-subjects.js';

export type IdleProtocol = 'nats' | 'mqtt' | 'redis' | 'raw';

/** A client's server and, for a server with a security set-up, how to log in. */
interface ClientJob {
  client: ClientKind;
  url: string;
  login?: Login;
}

export type Job =
  | ({ role: 'sub'; subject: string; count: number; warmup: number; progressEvery: number; conns: number } & ClientJob)
  /** `payload`: the text published (UTF-8), instead of `size` bytes of 'a'. */
  | ({ role: 'pub'; subject: string; count: number; size: number; payload?: string; batch: number; inflight: number; window: number } & ClientJob)
  | ({ role: 'lat-sub'; subject: string } & ClientJob)
  | ({ role: 'lat-pub'; subject: string; size: number; rate: number; warmupMs: number; durationMs: number } & ClientJob)
  | ({ role: 'rep'; subject: string } & ClientJob)
  | ({ role: 'req'; subject: string; size: number; concurrency: number; warmupMs: number; durationMs: number } & ClientJob)
  | { role: 'idle'; protocol: IdleProtocol; url: string; conns: number }
  /** Connection set-up: `count` connections one after another, connection i logging in with logins[i mod logins.length]. */
  | { role: 'setup'; url: string; count: number; logins: Login[] }
  /** Stall: one client pings while `logins` log in, `parallel` at a time (stall-client.ts). */
  | { role: 'stall'; url: string; pinger: Login; logins: Login[]; parallel: number; idlePings: number }
  /** The scale bench's subscribers, publishers and latency probes (scale-client.ts). */
  | ScaleJob
  /** Durable publishers (durable-client.ts): `conns` nats.js connections, each awaiting its PubAck before its next publish. */
  | { role: 'durable-pub'; url: string; subject: string; size: number; conns: number; warmupMs: number; durationMs: number };

export interface SubResult {
  /** Per connection: messages received, time of the warm-up'th message, time of the last. */
  received: number[];
  tWarm: number[];
  tEnd: number[];
}
export interface PubResult {
  sent: number;
  tStart: number;
  tEnd: number;
}
export interface LatResult {
  /** Samples after the warm-up, in microseconds. */
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}
export interface ReqResult {
  count: number;
  errors: number;
  elapsedNs: number;
}
export interface IdleResult {
  opened: number;
}
export interface SetupResult {
  /** Each connection's set-up (connect, INFO, TLS handshake if any, CONNECT + PING, PONG), microseconds, in order. */
  times: number[];
}

export interface StallResult {
  /** Round trips (PING → PONG, µs) before the log-ins started… */
  idle: number[];
  /** …and while they ran, in order. */
  during: number[];
  /** Each log-in's set-up time, µs. */
  logins: number[];
  /** From the first log-in's start to the last one's PONG, µs. */
  elapsedUs: number;
}

export interface DurableResult {
  /** PubAcks that arrived within the measured window (after the warm-up). */
  acks: number;
  /** Every PubAck, warm-up and the publishes in flight at the end included: the stream must hold as many. */
  total: number;
  /** The measured window, nanoseconds. */
  elapsedNs: number;
  /** Publish → PubAck of each measured PubAck, microseconds. */
  latencies: number[];
}

export type ToWorker = { type: 'go' } | { type: 'credit'; acked: number } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready'; info?: IdleResult }
  | { type: 'progress'; n: number }
  /** A figure a job measures between ready and done (the scale subscribers' subscribe time). */
  | { type: 'info'; info: Record<string, number> }
  | { type: 'done'; result: SubResult | PubResult | LatResult | ReqResult | IdleResult | SetupResult | StallResult | DurableResult | Record<string, number> }
  | { type: 'error'; message: string };
