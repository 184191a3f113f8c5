/**
 * netemitter in a browser: `import { connect } from 'netemitter/browser'`.
 * The same bus as in Node (on/emit, request/handle, durable listeners, KV),
 * reaching the hub or a NATS server over the page's WebSocket (ws:// and
 * wss:// URLs only; see docs/browser.md). scripts/build.mjs bundles this
 * entry into dist/browser/netemitter.js.
 */
import { connectWith, type Bus } from './client/bus.js';
import type { EventMap } from './client/bus-types.js';
import { browserPlatform } from './client/browser-platform.js';
import type { ConnectOptions } from './client/options.js';

/**
 * Connects to a server's WebSocket listener (`ws://host:port[/path]`,
 * `wss://…`) and returns the bus once connected. `connect<Events>()` types
 * on/emit/request/handle by the event map.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function connect<E extends EventMap = Record<string, any>>(opts?: string | string[] | BrowserConnectOptions): Promise<Bus<E>> {
  return connectWith<E>(browserPlatform, opts);
}

/** connect()'s options in a browser: those of Node's, without `tls` (the browser does TLS for wss://). */
export type BrowserConnectOptions = Omit<ConnectOptions, 'tls'>;

export { Bus, ListenerError, ERROR_HEADER, ERROR_CODE_HEADER } from './client/bus.js';
export type { ConnectOptions, ReconnectOptions, JetStreamOptions } from './client/options.js';
export type { EventMeta } from './client/event-meta.js';
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
} from './client/bus-types.js';
export type { Credentials, Authenticator } from './client/auth.js';
export type { Dialer, DialTarget, ByteStream } from './transport.js';
export type { StatusEvents, ServerInfo, StatusEmitter } from './client/types.js';
export { MsgHeaders } from './protocol/headers.js';
export type { HeadersInit } from './protocol/headers.js';
export type { Streams, Consumers } from './client/jetstream/manage.js';
export type { PublishOptions } from './client/jetstream/api.js';
export type { DurableOptions, DurableMeta, NakDelay } from './client/jetstream/durable.js';
export { nanos, millis } from './client/jetstream/types.js';
export type { StreamConfig, StreamInfo, ConsumerConfig, ConsumerInfo, PubAck, StoredMessage } from './client/jetstream/types.js';
export type { KvBucket } from './client/kv/bucket.js';
export type { KvWatch } from './client/kv/watch.js';
export { KvOperation } from './client/kv/types.js';
export type { KvOptions, KvEntry, KvStatus, WatchOptions } from './client/kv/types.js';
export {
  NetEmitterError,
  ConfigError,
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
} from './errors.js';
