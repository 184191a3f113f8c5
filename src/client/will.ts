/**
 * The client's side of a last will (protocol/extensions.ts, server/will.ts):
 * the will itself rides in CONNECT (handshake.ts); here is when to cancel it
 * and how to tell a refused will from other errors.
 *
 * A clean close must never fire the will, so close() and drain() cancel it
 * before the socket goes, behind a PING whose PONG proves the hub has read
 * the cancel (connection.ts shutdown()). Only a hub whose INFO lists `will`
 * gets the cancel: nats-server ignores the will, and would route the cancel
 * as an ordinary message.
 */
import { CONTROL_PREFIX } from '../protocol/constants.js';
import { Feature, WILL_CANCEL } from '../protocol/extensions.js';
import { PermissionError, PermissionOperation } from '../errors.js';
import type { ResolvedConnectOptions } from './options.js';
import type { ServerInfo } from './types.js';

/** The cancel on the wire: no reply wanted, the PING that follows it is the confirmation. */
export const WILL_CANCEL_LINE = `PUB ${CONTROL_PREFIX}${WILL_CANCEL} 0\r\n\r\n`;

/** Whether this connection left a will with a server that keeps it (and so must cancel it on a clean close). */
export function hasWill(opts: ResolvedConnectOptions, info: ServerInfo | null): boolean {
  return opts.will !== null && Array.isArray(info?.netemitter) && info.netemitter.includes(Feature.WILL);
}

/**
 * Whether a server error during the handshake refuses the will: the hub
 * answers a will whose subject the user may not publish to as a PUB there
 * would be answered, then closes. A handshake sends no PUB, so a publish
 * violation for the will's subject can only be that.
 */
export function isWillRefusal(err: Error, opts: ResolvedConnectOptions): err is PermissionError {
  return err instanceof PermissionError && err.operation === PermissionOperation.PUBLISH && opts.will !== null && err.subject === opts.will.subject;
}
