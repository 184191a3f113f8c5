/**
 * How the client reads a netemitter hub's schema refusal in an -ERR
 * (protocol/schemas.ts): a SchemaViolationError with the subject and the
 * reason, never a ServerError or a PermissionError.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverErrorOf } from '../../src/client/server-errors.js';
import { schemaViolationText, shortReason } from '../../src/protocol/schemas.js';
import { ConfigError, connect, ErrorCode, PermissionError, SchemaViolationError, ServerError, Validate } from '../../src/index.js';
import { resolveConnectOptions } from '../../src/client/options.js';
import { nodePlatform } from '../../src/client/node.js';

describe('serverErrorOf: schema violations', () => {
  it('reads the subject and the reason of the -ERR text', () => {
    const cases: [string, string][] = [
      ['orders.created', '/id must be string'],
      ['a', '(root) must have required property "id"'],
      ['tickets.é.x', 'payload is not JSON: Unexpected token " in JSON at position 0'],
      ['orders.created', 'has: colons: "and quotes"'],
    ];
    for (const [subject, reason] of cases) {
      const err = serverErrorOf(schemaViolationText(subject, reason), 'nats://127.0.0.1:4222');
      assert.ok(err instanceof SchemaViolationError, reason);
      assert.deepEqual([err.code, err.subject, err.reason, err.schema], [ErrorCode.SCHEMA_VIOLATION, subject, reason, undefined]);
      assert.equal(err.message, `schema violation for ${JSON.stringify(subject)}: ${reason}`);
    }
  });

  it('reads a reason at its longest, and in any case', () => {
    const reason = shortReason('x'.repeat(500));
    const err = serverErrorOf(schemaViolationText('s', reason), undefined);
    assert.ok(err instanceof SchemaViolationError);
    assert.equal(err.reason, reason);
    const lower = serverErrorOf('schema violation for publish to "s": why', undefined);
    assert.ok(lower instanceof SchemaViolationError);
    assert.equal(lower.reason, 'why');
  });

  it('leaves other errors alone', () => {
    assert.ok(serverErrorOf('Permissions Violation for Publish to "x"', undefined) instanceof PermissionError);
    for (const text of ['Schema Violation', 'Schema Violation for Publish to x: y', 'Schema Violation for Subscription to "x": y']) {
      const err = serverErrorOf(text, undefined);
      assert.ok(err instanceof ServerError && !(err instanceof SchemaViolationError), text);
    }
  });
});

describe('the validate option', () => {
  it("is 'server' unless 'local' is asked for; anything else is a ConfigError before any dial", async () => {
    assert.equal(resolveConnectOptions({}, nodePlatform).validate, Validate.SERVER);
    assert.equal(resolveConnectOptions({ validate: 'local' }, nodePlatform).validate, Validate.LOCAL);
    for (const bad of ['remote', 'LOCAL', true, 1]) {
      // Port 1: nothing listens there, so only the option check can answer first.
      const err = await connect({ servers: 'nats://127.0.0.1:1', validate: bad as never }).then(
        () => assert.fail('connected'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.message, `option validate must be 'server' or 'local', got ${JSON.stringify(bad)}`);
    }
  });
});
