/**
 * Helpers for the monitoring tests: fetch a document, compare its shape
 * (keys and JSON value types) with the one nats-server serves, and wait for
 * a document to satisfy a condition (the event), with a bounded timeout.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export type Doc = Record<string, unknown>;

export interface Answer {
  status: number;
  type: string;
  text: string;
}

export async function get(base: string, path: string): Promise<Answer> {
  const res = await fetch(base + path, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** A JSON document, asserting a 200 with a JSON content type. */
export async function getJson(base: string, path: string): Promise<Doc> {
  const a = await get(base, path);
  assert.equal(a.status, 200, `${path}: ${a.text}`);
  assert.match(a.type, /^application\/json/);
  return JSON.parse(a.text) as Doc;
}

/** The JSON type of a value, as a shape comparison sees it. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** The document's keys with their JSON types, sorted: `{ cid: 'number', … }`. */
export function shape(doc: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(doc as Doc).sort()) out[k] = jsonType((doc as Doc)[k]);
  return out;
}

/** Polls `path` until `ok(doc)` holds; each poll is an HTTP round trip, not a timed wait for an ordering. */
export async function until(base: string, path: string, ok: (doc: Doc) => boolean, timeoutMs = 5_000): Promise<Doc> {
  const deadline = Date.now() + timeoutMs;
  let last: Doc = {};
  while (Date.now() < deadline) {
    last = await getJson(base, path);
    if (ok(last)) return last;
    await sleep(20);
  }
  assert.fail(`${path} did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(last).slice(0, 2000)}`);
}

export type Connz = { connections: Doc[]; num_connections: number; total: number; offset: number; limit: number };

/** The connections named `names`, in the order /connz lists them. */
export function named(doc: Doc, ...names: string[]): string[] {
  return (doc as unknown as Connz).connections.map((c) => c.name as string).filter((n) => names.includes(n));
}
