/**
 * The client side of schemas (issue #19): the hub's refusals as
 * SchemaViolationError (-ERR on bus.status, a request's 400, a durable
 * publish's error PubAck), `validate: 'local'` (the hub's rules checked
 * before sending, refetched after a reload and a reconnect), and
 * `bus.schemas`. Runs against NETEMITTER_TARGET: nats-server enforces no
 * schemas, and the same client code must run there too.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { connect, ErrorCode, InvalidSubjectError, PermissionError, SchemaViolationError, type Bus, type ConnectOptions, type SchemaRule } from '../../src/index.js';
import { differs, isHub, skipUnlessHub } from '../helpers/target.js';
import { barrier, inbox, next, rejection, until } from './helpers/wait.js';
import { schemaFiles, startSchemaServer, type SchemaServer, type SchemaServerOptions } from './schemas-server.js';

const ORDER = {
  type: 'object',
  properties: { id: { type: 'string' }, priority: { enum: ['low', 'high'] } },
  required: ['id'],
  additionalProperties: false,
};
const RULES: SchemaRule[] = [
  { subjects: ['orders.>'], schema: ORDER },
  { subjects: ['audit.*'], schema: { type: 'object', required: ['who'] }, action: 'drop' },
];

/** The error `fn` throws, or a failure when it throws none. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}

function violation(err: unknown, subject: string): SchemaViolationError {
  assert.ok(err instanceof SchemaViolationError, `expected a SchemaViolationError, got ${String(err)}`);
  assert.equal(err.code, ErrorCode.SCHEMA_VIOLATION);
  assert.equal(err.subject, subject);
  assert.ok(err.reason.length > 0 && err.reason.length <= 200 && !err.reason.includes("'") && !err.reason.includes('\n'), err.reason);
  return err;
}

describe('schemas: the client', () => {
  const cleanup: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  });

  async function server(rules: SchemaRule[] = RULES, opts?: SchemaServerOptions): Promise<SchemaServer> {
    const s = await startSchemaServer(rules, opts);
    cleanup.push(() => s.stop());
    return s;
  }

  async function bus(url: string, opts: ConnectOptions = {}): Promise<Bus> {
    const b = await connect({ servers: url, ...opts });
    cleanup.push(() => (b.isClosed ? Promise.resolve() : b.close()));
    return b;
  }

  /** Every error on the bus's status, in order. */
  function errors(b: Bus): Error[] {
    const seen: Error[] = [];
    b.status.on('error', (err) => seen.push(err));
    return seen;
  }

  it("validate: 'local': emit() throws before sending; a valid emit passes", { skip: skipUnlessHub('nats-server enforces no schemas') }, async () => {
    const s = await server();
    const sub = await bus(s.url);
    const got = inbox(sub, 'orders.>');
    const free = inbox(sub, 'free.subject');
    await sub.flush();
    const pub = await bus(s.url, { validate: 'local' });
    const seen = errors(pub);

    const err = violation(thrown(() => pub.emit('orders.created', { id: 7 })), 'orders.created');
    assert.equal(err.schema, 'inline#1');
    assert.match(err.reason, /id/);
    assert.match(err.message, /orders\.created/);
    // Whatever the rule's action: a drop rule's event is refused here too (the hub would not deliver it).
    violation(thrown(() => pub.emit('audit.login', {})), 'audit.login');
    // Raw bytes are checked as sent: not JSON.
    violation(thrown(() => pub.emit('orders.created', Buffer.from('not json'))), 'orders.created');
    violation(thrown(() => pub.emit('orders.created')), 'orders.created');

    assert.equal(pub.emit('orders.created', { id: '1', priority: 'low' }), true);
    assert.equal(pub.emit('free.subject', 'anything'), true);
    await barrier(pub, sub);
    // Nothing refused reached the hub: no -ERR came back, and the hub counted no violation.
    assert.deepEqual(seen, []);
    assert.deepEqual(got.payloads, [{ id: '1', priority: 'low' }]);
    assert.deepEqual(free.payloads, ['anything']);
    const stats = s.hub!.stats().schemas.map((r) => [r.name, r.accepted, r.rejected]);
    assert.deepEqual(stats, [
      ['inline#1', 1, 0],
      ['inline#2', 0, 0],
    ]);
  });

  it("without local validation, the hub's -ERR is a SchemaViolationError on bus.status, and the bus goes on", { skip: skipUnlessHub('nats-server enforces no schemas') }, async () => {
    const s = await server();
    const sub = await bus(s.url);
    const got = inbox(sub, 'orders.>');
    await sub.flush();
    const pub = await bus(s.url);
    const local = await bus(s.url, { validate: 'local' });

    const bad = { id: 7, priority: 'urgent' };
    assert.equal(pub.emit('orders.created', bad), true);
    const [err] = await next<[Error]>(pub.status, 'error');
    const v = violation(err, 'orders.created');
    // The hub's verdict and the local one are the same check on the same bytes.
    const mine = violation(thrown(() => local.emit('orders.created', bad)), 'orders.created');
    assert.equal(v.reason, mine.reason);

    assert.equal(pub.isConnected, true);
    pub.emit('orders.created', { id: '2' });
    await barrier(pub, sub);
    assert.deepEqual(got.payloads, [{ id: '2' }]);
  });

  it('the same verdict here as at the hub, payload by payload', { skip: skipUnlessHub('nats-server enforces no schemas') }, async () => {
    const s = await server();
    const pub = await bus(s.url);
    const seen = errors(pub);
    const local = await bus(s.url, { validate: 'local' });
    const deep = '['.repeat(150) + ']'.repeat(150);
    const payloads: unknown[] = [
      { id: '1' },
      { id: 1 },
      {},
      { id: '1', extra: true },
      { id: '1', priority: 'HIGH' },
      [],
      'text',
      null,
      Buffer.from(deep),
      Buffer.from('{"id":'),
      Buffer.from([0xff, 0xfe]),
      undefined,
    ];
    const expected: string[] = [];
    for (const p of payloads) {
      try {
        local.emit('orders.x', p);
      } catch (err) {
        expected.push(violation(err, 'orders.x').reason);
      }
      pub.emit('orders.x', p);
    }
    await pub.flush();
    assert.equal(expected.length, payloads.length - 1, 'every payload but the first is refused');
    assert.deepEqual(
      seen.map((e) => violation(e, 'orders.x').reason),
      expected,
    );
  });

  it('request() rejects at once with SchemaViolationError, not at its timeout', { skip: skipUnlessHub('nats-server enforces no schemas') }, async () => {
    const s = await server();
    const responder = await bus(s.url);
    let handled = 0;
    responder.handle('orders.get', (req: { id: string }) => {
      handled++;
      return { id: req.id, found: true };
    });
    await responder.flush();
    const requester = await bus(s.url);

    // A TimeoutError could only come after 30 s: the test ends long before.
    const err = await rejection(requester.request('orders.get', { id: 7 }, { timeout: 30_000 }));
    assert.match(violation(err, 'orders.get').reason, /id/);
    assert.deepEqual(await requester.request('orders.get', { id: '7' }, { timeout: 30_000 }), { id: '7', found: true });

    const local = await bus(s.url, { validate: 'local' });
    violation(await rejection(local.request('orders.get', { id: 8 }, { timeout: 30_000 })), 'orders.get');
    await barrier(requester, responder);
    assert.equal(handled, 1);
  });

  it('a durable publish the hub refuses rejects with SchemaViolationError, and nothing is stored', { skip: skipUnlessHub('nats-server enforces no schemas') }, async () => {
    const s = await server(RULES, { jetstream: true });
    const b = await bus(s.url);
    await b.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });

    const err = violation(await rejection(b.publish('orders.created', { id: 7 })), 'orders.created');
    assert.match(err.reason, /id/);
    assert.equal((await b.streams.info('ORDERS')).state.messages, 0);

    const local = await bus(s.url, { validate: 'local' });
    violation(await rejection(local.publish('orders.created', { nope: 1 })), 'orders.created');
    const ack = await local.publish('orders.created', { id: '1' });
    assert.deepEqual([ack.stream, ack.seq], ['ORDERS', 1]);
    assert.equal((await b.streams.info('ORDERS')).state.messages, 1);
    // The local refusal never reached the hub: one violation counted, the first publish's.
    assert.equal(s.hub!.stats().schemas[0]!.rejected, 1);
  });

  it('a reload on the hub reaches a validating client: its verdicts change', { skip: skipUnlessHub('nats-server has no schemas to reload') }, async () => {
    const s = await server();
    const local = await bus(s.url, { validate: 'local' });
    const urgent = { id: '1', priority: 'urgent' };
    violation(thrown(() => local.emit('orders.created', urgent)), 'orders.created');
    assert.equal(local.emit('events.any', {}), true);

    const reloaded = async (): Promise<void> => {
      const before = local.info!.netemitter_schemas!;
      // The hub sends the new generation in an INFO; each flush is a round trip that lets it arrive.
      await until(async () => {
        await local.flush();
        return local.info!.netemitter_schemas! > before;
      }, 'the INFO after the reload');
      await local.schemas.ready();
    };

    const wider = { ...ORDER, properties: { ...ORDER.properties, priority: { enum: ['low', 'high', 'urgent'] } } };
    s.hub!.reloadSchemas([{ subjects: ['orders.>'], schema: wider }, { subjects: ['events.*'], schema: { type: 'object', required: ['at'] } }]);
    await reloaded();
    assert.equal(local.emit('orders.created', urgent), true);
    violation(thrown(() => local.emit('events.any', {})), 'events.any');

    s.hub!.reloadSchemas([]);
    await reloaded();
    assert.equal(local.emit('events.any', {}), true);
    assert.equal(local.emit('orders.created', 'no longer checked'), true);
    assert.deepEqual((await local.schemas.list()).rules, []);
  });

  it('after a reconnect, the rules are those of the new server', { skip: skipUnlessHub('nats-server enforces no schemas') }, async () => {
    const a = await server([{ subjects: ['orders.>'], schema: ORDER }]);
    const b = await server([{ subjects: ['orders.>'], schema: { type: 'string' } }]);
    const local = await bus([a.url, b.url].join(','), { validate: 'local', reconnect: { initialDelay: 0, jitter: 0 } });
    assert.equal(local.server, a.url);
    violation(thrown(() => local.emit('orders.created', 'text')), 'orders.created');

    const reconnected = next(local.status, 'reconnect');
    await a.stop();
    await reconnected;
    await local.schemas.ready();
    assert.equal(local.server, b.url);
    assert.equal(local.emit('orders.created', 'text'), true);
    violation(thrown(() => local.emit('orders.created', { id: '1' })), 'orders.created');
  });

  it('a fetch that fails after connect is reported on bus.status, and the rules fetched last stay', { skip: skipUnlessHub('nats-server enforces no schemas') }, async () => {
    const user = (deny: string[]) => ({ users: [{ user: 'u', password: 'p', permissions: { publish: { deny } } }] });
    const a = await server([{ subjects: ['orders.>'], schema: ORDER }], { authorization: user([]) });
    const b = await server([{ subjects: ['orders.>'], schema: { type: 'string' } }], { authorization: user(['$NE.SCHEMA.>']) });
    const local = await bus([a.url, b.url].join(','), { user: 'u', pass: 'p', validate: 'local', reconnect: { initialDelay: 0, jitter: 0 } });
    const failed = next<[Error]>(local.status, 'error');
    const reconnected = next(local.status, 'reconnect');
    await a.stop();
    await reconnected;
    const [err] = await failed;
    assert.ok(err instanceof PermissionError, String(err));
    assert.equal(err.subject, '$NE.SCHEMA.LIST');
    assert.ok((await rejection(local.schemas.ready())) instanceof PermissionError);
    // a's rules still apply here (b would refuse it anyway: its own check is the last word).
    violation(thrown(() => local.emit('orders.created', 'text')), 'orders.created');
    assert.equal(local.emit('orders.created', { id: '1' }), true);
  });

  it('bus.schemas: list() and get(subject); nats-server enforces none', async () => {
    const s = await server();
    const b = await bus(s.url);
    const list = await b.schemas.list();
    assert.deepEqual(
      list.rules.map((r) => [r.name, r.subjects, r.action]),
      differs({
        hub: [
          ['inline#1', ['orders.>'], 'reject'],
          ['inline#2', ['audit.*'], 'drop'],
        ],
        natsServer: [],
        why: 'nats-server enforces no schemas',
      }),
    );
    assert.equal(list.generation, differs({ hub: 1, natsServer: 0, why: 'generation 0: no schemas at all' }));
    const rule = await b.schemas.get('orders.created');
    if (isHub()) {
      assert.equal(rule?.name, 'inline#1');
      assert.deepEqual((rule?.schema as { required?: unknown }).required, ['id']);
    } else assert.equal(rule, null);
    assert.equal(await b.schemas.get('nothing.here'), null);
    assert.ok((await rejection(b.schemas.get('orders.*'))) instanceof InvalidSubjectError);
    // ready() without validate: 'local' has nothing to wait for.
    await b.schemas.ready();
  });

  it("validate: 'local' against any server: valid events go, and on nats-server nothing is checked", async () => {
    const s = await server(RULES, { jetstream: true });
    const sub = await bus(s.url);
    const got = inbox(sub, 'orders.>');
    await sub.flush();
    const local = await bus(s.url, { validate: 'local' });
    await local.streams.add({ name: 'ORDERS', subjects: ['orders.stored'] });

    assert.equal(local.emit('orders.created', { id: '1' }), true);
    assert.deepEqual(await local.publish('orders.stored', { id: '2' }).then((a) => a.seq), 1);
    let refused = 0;
    try {
      local.emit('orders.created', { id: 3 });
    } catch (err) {
      violation(err, 'orders.created');
      refused++;
    }
    assert.equal(refused, differs({ hub: 1, natsServer: 0, why: 'nats-server has no schemas: nothing to check locally' }));
    await barrier(local, sub);
    assert.deepEqual(
      got.payloads,
      differs({ hub: [{ id: '1' }, { id: '2' }], natsServer: [{ id: '1' }, { id: '2' }, { id: 3 }], why: 'checked by nobody on nats-server' }),
    );
  });

  it("validate: 'local' needs the rules: connect() fails when the user may not ask for them", { skip: skipUnlessHub('nats-server has no schema list to deny') }, async () => {
    const s = await server(RULES, {
      authorization: {
        users: [
          { user: 'plain', password: 'p', permissions: { publish: { deny: ['$NE.SCHEMA.>'] } } },
          { user: 'ok', password: 'p' },
        ],
      },
    });
    const err = await rejection(connect({ servers: s.url, user: 'plain', pass: 'p', validate: 'local' }));
    assert.ok(err instanceof PermissionError, String(err));
    assert.equal(err.subject, '$NE.SCHEMA.LIST');
    // Without it the same user connects, and its own list() is what is refused.
    const b = await bus(s.url, { user: 'plain', pass: 'p' });
    assert.ok((await rejection(b.schemas.list())) instanceof PermissionError);
    const ok = await bus(s.url, { user: 'ok', pass: 'p', validate: 'local' });
    violation(thrown(() => ok.emit('orders.created', {})), 'orders.created');
  });

  it('schema files with $ref across files: the client compiles what the hub sends, with the same verdict', { skip: skipUnlessHub('nats-server enforces no schemas') }, async () => {
    const files = await schemaFiles({
      'ticket.json': { type: 'object', properties: { id: { $ref: 'common.json#/$defs/id' }, title: { type: 'string' } }, required: ['id', 'title'] },
      'common.json': { $defs: { id: { type: 'string', pattern: '^T-[0-9]+$' } } },
    });
    cleanup.push(files.remove);
    const s = await server([{ subjects: ['tickets.created'], schema: `${files.dir}/ticket.json`, name: 'schemas/ticket.json' }]);
    const pub = await bus(s.url);
    const local = await bus(s.url, { validate: 'local' });
    const bad = { id: 'X-1', title: 't' };
    const mine = violation(thrown(() => local.emit('tickets.created', bad)), 'tickets.created');
    assert.match(mine.reason, /pattern|id/);
    assert.equal(mine.schema, 'schemas/ticket.json');
    assert.equal(local.emit('tickets.created', { id: 'T-1', title: 't' }), true);
    pub.emit('tickets.created', bad);
    const [err] = await next<[Error]>(pub.status, 'error');
    assert.equal(violation(err, 'tickets.created').reason, mine.reason);
    const [rule] = (await local.schemas.list()).rules;
    assert.equal(rule?.refs.length, 1);
    assert.ok(!JSON.stringify(rule).includes(files.dir), 'the hub never shows its paths');
  });
});
