/**
 * How the client reads a server's -ERR: nats-server's exact wording (as
 * observed from nats-server 2.9.10) becomes AuthorizationError,
 * PermissionError or ServerError.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverErrorOf } from '../../src/client/server-errors.js';
import { AuthorizationError, ErrorCode, PermissionError, ServerError } from '../../src/index.js';

describe('serverErrorOf', () => {
  it('reads the permission violations, with subject, operation and queue', () => {
    const cases: [string, string, string, string | undefined][] = [
      ['Permissions Violation for Publish to "orders.secret"', 'publish', 'orders.secret', undefined],
      ['Permissions Violation for Subscription to "no.x"', 'subscribe', 'no.x', undefined],
      ['Permissions Violation for Subscription to "no.y" using queue "q"', 'subscribe', 'no.y', 'q'],
      ['permissions violation for publish to "lower.case"', 'publish', 'lower.case', undefined],
      ['Permissions Violation for Subscription to "a.>" using queue "workers.eu"', 'subscribe', 'a.>', 'workers.eu'],
    ];
    for (const [text, operation, subject, queue] of cases) {
      const err = serverErrorOf(text, 'nats://127.0.0.1:4222');
      assert.ok(err instanceof PermissionError, text);
      assert.deepEqual([err.code, err.operation, err.subject, err.queue], [ErrorCode.PERMISSION, operation, subject, queue], text);
    }
  });

  it('reads the authentication failures as AuthorizationError, naming the server', () => {
    for (const text of ['Authorization Violation', 'Authentication Timeout', 'User Authentication Expired', 'Account Authentication Expired', 'User Authentication Revoked']) {
      const err = serverErrorOf(text, 'nats://10.0.0.1:4222');
      assert.ok(err instanceof AuthorizationError, text);
      assert.equal(err.text, text);
      assert.equal(err.server, 'nats://10.0.0.1:4222');
      assert.equal(err.message, `authorization failed at nats://10.0.0.1:4222: ${text}`);
    }
  });

  it('leaves every other -ERR a ServerError', () => {
    for (const text of ['Maximum Payload Violation', 'Unknown Protocol Operation', 'Invalid Subject', 'Permissions Violation for Publish with Reply of "x"']) {
      const err = serverErrorOf(text, undefined);
      assert.ok(err instanceof ServerError && !(err instanceof PermissionError), text);
      assert.equal(err.code, ErrorCode.SERVER);
    }
  });
});
