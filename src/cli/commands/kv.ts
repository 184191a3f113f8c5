/**
 * `netemitter kv add|get|put|del|purge|ls|history|watch`: key-value buckets,
 * in the spirit of `nats kv`. The buckets are NATS KV buckets, so `nats kv`
 * and these commands work on the same data. Only `add` creates a bucket; the
 * others bind to an existing one, so a typo never makes a new bucket.
 */
import type { Command } from 'commander';
import type { Bus } from '../../client/bus.js';
import type { KvBucket } from '../../client/kv/bucket.js';
import { bucketNames } from '../../client/kv/bucket.js';
import { checkBucket, checkFilter, checkKey } from '../../client/kv/keys.js';
import type { KvEntry, KvOptions, KvStatus } from '../../client/kv/types.js';
import { UnsentError, ConfigError, InvalidKeyError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseCount, parseDuration, parseSize } from '../values.js';
import { connectBus, exitOnBrokenPipe, flagValue, messageJson, notice, renderPayload, serverOption, untilShutdown, withConnectionFlags, type ConnectionFlags } from './common.js';
import { withBus, oneOf } from './js-common.js';
import { bytes, confirm, count, json, msDuration, section, table } from './format.js';

interface Common extends ConnectionFlags {
  json?: boolean;
}

/** The most a value read from stdin may be (the server refuses more than its max_payload anyway). */
export const MAX_STDIN_VALUE = 8 * 1024 * 1024;

/** Names checked before connecting: a bad one is a usage error (exit 2). */
export function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof InvalidKeyError) throw new ConfigError(err.message);
    throw err;
  }
}

function out(text: string | Buffer): void {
  process.stdout.write(text);
}

async function open(bus: Bus, bucket: string): Promise<KvBucket> {
  return bus.kv(bucket, { create: false });
}

function renderStatus(s: KvStatus): string {
  return `${section(`Bucket ${s.bucket}`, [
    ['Description', s.description],
    ['Values stored', count(s.values)],
    ['Size', bytes(s.bytes)],
    ['History kept', count(s.history)],
    ['Time to live', s.ttl === 0 ? 'forever' : msDuration(s.ttl)],
    ['Storage', s.storage],
    ['Stream', s.stream],
  ])}`;
}

function entryJson(e: KvEntry): Record<string, unknown> {
  return messageJson({ bucket: e.bucket, key: e.key, revision: e.revision, operation: e.operation, created: e.created.toISOString() }, undefined, e.data);
}

/** A value on one line: text as it is, JSON compact, binary as its size. */
function oneLine(e: KvEntry): string {
  if (e.operation !== 'PUT') return '';
  const v = e.value;
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  return typeof v === 'string' ? v.replace(/[\r\n]+/g, ' ') : JSON.stringify(v);
}

/** `[2026-01-02T03:04:05.000Z] PUT settings > color: blue` */
function entryLine(e: KvEntry): string {
  return `[${e.created.toISOString()}] ${e.operation} ${e.bucket} > ${e.key}${e.operation === 'PUT' ? `: ${oneLine(e)}` : ''}\n`;
}

const KV_HELP = `
Values are stored as given: a value that is JSON text reads back as JSON in
netemitter's client, anything else as text.

Examples:
  netemitter kv add settings --history 5 --ttl 24h
  netemitter kv put settings color blue
  netemitter kv get settings color
  netemitter kv ls settings
  netemitter kv history settings color
  netemitter kv watch settings 'app.>'
  netemitter kv del settings color --force`;

interface AddFlags extends Common {
  history?: string;
  ttl?: string;
  storage?: string;
  maxValueSize?: string;
  maxBucketSize?: string;
  description?: string;
  replicas?: string;
}

export function registerKv(program: Command): void {
  const kv = program.command('kv').description('key-value buckets (NATS KV)').addHelpText('after', KV_HELP);

  kv.command('add')
    .description('create a bucket (or show the one that exists)')
    .argument('<bucket>', 'bucket name: letters, digits, - and _')
    .addOption(serverOption())
    .option('--history <n>', 'revisions kept per key, 1 to 64 (default: 1)')
    .option('--ttl <duration>', 'how long a value lives, e.g. 1h (default: forever)')
    .option('--storage <type>', 'file or memory (default: file)')
    .option('--max-value-size <size>', 'largest value accepted, e.g. 64KiB')
    .option('--max-bucket-size <size>', 'most bytes the bucket holds, e.g. 1GiB')
    .option('--description <text>', 'a description')
    .option('--replicas <n>', 'copies in a cluster (default: 1)')
    .option('--json', 'print the bucket\'s status as JSON')
    .action(async function kvAdd(this: Command, bucket: string): Promise<void> {
      const f = this.opts<AddFlags>();
      usage(() => checkBucket(bucket));
      const o: KvOptions = {};
      if (f.history !== undefined) o.history = flagValue('--history', f.history, (r) => parseCount(r, 1));
      if (o.history !== undefined && o.history > 64) throw new ConfigError(`invalid value for --history: ${f.history} (at most 64)`);
      if (f.ttl !== undefined) o.ttl = flagValue('--ttl', f.ttl, (r) => parseDuration(r, 0));
      const storage = oneOf('--storage', f.storage, ['file', 'memory'] as const);
      if (storage !== undefined) o.storage = storage;
      if (f.maxValueSize !== undefined) o.maxValueSize = flagValue('--max-value-size', f.maxValueSize, (r) => parseSize(r, 1));
      if (f.maxBucketSize !== undefined) o.maxBytes = flagValue('--max-bucket-size', f.maxBucketSize, (r) => parseSize(r, 1));
      if (f.replicas !== undefined) o.replicas = flagValue('--replicas', f.replicas, (r) => parseCount(r, 1));
      if (f.description !== undefined) o.description = f.description;
      const status = await withBus(f, 'kv add', async (bus) => (await bus.kv(bucket, o)).status());
      out(f.json === true ? json(status) : renderStatus(status));
      exitWith(ExitCode.OK);
    });

  kv.command('get')
    .description('print a key\'s value')
    .argument('<bucket>', 'bucket name')
    .argument('<key>', 'key')
    .addOption(serverOption())
    .option('--revision <n>', 'an older revision')
    .option('--raw', 'the value\'s bytes only, no newline')
    .option('--json', 'the entry as JSON: key, revision, operation, created, payload')
    .action(async function kvGet(this: Command, bucket: string, key: string): Promise<void> {
      const f = this.opts<Common & { revision?: string; raw?: boolean }>();
      usage(() => (checkBucket(bucket), checkKey(key)));
      const revision = f.revision === undefined ? undefined : flagValue('--revision', f.revision, (r) => parseCount(r, 1));
      const e = await withBus(f, 'kv get', async (bus) => (await open(bus, bucket)).get(key, revision === undefined ? {} : { revision }));
      if (e === null) throw new Error(`key ${JSON.stringify(key)} not found in bucket ${JSON.stringify(bucket)}`);
      if (f.raw === true) out(e.data);
      else if (f.json === true) out(json(entryJson(e)));
      else {
        out(`${bucket} > ${key} revision ${e.revision} created ${e.created.toISOString()}\n\n`);
        out(renderPayload(e.data));
        out('\n');
      }
      exitWith(ExitCode.OK);
    });

  kv.command('put')
    .description('store a value; prints its revision')
    .argument('<bucket>', 'bucket name')
    .argument('<key>', 'key')
    .argument('[value]', 'the value, as UTF-8 text; read from stdin when absent')
    .addOption(serverOption())
    .option('--json', 'print {"revision": n}')
    .action(async function kvPut(this: Command, bucket: string, key: string, value: string | undefined): Promise<void> {
      const f = this.opts<Common>();
      usage(() => (checkBucket(bucket), checkKey(key)));
      const data = value !== undefined ? Buffer.from(value, 'utf8') : await readStdin();
      const rev = await withBus(f, 'kv put', async (bus) => (await open(bus, bucket)).put(key, data));
      out(f.json === true ? json({ revision: rev }) : `${rev}\n`);
      exitWith(ExitCode.OK);
    });

  for (const op of ['del', 'purge'] as const) {
    kv.command(op)
      .description(op === 'del' ? 'delete a key (its history stays)' : 'delete a key and its whole history')
      .argument('<bucket>', 'bucket name')
      .argument('<key>', 'key')
      .addOption(serverOption())
      .option('-f, --force', 'do not ask for confirmation')
      .action(async function kvDel(this: Command, bucket: string, key: string): Promise<void> {
        const f = this.opts<Common & { force?: boolean }>();
        usage(() => (checkBucket(bucket), checkKey(key)));
        if (!(await confirm(`Really ${op === 'del' ? 'delete' : 'purge'} ${bucket} > ${key}?`, f.force))) return exitWith(ExitCode.OK, 'nothing changed');
        await withBus(f, `kv ${op}`, async (bus) => {
          const b = await open(bus, bucket);
          await (op === 'del' ? b.delete(key) : b.purge(key));
        });
        exitWith(ExitCode.OK);
      });
  }

  kv.command('ls')
    .alias('list')
    .description('list the buckets, or the keys of a bucket')
    .argument('[bucket]', 'bucket name')
    .argument('[filter]', 'only keys matching this (* one token, > the rest)', '>')
    .addOption(serverOption())
    .option('--json', 'a JSON array')
    .action(async function kvLs(this: Command, bucket: string | undefined, filter: string): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<Common>();
      if (bucket !== undefined) usage(() => (checkBucket(bucket), checkFilter(filter)));
      const names = await withBus(f, 'kv ls', async (bus) => (bucket === undefined ? bucketNames(bus.streams) : (await (await open(bus, bucket)).keys(filter)).sort()));
      if (f.json === true) out(json(names));
      else if (names.length === 0) notice(bucket === undefined ? 'no buckets' : `no keys in ${bucket}`);
      else out(names.map((n) => `${n}\n`).join(''));
      exitWith(ExitCode.OK);
    });

  kv.command('history')
    .description('list the stored revisions of a key (or of keys matching a filter)')
    .argument('<bucket>', 'bucket name')
    .argument('[key]', 'a key or filter', '>')
    .addOption(serverOption())
    .option('--json', 'a JSON array of entries')
    .action(async function kvHistory(this: Command, bucket: string, key: string): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<Common>();
      usage(() => (checkBucket(bucket), checkFilter(key)));
      const list = await withBus(f, 'kv history', async (bus) => (await open(bus, bucket)).history(key));
      if (f.json === true) out(json(list.map(entryJson)));
      else if (list.length === 0) notice(`no history for ${bucket} > ${key}`);
      else {
        const rows = list.map((e) => [e.key, String(e.revision), e.operation, e.created.toISOString(), oneLine(e)]);
        out(table(['Key', 'Revision', 'Op', 'Created', 'Value'], rows));
      }
      exitWith(ExitCode.OK);
    });

  kv.command('watch')
    .description('print the current values, then every change, until Ctrl-C')
    .argument('<bucket>', 'bucket name')
    .argument('[filter]', 'keys to watch (* one token, > the rest)', '>')
    .addOption(serverOption())
    .option('--updates-only', 'skip the current values')
    .option('--count <n>', 'exit 0 after n entries')
    .option('--json', 'one JSON object per line and entry')
    .action(async function kvWatch(this: Command, bucket: string, filter: string): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<Common & { updatesOnly?: boolean; count?: string }>();
      usage(() => (checkBucket(bucket), checkFilter(filter)));
      const max = f.count === undefined ? undefined : flagValue('--count', f.count, (r) => parseCount(r, 1));
      const shutdown = untilShutdown();
      const bus = await connectBus(f, 'kv watch');
      let enough!: () => void;
      const done = new Promise<void>((resolve) => (enough = resolve));
      try {
        const w = (await open(bus, bucket)).watch(filter, { initial: f.updatesOnly !== true });
        let n = 0;
        w.on('change', (e: KvEntry) => {
          if (max !== undefined && n >= max) return;
          n++;
          out(f.json === true ? `${JSON.stringify(entryJson(e))}\n` : entryLine(e));
          if (n === max) enough();
        });
        // Before the first values a failure is the answer (exit 1); later ones are reported while the watch recovers.
        let started = false;
        const failedToStart = new Promise<never>((_, reject) => {
          w.on('error', (err) => {
            if (started) notice(err.message);
            else reject(err);
          });
        });
        void w.ready.then(() => {
          started = true;
          notice(`watching ${bucket} > ${filter}`);
        });
        try {
          await Promise.race([done, shutdown.signal, failedToStart]);
        } finally {
          w.stop();
        }
      } finally {
        shutdown.remove();
        await bus.close().catch((err: unknown) => {
          if (!(err instanceof UnsentError)) throw err;
        });
      }
      exitWith(ExitCode.OK);
    });

  for (const c of kv.commands) withConnectionFlags(c);
}

/** A value from stdin, whole (bounded by what the server accepts in one message). */
async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY === true) notice('reading the value from stdin; end with Ctrl-D');
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_STDIN_VALUE) throw new ConfigError(`the value on stdin is larger than ${bytes(MAX_STDIN_VALUE)}: store large payloads with \`netemitter object put\``);
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}
