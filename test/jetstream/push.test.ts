/**
 * Push consumers on the wire: deliveries as MSG on the deliver subject with
 * the stored subject and the ack reply subject (num_pending last), delivery
 * only while the deliver subject has interest, deliver groups, headers_only,
 * ack policies with redelivery and max_deliver, max_ack_pending,
 * last_per_subject, ephemeral removal after inactive_threshold, consumer
 * update rules, flow control (stall and resume) and idle heartbeats.
 * Runs against NETEMITTER_TARGET.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createInbox, headers as makeHeaders, type Msg, type Subscription } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type ConsumerConfig } from '@nats-io/jetstream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHub, type Hub } from '../../src/index.js';
import { assertApiError, filledStream, ns, publishAll, startJetStream, type JsContext } from '../helpers/jetstream.js';
import { closeAll, connectTo } from '../helpers/client.js';
import { skipUnlessHub, TargetKind, type TestServer } from '../helpers/target.js';

/** $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> → its numbers. */
function ackInfo(m: Msg): { deliveries: number; sseq: number; cseq: number; pending: number } {
  const t = m.reply!.split('.');
  assert.equal(t.length, 9, `ack subject ${m.reply}`);
  return { deliveries: Number(t[4]), sseq: Number(t[5]), cseq: Number(t[6]), pending: Number(t[8]) };
}

const isStatus = (m: Msg): boolean => (m.headers?.code ?? 0) !== 0;

/**
 * A subscription on a deliver subject that queues what arrives, so a test
 * can wait for the next message (or the next status) with a bound.
 */
class Inbox {
  readonly sub: Subscription;
  readonly got: Msg[] = [];
  private waiter: (() => void) | null = null;

  constructor(ctx: JsContext, readonly subject: string, queue?: string) {
    this.sub = ctx.nc.subscribe(subject, {
      queue,
      callback: (_err, m) => {
        this.got.push(m);
        this.waiter?.();
      },
    });
  }

  /** Waits until `pred` holds over what arrived, or fails after timeoutMs. */
  async until(pred: (got: Msg[]) => boolean, timeoutMs: number, what: string): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.got)) {
      const left = deadline - Date.now();
      assert.ok(left > 0, `${what}: not after ${timeoutMs} ms; got ${this.got.length}: ${this.got.map(describeMsg).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.got;
  }

  /** The messages that are not statuses. */
  messages(): Msg[] {
    return this.got.filter((m) => !isStatus(m));
  }

  statuses(): Msg[] {
    return this.got.filter(isStatus);
  }

  /** Waits for `n` messages (not statuses) in all. */
  async count(n: number, timeoutMs = 5_000): Promise<Msg[]> {
    await this.until(() => this.messages().length >= n, timeoutMs, `${n} messages on ${this.subject}`);
    return this.messages();
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

function describeMsg(m: Msg): string {
  return isStatus(m) ? `status ${m.headers!.code} ${m.headers!.description}` : `${m.subject} ${m.reply ?? ''}`;
}

describe('push consumers', () => {
  let ctx: JsContext;

  before(async () => {
    ctx = await startJetStream();
  });

  after(async () => {
    await ctx?.stop();
  });

  const stream = (prefix: string, n: number): Promise<string> => filledStream(ctx, prefix, n);

  function add(stream: string, cfg: Partial<ConsumerConfig>) {
    return ctx.jsm.consumers.add(stream, cfg);
  }

  it('delivers on the deliver subject with the stored subject, the ack subject and num_pending counting down', async () => {
    const name = await stream('PUSH', 3);
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    const ci = await add(name, { durable_name: 'p', deliver_subject: inbox.subject, ack_policy: AckPolicy.None });
    assert.equal(ci.config.deliver_subject, inbox.subject);
    assert.equal(ci.config.max_waiting, undefined, 'no max_waiting on a push consumer');
    assert.equal(ci.config.ack_wait, undefined, 'no ack_wait with ack none');
    assert.equal(ci.config.max_ack_pending, undefined, 'no max_ack_pending with ack none');
    const got = await inbox.count(3);
    assert.deepEqual(
      got.map((m) => [m.subject, m.string(), ackInfo(m)]),
      [1, 2, 3].map((i) => [`${name}.x`, `m${i}`, { deliveries: 1, sseq: i, cseq: i, pending: 3 - i }]),
    );
    assert.match(got[0]!.reply!, new RegExp(`^\\$JS\\.ACK\\.${name}\\.p\\.1\\.1\\.1\\.\\d+\\.2$`));
    const info = await ctx.jsm.consumers.info(name, 'p');
    assert.equal(info.push_bound, true);
    assert.deepEqual([info.delivered.stream_seq, info.ack_floor.stream_seq, info.num_pending, info.num_waiting], [3, 3, 0, 0]);
    // New messages follow, pending 0 each time.
    await ctx.js.publish(`${name}.y`, 'm4');
    const [, , , m4] = await inbox.count(4);
    assert.deepEqual([m4!.subject, ackInfo(m4!).pending], [`${name}.y`, 0]);
    inbox.close();
  });

  it('waits for interest on the deliver subject, and starts when a subscriber arrives', async () => {
    const name = await stream('INTEREST', 2);
    const subject = createInbox();
    const ci = await add(name, { durable_name: 'p', deliver_subject: subject, ack_policy: AckPolicy.Explicit });
    assert.equal(ci.push_bound, undefined);
    // Nobody listens: nothing is delivered (so nothing waits for an ack).
    let info = await ctx.jsm.consumers.info(name, 'p');
    assert.deepEqual([info.delivered.consumer_seq, info.num_pending, info.push_bound], [0, 2, undefined]);
    const inbox = new Inbox(ctx, subject);
    const got = await inbox.count(2);
    assert.deepEqual(got.map((m) => m.string()), ['m1', 'm2']);
    for (const m of got) m.respond('+ACK');
    inbox.close();
    await ctx.nc.flush();
    // Interest gone: published meanwhile, delivered when a subscriber comes back.
    await ctx.js.publish(`${name}.x`, 'm3');
    info = await ctx.jsm.consumers.info(name, 'p');
    assert.deepEqual([info.delivered.stream_seq, info.num_pending], [2, 1]);
    const again = new Inbox(ctx, subject);
    const [m3] = await again.count(1);
    assert.deepEqual([m3!.string(), ackInfo(m3!).cseq], ['m3', 3]);
    again.close();
  });

  it('deliver_group: each message goes to one member of the queue group', async () => {
    const name = await stream('GROUP', 0);
    const subject = createInbox();
    const a = new Inbox(ctx, subject, 'workers');
    const b = new Inbox(ctx, subject, 'workers');
    await ctx.nc.flush();
    const ci = await add(name, { durable_name: 'g', deliver_subject: subject, deliver_group: 'workers', ack_policy: AckPolicy.None });
    assert.equal(ci.config.deliver_group, 'workers');
    const n = 40;
    await publishAll(ctx.js, `${name}.x`, Array.from({ length: n }, (_, i) => `m${i + 1}`));
    const total = () => a.messages().length + b.messages().length;
    await a.until(() => total() >= n, 5_000, 'all messages across the group');
    const seen = [...a.messages(), ...b.messages()].map((m) => ackInfo(m).sseq).sort((x, y) => x - y);
    assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i + 1), 'each message once');
    a.close();
    b.close();
  });

  it('headers_only: the headers and Nats-Msg-Size, no payload', async () => {
    const name = await stream('HDRS', 0);
    const h = makeHeaders();
    h.set('X-Kind', 'big');
    await ctx.js.publish(`${name}.x`, 'hello world', { headers: h });
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    await add(name, { name: 'h', deliver_subject: inbox.subject, headers_only: true, ack_policy: AckPolicy.None });
    const [m] = await inbox.count(1);
    assert.equal(m!.data.length, 0);
    assert.equal(m!.headers?.get('Nats-Msg-Size'), '11');
    assert.equal(m!.headers?.get('X-Kind'), 'big');
    inbox.close();
  });

  it('ack explicit: an unacked message comes back after ack_wait, with its delivery count; max_deliver stops it', async () => {
    const name = await stream('REDELIVER', 1);
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    await add(name, { durable_name: 'r', deliver_subject: inbox.subject, ack_policy: AckPolicy.Explicit, ack_wait: ns(300), max_deliver: 2 });
    const got = await inbox.count(2);
    assert.deepEqual(got.map((m) => [ackInfo(m).sseq, ackInfo(m).deliveries, ackInfo(m).cseq]), [[1, 1, 1], [1, 2, 2]]);
    // Max deliveries reached: it is settled, never sent a third time.
    const deadline = Date.now() + 3_000;
    for (;;) {
      const info = await ctx.jsm.consumers.info(name, 'r');
      if (info.num_ack_pending === 0) break;
      assert.ok(Date.now() < deadline, 'still pending after max_deliver');
      await new Promise((r) => setTimeout(r, 50));
    }
    await ctx.nc.flush();
    assert.equal(inbox.messages().length, 2);
    inbox.close();
  });

  it('ack all: acking one message acks those before it', async () => {
    const name = await stream('ACKALL', 3);
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    await add(name, { durable_name: 'a', deliver_subject: inbox.subject, ack_policy: AckPolicy.All });
    const got = await inbox.count(3);
    assert.equal((await ctx.jsm.consumers.info(name, 'a')).num_ack_pending, 3);
    await ctx.nc.request(got[2]!.reply!, '+ACK');
    const info = await ctx.jsm.consumers.info(name, 'a');
    assert.deepEqual([info.num_ack_pending, info.ack_floor.stream_seq], [0, 3]);
    inbox.close();
  });

  it('max_ack_pending holds deliveries until an ack', async () => {
    const name = await stream('MAXACK', 4);
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    await add(name, { durable_name: 'm', deliver_subject: inbox.subject, ack_policy: AckPolicy.Explicit, max_ack_pending: 2, ack_wait: ns(30_000) });
    const got = await inbox.count(2);
    let info = await ctx.jsm.consumers.info(name, 'm');
    assert.deepEqual([info.delivered.stream_seq, info.num_ack_pending, info.num_pending], [2, 2, 2]);
    await ctx.nc.request(got[0]!.reply!, '+ACK');
    const [, , third] = await inbox.count(3);
    assert.equal(ackInfo(third!).sseq, 3);
    info = await ctx.jsm.consumers.info(name, 'm');
    assert.deepEqual([info.delivered.stream_seq, info.num_ack_pending], [3, 2]);
    inbox.close();
  });

  it('last_per_subject: the newest message of each subject, then new ones; pending 0 on the last of the start', async () => {
    const name = ctx.unique('LPS');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    for (const [s, v] of [['a', 'a1'], ['b', 'b1'], ['a', 'a2'], ['c', 'c1'], ['b', 'b2']] as const) await ctx.js.publish(`${name}.k.${s}`, v);
    await ctx.js.publish(`${name}.other`, 'not matched');
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    const ci = await add(name, {
      name: 'l',
      deliver_subject: inbox.subject,
      deliver_policy: DeliverPolicy.LastPerSubject,
      filter_subject: `${name}.k.>`,
      ack_policy: AckPolicy.None,
    });
    assert.equal(ci.num_pending, 3);
    const got = await inbox.count(3);
    assert.deepEqual(
      got.map((m) => [m.string(), ackInfo(m).sseq, ackInfo(m).pending]),
      [
        ['a2', 3, 2],
        ['c1', 4, 1],
        ['b2', 5, 0],
      ],
    );
    await ctx.js.publish(`${name}.k.a`, 'a3');
    const [, , , a3] = await inbox.count(4);
    assert.deepEqual([a3!.string(), ackInfo(a3!).pending], ['a3', 0]);
    inbox.close();
  });

  it('last_per_subject needs a filter subject', async () => {
    const name = await stream('LPSNOF', 0);
    await assertApiError(add(name, { name: 'x', deliver_subject: createInbox(), deliver_policy: DeliverPolicy.LastPerSubject }), {
      status: 400,
      code: 10094,
      description: 'consumer delivery policy is deliver last per subject, but optional filter subject is not set',
    });
  });

  it('refuses push-only settings on a pull consumer and bad push settings, with nats-server errors', async () => {
    const name = await stream('PUSHERR', 0);
    const cases: [Partial<ConsumerConfig>, number, number, string][] = [
      [{ idle_heartbeat: ns(1_000) }, 400, 10088, 'consumer idle heartbeat requires a push based consumer'],
      [{ flow_control: true }, 400, 10089, 'consumer flow control requires a push based consumer'],
      [{ rate_limit_bps: 1000 }, 400, 10086, 'consumer in pull mode can not have rate limit set'],
      [{ deliver_subject: 'a.b', max_waiting: 10 }, 400, 10080, 'consumer in push mode can not set max waiting'],
      [{ deliver_subject: 'a.b', ack_policy: AckPolicy.None, max_ack_pending: 10 }, 400, 10082, 'consumer requires ack policy for max ack pending'],
      [{ deliver_subject: 'a.b', idle_heartbeat: ns(50) }, 400, 10083, 'consumer idle heartbeat needs to be >= 100ms'],
      [{ deliver_subject: 'a.*' }, 400, 10079, 'consumer deliver subject has wildcards'],
      [{ deliver_subject: `${name}.loop` }, 400, 10081, 'consumer deliver subject forms a cycle'],
      [{ deliver_subject: 'a..b' }, 400, 10112, 'invalid push consumer deliver subject'],
      [{ deliver_subject: 'a.c', flow_control: true }, 400, 10108, 'consumer with flow control also needs heartbeats'],
    ];
    for (const [cfg, status, code, description] of cases) {
      await assertApiError(add(name, { name: 'bad', ...cfg }), { status, code, description });
    }
  });

  it('update: what may change, and nats-server errors for what may not', async () => {
    const name = await stream('UPDATE', 0);
    const base: Partial<ConsumerConfig> = { durable_name: 'u', deliver_subject: 'upd.1', ack_policy: AckPolicy.Explicit, idle_heartbeat: ns(1_000), flow_control: true };
    await add(name, base);
    const refused: [Partial<ConsumerConfig>, string][] = [
      [{ flow_control: false }, 'flow control can not be updated'],
      [{ idle_heartbeat: ns(2_000) }, 'heart beats can not be updated'],
      [{ ack_policy: AckPolicy.All }, 'ack policy can not be updated'],
      [{ deliver_policy: DeliverPolicy.New }, 'deliver policy can not be updated'],
    ];
    for (const [cfg, description] of refused) {
      await assertApiError(ctx.jsm.consumers.update(name, 'u', cfg), { status: 500, code: 10012, description });
    }
    // Unbound: the deliver subject may move; other settings change too.
    let ci = await ctx.jsm.consumers.update(name, 'u', { deliver_subject: 'upd.2', max_ack_pending: 5, description: 'hi', rate_limit_bps: 8_000 } as Partial<ConsumerConfig>);
    assert.deepEqual([ci.config.deliver_subject, ci.config.max_ack_pending, ci.config.description, ci.config.rate_limit_bps], ['upd.2', 5, 'hi', 8_000]);
    // Bound: a subscriber on the deliver subject keeps it.
    const inbox = new Inbox(ctx, 'upd.2');
    await ctx.nc.flush();
    await assertApiError(ctx.jsm.consumers.update(name, 'u', { deliver_subject: 'upd.3' }), {
      status: 400,
      code: 10013,
      description: 'consumer name already in use',
    });
    inbox.close();
    await ctx.nc.flush();
    ci = await ctx.jsm.consumers.info(name, 'u');
    assert.equal(ci.config.deliver_subject, 'upd.2');
    // The update goes to the new subject: delivery there.
    ci = await ctx.jsm.consumers.update(name, 'u', { deliver_subject: 'upd.3' });
    const moved = new Inbox(ctx, 'upd.3');
    await ctx.js.publish(`${name}.x`, 'after');
    const [m] = await moved.count(1);
    assert.equal(m!.string(), 'after');
    moved.close();
  });

  it('an ephemeral push consumer is removed after inactive_threshold without interest', async () => {
    const name = await stream('EPHEMERAL', 1);
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    const ci = await add(name, { deliver_subject: inbox.subject, ack_policy: AckPolicy.None, inactive_threshold: ns(300) });
    assert.equal(ci.config.inactive_threshold, ns(300));
    await inbox.count(1);
    // Bound for longer than the threshold: kept. (A duration, not an ordering barrier.)
    await new Promise((r) => setTimeout(r, 1_200));
    assert.equal((await ctx.jsm.consumers.info(name, ci.name)).name, ci.name);
    inbox.close();
    await ctx.nc.flush();
    const deadline = Date.now() + 5_000;
    for (;;) {
      const names: string[] = [];
      for await (const n of ctx.jsm.consumers.list(name)) names.push(n.name);
      if (!names.includes(ci.name)) break;
      assert.ok(Date.now() < deadline, 'the ephemeral consumer is still there 5 s after its interest went');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('idle heartbeat: 100 Idle Heartbeat with the last consumer and stream seqs when nothing else went out', async () => {
    const name = await stream('HB', 2);
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    await add(name, { name: 'hb', deliver_subject: inbox.subject, ack_policy: AckPolicy.None, idle_heartbeat: ns(200) });
    await inbox.until((g) => g.some(isStatus), 3_000, 'a heartbeat');
    const [hb] = inbox.statuses();
    assert.equal(inbox.messages().length, 2, 'the messages first');
    assert.deepEqual([hb!.subject, hb!.reply, hb!.data.length], [inbox.subject, '', 0]);
    assert.deepEqual([hb!.headers!.code, hb!.headers!.description], [100, 'Idle Heartbeat']);
    assert.equal(hb!.headers!.get('Nats-Last-Consumer'), '2');
    assert.equal(hb!.headers!.get('Nats-Last-Stream'), '2');
    assert.equal(hb!.headers!.get('Nats-Consumer-Stalled'), '');
    inbox.close();
  });

  it('flow control: a request past half the window, a stall past the window, delivery again once answered', async () => {
    const name = ctx.unique('FC');
    await ctx.jsm.streams.add({ name, subjects: [`${name}.>`] });
    const n = 30;
    const big = new Uint8Array(100_000);
    for (let i = 0; i < n; i++) await ctx.js.publish(`${name}.x`, big);
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    await add(name, { name: 'fc', deliver_subject: inbox.subject, ack_policy: AckPolicy.None, flow_control: true, idle_heartbeat: ns(300) });
    // The stall shows in a heartbeat naming the unanswered request.
    await inbox.until((g) => g.some((m) => m.headers?.description === 'Idle Heartbeat'), 5_000, 'a heartbeat while stalled');
    const fc = inbox.got.filter((m) => m.headers?.description === 'FlowControl Request');
    assert.equal(fc.length, 1, 'one request outstanding');
    const req = fc[0]!;
    assert.match(req.reply!, new RegExp(`^\\$JS\\.FC\\.${name}\\.fc\\.[A-Za-z0-9_-]{4}$`));
    assert.deepEqual([req.subject, req.headers!.code, req.data.length], [inbox.subject, 100, 0]);
    // The window starts at 2 MiB: the request after 1 MiB, the stall past 2 MiB (as nats-server).
    const before = inbox.got.indexOf(req);
    assert.equal(inbox.got.slice(0, before).filter((m) => !isStatus(m)).length, 11);
    const stalledAt = inbox.messages().length;
    assert.equal(stalledAt, 21);
    const hb = inbox.got.find((m) => m.headers?.description === 'Idle Heartbeat')!;
    assert.equal(hb.headers!.get('Nats-Consumer-Stalled'), req.reply);
    assert.equal(hb.headers!.get('Nats-Last-Consumer'), String(stalledAt));
    // Answering lets the rest through.
    req.respond();
    await inbox.count(n);
    assert.deepEqual(inbox.messages().map((m) => ackInfo(m).sseq), Array.from({ length: n }, (_, i) => i + 1));
    inbox.close();
  });

  it('rate_limit_bps is accepted, echoed and delivers everything', async () => {
    const name = await stream('RATE', 5);
    const inbox = new Inbox(ctx, createInbox());
    await ctx.nc.flush();
    const ci = await add(name, { name: 'r', deliver_subject: inbox.subject, ack_policy: AckPolicy.None, rate_limit_bps: 80_000 });
    assert.equal(ci.config.rate_limit_bps, 80_000);
    const got = await inbox.count(5);
    assert.deepEqual(got.map((m) => m.string()), ['m1', 'm2', 'm3', 'm4', 'm5']);
    inbox.close();
  });

  it('a pull request to a push consumer is refused', async () => {
    const name = await stream('PULLPUSH', 1);
    await add(name, { durable_name: 'p', deliver_subject: createInbox(), ack_policy: AckPolicy.None });
    const inbox = createInbox();
    const sub = ctx.nc.subscribe(inbox, { max: 1 });
    ctx.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${name}.p`, '{"batch":1}', { reply: inbox });
    const got = await (async () => {
      for await (const m of sub) return m;
      return undefined;
    })();
    assert.equal(got?.headers?.code, 409);
    assert.equal(got?.headers?.description, 'Consumer is push based');
  });
});

describe('push consumers across a hub restart', () => {
  it('a durable push consumer resumes after a restart: what was stored meanwhile goes out once a subscriber comes', { skip: skipUnlessHub('restarts the hub on its store') }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'netemitter-push-restart-'));
    const open = async (): Promise<{ hub: Hub; server: TestServer }> => {
      const hub = createHub({ host: '127.0.0.1', port: 0, jetstream: { store: { dir } } });
      const [addr] = await hub.listen();
      const server: TestServer = { kind: TargetKind.HUB, url: addr!.url, host: '127.0.0.1', port: addr!.port!, monitorUrl: undefined, hub, stop: () => hub.close({ grace: 0 }) };
      return { hub, server };
    };
    let first: Hub | undefined;
    let second: Hub | undefined;
    try {
      const a = await open();
      first = a.hub;
      let nc = await connectTo(a.server);
      const subject = 'push.restart.inbox';
      let inbox = new Inbox({ nc } as JsContext, subject);
      await nc.flush();
      await (await jetstreamManager(nc)).streams.add({ name: 'R', subjects: ['r.>'] });
      const js = jetstream(nc);
      await publishAll(js, 'r.x', ['m1', 'm2']);
      await (await jetstreamManager(nc)).consumers.add('R', { durable_name: 'd', deliver_subject: subject, ack_policy: AckPolicy.Explicit });
      for (const m of await inbox.count(2)) await nc.request(m.reply!, '+ACK');
      // Stored while nobody listens: the restarted hub must send it once a subscriber comes.
      inbox.close();
      await nc.flush();
      await js.publish('r.x', 'm3');
      await closeAll(nc);
      await first.close({ grace: 0 });
      first = undefined;

      const b = await open();
      second = b.hub;
      nc = await connectTo(b.server);
      inbox = new Inbox({ nc } as JsContext, subject);
      const [m3] = await inbox.count(1);
      assert.deepEqual([m3!.string(), ackInfo(m3!).sseq, ackInfo(m3!).cseq], ['m3', 3, 3]);
      await nc.flush();
      assert.equal(inbox.messages().length, 1, 'the acked ones are not sent again');
      await closeAll(nc);
    } finally {
      await first?.close({ grace: 0 });
      await second?.close({ grace: 0 });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
