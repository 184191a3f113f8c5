/**
 * The client's public API, as both entry points export it: 'netemitter'
 * (src/index.ts, beside the hub and Node's connect) and 'netemitter/browser'
 * (src/browser.ts, beside the browser's connect). Everything here runs in a
 * page; what needs Node (the object store, TLS files) is exported by
 * index.ts alone.
 */
export { Bus, ListenerError, ERROR_HEADER, ERROR_CODE_HEADER } from './bus.js';
export type { ConnectOptions, ReconnectOptions, JetStreamOptions } from './options.js';
export { Validate } from './options.js';
export type { Schemas } from './schemas.js';
export type { SchemaList, SchemaRuleInfo } from '../protocol/schemas.js';
export type { Will } from '../protocol/extensions.js';
export type { EventMeta } from './event-meta.js';
export type { Presence } from './presence.js';
export type { Member, PresenceChange, PresenceListener, PresenceListOptions } from './presence-types.js';
export { PresenceEvent } from '../protocol/presence.js';
export type {
  ListenOptions,
  EmitOptions,
  RequestOptions,
  HandleOptions,
  EventMap,
  EventName,
  RequestName,
  RequestOf,
  ReplyOf,
  Listener,
  Handler,
  DurableHandler,
} from './bus-types.js';
export type { Credentials, Authenticator } from './auth.js';
export type { Dialer, DialTarget, ByteStream } from '../transport.js';
export type { StatusEvents, ServerInfo, StatusEmitter } from './types.js';
export { MsgHeaders } from '../protocol/headers.js';
export type { HeadersInit } from '../protocol/headers.js';
export type { PublishOptions } from './jetstream/api.js';
export type { DurableOptions, DurableMeta, NakDelay } from './jetstream/durable.js';
export { nanos, millis } from './jetstream/types.js';
export type { StreamConfig, StreamInfo, ConsumerConfig, ConsumerInfo, PubAck, StoredMessage } from './jetstream/types.js';
export { KvOperation } from './kv/types.js';
export type { KvOptions, KvEntry, KvStatus, WatchOptions } from './kv/types.js';
export {
  NetEmitterError,
  ConfigError,
  SchemaCompileError,
  ProtocolError,
  ErrorCode,
  ConnectionError,
  DisconnectedError,
  ClosedError,
  TimeoutError,
  NoRespondersError,
  RemoteError,
  BufferFullError,
  UnsentError,
  ServerError,
  AuthorizationError,
  PermissionError,
  PermissionOperation,
  PayloadTooLargeError,
  InvalidSubjectError,
  InvalidPayloadError,
  JetStreamApiError,
  JetStreamNotEnabledError,
  NoStreamError,
  DurableListenerError,
  TerminateError,
  InvalidKeyError,
  BucketNotFoundError,
  KeyExistsError,
  WrongRevisionError,
  WatchError,
  PresenceError,
  SchemaViolationError,
} from '../errors.js';
