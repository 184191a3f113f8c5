/**
 * `netemitter stream add|edit|ls|info|rm|purge|view` (and get, rmm in
 * stream-message.ts): durable streams, in the spirit of `nats stream`. Each is one call through bus.streams; tables
 * for people, `--json` for scripts (the server's JSON, unchanged).
 */
import type { Command } from 'commander';
import type { Bus } from '../../client/bus.js';
import type { StreamConfig, StreamInfo, StoredMessage } from '../../client/jetstream/types.js';
import { nanos } from '../../client/jetstream/types.js';
import { subjectMatches } from '../../protocol/subject.js';
import { ConfigError, JetStreamApiError, NoStreamError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseCount, parseDuration, parseSize } from '../values.js';
import { checkSubject, exitOnBrokenPipe, flagValue, serverOption, withConnectionFlags, type ConnectionFlags } from './common.js';
import { ago, bytes, confirm, count, json, limit, nsDuration, section, table } from './format.js';
import { checkStreamName, listOption, oneOf, readConfigFile, renderMessage, storedJson, withBus } from './js-common.js';
import { registerStreamMessages } from './stream-message.js';

// They were born here, and other commands may still import them from here.
export { checkStreamName, listOption, oneOf, readConfigFile, withBus };

/** JetStream's "no message found" and "stream not found" error numbers. */
const NO_MESSAGE = 10037;
const STREAM_NOT_FOUND = 10059;

interface Common extends ConnectionFlags {
  json?: boolean;
}

function out(text: string): void {
  process.stdout.write(text);
}

// ── printing ──────────────────────────────────────────────────────────────

export function renderStreamInfo(info: StreamInfo): string {
  const c = info.config;
  const s = info.state;
  const config = section('Configuration', [
    ['Subjects', (c.subjects ?? []).join(', ')],
    ['Description', c.description],
    ['Storage', c.storage],
    ['Retention', c.retention],
    ['Discard policy', c.discard],
    ['Replicas', c.num_replicas === undefined ? undefined : String(c.num_replicas)],
    ['Maximum messages', limit(c.max_msgs)],
    ['Maximum per subject', limit(c.max_msgs_per_subject)],
    ['Maximum bytes', limit(c.max_bytes, bytes)],
    ['Maximum age', c.max_age === undefined || c.max_age === 0 ? 'unlimited' : nsDuration(c.max_age)],
    ['Maximum message size', limit(c.max_msg_size, bytes)],
    ['Duplicate window', nsDuration(c.duplicate_window)],
    ['Maximum consumers', limit(c.max_consumers)],
  ]);
  const state = section('State', [
    ['Messages', count(s.messages)],
    ['Bytes', bytes(s.bytes)],
    ['First sequence', s.messages === 0 ? String(s.first_seq) : `${s.first_seq} (${ago(s.first_ts)})`],
    ['Last sequence', s.messages === 0 && s.last_seq === 0 ? '0' : `${s.last_seq} (${ago(s.last_ts)})`],
    ['Deleted messages', s.num_deleted === undefined ? undefined : count(s.num_deleted)],
    ['Subjects', s.num_subjects === undefined ? undefined : count(s.num_subjects)],
    ['Consumers', count(s.consumer_count)],
  ]);
  return `Stream ${c.name} created ${info.created}\n\n${config}\n${state}`;
}

function renderStreamTable(list: StreamInfo[]): string {
  if (list.length === 0) return 'No streams defined\n';
  const rows = [...list]
    .sort((a, b) => a.config.name.localeCompare(b.config.name))
    .map((i) => [
      i.config.name,
      (i.config.subjects ?? []).join(', '),
      count(i.state.messages),
      bytes(i.state.bytes),
      ago(i.state.last_ts),
      count(i.state.consumer_count),
    ]);
  return table(['Name', 'Subjects', 'Messages', 'Size', 'Last message', 'Consumers'], rows);
}

// ── commands ──────────────────────────────────────────────────────────────

interface AddFlags extends Common {
  subjects?: string[];
  description?: string;
  storage?: string;
  retention?: string;
  discard?: string;
  maxMsgs?: string;
  maxMsgsPerSubject?: string;
  maxBytes?: string;
  maxAge?: string;
  maxMsgSize?: string;
  dupeWindow?: string;
  replicas?: string;
  config?: string;
}

/** The flags that set a stream's config (all but the connection and output flags). */
const CONFIG_FLAGS = [
  'subjects', 'description', 'storage', 'retention', 'discard', 'maxMsgs', 'maxMsgsPerSubject', 'maxBytes', 'maxAge', 'maxMsgSize', 'dupeWindow', 'replicas', 'config',
] as const satisfies readonly (keyof AddFlags)[];

/** A stream config: `base` (edit: the current one), then --config's keys, then the flags. */
function streamConfig(name: string, f: AddFlags, base: Partial<StreamConfig> = {}): StreamConfig {
  const c: StreamConfig = { ...base, ...readConfigFile(f.config), name };
  if (f.subjects !== undefined) c.subjects = f.subjects.map((s) => checkSubject(s, true));
  if (f.description !== undefined) c.description = f.description;
  const storage = oneOf('--storage', f.storage, ['file', 'memory'] as const);
  if (storage !== undefined) c.storage = storage;
  const retention = oneOf('--retention', f.retention, ['limits', 'interest', 'workqueue'] as const);
  if (retention !== undefined) c.retention = retention;
  const discard = oneOf('--discard', f.discard, ['old', 'new'] as const);
  if (discard !== undefined) c.discard = discard;
  const int = (flag: string, raw: string | undefined): number | undefined =>
    raw === undefined ? undefined : raw === '-1' ? -1 : flagValue(flag, raw, (r) => parseCount(r, 0));
  const size = (flag: string, raw: string | undefined): number | undefined =>
    raw === undefined ? undefined : raw === '-1' ? -1 : flagValue(flag, raw, (r) => parseSize(r, 0));
  const dur = (flag: string, raw: string | undefined): number | undefined =>
    raw === undefined ? undefined : nanos(flagValue(flag, raw, (r) => parseDuration(r, 0)));
  const set = (key: keyof StreamConfig, v: number | undefined): void => {
    if (v !== undefined) c[key] = v;
  };
  set('max_msgs', int('--max-msgs', f.maxMsgs));
  set('max_msgs_per_subject', int('--max-msgs-per-subject', f.maxMsgsPerSubject));
  set('max_bytes', size('--max-bytes', f.maxBytes));
  set('max_msg_size', size('--max-msg-size', f.maxMsgSize));
  set('max_age', dur('--max-age', f.maxAge));
  set('duplicate_window', dur('--dupe-window', f.dupeWindow));
  set('num_replicas', int('--replicas', f.replicas));
  return c;
}

const STREAM_HELP = `
Examples:
  netemitter stream add ORDERS --subjects 'orders.>' --max-age 168h
  netemitter stream edit ORDERS --max-age 720h --max-bytes 10GiB
  netemitter stream ls
  netemitter stream info ORDERS --json
  netemitter stream view orders.new --count 10
  netemitter stream get ORDERS 42
  netemitter stream get ORDERS --last-for orders.new
  netemitter stream rmm ORDERS 42 --force
  netemitter stream purge ORDERS --subject orders.test --force
  netemitter stream rm ORDERS --force`;

/** The config flags of add and edit; `dflt` says what an absent flag means. */
function withConfigFlags(cmd: Command, dflt: 'default' | 'current'): Command {
  const d = (text: string): string => (dflt === 'default' ? ` (default: ${text})` : '');
  return cmd
    .addOption(listOption('--subjects <subjects>', `subjects it stores, comma-separated or repeated${d('the name')}`))
    .option('--description <text>', 'a description')
    .option('--storage <type>', `file or memory${d('file')}`)
    .option('--retention <policy>', `limits, interest or workqueue${d('limits')}`)
    .option('--discard <policy>', `when full, discard old or new messages${d('old')}`)
    .option('--max-msgs <n>', 'most messages kept, -1 for no limit')
    .option('--max-msgs-per-subject <n>', 'most messages kept per subject, -1 for no limit')
    .option('--max-bytes <size>', 'most bytes kept, e.g. 1GiB, -1 for no limit')
    .option('--max-age <duration>', `oldest message kept, e.g. 24h${d('forever')}`)
    .option('--max-msg-size <size>', 'largest message accepted, -1 for no limit')
    .option('--dupe-window <duration>', `window for Nats-Msg-Id deduplication${d('2m')}`)
    .option('--replicas <n>', `copies in a cluster${d('1')}`)
    .option('--config <file>', `a JSON stream config (JetStream names)${dflt === 'current' ? ' merged over the current one' : ''}; flags override its keys`)
    .option('--json', 'print the server\'s answer as JSON');
}

export function registerStream(program: Command): void {
  const stream = program.command('stream').description('manage durable streams (the JetStream API)').addHelpText('after', STREAM_HELP);

  withConfigFlags(stream.command('add').description('create a stream').argument('<name>', 'stream name').addOption(serverOption()), 'default')
    .action(async function streamAdd(this: Command, name: string): Promise<void> {
      const f = this.opts<AddFlags>();
      const config = streamConfig(checkStreamName(name), f);
      const info = await withBus(f, 'stream add', (bus) => bus.streams.add(config));
      out(f.json === true ? json(info) : renderStreamInfo(info));
      exitWith(ExitCode.OK);
    });

  withConfigFlags(
    stream
      .command('edit')
      .alias('update')
      .description('change a stream\'s config in place, keeping its messages: only what the flags give changes')
      .argument('<name>', 'stream name')
      .addOption(serverOption()),
    'current',
  ).action(async function streamEdit(this: Command, name: string): Promise<void> {
    const f = this.opts<AddFlags>();
    checkStreamName(name);
    if (!CONFIG_FLAGS.some((k) => f[k] !== undefined)) throw new ConfigError(`stream edit ${name}: nothing to change (give the flags to change, or --config)`);
    streamConfig(name, f); // the flags' values checked before connecting
    const info = await withBus(f, 'stream edit', async (bus) => {
      // STREAM.UPDATE replaces the whole config: what the flags leave alone is sent back as it is.
      const current = await bus.streams.info(name);
      return bus.streams.update(streamConfig(name, f, current.config));
    });
    out(f.json === true ? json(info) : renderStreamInfo(info));
    exitWith(ExitCode.OK);
  });

  stream
    .command('ls')
    .alias('list')
    .description('list streams')
    .addOption(serverOption())
    .option('--names', 'names only, one a line')
    .option('--subject <subject>', 'only streams storing this subject')
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function streamLs(this: Command): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<Common & { names?: boolean; subject?: string }>();
      if (f.subject !== undefined) checkSubject(f.subject, true);
      await withBus(f, 'stream ls', async (bus) => {
        if (f.names === true || f.subject !== undefined) {
          const names = (await bus.streams.names(f.subject)).sort();
          if (f.json === true) out(json(names));
          else if (f.names === true) out(names.map((n) => `${n}\n`).join(''));
          else out(renderStreamTable(await Promise.all(names.map((n) => bus.streams.info(n)))));
          return;
        }
        const list = await bus.streams.list();
        out(f.json === true ? json(list) : renderStreamTable(list));
      });
      exitWith(ExitCode.OK);
    });

  stream
    .command('info')
    .description('show a stream\'s configuration and state')
    .argument('<name>', 'stream name')
    .addOption(serverOption())
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function streamInfo(this: Command, name: string): Promise<void> {
      const f = this.opts<Common>();
      const info = await withBus(f, 'stream info', (bus) => bus.streams.info(checkStreamName(name)));
      out(f.json === true ? json(info) : renderStreamInfo(info));
      exitWith(ExitCode.OK);
    });

  stream
    .command('rm')
    .alias('delete')
    .description('delete a stream, its messages and its consumers')
    .argument('<name>', 'stream name')
    .addOption(serverOption())
    .option('-f, --force', 'do not ask for confirmation')
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function streamRm(this: Command, name: string): Promise<void> {
      const f = this.opts<Common & { force?: boolean }>();
      checkStreamName(name);
      if (!(await confirm(`Really delete stream ${name}?`, f.force))) return exitWith(ExitCode.OK, 'nothing deleted');
      const success = await withBus(f, 'stream rm', (bus) => bus.streams.delete(name));
      if (f.json === true) out(json({ success }));
      exitWith(ExitCode.OK);
    });

  stream
    .command('purge')
    .description('remove messages from a stream')
    .argument('<name>', 'stream name')
    .addOption(serverOption())
    .option('--subject <subject>', 'only messages on this subject (wildcards allowed)')
    .option('--seq <n>', 'only messages before this sequence')
    .option('--keep <n>', 'keep the newest n messages')
    .option('-f, --force', 'do not ask for confirmation')
    .option('--json', 'print the server\'s answer as JSON')
    .action(async function streamPurge(this: Command, name: string): Promise<void> {
      const f = this.opts<Common & { force?: boolean; subject?: string; seq?: string; keep?: string }>();
      checkStreamName(name);
      const opts: { filter?: string; seq?: number; keep?: number } = {};
      if (f.subject !== undefined) opts.filter = checkSubject(f.subject, true);
      if (f.seq !== undefined) opts.seq = flagValue('--seq', f.seq, (r) => parseCount(r, 1));
      if (f.keep !== undefined) opts.keep = flagValue('--keep', f.keep, (r) => parseCount(r, 0));
      if (opts.seq !== undefined && opts.keep !== undefined) throw new ConfigError('--seq and --keep cannot be used together');
      if (!(await confirm(`Really purge stream ${name}?`, f.force))) return exitWith(ExitCode.OK, 'nothing purged');
      const r = await withBus(f, 'stream purge', (bus) => bus.streams.purge(name, opts));
      out(f.json === true ? json(r) : `Purged ${count(r.purged)} message${r.purged === 1 ? '' : 's'} from ${name}\n`);
      exitWith(ExitCode.OK);
    });

  stream
    .command('view')
    .description('print the messages of a stream, or of the stream storing a subject')
    .argument('<stream-or-subject>', 'a stream name, or a subject (wildcards allowed) to view only its messages')
    .addOption(serverOption())
    .option('--seq <n>', 'start at this sequence (default: the first)')
    .option('--count <n>', 'print at most n messages', '100')
    .option('--json', 'one JSON document: an array of messages')
    .action(async function streamView(this: Command, target: string): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<Common & { seq?: string; count: string }>();
      const max = flagValue('--count', f.count, (r) => parseCount(r, 1));
      const from = f.seq === undefined ? 1 : flagValue('--seq', f.seq, (r) => parseCount(r, 1));
      checkSubject(target, true);
      const shown = await withBus(f, 'stream view', (bus) => view(bus, target, from, max, f.json === true));
      if (f.json !== true && shown.more) process.stderr.write(`more messages may follow: --seq ${shown.next} to continue\n`);
      exitWith(ExitCode.OK);
    });
  registerStreamMessages(stream);
  for (const c of stream.commands) withConnectionFlags(c);
}

/** Resolves a stream name or a subject to a stream (and a filter). */
async function resolveView(bus: Bus, target: string): Promise<{ info: StreamInfo; filter: string | undefined }> {
  if (!/[.*>]/.test(target)) {
    try {
      return { info: await bus.streams.info(target), filter: undefined };
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.errCode === STREAM_NOT_FOUND)) throw err;
    }
  }
  const [name] = await bus.streams.names(target);
  if (name === undefined) throw new NoStreamError(target);
  return { info: await bus.streams.info(name), filter: target };
}

async function view(bus: Bus, target: string, from: number, max: number, asJson: boolean): Promise<{ more: boolean; next: number }> {
  const { info, filter } = await resolveView(bus, target);
  const name = info.config.name;
  const last = info.state.last_seq;
  const all: Record<string, unknown>[] = [];
  let shown = 0;
  let seq = Math.max(from, info.state.first_seq);
  for (; seq <= last && shown < max; seq++) {
    let m: StoredMessage;
    try {
      m = await bus.streams.getMessage(name, { seq });
    } catch (err) {
      if (err instanceof JetStreamApiError && err.errCode === NO_MESSAGE) continue; // deleted or purged
      throw err;
    }
    if (filter !== undefined && !subjectMatches(filter, m.subject)) continue;
    shown++;
    if (asJson) all.push(storedJson(m));
    else out(renderMessage(m));
  }
  if (asJson) out(json(all));
  else if (shown === 0) out(`No messages in ${name}${filter === undefined ? '' : ` on ${filter}`}\n`);
  return { more: seq <= last, next: seq };
}
