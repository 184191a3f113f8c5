/**
 * `netemitter consumer add|ls|info|rm` (and next, in consumer-next.ts):
 * durable pull consumers of a stream, in the spirit of `nats consumer`,
 * through bus.consumers.
 */
import type { Command } from 'commander';
import type { ConsumerConfig, ConsumerInfo, DeliverPolicy, AckPolicy } from '../../client/jetstream/types.js';
import { nanos } from '../../client/jetstream/types.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseCount, parseDuration } from '../values.js';
import { checkSubject, exitOnBrokenPipe, flagValue, serverOption, withConnectionFlags, type ConnectionFlags } from './common.js';
import { ago, confirm, count, json, limit, nsDuration, section, table } from './format.js';
import { checkStreamName, listOption, oneOf, readConfigFile, withBus } from './js-common.js';
import { registerConsumerNext } from './consumer-next.js';

interface Common extends ConnectionFlags {
  json?: boolean;
}

interface AddFlags extends Common {
  filter?: string;
  deliver?: string;
  ack?: string;
  ackWait?: string;
  maxDeliver?: string;
  maxAckPending?: string;
  backoff?: string[];
  deadLetter?: string;
  description?: string;
  config?: string;
}

const DELIVER: readonly DeliverPolicy[] = ['all', 'new', 'last', 'last_per_subject'];
const ACK: readonly AckPolicy[] = ['explicit', 'all', 'none'];

function out(text: string): void {
  process.stdout.write(text);
}

function consumerConfig(name: string, f: AddFlags): ConsumerConfig {
  const c: ConsumerConfig = { ack_policy: 'explicit', ...readConfigFile(f.config), durable_name: name };
  if (f.filter !== undefined) c.filter_subject = checkSubject(f.filter, true);
  const deliver = oneOf('--deliver', f.deliver, DELIVER);
  if (deliver !== undefined) c.deliver_policy = deliver;
  const ack = oneOf('--ack', f.ack, ACK);
  if (ack !== undefined) c.ack_policy = ack;
  if (f.ackWait !== undefined) c.ack_wait = nanos(flagValue('--ack-wait', f.ackWait, (r) => parseDuration(r, 1)));
  if (f.maxDeliver !== undefined) c.max_deliver = f.maxDeliver === '-1' ? -1 : flagValue('--max-deliver', f.maxDeliver, (r) => parseCount(r, 1));
  if (f.maxAckPending !== undefined) c.max_ack_pending = f.maxAckPending === '-1' ? -1 : flagValue('--max-ack-pending', f.maxAckPending, (r) => parseCount(r, 1));
  if (f.backoff !== undefined) c.backoff = f.backoff.map((d) => nanos(flagValue('--backoff', d, (r) => parseDuration(r, 1))));
  if (f.deadLetter !== undefined) c.metadata = { ...c.metadata, dead_letter_subject: checkSubject(f.deadLetter, false) };
  if (f.description !== undefined) c.description = f.description;
  return c;
}

export function renderConsumerInfo(i: ConsumerInfo): string {
  const c = i.config;
  const config = section('Configuration', [
    ['Durable name', c.durable_name],
    ['Description', c.description],
    ['Filter subject', c.filter_subject ?? (c.filter_subjects ?? []).join(', ')],
    ['Deliver policy', c.deliver_policy],
    ['Ack policy', c.ack_policy],
    ['Ack wait', nsDuration(c.ack_wait)],
    ['Backoff', c.backoff === undefined ? undefined : c.backoff.map((b) => nsDuration(b)).join(', ')],
    ['Maximum deliveries', limit(c.max_deliver)],
    ['Maximum ack pending', limit(c.max_ack_pending)],
    ['Maximum waiting pulls', c.max_waiting === undefined ? undefined : count(c.max_waiting)],
    ['Dead-letter subject', c.metadata?.dead_letter_subject],
  ]);
  const state = section('State', [
    ['Last delivered', `consumer seq ${i.delivered.consumer_seq}, stream seq ${i.delivered.stream_seq} (${ago(i.delivered.last_active)})`],
    ['Acknowledged floor', `consumer seq ${i.ack_floor.consumer_seq}, stream seq ${i.ack_floor.stream_seq} (${ago(i.ack_floor.last_active)})`],
    ['Outstanding acks', `${count(i.num_ack_pending)} of ${limit(c.max_ack_pending)}`],
    ['Redelivered', count(i.num_redelivered)],
    ['Unprocessed', count(i.num_pending)],
    ['Waiting pulls', count(i.num_waiting)],
  ]);
  return `Consumer ${i.name} of stream ${i.stream_name} created ${i.created}\n\n${config}\n${state}`;
}

function renderConsumerTable(stream: string, list: ConsumerInfo[]): string {
  if (list.length === 0) return `No consumers on stream ${stream}\n`;
  const rows = [...list]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((i) => [
      i.name,
      i.config.filter_subject ?? (i.config.filter_subjects ?? []).join(', '),
      count(i.num_ack_pending),
      count(i.num_pending),
      count(i.num_redelivered),
      ago(i.delivered.last_active),
    ]);
  return table(['Name', 'Filter', 'Ack pending', 'Unprocessed', 'Redelivered', 'Last delivery'], rows);
}

const CONSUMER_HELP = `
Consumers here are durable pull consumers, as bus.on(subject, fn, { durable })
creates them.

Examples:
  netemitter consumer add ORDERS billing --filter orders.created --max-deliver 5
  netemitter consumer ls ORDERS
  netemitter consumer info ORDERS billing --json
  netemitter consumer next ORDERS billing --count 10
  netemitter consumer rm ORDERS billing --force`;

export function registerConsumer(program: Command): void {
  const consumer = program.command('consumer').description('manage durable consumers of a stream').addHelpText('after', CONSUMER_HELP);

  consumer
    .command('add')
    .description('create a durable pull consumer')
    .argument('<stream>', 'stream name')
    .argument('<name>', 'consumer (durable) name')
    .addOption(serverOption())
    .option('--filter <subject>', 'only messages on this subject (wildcards allowed)')
    .option('--deliver <policy>', `where it starts: ${DELIVER.join(', ')} (default: all)`)
    .option('--ack <policy>', `${ACK.join(', ')} (default: explicit)`)
    .option('--ack-wait <duration>', 'redeliver what is not acknowledged after this, e.g. 30s')
    .option('--max-deliver <n>', 'deliveries before giving up on a message, -1 for no limit')
    .option('--max-ack-pending <n>', 'messages delivered and not yet acknowledged, at most')
    .addOption(listOption('--backoff <durations>', 'redelivery delays per attempt, e.g. 1s,5s,30s'))
    .option('--dead-letter <subject>', 'where the netemitter hub moves messages it gives up on')
    .option('--description <text>', 'a description')
    .option('--config <file>', 'a JSON consumer config (JetStream names); flags override its keys')
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function consumerAdd(this: Command, stream: string, name: string): Promise<void> {
      const f = this.opts<AddFlags>();
      checkStreamName(stream);
      const config = consumerConfig(checkStreamName(name, 'consumer'), f);
      const info = await withBus(f, 'consumer add', (bus) => bus.consumers.add(stream, config));
      out(f.json === true ? json(info) : renderConsumerInfo(info));
      exitWith(ExitCode.OK);
    });

  consumer
    .command('ls')
    .alias('list')
    .description('list the consumers of a stream')
    .argument('<stream>', 'stream name')
    .addOption(serverOption())
    .option('--names', 'names only, one a line')
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function consumerLs(this: Command, stream: string): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<Common & { names?: boolean }>();
      checkStreamName(stream);
      await withBus(f, 'consumer ls', async (bus) => {
        if (f.names === true) {
          const names = (await bus.consumers.names(stream)).sort();
          out(f.json === true ? json(names) : names.map((n) => `${n}\n`).join(''));
          return;
        }
        const list = await bus.consumers.list(stream);
        out(f.json === true ? json(list) : renderConsumerTable(stream, list));
      });
      exitWith(ExitCode.OK);
    });

  consumer
    .command('info')
    .description('show a consumer\'s configuration and state')
    .argument('<stream>', 'stream name')
    .argument('<name>', 'consumer name')
    .addOption(serverOption())
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function consumerInfo(this: Command, stream: string, name: string): Promise<void> {
      const f = this.opts<Common>();
      checkStreamName(stream);
      checkStreamName(name, 'consumer');
      const info = await withBus(f, 'consumer info', (bus) => bus.consumers.info(stream, name));
      out(f.json === true ? json(info) : renderConsumerInfo(info));
      exitWith(ExitCode.OK);
    });

  consumer
    .command('rm')
    .alias('delete')
    .description('delete a consumer (its stream keeps the messages)')
    .argument('<stream>', 'stream name')
    .argument('<name>', 'consumer name')
    .addOption(serverOption())
    .option('-f, --force', 'do not ask for confirmation')
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function consumerRm(this: Command, stream: string, name: string): Promise<void> {
      const f = this.opts<Common & { force?: boolean }>();
      checkStreamName(stream);
      checkStreamName(name, 'consumer');
      if (!(await confirm(`Really delete consumer ${name} of stream ${stream}?`, f.force))) return exitWith(ExitCode.OK, 'nothing deleted');
      const success = await withBus(f, 'consumer rm', (bus) => bus.consumers.delete(stream, name));
      if (f.json === true) out(json({ success }));
      exitWith(ExitCode.OK);
    });
  registerConsumerNext(consumer);
  for (const c of consumer.commands) withConnectionFlags(c);
}
