/**
 * `bus.presence` (issue #18): the list, the watch (a snapshot, then deltas,
 * no gap and no duplicate), leaves of killed and silent processes, metadata
 * updates, and the hub's refusals. Runs against NETEMITTER_TARGET: on
 * nats-server the same API reads CONNZ and the connect/disconnect
 * advisories, which need a user of its system account (`systemAccount`).
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { connect, ErrorCode, type Bus, type ConnectOptions, type Member, type PresenceChange } from '../../src/index.js';
import { differs, skipInProcess, skipUnlessHub, startServer, SYSTEM_USER, targetKind, TargetKind, type ServerOptions, type TestServer } from '../helpers/target.js';
import { withRaw, connectLine } from '../helpers/raw.js';
import { TestProxy } from './helpers/proxy.js';
import { spawnChild } from './helpers/procs.js';
import { rejection, until, within } from './helpers/wait.js';

const onNats = targetKind() === TargetKind.NATS_SERVER;
/** nats-server publishes advisories and answers CONNZ for every account only to its system account's users. */
const WATCHER: ConnectOptions = onNats ? { user: SYSTEM_USER, pass: SYSTEM_USER } : {};
const CHILD = fileURLToPath(new URL('./fixtures/presence-child.js', import.meta.url));

interface Seen {
  member: Member;
  change: PresenceChange;
}

function code(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

describe('presence', () => {
  const cleanup: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  });

  async function server(opts: ServerOptions = {}): Promise<TestServer> {
    const s = await startServer({ systemAccount: opts.authorization === undefined, ...opts });
    cleanup.push(() => s.stop());
    return s;
  }

  async function bus(url: string, opts: ConnectOptions = {}): Promise<Bus> {
    const b = await connect({ servers: url, ...opts });
    cleanup.push(() => (b.isClosed ? Promise.resolve() : b.close()));
    return b;
  }

  /** Records a bus's presence events, and checks each against the view built from them: no join twice, no leave of a stranger. */
  function watch(b: Bus): { events: Seen[]; view: Map<string, Member>; faults: string[] } {
    const events: Seen[] = [];
    const view = new Map<string, Member>();
    const faults: string[] = [];
    const key = (m: Member): string => `${m.server}/${m.id}`;
    b.presence.on('join', (member, change) => {
      events.push({ member, change });
      if (view.has(key(member))) faults.push(`join of ${key(member)} (${member.name}) seen twice`);
      view.set(key(member), member);
    });
    b.presence.on('leave', (member, change) => {
      events.push({ member, change });
      if (!view.delete(key(member))) faults.push(`leave of ${key(member)} (${member.name}) never joined`);
    });
    b.presence.on('update', (member, change) => {
      events.push({ member, change });
      if (!view.has(key(member))) faults.push(`update of ${key(member)} (${member.name}) never joined`);
      view.set(key(member), member);
    });
    return { events, view, faults };
  }

  function names(members: Iterable<Member>): string[] {
    return [...members].map((m) => m.name ?? '(none)').sort();
  }

  it('lists who is connected: server, client id, name, user, metadata, since; a filter matches names as subjects', async () => {
    const s = await server();
    const w = await bus(s.url, { ...WATCHER, name: 'watcher' });
    const a = await bus(s.url, { name: 'workers.1', presence: { role: 'worker', queue: 'tickets' } });
    await bus(s.url, { name: 'workers.2' });
    await bus(s.url, { name: 'other' });
    await bus(s.url);

    const workers = await w.presence.list('workers.*');
    assert.deepEqual(names(workers), ['workers.1', 'workers.2']);
    const one = workers.find((m) => m.name === 'workers.1')!;
    assert.equal(one.server, a.info!.server_id);
    assert.equal(one.id, a.info!.client_id);
    assert.deepEqual(one.meta, differs({ hub: { role: 'worker', queue: 'tickets' }, natsServer: {}, why: 'nats-server has no presence metadata' }));
    assert.equal(one.user, differs({ hub: null, natsServer: 'app', why: 'nats-server puts clients without credentials in APP (no_auth_user)' }));
    assert.ok(Number.isFinite(Date.parse(one.since)), `since ${one.since}`);

    assert.deepEqual(names(await w.presence.list()), ['(none)', 'other', 'watcher', 'workers.1', 'workers.2']);
    // nats-server: CONNZ in pages of 2, each asked of the server that has more (the hub answers in one reply).
    assert.deepEqual(names(await w.presence.list(undefined, { page: 2 })), ['(none)', 'other', 'watcher', 'workers.1', 'workers.2']);
    assert.equal(code(await rejection(w.presence.list(undefined, { page: 0 }))), ErrorCode.CONFIG);
    assert.deepEqual(names(await w.presence.list('workers.>')), ['workers.1', 'workers.2']);
    assert.deepEqual(names(await w.presence.list('nobody')), []);
  });

  it('a watch replays the snapshot as joins, then follows joins and leaves (with the reason)', async () => {
    const s = await server();
    await bus(s.url, { name: 'early' });
    const w = await bus(s.url, { ...WATCHER, name: 'watcher' });
    const seen = watch(w);
    await w.presence.ready();
    assert.deepEqual(
      seen.events.map((e) => [e.change.event, e.member.name, e.change.snapshot]).sort(),
      [
        ['join', 'early', true],
        ['join', 'watcher', true],
      ],
    );
    const late = await bus(s.url, { name: 'late' });
    await until(() => seen.view.size === 3, 'the join of late');
    assert.deepEqual(seen.events.at(-1)!.change, { event: 'join', snapshot: false });
    assert.equal(seen.events.at(-1)!.member.id, late.info!.client_id);
    await late.close();
    await until(() => seen.view.size === 2, 'the leave of late');
    const leave = seen.events.at(-1)!;
    assert.equal(leave.member.name, 'late');
    assert.deepEqual(leave.change, { event: 'leave', reason: 'Client Closed', snapshot: false });
    assert.deepEqual(names(w.presence.members.values()), ['early', 'watcher']);
    assert.deepEqual(seen.faults, []);
  });

  it('once() listens for one change; the watch stops with its last listener and starts again with the next', async () => {
    const s = await server();
    await bus(s.url, { name: 'a' });
    await bus(s.url, { name: 'b' });
    const w = await bus(s.url, { ...WATCHER, name: 'watcher' });
    const got: string[] = [];
    w.presence.once('join', (m) => void got.push(m.name ?? ''));
    await w.presence.ready();
    // The first snapshot join took the only listener: the watch stopped there and keeps no view.
    assert.equal(got.length, 1);
    assert.equal(w.presence.members.size, 0);
    assert.equal(w.presence.listenerCount('join'), 0);
    assert.throws(() => w.presence.on('constructor' as 'join', () => {}), { code: ErrorCode.CONFIG });

    const seen = watch(w);
    await w.presence.ready();
    assert.deepEqual(names(seen.view.values()), ['a', 'b', 'watcher']);
    await bus(s.url, { name: 'c' });
    await until(() => seen.view.size === 4, 'the join of c');
    assert.deepEqual(seen.faults, []);
  });

  it('under churn (100 clients joining and leaving while a watcher starts and lists) the watch ends equal to the truth, no event twice or missed', async () => {
    const s = await server();
    const w = await bus(s.url, { ...WATCHER, name: 'watcher' });
    const open = new Map<string, Bus>();
    const churn = async (i: number): Promise<void> => {
      const b = await connect({ servers: s.url, name: `churn.${i}`, presence: { i } });
      open.set(`churn.${i}`, b);
      // Every third one leaves again at once: its join and leave race the watcher's list.
      if (i % 3 === 0) {
        await b.close();
        open.delete(`churn.${i}`);
      }
    };
    cleanup.push(() => Promise.all([...open.values()].map((b) => b.close())));
    const first = Array.from({ length: 50 }, (_, i) => churn(i));
    // The watch starts (and lists) while the first half is still connecting and leaving.
    const seen = watch(w);
    const second = Array.from({ length: 50 }, (_, i) => churn(50 + i));
    await Promise.all([...first, ...second, w.presence.ready()]);
    const expected = ['watcher', ...open.keys()].sort();
    assert.equal(expected.length, 1 + 100 - 34);
    await until(() => seen.view.size === expected.length && names(seen.view.values()).join() === expected.join(), 'the watch to converge');
    assert.deepEqual(names(await w.presence.list()), expected);
    assert.deepEqual(names(w.presence.members.values()), expected);
    assert.deepEqual(seen.faults, []);
  });

  it('after a reconnect the watch lists again and emits what it missed, so its view converges', { skip: skipInProcess('a TCP proxy cuts the watcher off') }, async () => {
    const s = await server();
    const proxy = await TestProxy.start({ host: s.host, port: s.port });
    cleanup.push(() => proxy.close());
    const w = await bus(proxy.url, { ...WATCHER, name: 'watcher', reconnect: { initialDelay: 20, maxDelay: 100 } });
    const stays = await bus(s.url, { name: 'stays' });
    const goes = await bus(s.url, { name: 'goes' });
    const seen = watch(w);
    await w.presence.ready();
    assert.deepEqual(names(seen.view.values()), ['goes', 'stays', 'watcher']);

    // The watcher hears nothing while these happen.
    proxy.freeze();
    await goes.close();
    await bus(s.url, { name: 'comes' });
    if (!onNats) await stays.presence.update({ busy: true });
    const before = seen.events.length;
    const reconnected = new Promise((resolve) => w.status.once('reconnect', resolve));
    proxy.drop();
    await within(reconnected, 5_000, 'the reconnect');
    const truth = (): string[] => ['comes', 'stays', 'watcher'];
    await until(() => names(seen.view.values()).join() === truth().join() && seen.view.size === 3, 'the watch to converge');
    const missed = seen.events.slice(before).map((e) => `${e.change.event} ${e.member.name} ${e.change.snapshot}`);
    // The old watcher connection left, the new one joined: both found by the new list.
    assert.ok(missed.includes('leave goes true'), missed.join(', '));
    assert.ok(missed.includes('join comes true'), missed.join(', '));
    if (!onNats) {
      assert.ok(missed.includes('update stays true'), missed.join(', '));
      assert.deepEqual([...seen.view.values()].find((m) => m.name === 'stays')!.meta, { busy: true });
    }
    assert.deepEqual(seen.faults, []);
  });

  it('reports a SIGKILLed process as a leave', { skip: skipInProcess('the worker is another process') }, async () => {
    const s = await server({ pingInterval: 200, maxPingsOut: 2 });
    const w = await bus(s.url, { ...WATCHER, name: 'watcher' });
    const seen = watch(w);
    await w.presence.ready();
    const child = spawnChild(process.execPath, [CHILD, s.url, 'workers.doomed']);
    cleanup.push(() => child.stop());
    const lines = createInterface({ input: child.process.stdout! });
    await within(new Promise<void>((resolve) => lines.once('line', () => resolve())), 5_000, `the child to connect (${child.log()})`);
    await until(() => seen.events.some((e) => e.member.name === 'workers.doomed' && e.change.event === 'join'), 'the join of the child');
    const joined = seen.events.find((e) => e.member.name === 'workers.doomed')!.member;
    assert.deepEqual(joined.meta, differs({ hub: { pid: child.pid }, natsServer: {}, why: 'nats-server has no presence metadata' }));
    await child.kill();
    await until(() => seen.events.some((e) => e.member.name === 'workers.doomed' && e.change.event === 'leave'), 'the leave of the child');
    const leave = seen.events.find((e) => e.member.name === 'workers.doomed' && e.change.event === 'leave')!;
    // The kernel closes a killed process's sockets: the server reads the end at once.
    assert.equal(leave.change.reason, 'Client Closed');
    assert.deepEqual(seen.faults, []);
  });

  it('reports a connection gone silent as a leave for a Stale Connection, after pingInterval × maxPingsOut', { skip: skipInProcess('a TCP proxy freezes the connection') }, async () => {
    const s = await server({ pingInterval: 100, maxPingsOut: 2 });
    const w = await bus(s.url, { ...WATCHER, name: 'watcher' });
    const seen = watch(w);
    await w.presence.ready();
    const proxy = await TestProxy.start({ host: s.host, port: s.port });
    cleanup.push(() => proxy.close());
    await bus(proxy.url, { name: 'silent', reconnect: false, pingInterval: 60_000 });
    await until(() => seen.view.size === 2, 'the join of silent');
    proxy.freeze();
    await until(() => seen.events.some((e) => e.change.event === 'leave'), 'the leave of silent', 10_000);
    const leave = seen.events.find((e) => e.change.event === 'leave')!;
    assert.equal(leave.member.name, 'silent');
    assert.equal(leave.change.reason, 'Stale Connection');
  });

  it('announces metadata updates', { skip: skipUnlessHub('nats-server has no presence metadata') }, async () => {
    const s = await server();
    const w = await bus(s.url, { name: 'watcher' });
    const seen = watch(w);
    await w.presence.ready();
    const x = await bus(s.url, { name: 'x', presence: { v: 1 } });
    await until(() => seen.view.size === 2, 'the join of x');
    await x.presence.update({ v: 2, tags: ['a'] });
    await until(() => seen.events.at(-1)?.change.event === 'update', 'the update');
    assert.deepEqual(seen.events.at(-1)!.member.meta, { v: 2, tags: ['a'] });
    assert.deepEqual(seen.events.at(-1)!.change, { event: 'update', snapshot: false, previous: { v: 1 } });
    assert.deepEqual((await w.presence.list('x'))[0]!.meta, { v: 2, tags: ['a'] });

    const err = await rejection(x.presence.update({ big: 'x'.repeat(5000) }));
    assert.equal(code(err), ErrorCode.CONFIG);
    assert.match(err.message, /at most 4096 bytes/);
    assert.deepEqual(seen.faults, []);
  });

  it('a reconnect carries the updated metadata', { skip: skipUnlessHub('nats-server has no presence metadata') || skipInProcess('a TCP proxy drops the connection') }, async () => {
    const s = await server();
    const w = await bus(s.url, { name: 'watcher' });
    const seen = watch(w);
    await w.presence.ready();
    const proxy = await TestProxy.start({ host: s.host, port: s.port });
    cleanup.push(() => proxy.close());
    const x = await bus(proxy.url, { name: 'x', presence: { v: 1 }, reconnect: { initialDelay: 20, maxDelay: 100 } });
    await x.presence.update({ v: 2 });
    await until(() => seen.events.at(-1)?.change.event === 'update', 'the update');
    proxy.drop();
    await until(() => seen.events.filter((e) => e.member.name === 'x' && e.change.event === 'join').length === 2, 'x to come back');
    assert.deepEqual(seen.events.at(-1)!.member.meta, { v: 2 });
    assert.deepEqual(seen.faults, []);
  });

  it('update() on nats-server rejects with a PresenceError', { skip: onNats ? false : 'nats-server only: the hub takes updates' }, async () => {
    const s = await server();
    const x = await bus(s.url, { name: 'x' });
    const err = await rejection(x.presence.update({ v: 1 }));
    assert.equal(code(err), ErrorCode.PRESENCE);
    assert.match(err.message, /needs a netemitter hub/);
  });

  it('a CONNECT with bad presence metadata is refused by the hub (nats-server ignores the field)', async () => {
    // 4 KB of metadata do not fit the default control line (4096 bytes, CONNECT included).
    const s = await server({ maxControlLine: 16_384 });
    for (const [presence, why] of [
      ['x', 'presence metadata must be a JSON object'],
      [{ big: 'x'.repeat(4100) }, 'presence metadata must be at most 4096 bytes as JSON'],
    ] as const) {
      await withRaw(s, async (c) => {
        c.send(`${connectLine({ presence })}PING\r\n`);
        if (onNats) {
          await c.expect('PONG\r\n');
        } else {
          await c.expect(`-ERR 'Invalid Presence Metadata: ${why}'\r\n`);
          assert.equal(await c.waitClosed(), true);
        }
      });
    }
  });

  it('permissions apply: LIST and updates need publish, events need subscribe', { skip: skipUnlessHub('nats-server has no $NE subjects') }, async () => {
    const s = await server({
      authorization: {
        users: [
          { user: 'all', password: 'p' },
          { user: 'mute', password: 'p', permissions: { publish: { deny: ['$NE.PRESENCE.LIST', '$NE.CTL.PRESENCE'] } } },
          { user: 'deaf', password: 'p', permissions: { subscribe: { deny: ['$NE.PRESENCE.EVENT.>'] } } },
        ],
      },
    });
    const all = await bus(s.url, { user: 'all', pass: 'p', name: 'all' });
    const seenByAll = watch(all);
    await all.presence.ready();
    const mute = await bus(s.url, { user: 'mute', pass: 'p', name: 'mute' });
    mute.status.on('error', () => {});
    const listErr = await rejection(mute.presence.list());
    assert.equal(code(listErr), ErrorCode.PERMISSION);
    const updateErr = await rejection(mute.presence.update({ v: 1 }));
    assert.equal(code(updateErr), ErrorCode.PERMISSION);
    const asSeen = (await all.presence.list('mute'))[0]!;
    assert.deepEqual([asSeen.user, asSeen.meta], ['mute', {}], 'a refused update changes nothing');
    assert.equal(seenByAll.events.some((e) => e.change.event === 'update'), false);
    // A watch that cannot list reports it (ready() rejects, bus.status 'error') and applies no event without a list.
    const seenByMute = watch(mute);
    assert.equal(code(await rejection(mute.presence.ready())), ErrorCode.PERMISSION);

    // A user who may not subscribe to the events gets the snapshot and nothing after it.
    const deaf = await bus(s.url, { user: 'deaf', pass: 'p', name: 'deaf' });
    const denied = new Promise<Error>((resolve) => deaf.status.once('error', resolve));
    const seen = watch(deaf);
    await deaf.presence.ready();
    assert.equal(code(await within(denied, 5_000, 'the refused SUB')), ErrorCode.PERMISSION);
    assert.deepEqual(names(seen.view.values()), ['all', 'deaf', 'mute']);
    await bus(s.url, { user: 'all', pass: 'p', name: 'other' });
    await until(() => seenByAll.view.size === 4, 'the join of other');
    // The hub queued the event to every subscriber at once: deaf's PONG comes after anything it was sent.
    await deaf.flush();
    await mute.flush();
    assert.equal(seen.events.some((e) => !e.change.snapshot), false);
    assert.deepEqual(seenByMute.events, []);
  });

  it('a list larger than max_payload comes in parts; asked without a parts subject it is refused', { skip: skipUnlessHub('the hub’s own list') }, async () => {
    const s = await server({ maxPayload: 1024 });
    const w = await bus(s.url, { name: 'watcher' });
    for (let i = 0; i < 20; i++) await bus(s.url, { name: `big.${i}`, presence: { pad: 'x'.repeat(100), i } });
    const members = await w.presence.list('big.*');
    assert.equal(members.length, 20);
    assert.deepEqual(members.map((m) => m.meta.i).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 20 }, (_, i) => i));
    const plain = (await w.request('$NE.PRESENCE.LIST', { filter: 'big.*' })) as { members: unknown[]; error?: string };
    assert.deepEqual(plain.members, []);
    assert.match(plain.error ?? '', /larger than max_payload \(1024 bytes\)/);
    const bad = (await w.request('$NE.PRESENCE.LIST', { filter: 'a..b' })) as { error?: string };
    assert.equal(bad.error, 'filter must be a subject pattern');
  });
});
