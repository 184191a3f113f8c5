/**
 * netemitter: an event hub that speaks the NATS protocol, and (soon) the
 * client that makes it feel like one EventEmitter across processes.
 */
export { createHub, Hub } from './server/hub.js';
export type { HubEvents, HubStats, SubscriptionEvent, CloseOptions } from './server/hub.js';
export type { HubOptions, HubJetStreamOptions, ListenSpec, TcpListenSpec, PathListenSpec, Logger, SchemaRule, JsonSchema } from './server/options.js';
export { SchemaAction } from './protocol/schemas.js';
// hub.connect()'s options: the client's connect options less servers, dialer and tls (in-process, no network).
export type { InProcessConnectOptions } from './server/in-process.js';
// The storage behind durable streams, for createHub({ jetstream: { store } }) or on its own.
export { openStore, MemoryStore, SqliteStore, StoreErrorCode } from './store/index.js';
export type { Store, StoreSpec } from './store/index.js';
export type { HubAddress } from './server/listeners.js';
// Security: TLS, authentication, permissions (docs/security.md), and who is on the other end of a connection.
export type {
  TlsOptions,
  AuthorizationOptions,
  UserEntry,
  Permissions,
  SubjectPermission,
  ConnectRequest,
  Identity,
  AuthenticateHook,
} from './server/security/types.js';
export type { Peer, PeerTls } from './transport.js';
export { TransportKind } from './transport.js';
export { CloseReason } from './server/types.js';
export type { ClientInfo } from './server/types.js';
export { NetEmitterError, ProtocolError, ConfigError, ListenError, HubClosedError, ErrorCode } from './errors.js';
export { Defaults, ProtocolErrorText, ADVERTISED_VERSION } from './protocol/constants.js';

// The client: the networked EventEmitter. What 'netemitter/browser' exports too is listed once, in client/public.ts;
// here Node's connect and what only Node has (the object store, TLS files, the classes behind bus.streams & co).
export * from './client/public.js';
export { connect } from './client/node.js';
// Durable streams (the JetStream API subset).
export { Streams, Consumers } from './client/jetstream/manage.js';
export type { ConsumerAction } from './client/jetstream/manage.js';
export { DurableDefaults } from './client/jetstream/durable.js';
export { JetStreamDefaults } from './client/jetstream/types.js';
export type {
  StreamState,
  SequenceInfo,
  PurgeOptions,
  PurgeResponse,
  MessageQuery,
  RetentionPolicy,
  StorageType,
  DiscardPolicy,
  DeliverPolicy,
  AckPolicy,
  ReplayPolicy,
} from './client/jetstream/types.js';
// Key-value buckets and object stores (the NATS KV and object store layouts).
export { KvBucket } from './client/kv/bucket.js';
export { KvWatch } from './client/kv/watch.js';
export type { KvWatchEvents } from './client/kv/watch.js';
export { KvDefaults } from './client/kv/types.js';
export { ObjectStore } from './client/objects/store.js';
export type { ObjectSource } from './client/objects/store.js';
export { ObjectDefaults } from './client/objects/types.js';
export type { ObjectStoreOptions, PutObjectOptions, ObjectInfo } from './client/objects/types.js';
export type { TlsOptions as ClientTlsOptions, PemSource } from './client/platform.js';
export { ObjectStoreError, DigestMismatchError } from './errors.js';

// ── The seed programs ───────────────────────────────────────────────────────
// The echo server and client of the lesson netemitter grew from, over plain
// node:net (no hub, no NATS). Also the `echo-server` and `echo-client` commands.
export { createEchoServer, runEchoClient } from './echo/index.js';
export type { EchoServerOptions, EchoClientOptions } from './echo/index.js';
