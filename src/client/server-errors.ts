/**
 * What a server's `-ERR '…'` means to the client, by nats-server's wording:
 *
 *   Authorization Violation, Authentication Timeout,
 *   User/Account Authentication Expired, … Revoked   → AuthorizationError
 *   Permissions Violation for Publish to "S"
 *   Permissions Violation for Subscription to "S"
 *     [using queue "Q"]                               → PermissionError
 *   Schema Violation for Publish to "S": <reason>     → SchemaViolationError
 *     (a netemitter hub: protocol/schemas.ts)
 *   anything else                                     → ServerError
 *
 * Matched without regard to case, as nats.js does, so a server that words
 * them slightly differently is still understood.
 */
import { AuthorizationError, PermissionError, PermissionOperation, SchemaViolationError, ServerError } from '../errors.js';
import { parseSchemaViolation } from '../protocol/schemas.js';

const AUTH = /authorization violation|authentication timeout|authentication expired|authentication revoked/i;
const PERMISSION = /^permissions violation for (publish|subscription) to "([^"]*)"(?: using queue "([^"]*)")?/i;

export function serverErrorOf(text: string, server: string | undefined): AuthorizationError | PermissionError | SchemaViolationError | ServerError {
  const p = PERMISSION.exec(text);
  if (p !== null) {
    const operation = p[1]!.toLowerCase() === 'publish' ? PermissionOperation.PUBLISH : PermissionOperation.SUBSCRIBE;
    return new PermissionError(operation, p[2]!, p[3]);
  }
  const v = parseSchemaViolation(text);
  if (v !== null) return new SchemaViolationError(v.subject, v.reason);
  if (AUTH.test(text)) return new AuthorizationError(text, server === undefined ? undefined : { server });
  return new ServerError(text);
}
