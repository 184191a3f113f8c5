/**
 * Helpers for the JetStream conformance suite (test/jetstream/): one server
 * with durable streams per test file, the official client's two handles
 * (`jetstreamManager` for the API, `jetstream` for publish and consume),
 * and exact checks on the errors the API answers with.
 *
 * Each test makes its own stream with a fresh name, so tests in a file share
 * the server but never each other's state.
 */
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, JetStreamApiError, type ConsumerConfig, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { startServer, type TestServer } from './target.js';
import { closeAll, connectTo, rejection, within } from './client.js';

/** Nanoseconds in a millisecond: JetStream configs carry durations as integer ns. */
export const NS_PER_MS = 1_000_000;
export const ns = (ms: number): number => ms * NS_PER_MS;

/** What `$JS.API.*` returns for an empty stream state time ("zero" Go time). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface JsContext {
  readonly server: TestServer;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly js: JetStreamClient;
  /** A name not used before on this server: `<prefix>_<n>`. Valid as a stream, consumer and subject token. */
  unique(prefix: string): string;
  stop(): Promise<void>;
}

/** Starts a JetStream-enabled server of the current target and connects the official client. */
export async function startJetStream(): Promise<JsContext> {
  const server = await startServer({ jetstream: true });
  let nc: NatsConnection | undefined;
  try {
    nc = await connectTo(server, { name: 'jetstream-conformance' });
    const jsm = await jetstreamManager(nc);
    let n = 0;
    const conn = nc;
    return {
      server,
      nc: conn,
      jsm,
      js: jetstream(conn),
      unique: (prefix) => `${prefix}_${++n}`,
      stop: async () => {
        await closeAll(conn);
        await server.stop();
      },
    };
  } catch (err) {
    await closeAll(nc);
    await server.stop();
    throw err;
  }
}

export interface ExpectedApiError {
  /** The HTTP-like status: `error.code` in the JSON. */
  status: number;
  /** JetStream's own code: `error.err_code`. */
  code: number;
  description: string | RegExp;
  /** The client class the error must be (ConsumerNotFoundError for 10014, …); default JetStreamApiError. */
  name?: string;
}

/**
 * Asserts that `p` rejects with the JetStream API error described: the
 * client's JetStreamApiError (or the named subclass) carrying exactly the
 * server's `{code, err_code, description}`. Returns the error.
 */
export async function assertApiError(p: Promise<unknown>, want: ExpectedApiError): Promise<JetStreamApiError> {
  const err = await rejection(p);
  assert.ok(err instanceof JetStreamApiError, `expected a JetStreamApiError, got ${err.name}: ${err.message}`);
  assert.equal(err.name, want.name ?? 'JetStreamApiError');
  const api = err.apiError();
  assert.equal(api.code, want.status, `status of ${JSON.stringify(api)}`);
  assert.equal(api.err_code, want.code, `err_code of ${JSON.stringify(api)}`);
  if (typeof want.description === 'string') assert.equal(api.description, want.description);
  else assert.match(api.description, want.description);
  return err;
}

/** Reads a fetch() (or any finite ConsumerMessages) to its end, acking nothing, within a bound. */
export async function drain(iter: ConsumerMessages, timeoutMs = 10_000): Promise<JsMsg[]> {
  const got: JsMsg[] = [];
  await within(
    (async () => {
      for await (const m of iter) got.push(m);
    })(),
    timeoutMs,
    'reading a pull to its end',
  );
  return got;
}

/** The stream sequences of messages, for compact assertions. */
export const seqs = (ms: readonly JsMsg[]): number[] => ms.map((m) => m.seq);

/** Publishes `payloads` to `subject` in order, awaiting each PubAck; returns the acked seqs. */
export async function publishAll(js: JetStreamClient, subject: string, payloads: readonly (string | Uint8Array)[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of payloads) out.push((await js.publish(subject, p)).seq);
  return out;
}

/**
 * A new stream `<prefix>…` on `<name>.>` holding `n` messages on `<name>.x`
 * (payloads m1…mn), and an explicit-ack pull consumer `c` on it (with `cfg`
 * on top). Returns the stream's name.
 */
export async function streamWithConsumer(ctx: JsContext, prefix: string, n: number, cfg: Partial<ConsumerConfig> = {}): Promise<string> {
  const name = await filledStream(ctx, prefix, n);
  await ctx.jsm.consumers.add(name, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ...cfg });
  return name;
}

/** A stream `<prefix>_<k>` on `<name>.>` with `n` messages on `<name>.x` (payloads m1…mn). Returns its name. */
export async function filledStream(ctx: JsContext, prefix: string, n: number): Promise<string> {
  const name = ctx.unique(prefix);
  await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
  await publishAll(ctx.js, `${name}.x`, Array.from({ length: n }, (_, i) => `m${i + 1}`));
  return name;
}

/**
 * The size a pull request's `max_bytes` counts for one delivered message, as
 * nats-server 2.9.10 measures it (found on the wire, see test/jetstream/pull.test.ts):
 * delivery subject + ack reply subject + header block + payload.
 */
export function pullBytes(m: JsMsg): number {
  const hdr = m.headers === undefined ? 0 : Buffer.byteLength(m.headers.toString());
  return Buffer.byteLength(m.subject) + Buffer.byteLength((m as unknown as { reply: string }).reply) + hdr + m.data.length;
}

/**
 * Resolves once consumer `consumer` of `stream` has `n` pull requests waiting
 * (its info's num_waiting, which the hub and nats-server both report): the
 * barrier a test needs before it publishes to, or deletes under, a pending
 * pull. A sleep there only makes the race rarer.
 */
export async function pullsWaiting(ctx: JsContext, stream: string, consumer: string, n = 1, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = (await ctx.jsm.consumers.info(stream, consumer)).num_waiting;
    if (waiting >= n) return;
    assert.ok(Date.now() < deadline, `${stream}/${consumer}: ${waiting} of ${n} pull requests waiting after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
