/**
 * The hub's presence service on the wire (protocol/presence.ts), with raw
 * protocol clients: event bodies and their seq, a list's seq among them,
 * the control subject (answered, +OK when verbose, never routed), refusals.
 * Hub only: nats-server has no presence.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHub, type Hub } from '../../src/index.js';
import { RawClient, connectLine } from '../helpers/raw.js';

interface Msg {
  subject: string;
  reply: string | undefined;
  body: string;
}

/** The MSGs in a received text, in order (latin1 text, byte for char; bodies here are ASCII). */
function messages(text: string): Msg[] {
  const out: Msg[] = [];
  const re = /MSG (\S+) \S+(?: (\S+))? (\d+)\r\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index + m[0].length;
    const body = text.slice(start, start + Number(m[3]));
    out.push({ subject: m[1]!, reply: m[2], body });
    re.lastIndex = start + body.length;
  }
  return out;
}

describe('the hub’s presence service', () => {
  let hub: Hub;
  let port: number;
  const raws: RawClient[] = [];

  before(async () => {
    hub = createHub({ host: '127.0.0.1', port: 0 });
    port = (await hub.listen())[0]!.port!;
  });

  after(async () => {
    for (const r of raws) await r.close();
    await hub.close({ grace: 0 });
  });

  async function raw(connect: Record<string, unknown>): Promise<RawClient> {
    const r = await RawClient.connect({ host: '127.0.0.1', port });
    raws.push(r);
    await r.roundTrip(connectLine(connect));
    return r;
  }

  it('announces joins, updates and leaves with one seq, and places a list among them', async () => {
    const watcher = await raw({ name: 'watcher' });
    assert.deepEqual(watcher.info.netemitter, ['will', 'presence', 'schemas']);
    await watcher.roundTrip('SUB $NE.PRESENCE.EVENT.* 1\r\nSUB $NE.CTL.> 2\r\n');

    const a = await raw({ name: 'workers.a', presence: { role: 'worker' }, verbose: true });
    const aId = a.info.client_id as number;
    // a's update: +OK (verbose), then the answer on its reply subject; never routed to the $NE.CTL.> subscriber.
    const meta = '{"role":"busy"}';
    const aText = await a.roundTrip(`SUB _INBOX.a 1\r\nPUB $NE.CTL.PRESENCE _INBOX.a ${meta.length}\r\n${meta}\r\n`);
    // +OK for the SUB, +OK for the PUB (nats-server acknowledges a PUB before routing it), then the answer.
    assert.ok(aText.endsWith('+OK\r\n+OK\r\nMSG _INBOX.a 1 11\r\n{"ok":true}\r\nPONG\r\n'), JSON.stringify(aText));
    const bad = '[1]';
    const badText = await a.roundTrip(`PUB $NE.CTL.PRESENCE _INBOX.a ${bad.length}\r\n${bad}\r\n`);
    assert.ok(badText.includes('{"error":"presence metadata must be a JSON object"}'), badText);
    await a.close();

    const text = await watcher.until('"event":"leave"');
    const events = messages(text).map((m) => ({ subject: m.subject, ...(JSON.parse(m.body) as Record<string, unknown>) }));
    assert.deepEqual(
      events.map((e) => e.subject),
      ['$NE.PRESENCE.EVENT.join', '$NE.PRESENCE.EVENT.update', '$NE.PRESENCE.EVENT.leave'],
      'one update (the refused one made none), nothing on $NE.CTL.>',
    );
    const [join, update, leave] = events as unknown as { seq: number; event: string; member: Record<string, unknown>; reason?: string }[];
    assert.deepEqual([update!.seq - join!.seq, leave!.seq - update!.seq], [1, 1]);
    assert.deepEqual(join!.member, { server: hub.serverId, id: aId, name: 'workers.a', user: null, meta: { role: 'worker' }, since: join!.member.since });
    assert.ok(Number.isFinite(Date.parse(join!.member.since as string)));
    assert.deepEqual(update!.member.meta, { role: 'busy' });
    assert.equal(leave!.reason, 'Client Closed');
    assert.equal(join!.reason, undefined);

    // A list carries the seq of the last event: the leave's.
    const listed = await watcher.roundTrip('SUB _INBOX.l 3\r\nPUB $NE.PRESENCE.LIST _INBOX.l 0\r\n\r\n');
    const reply = messages(listed).find((m) => m.subject === '_INBOX.l')!;
    const body = JSON.parse(reply.body) as { seq: number; members: { name: string }[] };
    assert.equal(body.seq, leave!.seq);
    assert.deepEqual(body.members.map((m) => m.name), ['watcher']);
  });

  it('takes a second CONNECT’s metadata as an update', async () => {
    const watcher = await raw({ name: 'watcher2' });
    await watcher.roundTrip('SUB $NE.PRESENCE.EVENT.update 1\r\n');
    const b = await raw({ name: 'b', presence: { v: 1 } });
    await b.roundTrip(connectLine({ name: 'b', presence: { v: 2 } }));
    const text = await watcher.until('"event":"update"');
    const [update] = messages(text).map((m) => JSON.parse(m.body) as { member: { name: string; meta: unknown } });
    assert.deepEqual([update!.member.name, update!.member.meta], ['b', { v: 2 }]);
  });

  it('answers an update on a reply subject that is not ASCII, byte for byte', async () => {
    // "_INBOX.ü" in UTF-8, written byte per char as the raw client sends latin1.
    const inbox = Buffer.from('_INBOX.ü', 'utf8').toString('latin1');
    const c = await raw({ name: 'utf8' });
    const meta = '{"v":1}';
    const text = await c.roundTrip(`SUB ${inbox} 1\r\nPUB $NE.CTL.PRESENCE ${inbox} ${meta.length}\r\n${meta}\r\n`);
    assert.ok(text.includes(`MSG ${inbox} 1 11\r\n{"ok":true}\r\n`), JSON.stringify(text));
  });

  it('refuses a CONNECT with bad metadata, and answers a bad list request with an error', async () => {
    const r = await RawClient.connect({ host: '127.0.0.1', port });
    raws.push(r);
    r.send(`${connectLine({ presence: [1, 2] })}PING\r\n`);
    await r.expect("-ERR 'Invalid Presence Metadata: presence metadata must be a JSON object'\r\n");
    assert.equal(await r.waitClosed(), true);

    const c = await raw({});
    const body = '{"filter":7}';
    const text = await c.roundTrip(`SUB _INBOX.c 1\r\nPUB $NE.PRESENCE.LIST _INBOX.c ${body.length}\r\n${body}\r\n`);
    const reply = messages(text).find((m) => m.subject === '_INBOX.c')!;
    assert.deepEqual(JSON.parse(reply.body).error, 'filter must be a subject pattern');
  });
});
