/**
 * The hub's security options (createHub({ tls, authorization, authenticate })),
 * in the shape of nats-server's config with the project's camelCase names.
 * Times are milliseconds, as everywhere in HubOptions.
 */
import type { Peer } from '../../transport.js';

/** TLS for the hub's TCP listeners. Unix sockets and pipes stay plaintext: filesystem permissions guard them. */
export interface TlsOptions {
  /** Server certificate chain: a PEM file's path, or the PEM itself as a Buffer. */
  cert: string | Buffer;
  /** The certificate's private key: a PEM file's path, or the PEM itself as a Buffer. */
  key: string | Buffer;
  /** CA certificates that client certificates must chain to (path or PEM). Default: Node's bundled roots. */
  ca?: string | Buffer;
  /** Require and verify a client certificate (mutual TLS). Default false. */
  verify?: boolean;
  /** TLS handshake before INFO (nats.js `tlsFirst`). Default false: plaintext INFO, then the handshake. */
  handshakeFirst?: boolean;
  /** Milliseconds the TLS handshake may take. Default 2 s (nats-server's). */
  timeout?: number;
}

/** Subjects a user may use: a list means allow; `{ allow, deny }` both. Deny wins. */
export type SubjectPermission = string[] | { allow?: string[]; deny?: string[] };

/** What a user may publish and subscribe to. Absent means everything. */
export interface Permissions {
  publish?: SubjectPermission;
  subscribe?: SubjectPermission;
  /**
   * Let the user publish to the reply subject of a request it received, even
   * where `publish` forbids it: `true` (one reply within 2 minutes, nats-server's
   * defaults) or `{ max, expires }` (replies per request, default 1, 0 for no
   * limit; milliseconds the right lasts, default 120000, 0 for ever). Without a
   * `publish` allow list it also turns the blanket publish allow off, as in
   * nats-server: such a user may publish replies and nothing else.
   */
  allowResponses?: boolean | { max?: number; expires?: number };
}

/** One entry of `authorization.users`: a user/password pair or an NKey. */
export interface UserEntry {
  user?: string;
  /** Plain text, or a bcrypt hash (`$2a$…`/`$2b$…`). */
  password?: string;
  /** A user's public NKey (`U…`); the client proves it by signing INFO's nonce. */
  nkey?: string;
  permissions?: Permissions;
}

export interface AuthorizationOptions {
  /** Milliseconds a client has to send an accepted CONNECT, counted after the TLS handshake (which has its own timeout). Default 2 s (nats-server's). */
  timeout?: number;
  /** A shared token (CONNECT `auth_token`). Only when there are no users. */
  token?: string;
  /** A single user and password (CONNECT `user`/`pass`). */
  user?: string;
  password?: string;
  /** Users with passwords or NKeys, and their permissions. */
  users?: UserEntry[];
  /** Permissions of users that list none. */
  defaultPermissions?: Permissions;
  /**
   * Brute force is slowed: after the second failed authentication in a row
   * from one address, each refusal waits 100 ms, then twice as long each time,
   * up to this many milliseconds, before the close. 0 turns it off (closing
   * at once, as nats-server does). Default 5000.
   */
  maxFailureDelay?: number;
}

/** Every field of CONNECT, as sent (nats-server's names). Unknown fields are dropped. */
export interface ConnectRequest {
  verbose?: boolean;
  pedantic?: boolean;
  tls_required?: boolean;
  auth_token?: string;
  user?: string;
  pass?: string;
  name?: string;
  lang?: string;
  version?: string;
  protocol?: number;
  echo?: boolean;
  sig?: string;
  jwt?: string;
  nkey?: string;
  no_responders?: boolean;
  headers?: boolean;
  /** netemitter's extensions (nats-server ignores both): raw JSON, checked by their hub services (server/lifecycle.ts). */
  will?: unknown;
  presence?: unknown;
}

/** Who a client is, once authenticated, and what it may do. */
export interface Identity {
  /** The user name (or the NKey for NKey users), shown in hub events and logs. */
  user?: string;
  /** Permissions; absent means the hub's `defaultPermissions`, or everything. */
  permissions?: Permissions;
}

/**
 * The embedder's auth callout: called with a client's CONNECT and who it is.
 * Resolve with an Identity to accept it; with null or false (or throw) to
 * refuse it with `Authorization Violation`. May be async; the connection's
 * later operations wait for it.
 */
export type AuthenticateHook = (
  connect: Readonly<ConnectRequest>,
  peer: Peer,
  /** The nonce this client was sent in INFO, to check an NKey signature (`connect.sig`) against. */
  nonce: string | undefined,
) => Identity | null | false | Promise<Identity | null | false>;
