/**
 * Every error netemitter raises is a NetEmitterError with a stable `code`.
 * Codes are part of the public API and listed in docs/api.md.
 */

export const ErrorCode = {
  PROTOCOL: 'ERR_NETEMITTER_PROTOCOL',
  CONFIG: 'ERR_NETEMITTER_CONFIG',
  LISTEN: 'ERR_NETEMITTER_LISTEN',
  HUB_CLOSED: 'ERR_NETEMITTER_HUB_CLOSED',
  CONNECTION: 'ERR_NETEMITTER_CONNECTION',
  DISCONNECTED: 'ERR_NETEMITTER_DISCONNECTED',
  CLOSED: 'ERR_NETEMITTER_CLOSED',
  TIMEOUT: 'ERR_NETEMITTER_TIMEOUT',
  NO_RESPONDERS: 'ERR_NETEMITTER_NO_RESPONDERS',
  REMOTE: 'ERR_NETEMITTER_REMOTE',
  BUFFER_FULL: 'ERR_NETEMITTER_BUFFER_FULL',
  UNSENT: 'ERR_NETEMITTER_UNSENT',
  SERVER: 'ERR_NETEMITTER_SERVER',
  AUTHORIZATION: 'ERR_NETEMITTER_AUTHORIZATION',
  PERMISSION: 'ERR_NETEMITTER_PERMISSION',
  PAYLOAD_TOO_LARGE: 'ERR_NETEMITTER_PAYLOAD_TOO_LARGE',
  INVALID_SUBJECT: 'ERR_NETEMITTER_INVALID_SUBJECT',
  INVALID_PAYLOAD: 'ERR_NETEMITTER_INVALID_PAYLOAD',
  JETSTREAM_API: 'ERR_NETEMITTER_JETSTREAM_API',
  JETSTREAM_NOT_ENABLED: 'ERR_NETEMITTER_JETSTREAM_NOT_ENABLED',
  NO_STREAM: 'ERR_NETEMITTER_NO_STREAM',
  DURABLE: 'ERR_NETEMITTER_DURABLE',
  TERMINATE: 'ERR_NETEMITTER_TERMINATE',
  INVALID_KEY: 'ERR_NETEMITTER_INVALID_KEY',
  BUCKET_NOT_FOUND: 'ERR_NETEMITTER_BUCKET_NOT_FOUND',
  KEY_EXISTS: 'ERR_NETEMITTER_KEY_EXISTS',
  WRONG_REVISION: 'ERR_NETEMITTER_WRONG_REVISION',
  WATCH: 'ERR_NETEMITTER_WATCH',
  OBJECT: 'ERR_NETEMITTER_OBJECT',
  DIGEST_MISMATCH: 'ERR_NETEMITTER_DIGEST_MISMATCH',
  PRESENCE: 'ERR_NETEMITTER_PRESENCE',
  SCHEMA_VIOLATION: 'ERR_NETEMITTER_SCHEMA_VIOLATION',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class NetEmitterError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A protocol violation found by the parser or a handler. `text` is the body of
 * the `-ERR '…'` line to send, or undefined when nats-server closes silently.
 */
export class ProtocolError extends NetEmitterError {
  readonly text: string | undefined;
  /** Whether the connection must be closed after this error. */
  readonly fatal: boolean;
  constructor(text: string | undefined, fatal: boolean, detail?: string) {
    super(ErrorCode.PROTOCOL, detail ?? text ?? 'protocol violation');
    this.text = text;
    this.fatal = fatal;
  }
}

/** Invalid options given to createHub() or the CLI. */
export class ConfigError extends NetEmitterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.CONFIG, message, options);
  }
}

/**
 * A schema rule that does not load or compile (unreadable file, not JSON,
 * invalid schema, unknown keyword or format, bad `$ref`). The message is one
 * line naming the rule (its file, or `inline#N`) and the problem.
 */
export class SchemaCompileError extends ConfigError {
  /** The rule's name: its schema file (relative to the config's directory) or `inline#N`. */
  readonly schema: string;
  constructor(schema: string, problem: string, options?: { cause?: unknown }) {
    super(`schema ${schema}: ${problem.replace(/[\r\n]+/g, ' ')}`, options);
    this.schema = schema;
  }
}

/** A listener could not be opened (address in use, permission, live Unix socket). */
export class ListenError extends NetEmitterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.LISTEN, message, options);
  }
}

export class HubClosedError extends NetEmitterError {
  constructor() {
    super(ErrorCode.HUB_CLOSED, 'the hub is closed');
  }
}

// ── client errors ─────────────────────────────────────────────────────────

/**
 * No server in the list could be reached (initial connect, or reconnect gave
 * up), or one server failed (then `server` names it).
 */
export class ConnectionError extends NetEmitterError {
  /** The server this error is about, when it is about one. */
  readonly server: string | undefined;
  /**
   * When no server could be reached: why each one failed, in the order they
   * were tried (the last attempt of each), as ConnectionErrors with `server`
   * set and the socket's or the server's error as `cause`. Empty otherwise.
   */
  readonly errors: readonly ConnectionError[];
  constructor(message: string, options?: { cause?: unknown; server?: string; errors?: readonly ConnectionError[] }) {
    super(ErrorCode.CONNECTION, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.server = options?.server;
    this.errors = options?.errors ?? [];
  }
}

/**
 * The connection dropped before the server confirmed what was written
 * (a pending flush). Those events may or may not have arrived.
 */
export class DisconnectedError extends NetEmitterError {
  constructor(message = 'the connection dropped before the server confirmed the data', options?: { cause?: unknown }) {
    super(ErrorCode.DISCONNECTED, message, options);
  }
}

/** The bus was closed: nothing more can be sent or received. */
export class ClosedError extends NetEmitterError {
  constructor(message = 'the connection is closed') {
    super(ErrorCode.CLOSED, message);
  }
}

/** A request got no reply in time. */
export class TimeoutError extends NetEmitterError {
  constructor(message: string) {
    super(ErrorCode.TIMEOUT, message);
  }
}

/** A request reached no responder (the server answered 503 at once). */
export class NoRespondersError extends NetEmitterError {
  readonly subject: string;
  constructor(subject: string) {
    super(ErrorCode.NO_RESPONDERS, `no responders for ${JSON.stringify(subject)}`);
    this.subject = subject;
  }
}

/** A responder's handler failed; `message` is its error message. */
export class RemoteError extends NetEmitterError {
  /** The error code the responder sent (Nats-Service-Error-Code), 500 when none. */
  readonly status: number;
  constructor(message: string, status: number) {
    super(ErrorCode.REMOTE, message);
    this.status = status;
  }
}

/** Emitting would grow the outgoing buffer past its bound (option maxBufferedBytes). */
export class BufferFullError extends NetEmitterError {
  constructor(limit: number) {
    super(ErrorCode.BUFFER_FULL, `the outgoing buffer is full (${limit} bytes): the event was not sent; wait for the connection or raise maxBufferedBytes`);
  }
}

/** The bus closed while events were still waiting to be sent; they were not delivered. */
export class UnsentError extends NetEmitterError {
  /** Event bytes still queued at the close: never sent. */
  readonly bytes: number;
  /** Event bytes (headers and payloads) sent that the server never confirmed (close() waited `timeout` for it): maybe lost. */
  readonly unconfirmed: number;
  constructor(bytes: number, unconfirmed = 0) {
    const parts = [];
    if (bytes > 0 || unconfirmed === 0) parts.push(`${bytes} bytes of events never sent`);
    if (unconfirmed > 0) parts.push(`${unconfirmed} bytes of events sent but never confirmed by the server (they may be lost)`);
    super(ErrorCode.UNSENT, `closed with ${parts.join(', and ')}`);
    this.bytes = bytes;
    this.unconfirmed = unconfirmed;
  }
}

/** The server sent -ERR. */
export class ServerError extends NetEmitterError {
  constructor(text: string) {
    super(ErrorCode.SERVER, `server error: ${text}`);
  }
}

/**
 * The server refused this client's credentials, or no longer accepts them
 * (`-ERR 'Authorization Violation'`, `'Authentication Timeout'`, `'User
 * Authentication Expired'`…). `text` is the server's wording; no credential
 * is ever part of the message.
 */
export class AuthorizationError extends NetEmitterError {
  /** The body of the server's -ERR. */
  readonly text: string;
  /** The server that refused, when known. */
  readonly server: string | undefined;
  constructor(text: string, options?: { server?: string }) {
    super(ErrorCode.AUTHORIZATION, `authorization failed${options?.server === undefined ? '' : ` at ${options.server}`}: ${text}`);
    this.text = text;
    this.server = options?.server;
  }
}

/** What a permission covers: publishing to a subject, or subscribing to one. */
export const PermissionOperation = {
  PUBLISH: 'publish',
  SUBSCRIBE: 'subscribe',
} as const;
export type PermissionOperation = (typeof PermissionOperation)[keyof typeof PermissionOperation];

/**
 * The server denied a publish or a subscription (`-ERR 'Permissions
 * Violation for Publish to "S"'`, `'… for Subscription to "S" using queue
 * "Q"'`). The connection stays open. Reported on bus.status 'error'; a
 * request() to a denied subject rejects with it.
 */
export class PermissionError extends NetEmitterError {
  readonly subject: string;
  readonly operation: PermissionOperation;
  /** The queue group of a denied queue subscription. */
  readonly queue: string | undefined;
  constructor(operation: PermissionOperation, subject: string, queue?: string) {
    const what = operation === PermissionOperation.PUBLISH ? 'publish to' : 'subscribe to';
    super(ErrorCode.PERMISSION, `permission denied: ${what} ${JSON.stringify(subject)}${queue === undefined ? '' : ` in queue group ${JSON.stringify(queue)}`}`);
    this.subject = subject;
    this.operation = operation;
    this.queue = queue;
  }
}

/** A message larger than the server's max_payload. */
export class PayloadTooLargeError extends NetEmitterError {
  constructor(size: number, max: number) {
    super(ErrorCode.PAYLOAD_TOO_LARGE, `message of ${size} bytes exceeds the server's max_payload of ${max} bytes`);
  }
}

/** A subject the protocol cannot carry. */
export class InvalidSubjectError extends NetEmitterError {
  constructor(subject: string, why: string) {
    super(ErrorCode.INVALID_SUBJECT, `invalid subject ${JSON.stringify(subject)}: ${why}`);
  }
}

/**
 * A payload that cannot travel as given: JSON has no form for it (a BigInt, a
 * circular structure, a function) or would silently send `{}` for it (a Map,
 * a Set, an Error). Thrown by emit() and respond(), a rejection of request()
 * and publish(), before anything is sent.
 */
export class InvalidPayloadError extends NetEmitterError {
  /** The subject it was for; for a reply, the subject of the request. */
  readonly subject: string;
  constructor(subject: string, why: string, options?: { cause?: unknown; reply?: boolean }) {
    const what = options?.reply === true ? `the reply to ${JSON.stringify(subject)}` : JSON.stringify(subject);
    super(ErrorCode.INVALID_PAYLOAD, `invalid payload for ${what}: ${why}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.subject = subject;
  }
}

// ── durable streams (the JetStream API) ───────────────────────────────────

/**
 * The server refused a JetStream call: the `error` object of its JSON reply.
 * `status` is its HTTP-like `code` (400, 404, 503…) and `errCode` its stable
 * JetStream number (10059 stream not found, 10014 consumer not found…);
 * `code` stays netemitter's string code, as on every error.
 */
export class JetStreamApiError extends NetEmitterError {
  readonly status: number;
  readonly errCode: number;
  readonly description: string;
  constructor(status: number, errCode: number, description: string) {
    super(ErrorCode.JETSTREAM_API, `${description} (${status}/${errCode})`);
    this.status = status;
    this.errCode = errCode;
    this.description = description;
  }
}

/** Nothing answers the JetStream API: the server has no durable streams enabled. */
export class JetStreamNotEnabledError extends NetEmitterError {
  constructor() {
    super(ErrorCode.JETSTREAM_NOT_ENABLED, 'durable streams (JetStream) are not enabled on the server');
  }
}

/** No stream stores the subject: a durable publish or listener has nowhere to go. */
export class NoStreamError extends NetEmitterError {
  readonly subject: string;
  constructor(subject: string) {
    super(ErrorCode.NO_STREAM, `no stream stores subject ${JSON.stringify(subject)}: create one whose subjects match it`);
    this.subject = subject;
  }
}

/** A durable listener could not bind its consumer or lost it; it retries. Reported on bus.status 'error'. */
export class DurableListenerError extends NetEmitterError {
  readonly subject: string;
  readonly durable: string;
  constructor(subject: string, durable: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(ErrorCode.DURABLE, `durable listener ${JSON.stringify(durable)} on ${JSON.stringify(subject)}: ${why}`, { cause });
    this.subject = subject;
    this.durable = durable;
  }
}

/**
 * Thrown by a durable listener to give up on an event for good: the server
 * stops redelivering it (`+TERM <reason>`); the netemitter hub moves it to the
 * dead-letter subject.
 */
export class TerminateError extends NetEmitterError {
  readonly reason: string;
  constructor(reason = 'terminated by the listener') {
    super(ErrorCode.TERMINATE, reason);
    this.reason = reason;
  }
}

// ── key-value buckets and object stores (on durable streams) ──────────────

/** A bucket name, key or object name that the NATS key-value or object store layout cannot carry. */
export class InvalidKeyError extends NetEmitterError {
  readonly key: string;
  constructor(key: string, why: string) {
    super(ErrorCode.INVALID_KEY, `invalid key ${JSON.stringify(key)}: ${why}`);
    this.key = key;
  }
}

/** The bucket does not exist (opened with `create: false`, or deleted meanwhile). */
export class BucketNotFoundError extends NetEmitterError {
  readonly bucket: string;
  constructor(bucket: string) {
    super(ErrorCode.BUCKET_NOT_FOUND, `bucket ${JSON.stringify(bucket)} does not exist`);
    this.bucket = bucket;
  }
}

/** kv.create() on a key that has a value; `revision` is that value's. */
export class KeyExistsError extends NetEmitterError {
  readonly key: string;
  readonly revision: number;
  constructor(key: string, revision: number) {
    super(ErrorCode.KEY_EXISTS, `key ${JSON.stringify(key)} already exists (revision ${revision})`);
    this.key = key;
    this.revision = revision;
  }
}

/**
 * kv.update() (or a delete with a revision) whose expected revision is not
 * the key's last one: someone else wrote it meanwhile. `actual` is the last
 * revision as the server reported it (0: no value), when it did.
 */
export class WrongRevisionError extends NetEmitterError {
  readonly key: string;
  readonly expected: number;
  readonly actual: number | undefined;
  constructor(key: string, expected: number, actual: number | undefined) {
    super(ErrorCode.WRONG_REVISION, `key ${JSON.stringify(key)} is not at revision ${expected}${actual === undefined ? '' : ` (it is at ${actual})`}`);
    this.key = key;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A watch (or keys/history/an object read) lost its consumer and could not recreate it, or fell too far behind. */
export class WatchError extends NetEmitterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.WATCH, message, options);
  }
}

/** An object store operation failed (an object not found, a metadata record that is not one). */
export class ObjectStoreError extends NetEmitterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.OBJECT, message, options);
  }
}

/** The bytes read back do not match the object's SHA-256 digest or size: the read stream fails with it. */
export class DigestMismatchError extends NetEmitterError {
  readonly expected: string;
  readonly actual: string;
  constructor(name: string, expected: string, actual: string) {
    super(ErrorCode.DIGEST_MISMATCH, `object ${JSON.stringify(name)} is corrupt: expected ${expected}, read ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** `bus.presence` cannot do what was asked: the server refused it, or offers no presence of that kind (nats-server: no update()). */
export class PresenceError extends NetEmitterError {
  constructor(message: string) {
    super(ErrorCode.PRESENCE, message);
  }
}

/**
 * An event that breaks the schema of its subject: refused by the hub (its
 * `-ERR 'Schema Violation for Publish to "S": …'`, a request's 400 status, a
 * durable publish's error PubAck with err_code 19001), by hub.publish(), or by
 * the client before sending when it validates locally (`validate: 'local'`).
 */
export class SchemaViolationError extends NetEmitterError {
  readonly subject: string;
  /** One line, at most 200 characters: the first problem found. */
  readonly reason: string;
  /** The rule's name (schema file name or `inline#N`), when known. */
  readonly schema: string | undefined;
  constructor(subject: string, reason: string, schema?: string) {
    super(ErrorCode.SCHEMA_VIOLATION, `schema violation for ${JSON.stringify(subject)}: ${reason}`);
    this.subject = subject;
    this.reason = reason;
    this.schema = schema;
  }
}
