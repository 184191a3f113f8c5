/**
 * Shapes shared by the connection and the bus: what the server announces,
 * the lifecycle events on `bus.status`, and what the connection asks of the
 * bus. Kept apart so neither side imports the other's implementation.
 */
import { EventEmitter } from 'node:events';
import type { PermissionError } from '../errors.js';

/** What the server told us in INFO. */
export interface ServerInfo {
  server_id: string;
  server_name?: string;
  version: string;
  proto?: number;
  headers?: boolean;
  max_payload: number;
  client_id?: number;
  connect_urls?: string[];
  ldm?: boolean;
  /** The client must upgrade to TLS after this INFO (or has, handshake first). */
  tls_required?: boolean;
  /** TLS is offered but not required (nats-server's allow_non_tls). */
  tls_available?: boolean;
  auth_required?: boolean;
  /** What an NKey signs to prove itself. */
  nonce?: string;
  /** A netemitter hub's extensions (protocol/extensions.ts Feature), e.g. ['will', 'presence']; nats-server sends none. */
  netemitter?: string[];
  /** A netemitter hub's schema generation (protocol/schemas.ts), bumped by each reload that changed its rules. */
  netemitter_schemas?: number;
  [key: string]: unknown;
}

/** Lifecycle events, kept apart from user events (a user may name an event `error` or `close`). */
export interface StatusEvents {
  connect: [server: string];
  disconnect: [server: string, err: Error | undefined];
  reconnecting: [attempt: number, server: string];
  reconnect: [server: string];
  ldm: [server: string];
  update: [added: string[]];
  error: [err: Error];
  close: [];
}

/** `bus.status`: lifecycle events. `error` is emitted only when listened for, so it never throws. */
export class StatusEmitter extends EventEmitter<StatusEvents> {}

/**
 * The methods a listener uses, spelled out beside Node's: a browser
 * TypeScript project without Node's types (docs/browser.md) cannot see
 * EventEmitter's, and still gets these, typed by the event map.
 */
export interface StatusEmitter {
  on<K extends keyof StatusEvents>(event: K, listener: (...args: StatusEvents[K]) => void): this;
  once<K extends keyof StatusEvents>(event: K, listener: (...args: StatusEvents[K]) => void): this;
  off<K extends keyof StatusEvents>(event: K, listener: (...args: StatusEvents[K]) => void): this;
  addListener<K extends keyof StatusEvents>(event: K, listener: (...args: StatusEvents[K]) => void): this;
  removeListener<K extends keyof StatusEvents>(event: K, listener: (...args: StatusEvents[K]) => void): this;
  removeAllListeners(event?: keyof StatusEvents): this;
  listenerCount(event: keyof StatusEvents): number;
}

export interface ConnectionHandler {
  /** Lines (SUB …) to send right after CONNECT, to restore subscriptions. */
  subscriptionLines(): string;
  message(subject: string, sid: string, reply: string | undefined, headerLength: number, payload: Buffer): void;
  /** The server denied a publish or a subscription (it is also emitted on status 'error'). */
  permissionDenied(err: PermissionError): void;
  /** Connected again after a disconnection (serverInfo is the new server's). */
  reconnected(): void;
  /** An INFO while connected: a change of the cluster, lame duck, a hub's schema generation. */
  infoUpdated(info: ServerInfo): void;
}
