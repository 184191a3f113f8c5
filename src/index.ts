/**
 * netemitter: an event hub that speaks the NATS protocol, and (soon) the
 * client that makes it feel like one EventEmitter across processes.
 */
export { createHub, Hub } from './server/hub.js';
export type { HubEvents, HubStats, SubscriptionEvent, CloseOptions } from './server/hub.js';
export type { HubOptions, ListenSpec, TcpListenSpec, PathListenSpec, Logger } from './server/options.js';
export type { HubAddress } from './server/listeners.js';
export { CloseReason } from './server/connection.js';
export type { ClientInfo } from './server/connection.js';
export { NetEmitterError, ProtocolError, ConfigError, ListenError, HubClosedError, ErrorCode } from './errors.js';
export { Defaults, ProtocolErrorText, ADVERTISED_VERSION } from './protocol/constants.js';
