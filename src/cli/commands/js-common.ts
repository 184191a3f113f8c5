/**
 * What the stream and consumer commands share: names, the bus they connect,
 * list and config-file flags, and how a stored message is printed (stream
 * view, stream get and consumer next print messages alike).
 */
import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import type { Bus } from '../../client/bus.js';
import type { MsgHeaders } from '../../protocol/headers.js';
import { ConfigError } from '../../errors.js';
import { connectBus, messageJson, renderPayload, type ConnectionFlags } from './common.js';

/** Names become subject tokens (ADR-6). */
export function checkStreamName(name: string, what = 'stream'): string {
  if (name.length === 0 || /[.*>\s\0/\\]/.test(name)) {
    throw new ConfigError(`invalid ${what} name ${JSON.stringify(name)} (expected no '.', '*', '>', '/', '\\' or whitespace)`);
  }
  return name;
}

/** Runs `fn` with a connected bus, closed afterwards whatever happens. */
export async function withBus<T>(flags: ConnectionFlags, command: string, fn: (bus: Bus) => Promise<T>): Promise<T> {
  const bus = await connectBus(flags, command);
  try {
    return await fn(bus);
  } finally {
    await bus.close().catch(() => {});
  }
}

/** `--flag a,b --flag c` → ['a', 'b', 'c']. */
export function listOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser((value: string, previous: string[] | undefined) => [
    ...(previous ?? []),
    ...value.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
  ]);
}

/** A JSON config file given with --config; flags override its keys. */
export function readConfigFile(path: string | undefined): Record<string, unknown> {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read --config ${path}: ${(err as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`invalid --config ${path}: ${(err as Error).message}`);
  }
}

export function oneOf<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`invalid value for ${flag}: ${JSON.stringify(raw)} (expected ${allowed.join(', ')})`);
  return raw as T;
}

/** A message read back from a stream, however it was read (message get or a consumer's delivery). */
export interface ShownMessage {
  seq: number;
  subject: string;
  time: Date;
  headers: MsgHeaders | undefined;
  data: Buffer;
  /** More `Key: value` pairs for the first line (a delivery's count, what is pending). */
  extra?: Record<string, string | number>;
}

/**
 *   [3] Subject: orders.new Received: 2026-12-06T02:00:54.757Z
 *     Source: test
 *   <blank line>
 *   {
 *     "id": 2
 *   }
 *   <blank line>
 */
export function renderMessage(m: ShownMessage): string {
  let text = `[${m.seq}] Subject: ${m.subject} Received: ${m.time.toISOString()}`;
  for (const [k, v] of Object.entries(m.extra ?? {})) text += ` ${k}: ${v}`;
  text += '\n';
  if (m.headers !== undefined) {
    for (const key of m.headers.keys()) for (const v of m.headers.values(key)) text += `  ${key}: ${v}\n`;
  }
  const body = renderPayload(m.data);
  return `${text}\n${typeof body === 'string' ? body : body.toString('latin1')}\n\n`;
}

/** The --json shape of a stored message: seq, subject, time, the extra fields, headers, payload. */
export function storedJson(m: ShownMessage, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return messageJson({ seq: m.seq, subject: m.subject, time: m.time.toISOString(), ...extra }, m.headers?.toJSON(), m.data);
}
