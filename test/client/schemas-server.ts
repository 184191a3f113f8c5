/**
 * A server for the schema suites: on the hub targets (hub, inprocess) a hub
 * enforcing `schemas`; on nats-server the reference server, which enforces
 * nothing (the same client code must still run there).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHub, type Hub, type SchemaRule } from '../../src/index.js';
import type { AuthorizationOptions } from '../../src/server/security/types.js';
import { startServer, targetKind, TargetKind } from '../helpers/target.js';

export interface SchemaServer {
  readonly url: string;
  /** ws://127.0.0.1:PORT with `websocket: true`. */
  readonly wsUrl: string | undefined;
  /** The hub (hub targets); undefined on nats-server. */
  readonly hub: Hub | undefined;
  stop(): Promise<void>;
}

export interface SchemaServerOptions {
  /** Durable streams (the hub's memory store; nats-server's file store). */
  jetstream?: boolean;
  authorization?: AuthorizationOptions;
  /** A WebSocket listener too (not in-process). */
  websocket?: boolean;
}

export async function startSchemaServer(schemas: SchemaRule[], opts: SchemaServerOptions = {}): Promise<SchemaServer> {
  const kind = targetKind();
  if (kind === TargetKind.NATS_SERVER) {
    const s = await startServer({ jetstream: opts.jetstream, authorization: opts.authorization, websocket: opts.websocket });
    return { url: s.url, wsUrl: s.wsUrl, hub: undefined, stop: () => s.stop() };
  }
  const inProcess = kind === TargetKind.INPROCESS;
  if (inProcess && opts.websocket === true) throw new Error('startSchemaServer: WebSocket needs a socket; mark the test skipInProcess');
  const hub = createHub({
    schemas,
    ...(inProcess ? { listen: [] } : { host: '127.0.0.1', port: 0 }),
    jetstream: opts.jetstream === true ? { store: 'memory' } : false,
    ...(opts.authorization === undefined ? {} : { authorization: { maxFailureDelay: 0, ...opts.authorization } }),
    ...(opts.websocket === true ? { websocket: { port: 0, host: '127.0.0.1' } } : {}),
  });
  const [addr] = await hub.listen();
  const url = inProcess ? hub.url : addr!.url;
  const ws = hub.websocketAddress;
  const wsUrl = opts.websocket === true && ws !== null ? `ws://${ws.host}:${ws.port}` : undefined;
  let stopping: Promise<void> | null = null;
  return { url, wsUrl, hub, stop: () => (stopping ??= hub.close({ grace: 0 })) };
}

/**
 * Schema files in a temporary directory (name → JSON), for rules given by
 * path: returns the directory and a remover.
 */
export async function schemaFiles(files: Record<string, unknown>): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'netemitter-schemas-'));
  for (const [name, json] of Object.entries(files)) await writeFile(join(dir, name), JSON.stringify(json));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
