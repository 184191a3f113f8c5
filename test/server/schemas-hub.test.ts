/**
 * The hub's schema service (issue #19) beyond the publish path: rules that
 * do not compile, reloads (verdicts, the generation in INFO and its async
 * INFO, a bad reload keeping the old rules), hub.publish(), wills checked at
 * CONNECT, $NE.SCHEMA.LIST / GET and their permissions, the counters in
 * /metrics, the rule cache's bound, and an in-process client. Hub only.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHub, ConfigError, SchemaViolationError, type Hub, type HubOptions } from '../../src/index.js';
import { compileRules } from '../../src/schema/validator.js';
import { SchemaGate, SUBJECT_CACHE_MAX } from '../../src/server/schema-gate.js';
import { silentLogger } from '../../src/server/options.js';
import type { SchemaList, SchemaLookup } from '../../src/protocol/schemas.js';
import { RawClient, connectLine } from '../helpers/raw.js';
import { skipUnlessHub } from '../helpers/target.js';
import { TICKET, errLine, exchange, pub, reasonFor, skipSeen } from './schema-helpers.js';

const SKIP = skipUnlessHub('nats-server checks no schema');
const GOOD = '{"id":"T-1","priority":"low"}';

async function startHub(opts: HubOptions): Promise<Hub> {
  const hub = createHub({ host: '127.0.0.1', port: 0, ...opts });
  await hub.listen();
  after(() => hub.close({ grace: 0 }));
  return hub;
}

async function raw(hub: Hub, connect: Record<string, unknown> = {}): Promise<RawClient> {
  const a = hub.addresses()[0];
  const r = a?.port === undefined ? await RawClient.connect({ host: '', port: 0, url: hub.url }) : await RawClient.connect({ host: a.host!, port: a.port });
  after(() => r.close());
  await r.roundTrip(connectLine(connect));
  skipSeen(r);
  return r;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'netemitter-schemas-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The body of the one MSG in `text`. */
function body(text: string): string {
  const m = /MSG \S+ \S+ (\d+)\r\n/.exec(text);
  assert.ok(m !== null, text);
  return text.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]));
}

describe('the hub’s schema service', { skip: SKIP }, () => {
  it('refuses to start with a rule that does not compile, in one line naming it', () => {
    const err = (() => {
      try {
        createHub({ port: 0, schemas: [{ subjects: ['a'], schema: TICKET }, { subjects: ['b'], schema: { type: 5 } }] });
      } catch (e) {
        return e as Error;
      }
      assert.fail('createHub accepted a schema with "type": 5');
    })();
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, /inline#2/);
    assert.equal(err.message.includes('\n'), false);
    assert.throws(() => createHub({ port: 0, schemas: {} as never }), ConfigError);
  });

  it('reloads: new verdicts from the next publish, the generation in INFO, an async INFO to protocol-1 clients only', async () => {
    const dir = tempDir();
    const file = join(dir, 'ticket.json');
    writeFileSync(file, JSON.stringify(TICKET));
    const rules = [{ subjects: ['ticket.>'], schema: file, name: 'ticket.json' }];
    const hub = await startHub({ schemas: rules });
    const p1 = await raw(hub);
    const p0 = await raw(hub, { protocol: 0 });
    assert.equal(p1.info.netemitter_schemas, 1);
    const loose = '{"id":"T-2","priority":"soon"}';
    assert.equal(await exchange(p1, pub('ticket.created', loose)), errLine('ticket.created', reasonFor(TICKET, loose)) + 'PONG\r\n');

    // The same file again: nothing changed, no INFO, no new generation.
    hub.reloadSchemas();
    assert.equal(await exchange(p1), 'PONG\r\n');

    const looser = { ...TICKET, properties: { id: { type: 'string' }, priority: { type: 'string' } } };
    writeFileSync(file, JSON.stringify(looser));
    hub.reloadSchemas();
    const text = await exchange(p1, pub('ticket.created', loose));
    const info = /^INFO (\{.*\}) \r\nPONG\r\n$/.exec(text);
    assert.ok(info !== null, `an async INFO, and the event passes now: ${JSON.stringify(text)}`);
    const fields = JSON.parse(info[1]!) as Record<string, unknown>;
    assert.equal(fields.netemitter_schemas, 2);
    assert.equal(fields.client_id, p1.info.client_id);
    assert.equal(await exchange(p0), 'PONG\r\n', 'no async INFO for protocol 0, as nats-server');
    assert.equal((await raw(hub)).info.netemitter_schemas, 2);
    assert.deepEqual(
      hub.stats().schemas.map((s) => [s.name, s.accepted, s.rejected]),
      [['ticket.json', 1, 1]],
      'the counters of a rule whose name stays carry over',
    );

    // A bad file: the reload throws, the rules in force stay.
    writeFileSync(file, '{"type": 5}');
    assert.throws(() => hub.reloadSchemas(), (err: Error) => err instanceof ConfigError && err.message.includes('ticket.json') && !err.message.includes('\n'));
    assert.equal(await exchange(p1, pub('ticket.created', loose)), 'PONG\r\n', 'the looser schema still applies; no INFO');
    // Rules given to reload replace them.
    hub.reloadSchemas([{ subjects: ['ticket.created'], schema: false, action: 'reject' }]);
    const refused = await exchange(p1, pub('ticket.created', GOOD) + pub('ticket.other', 'x'));
    assert.match(refused, /^INFO \{.*"netemitter_schemas":3.*\} \r\n-ERR 'Schema Violation for Publish to "ticket\.created": [^\r\n']+'\r\nPONG\r\n$/);
    assert.deepEqual(hub.stats().schemas.map((s) => s.name), ['inline#1']);
  });

  it('checks hub.publish(): reject and deadLetter throw SchemaViolationError (after the dead letter), drop returns', async () => {
    const hub = await startHub({
      schemas: [
        { subjects: ['ticket.created'], schema: TICKET },
        { subjects: ['ticket.dead'], schema: TICKET, action: 'deadLetter' },
        { subjects: ['ticket.quiet'], schema: TICKET, action: 'drop' },
      ],
    });
    const sub = await raw(hub);
    await exchange(sub, 'SUB ticket.* 1\r\nSUB dlq.> 2\r\n');
    const bad = '{"id":1}';
    assert.throws(
      () => hub.publish('ticket.created', bad),
      (err: Error) => err instanceof SchemaViolationError && err.subject === 'ticket.created' && err.reason === reasonFor(TICKET, bad) && err.schema === 'inline#1',
    );
    assert.throws(() => hub.publish('ticket.dead', bad), SchemaViolationError);
    hub.publish('ticket.quiet', bad);
    hub.publish('ticket.created', GOOD);
    const got = await exchange(sub);
    const dead = `NATS/1.0\r\nNetemitter-Schema: inline#2\r\nNetemitter-Schema-Error: ${reasonFor(TICKET, bad)}\r\n\r\n`;
    assert.equal(
      got,
      `HMSG dlq.schema.ticket.dead 2 ${dead.length} ${dead.length + bad.length}\r\n${dead}${bad}\r\nMSG ticket.created 1 ${GOOD.length}\r\n${GOOD}\r\nPONG\r\n`,
    );
  });

  it('checks a will at CONNECT: reject refuses the CONNECT, drop discards the will, a valid one fires', async () => {
    const hub = await startHub({ schemas: [{ subjects: ['gone.loud'], schema: TICKET }, { subjects: ['gone.quiet'], schema: TICKET, action: 'drop' }] });
    const sub = await raw(hub);
    await exchange(sub, 'SUB gone.* 1\r\n');
    const bad = '{"id":"W-1"}';

    const a = hub.addresses()[0]!;
    const refused = await RawClient.connect({ host: a.host!, port: a.port! });
    after(() => refused.close());
    refused.send(connectLine({ will: { subject: 'gone.loud', payload: bad } }));
    assert.equal(await refused.waitClosed(), true, 'the CONNECT is refused, then the close');
    assert.equal(refused.text(), errLine('gone.loud', reasonFor(TICKET, bad)));

    for (const [subject, payload] of [['gone.quiet', bad], ['gone.loud', GOOD]] as const) {
      const c = await raw(hub, { will: { subject, payload } });
      const id = c.info.client_id;
      const left = new Promise<void>((resolve) => {
        const on = (info: { id: number }): void => {
          if (info.id !== id) return;
          hub.off('disconnect', on);
          resolve();
        };
        hub.on('disconnect', on);
      });
      await c.close(); // the socket goes without a cancel: the will fires (if kept)
      await left;
    }
    assert.equal(await exchange(sub), `MSG gone.loud 1 ${GOOD.length}\r\n${GOOD}\r\nPONG\r\n`, 'only the valid will');
    assert.deepEqual(hub.stats().schemas.map((s) => s.rejected), [1, 1]);
  });

  it('answers $NE.SCHEMA.LIST and $NE.SCHEMA.GET.<subject> to those who may publish there', async () => {
    const hub = await startHub({
      schemas: [{ subjects: ['ticket.>'], schema: TICKET }, { subjects: ['audit.*'], schema: { type: 'object' }, action: 'drop' }],
      authorization: {
        maxFailureDelay: 0,
        users: [
          { user: 'alice', password: 'a' },
          { user: 'bob', password: 'b', permissions: { publish: { deny: ['$NE.SCHEMA.>'] } } },
        ],
      },
    });
    const alice = await raw(hub, { user: 'alice', pass: 'a' });
    await exchange(alice, 'SUB _INBOX.a 1\r\n');
    const list = JSON.parse(body(await exchange(alice, pub('$NE.SCHEMA.LIST', '', '_INBOX.a')))) as SchemaList;
    assert.equal(list.generation, 1);
    assert.deepEqual(
      list.rules.map((r) => [r.name, r.subjects, r.action, typeof r.schema, r.refs]),
      [
        ['inline#1', ['ticket.>'], 'reject', 'object', []],
        ['inline#2', ['audit.*'], 'drop', 'object', []],
      ],
    );
    const lookup = async (subject: string): Promise<SchemaLookup> =>
      JSON.parse(body(await exchange(alice, pub(`$NE.SCHEMA.GET.${subject}`, '', '_INBOX.a')))) as SchemaLookup;
    const found = await lookup('ticket.created');
    assert.deepEqual([found.generation, found.subject, found.rule?.name], [1, 'ticket.created', 'inline#1']);
    assert.deepEqual(found.rule, list.rules[0]);
    assert.deepEqual(await lookup('orders.created'), { generation: 1, subject: 'orders.created', rule: null });
    assert.deepEqual(await lookup('audit.*'), { generation: 1, subject: 'audit.*', rule: null }, 'a pattern is no subject a publish has');

    const bob = await raw(hub, { user: 'bob', pass: 'b' });
    await exchange(bob, 'SUB _INBOX.b 1\r\n');
    assert.equal(
      await exchange(bob, pub('$NE.SCHEMA.LIST', '', '_INBOX.b') + pub('$NE.SCHEMA.GET.ticket.x', '', '_INBOX.b')),
      `-ERR 'Permissions Violation for Publish to "$NE.SCHEMA.LIST"'\r\n-ERR 'Permissions Violation for Publish to "$NE.SCHEMA.GET.ticket.x"'\r\nPONG\r\n`,
    );
  });

  it('shows the counters in /metrics as netemitter_schema_messages_total{schema,result}', async () => {
    const hub = await startHub({ httpPort: 0, httpHost: '127.0.0.1', schemas: [{ subjects: ['ticket.>'], schema: TICKET }] });
    const p = await raw(hub);
    await exchange(p, pub('ticket.a', GOOD) + pub('ticket.b', '{}') + pub('ticket.c', 'x'));
    const text = await (await fetch(`${hub.monitorAddress!.url}/metrics`)).text();
    const line = (result: string): string | undefined =>
      text.split('\n').find((l) => l.startsWith('netemitter_schema_messages_total{') && l.includes('schema="inline#1"') && l.includes(`result="${result}"`));
    assert.equal(line('accepted')?.split(' ').pop(), '1', text);
    assert.equal(line('rejected')?.split(' ').pop(), '2', text);
  });

  it('serves an in-process client (hub.connect()) under the same rules', async () => {
    const hub = createHub({ listen: [], schemas: [{ subjects: ['ticket.>'], schema: TICKET }] });
    after(() => hub.close({ grace: 0 }));
    const bus = await hub.connect();
    after(() => bus.close());
    const bad = { id: 'T-7', priority: 'urgent' };
    const err = await bus.request('ticket.get', bad, { timeout: 60_000 }).then(
      () => assert.fail('the request resolved'),
      (e: unknown) => e as Error,
    );
    assert.ok(err instanceof SchemaViolationError, String(err));
    assert.equal(err.reason, reasonFor(TICKET, JSON.stringify(bad)));
    const r = await raw(hub);
    assert.equal(await exchange(r, pub('ticket.x', '[]')), errLine('ticket.x', reasonFor(TICKET, '[]')) + 'PONG\r\n');
  });
});

describe('the gate’s rule cache', () => {
  it('holds at most SUBJECT_CACHE_MAX subjects, whatever a publisher sends, and keeps its verdicts', () => {
    const rules = compileRules([{ name: 'r', subjects: ['ticket.>'], action: 'drop', schema: TICKET, refs: [] }]);
    const counts = new Map(rules.map((r) => [r, { accepted: 0, rejected: 0 }]));
    const host = { logger: silentLogger, deadLetterPrefix: () => 'dlq', publish: () => {}, reply: () => {}, captures: () => false };
    const gate = new SchemaGate(host, rules, counts);
    const good = Buffer.from(GOOD);
    let max = 0;
    for (let i = 0; i < SUBJECT_CACHE_MAX * 3; i++) {
      assert.equal(gate.passEmbedded(i % 2 === 0 ? `ticket.${i}` : `other.${i}`, good), true);
      max = Math.max(max, gate.cached);
    }
    assert.equal(max, SUBJECT_CACHE_MAX);
    assert.equal(gate.passEmbedded('ticket.x', Buffer.from('[]')), false, 'dropped');
    assert.deepEqual(counts.get(rules[0]!), { accepted: SUBJECT_CACHE_MAX * 1.5, rejected: 1 });
  });
});
