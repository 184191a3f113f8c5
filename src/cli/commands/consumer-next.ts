/**
 * `netemitter consumer next STREAM CONSUMER`: pulls messages from a pull
 * consumer and prints them, acknowledging each once printed (unless
 * --no-ack), as `nats consumer next` does. One pull request for them all:
 *
 *   SUB <inbox>
 *   PUB $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer> <inbox>  {"batch":N,"expires":<timeout ns>}
 *   ◄── up to N messages, reply $JS.ACK.…  ──► print, then +ACK as a request (the server confirms it)
 *   ◄── 408 Request Timeout (fewer than N within the timeout), 409 … (the pull was refused or ended)
 *
 * The ack waits for the server's confirmation, so an acknowledged message
 * is settled when the command exits.
 */
import type { Command } from 'commander';
import type { Bus } from '../../client/bus.js';
import type { ConsumerInfo } from '../../client/jetstream/types.js';
import { nanos } from '../../client/jetstream/types.js';
import { ackInfo } from '../../client/jetstream/meta.js';
import type { MsgHeaders } from '../../protocol/headers.js';
import { JS_API_PREFIX } from '../../protocol/jetstream.js';
import { ErrorCode, JetStreamApiError, NetEmitterError, TimeoutError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { InvalidValue, parseCount, parseDuration } from '../values.js';
import { exitOnBrokenPipe, flagValue, notice, serverOption, type ConnectionFlags } from './common.js';
import { count as formatCount, json, msDuration, nsDuration } from './format.js';
import { checkStreamName, renderMessage, storedJson, withBus, type ShownMessage } from './js-common.js';

export const NextDefaults = {
  count: 1,
  /** ms the pull waits for messages (the pull request's `expires`). */
  timeout: 5_000,
  /** ms past the timeout before the command stops waiting for the server's 408 itself. */
  grace: 2_000,
  /** Most messages one command pulls: they are one pull request, held until printed. */
  maxCount: 10_000,
} as const;

interface NextFlags extends ConnectionFlags {
  count: string;
  ack: boolean;
  timeout?: string;
  json?: boolean;
}

/** A message as the pull delivered it. */
interface Delivery extends ShownMessage {
  ackSubject: string;
  delivered: number;
  pending: number;
}

const ACK = Buffer.from('+ACK');

function toDelivery(subject: string, reply: string, headers: MsgHeaders | undefined, data: Buffer): Delivery {
  const i = ackInfo(reply);
  return { seq: i.seq, subject, time: i.ts, headers, data, ackSubject: reply, delivered: i.delivered, pending: i.pending };
}

/**
 * One pull of up to `count` messages; `each` runs for each in order, before
 * the next is handed over. Resolves with how many came (fewer when the
 * timeout passed first); rejects on a 409 or a 503 status.
 */
async function pull(bus: Bus, stream: string, consumer: string, count: number, timeout: number, each: (d: Delivery) => Promise<void>): Promise<number> {
  const queue: Delivery[] = [];
  // A holder, not a `let`: the callbacks below set it while the loop awaits.
  const end: { why: Error | 'done' | null } = { why: null };
  let wake: (() => void) | null = null;
  const inbox = bus.newInbox();
  const sid = bus.rawSubscribe(inbox, function onPulled(subject, reply, headers, data) {
    const code = headers?.code ?? 0;
    if (code === 0 && reply !== undefined) queue.push(toDelivery(subject, reply, headers, data));
    else if (code === 404 || code === 408) end.why ??= 'done';
    else if (code !== 100) end.why ??= new JetStreamApiError(code, 0, `the pull from consumer ${consumer} of stream ${stream} ended: ${code} ${headers?.description ?? ''}`.trim());
    wake?.();
  });
  const timer = setTimeout(() => {
    end.why ??= 'done';
    wake?.();
  }, timeout + NextDefaults.grace);
  try {
    const body = JSON.stringify({ batch: count, expires: nanos(timeout) });
    bus.rawPublish(`${JS_API_PREFIX}.CONSUMER.MSG.NEXT.${stream}.${consumer}`, inbox, null, Buffer.from(body));
    let got = 0;
    while (got < count) {
      const d = queue.shift();
      if (d !== undefined) {
        got++;
        await each(d);
        continue;
      }
      if (end.why instanceof Error) throw end.why;
      if (end.why === 'done') break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
    return got;
  } finally {
    clearTimeout(timer);
    bus.rawUnsubscribe(sid);
  }
}

/** A consumer `next` can pull from: it exists, and it is a pull consumer. */
function checkPullable(info: ConsumerInfo): void {
  if (typeof info.config.deliver_subject === 'string' && info.config.deliver_subject !== '') {
    throw new NetEmitterError(
      ErrorCode.JETSTREAM_API,
      `consumer ${info.name} of stream ${info.stream_name} is a push consumer (it delivers to ${info.config.deliver_subject}): next pulls from pull consumers only`,
    );
  }
}

function extra(d: Delivery): Record<string, number> {
  return { Delivered: d.delivered, Pending: d.pending };
}

/** Adds `next` to the `consumer` command. */
export function registerConsumerNext(consumer: Command): void {
  consumer
    .command('next')
    .description('pull messages from a pull consumer and print them, acknowledging each')
    .argument('<stream>', 'stream name')
    .argument('<consumer>', 'consumer name')
    .addOption(serverOption())
    .option('--count <n>', `how many messages, at most ${formatCount(NextDefaults.maxCount)}`, String(NextDefaults.count))
    .option('--no-ack', 'leave them unacknowledged: the server redelivers them after the consumer\'s ack wait')
    .option('--timeout <duration>', `how long to wait for them, e.g. 500ms, 10s (default: ${msDuration(NextDefaults.timeout)})`)
    .option('--json', 'one JSON document: an array of messages (each with delivered and pending)')
    .action(async function consumerNext(this: Command, stream: string, name: string): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<NextFlags>();
      checkStreamName(stream);
      checkStreamName(name, 'consumer');
      const count = flagValue('--count', f.count, (r) => {
        const n = parseCount(r, 1);
        if (n > NextDefaults.maxCount) throw new InvalidValue(`an integer from 1 to ${NextDefaults.maxCount}`);
        return n;
      });
      const timeout = f.timeout === undefined ? NextDefaults.timeout : flagValue('--timeout', f.timeout, (r) => parseDuration(r, 1));
      const shown: Record<string, unknown>[] = [];
      const { got, info } = await withBus(f, 'consumer next', async (bus) => {
        const info = await bus.consumers.info(stream, name);
        checkPullable(info);
        // With ack policy none the server expects no ack, and would confirm none.
        const ack = f.ack && info.config.ack_policy !== 'none';
        const settle = (d: Delivery): Promise<unknown> => bus.rawRequest(d.ackSubject, null, ACK, timeout);
        const held: Delivery[] = [];
        const got = await pull(bus, stream, name, count, timeout, async (d) => {
          if (f.json === true) {
            shown.push(storedJson(d, { delivered: d.delivered, pending: d.pending }));
            held.push(d);
            return;
          }
          process.stdout.write(renderMessage({ ...d, extra: extra(d) }));
          if (ack) await settle(d);
        });
        if (f.json === true && got > 0) {
          // Printed first, acknowledged after: a message is never acknowledged unseen.
          process.stdout.write(json(shown));
          if (ack) for (const d of held) await settle(d);
        }
        return { got, info };
      });
      if (got === 0) throw new TimeoutError(`no message from consumer ${name} of stream ${stream} within ${msDuration(timeout)}`);
      if (got < count) notice(`${got} of ${count} messages within ${msDuration(timeout)}`);
      if (!f.ack && info.config.ack_policy !== 'none') notice(`not acknowledged: redelivered after the consumer's ack wait (${nsDuration(info.config.ack_wait)})`);
      exitWith(ExitCode.OK);
    });
}
