/**
 * The INFO line the hub sends each client: the listener's part is built once
 * (server identity, limits, what the listener requires), the client's part
 * (its id, address, the nonce to sign) per connection.
 */
import { randomBytes } from 'node:crypto';
import { ADVERTISED_VERSION, PROTOCOL_VERSION } from '../protocol/constants.js';
import { TransportKind, type Peer } from '../transport.js';
import { INFO_SCHEMAS_FIELD } from '../protocol/schemas.js';

/** A server id in nats-server's shape: 'N' and 55 base32 characters. */
export function newServerId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(55);
  let id = 'N';
  for (const b of bytes) id += alphabet[b & 31];
  return id;
}

/** INFO's client_ip: the peer's address on network listeners (TCP, WebSocket), none on sockets and pipes. */
export function clientIp(listener: { kind: TransportKind }, peer: Peer): string | undefined {
  return listener.kind === TransportKind.TCP || listener.kind === TransportKind.WEBSOCKET ? peer.address : undefined;
}

export interface InfoServer {
  serverId: string;
  serverName: string;
  maxPayload: number;
  jetstream: boolean;
  /** netemitter's extensions this hub offers (server/lifecycle.ts), announced in INFO's `netemitter` list; none: no field. */
  features: readonly string[];
}

export interface InfoListener {
  /** TCP host and port; absent for Unix sockets and pipes. */
  host?: string;
  port?: number;
  /** The listener asks for TLS (nats-server's tls_required) and client certificates (tls_verify). */
  tls: boolean;
  tlsVerify: boolean;
  /** Clients must authenticate in CONNECT. */
  auth: boolean;
}

/** The listener's INFO, open-ended: `INFO {…,` for infoLine() to finish. */
export function infoPrefix(server: InfoServer, listener: InfoListener): string {
  const fields: Record<string, unknown> = {
    server_id: server.serverId,
    server_name: server.serverName,
    version: ADVERTISED_VERSION,
    proto: PROTOCOL_VERSION,
  };
  if (listener.host !== undefined) {
    fields.host = listener.host;
    fields.port = listener.port;
  }
  fields.headers = true;
  if (listener.auth) fields.auth_required = true;
  if (listener.tls) fields.tls_required = true;
  if (listener.tlsVerify) fields.tls_verify = true;
  fields.max_payload = server.maxPayload;
  if (server.jetstream) fields.jetstream = true;
  // Ours (nats-server has no such field, and clients ignore fields they do not know): what our client may use.
  if (server.features.length > 0) fields.netemitter = server.features;
  const json = JSON.stringify(fields);
  return `INFO ${json.slice(0, -1)},`;
}

export interface InfoClient {
  id: number;
  /** The client's IP address; omitted for Unix sockets and pipes, as nats-server has none there. */
  ip: string | undefined;
  /** The nonce an NKey client signs. */
  nonce: string | undefined;
  /** The hub's schema generation (ours: nats-server has no such field); changes at a reload, so it is not in the prefix. */
  schemas?: number;
}

/** One client's INFO line; `ldm` announces lame-duck mode. */
export function infoLine(prefix: string, client: InfoClient, ldm = false): string {
  let s = `${prefix}"client_id":${client.id}`;
  if (client.ip !== undefined) s += `,"client_ip":${JSON.stringify(client.ip)}`;
  if (client.nonce !== undefined) s += `,"nonce":"${client.nonce}"`;
  if (client.schemas !== undefined) s += `,"${INFO_SCHEMAS_FIELD}":${client.schemas}`;
  if (ldm) s += ',"ldm":true';
  return s + '} \r\n';
}
