/**
 * Wire-level constants of the NATS client protocol, shared by the hub, the
 * client and the fuzzers. Texts of `-ERR` messages are nats-server's, byte for
 * byte: official clients classify errors by substring (see
 * docs/protocol.md, "Errors").
 */

/** The nats-server version we advertise in INFO. nats.js gates features on it. */
export const ADVERTISED_VERSION = '2.10.0';
/** Protocol level: 1 enables async INFO (cluster updates, lame duck). */
export const PROTOCOL_VERSION = 1;

export const CR = 13;
export const LF = 10;
export const CRLF = '\r\n';
export const CRLF_BYTES = Buffer.from(CRLF, 'latin1');

/** Operations a client sends to the hub. */
export const ClientOp = {
  CONNECT: 'CONNECT',
  PUB: 'PUB',
  HPUB: 'HPUB',
  SUB: 'SUB',
  UNSUB: 'UNSUB',
  PING: 'PING',
  PONG: 'PONG',
} as const;
export type ClientOp = (typeof ClientOp)[keyof typeof ClientOp];

/** Operations the hub sends to a client. */
export const ServerOp = {
  INFO: 'INFO',
  MSG: 'MSG',
  HMSG: 'HMSG',
  OK: '+OK',
  ERR: '-ERR',
  PING: 'PING',
  PONG: 'PONG',
} as const;
export type ServerOp = (typeof ServerOp)[keyof typeof ServerOp];

/** Exact `-ERR` texts of nats-server (server/errors.go, client.go, parser.go). */
export const ProtocolErrorText = {
  UNKNOWN_OP: 'Unknown Protocol Operation',
  MAX_CONTROL_LINE: 'maximum control line exceeded',
  MAX_PAYLOAD: 'Maximum Payload Violation',
  AUTH_VIOLATION: 'Authorization Violation',
  AUTH_TIMEOUT: 'Authentication Timeout',
  BAD_PROTOCOL: 'invalid client protocol',
  NO_RESPONDERS_HEADERS: 'no responders requires headers support',
  MAX_CONNECTIONS: 'maximum connections exceeded',
  STALE_CONNECTION: 'Stale Connection',
  INVALID_SUBJECT: 'Invalid Subject',
  INVALID_PUBLISH_SUBJECT: 'Invalid Publish Subject',
  MAX_SUBSCRIPTIONS: 'maximum subscriptions exceeded',
  /** Ours: nats-server has no such timeout without auth (it uses 'Authentication Timeout' with auth). */
  CONNECT_TIMEOUT: 'Connect Timeout',
} as const;
export type ProtocolErrorText = (typeof ProtocolErrorText)[keyof typeof ProtocolErrorText];

/**
 * Subjects a connection publishes to tell the hub about itself (cancel its
 * last will, update its presence metadata): handled by the hub for that
 * connection alone, never routed (server/lifecycle.ts). Against nats-server
 * they are ordinary subjects, and our client never sends them there.
 */
export const CONTROL_PREFIX = '$NE.CTL.';

/** The header block's version line (ADR-4). */
export const HEADER_VERSION = 'NATS/1.0';

/**
 * Defaults, each a named option of the hub (see server/options.ts). The
 * limits are nats-server's. Two differ on purpose: the hub listens on
 * loopback unless told otherwise (embedded first: nothing is exposed by
 * accident), and the lame-duck grace is 2 s rather than 10 s, because an
 * embedded hub usually stops with its application.
 */
export const Defaults = {
  port: 4222,
  host: '127.0.0.1',
  maxPayload: 1024 * 1024,
  maxControlLine: 4096,
  maxConnections: 65536,
  maxSubscriptions: 0,
  maxPending: 64 * 1024 * 1024,
  writeDeadline: 10_000,
  pingInterval: 120_000,
  maxPingsOut: 2,
  lameDuckGracePeriod: 2_000,
  connectTimeout: 10_000,
  maxClosedClients: 10_000,
  maxMonitorSessions: 1000,
  /** 12 hours. */
  monitorSessionTtl: 43_200_000,
  monitorTailRate: 50,
  monitorTailMaxPayload: 16 * 1024,
  maxMonitorLiveClients: 16,
  maxMonitorRequests: 16,
} as const;
