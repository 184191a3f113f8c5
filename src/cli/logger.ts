/**
 * The CLI's logger: JSON lines for machines (stdout is a pipe or a file),
 * pino-pretty lines for people (stdout is a terminal). Both write
 * synchronously, so the last lines before process.exit() are not lost and
 * the order of lines matches the order of events.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type pinoPretty from 'pino-pretty';
import { lazy } from '../lazy.js';

/** pino-pretty, loaded only for a terminal (or `pretty: true`). */
const prettyModule = lazy<typeof pinoPretty | { default: typeof pinoPretty }>('pino-pretty');
import type { LogLevel } from './values.js';

export interface CliLoggerOptions {
  level: LogLevel;
  /** Human-readable lines. Default: whether stdout is a terminal. */
  pretty?: boolean;
  /** Where to write. Default: stdout. Tests pass a stream. */
  destination?: NodeJS.WritableStream;
}

/**
 * The hub logs `listening on <url>` with the address object beside it; on a
 * terminal the URL in the message says it all. Other `address` fields (a
 * client's IP) are strings and stay.
 */
function dropAddressObject(fields: Record<string, unknown>): Record<string, unknown> {
  if (typeof fields.address !== 'object' || fields.address === null) return fields;
  const { address: _address, ...rest } = fields;
  return rest;
}

export function createCliLogger(opts: CliLoggerOptions): Logger {
  const human = opts.pretty ?? process.stdout.isTTY === true;
  let stream: DestinationStream;
  if (human) {
    const m = prettyModule();
    const pretty = typeof m === 'function' ? m : m.default;
    stream = pretty({
      sync: true,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(opts.destination !== undefined ? { destination: opts.destination, colorize: false } : {}),
    });
  } else {
    stream = opts.destination ?? pino.destination({ dest: 1, sync: true });
  }
  return pino({ level: opts.level, ...(human ? { formatters: { log: dropAddressObject } } : {}) }, stream);
}
