/**
 * Every error netemitter raises is a NetEmitterError with a stable `code`.
 * Codes are part of the public API and listed in docs/api.md.
 */

export const ErrorCode = {
  PROTOCOL: 'ERR_NETEMITTER_PROTOCOL',
  CONFIG: 'ERR_NETEMITTER_CONFIG',
  LISTEN: 'ERR_NETEMITTER_LISTEN',
  HUB_CLOSED: 'ERR_NETEMITTER_HUB_CLOSED',
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
