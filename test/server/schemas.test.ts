/**
 * The hub's schema gate on the wire (issue #19), with raw protocol clients:
 * each action (reject, drop, deadLetter) on valid and invalid events, the
 * exact -ERR and the connection staying open, verbose clients, the 400
 * status a request gets, payloads that are not JSON at all, and hub API
 * subjects that no rule checks. Hub only: nats-server checks no schema.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHub, type Hub } from '../../src/index.js';
import { MAX_JSON_DEPTH, type JsonSchema, type SchemaAction } from '../../src/protocol/schemas.js';
import { RawClient, connectLine } from '../helpers/raw.js';
import { skipUnlessHub } from '../helpers/target.js';
import { TICKET, errLine, exchange, pub, reasonFor, skipSeen } from './schema-helpers.js';

const SKIP = skipUnlessHub('nats-server checks no schema');

const rule = (subjects: string[], action: SchemaAction, schema: JsonSchema = TICKET) => ({ subjects, schema, action });

describe('the schema gate on the wire', { skip: SKIP }, () => {
  let hub: Hub;
  let port: number;
  const raws: RawClient[] = [];

  before(async () => {
    hub = createHub({
      host: '127.0.0.1',
      port: 0,
      schemas: [
        rule(['ticket.created', 'ticket.updated'], 'reject'),
        rule(['audit.>'], 'drop'),
        rule(['deep.>'], 'reject', {}),
        rule(['>'], 'reject', { type: 'object' }),
      ],
    });
    port = (await hub.listen())[0]!.port!;
  });

  after(async () => {
    for (const r of raws) await r.close();
    await hub.close({ grace: 0 });
  });

  async function raw(connect: Record<string, unknown> = {}): Promise<RawClient> {
    const r = await RawClient.connect({ host: '127.0.0.1', port });
    raws.push(r);
    await r.roundTrip(connectLine(connect));
    skipSeen(r);
    return r;
  }

  it('delivers a valid event and refuses an invalid one with the exact -ERR; the connection stays open', async () => {
    const sub = await raw();
    await exchange(sub, 'SUB ticket.> 1\r\n');
    const p = await raw();
    const good = '{"id":"T-1","priority":"high"}';
    const bad = '{"id":7,"priority":"high"}';
    assert.equal(await exchange(p, pub('ticket.created', good)), 'PONG\r\n');
    assert.equal(await exchange(p, pub('ticket.created', bad)), errLine('ticket.created', reasonFor(TICKET, bad)) + 'PONG\r\n');
    // Still open: a PING gets its PONG, and the next event goes through.
    assert.equal(await exchange(p, pub('ticket.updated', good)), 'PONG\r\n');
    assert.equal(await exchange(sub), `MSG ticket.created 1 ${good.length}\r\n${good}\r\nMSG ticket.updated 1 ${good.length}\r\n${good}\r\nPONG\r\n`);
    assert.equal(p.isClosed, false);
  });

  it('gives a verbose client the -ERR instead of +OK, and +OK for a valid event', async () => {
    const p = await raw({ verbose: true });
    const bad = '{"id":"T-2","priority":"urgent"}';
    assert.equal(await exchange(p, pub('ticket.created', bad)), errLine('ticket.created', reasonFor(TICKET, bad)) + 'PONG\r\n');
    assert.equal(await exchange(p, pub('ticket.created', '{"id":"T-2","priority":"low"}')), '+OK\r\nPONG\r\n');
  });

  it('tells a dropping publisher nothing (a verbose one +OK, as if accepted) and delivers nothing', async () => {
    const sub = await raw();
    await exchange(sub, 'SUB audit.> 1\r\n');
    const p = await raw();
    const v = await raw({ verbose: true });
    assert.equal(await exchange(p, pub('audit.login', 'not json')), 'PONG\r\n');
    assert.equal(await exchange(v, pub('audit.login', '{"id":1}')), '+OK\r\nPONG\r\n');
    const ok = '{"id":"A-1","priority":"low"}';
    assert.equal(await exchange(p, pub('audit.login', ok)), 'PONG\r\n');
    assert.equal(await exchange(sub), `MSG audit.login 1 ${ok.length}\r\n${ok}\r\nPONG\r\n`);
  });

  it('answers a request that breaks the schema with the 400 status on the requester’s reply subscription', async () => {
    const responder = await raw();
    await exchange(responder, 'SUB ticket.created 1\r\n');
    const req = await raw();
    await exchange(req, 'SUB _INBOX.req.* 9\r\n');
    const bad = '{"id":"T-3"}';
    const reason = reasonFor(TICKET, bad);
    const status = `NATS/1.0 400 Schema Violation\r\nNetemitter-Schema-Error: ${reason}\r\n\r\n`;
    assert.equal(
      await exchange(req, pub('ticket.created', bad, '_INBOX.req.1')),
      errLine('ticket.created', reason) + `HMSG _INBOX.req.1 9 ${status.length} ${status.length}\r\n${status}\r\nPONG\r\n`,
    );
    assert.equal(await exchange(responder), 'PONG\r\n', 'the responder never sees it');
    // Without headers negotiated there is no status to send: the -ERR alone.
    const old = await raw({ headers: false, no_responders: false });
    await exchange(old, 'SUB _INBOX.old 1\r\n');
    assert.equal(await exchange(old, pub('ticket.created', bad, '_INBOX.old')), errLine('ticket.created', reason) + 'PONG\r\n');
  });

  it('refuses payloads that are not JSON: empty, text, not UTF-8, too deep', async () => {
    const sub = await raw();
    await exchange(sub, 'SUB deep.> 1\r\nSUB ticket.created 2\r\n');
    const p = await raw();
    for (const body of ['', 'hello', '{"id":"T-4","priority":"low"']) {
      assert.equal(await exchange(p, pub('ticket.created', body)), errLine('ticket.created', reasonFor(TICKET, body)) + 'PONG\r\n', JSON.stringify(body));
    }
    const notUtf8 = Buffer.concat([Buffer.from('PUB ticket.created 4\r\n"'), Buffer.from([0xff, 0xfe]), Buffer.from('"\r\n')]);
    const reason = reasonFor(TICKET, Buffer.from([0x22, 0xff, 0xfe, 0x22]));
    assert.equal(await exchange(p, notUtf8), errLine('ticket.created', reason) + 'PONG\r\n');

    // The empty schema takes any JSON, as deep as MAX_JSON_DEPTH and no deeper.
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    const deepest = nest(MAX_JSON_DEPTH);
    const tooDeep = nest(MAX_JSON_DEPTH + 1);
    assert.equal(await exchange(p, pub('deep.ok', deepest)), 'PONG\r\n');
    assert.equal(await exchange(p, pub('deep.no', tooDeep)), errLine('deep.no', reasonFor({}, tooDeep)) + 'PONG\r\n');
    // A hundred thousand levels: a violation like any other, never a stack overflow.
    const huge = '['.repeat(100_000);
    assert.equal(await exchange(p, pub('deep.huge', huge)), errLine('deep.huge', reasonFor({}, huge)) + 'PONG\r\n');
    assert.equal(await exchange(sub), `MSG deep.ok 1 ${deepest.length}\r\n${deepest}\r\nPONG\r\n`, 'only the valid one');
  });

  it('checks no hub API subject, whatever the rules say ($JS.API, $NE, $SYS)', async () => {
    const p = await raw({ verbose: true });
    const sub = await raw();
    await exchange(sub, 'SUB $NE.SCHEMA.LIST 1\r\nSUB $SYS.REQ.X 2\r\nSUB $KV.cfg.k 3\r\n');
    // The catch-all rule wants an object; these are no objects, and pass.
    assert.equal(await exchange(p, pub('$NE.SCHEMA.LIST', '', '_INBOX.x') + pub('$SYS.REQ.X', 'x')), '+OK\r\n+OK\r\nPONG\r\n');
    // $KV puts are events: the catch-all checks them.
    assert.equal(await exchange(p, pub('$KV.cfg.k', '1')), errLine('$KV.cfg.k', reasonFor({ type: 'object' }, '1')) + 'PONG\r\n');
    const got = await exchange(sub);
    assert.ok(got.startsWith('MSG $NE.SCHEMA.LIST 1 _INBOX.x 0\r\n\r\nMSG $SYS.REQ.X 2 1\r\nx\r\n'), got);
  });

  it('counts each rule’s accepted and rejected events in hub.stats()', async () => {
    const stats = hub.stats().schemas;
    assert.deepEqual(
      stats.map((s) => [s.name, s.subjects, s.action]),
      [
        ['inline#1', ['ticket.created', 'ticket.updated'], 'reject'],
        ['inline#2', ['audit.>'], 'drop'],
        ['inline#3', ['deep.>'], 'reject'],
        ['inline#4', ['>'], 'reject'],
      ],
    );
    for (const s of stats) assert.ok(s.accepted >= 0 && s.rejected >= 0);
    const p = await raw();
    const before = hub.stats().schemas[1]!;
    await exchange(p, pub('audit.x', 'nope') + pub('audit.x', '{"id":"1","priority":"low"}') + pub('audit.x', '[]'));
    const now = hub.stats().schemas[1]!;
    assert.deepEqual([now.accepted - before.accepted, now.rejected - before.rejected], [1, 2]);
  });
});
