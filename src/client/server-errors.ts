/**
 * What a server's `-ERR '…'` means to the client, by nats-server's wording:
 *
 *   Authorization Violation, Authentication Timeout,
 *   User/Account Authentication Expired, … Revoked   → AuthorizationError
 *   Permissions Violation for Publish to "S"
 *   Permissions Violation for Subscription to "S"
 *     [using queue "Q"]                               → PermissionError
 *   anything else                                     → ServerError
 *
 * Matched without regard to case, as nats.js does, so a server that words
 * them slightly differently is still understood.
 */
import { AuthorizationError, PermissionError, PermissionOperation, ServerError } from '../errors.js';

const AUTH = /authorization violation|authentication timeout|authentication expired|authentication revoked/i;
const PERMISSION = /^permissions violation for (publish|subscription) to "([^"]*)"(?: using queue "([^"]*)")?/i;

export function serverErrorOf(text: string, server: string | undefined): AuthorizationError | PermissionError | ServerError {
  const p = PERMISSION.exec(text);
  if (p !== null) {
    const operation = p[1]!.toLowerCase() === 'publish' ? PermissionOperation.PUBLISH : PermissionOperation.SUBSCRIBE;
    return new PermissionError(operation, p[2]!, p[3]);
  }
  if (AUTH.test(text)) return new AuthorizationError(text, server === undefined ? undefined : { server });
  return new ServerError(text);
}
