/**
 * `netemitter object add|put|get|ls|rm`: object stores, in the spirit of
 * `nats object`. Content streams from a file (or stdin) and to a file (or
 * stdout) in chunks, never whole in memory. Only `add` creates a store.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { Bus } from '../../client/bus.js';
import { checkBucket } from '../../client/kv/keys.js';
import { storeNames, type ObjectStore } from '../../client/objects/store.js';
import type { ObjectInfo, ObjectStoreOptions } from '../../client/objects/types.js';
import { ConfigError } from '../../errors.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseDuration, parseSize } from '../values.js';
import { exitOnBrokenPipe, flagValue, headerOption, notice, parseHeaders, serverOption, withConnectionFlags, type ConnectionFlags } from './common.js';
import { withBus, oneOf } from './js-common.js';
import { usage } from './kv.js';
import { bytes, confirm, json, section, table } from './format.js';

interface Common extends ConnectionFlags {
  json?: boolean;
}

function out(text: string): void {
  process.stdout.write(text);
}

async function open(bus: Bus, bucket: string): Promise<ObjectStore> {
  return bus.objects(bucket, { create: false });
}

function renderInfo(i: ObjectInfo): string {
  const headers = i.headers === undefined ? undefined : Object.entries(i.headers).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ');
  return section(`Object ${i.bucket} > ${i.name}`, [
    ['Description', i.description],
    ['Size', bytes(i.size)],
    ['Chunks', String(i.chunks)],
    ['Modified', i.mtime.toISOString()],
    ['Digest', i.digest],
    ['Headers', headers],
  ]);
}

function infoJson(i: ObjectInfo): Record<string, unknown> {
  return { ...i, mtime: i.mtime.toISOString() };
}

function checkName(name: string): string {
  if (name.length === 0) throw new ConfigError('an object name cannot be empty');
  return name;
}

const OBJECT_HELP = `
Examples:
  netemitter object add files --ttl 720h
  netemitter object put files ./report.pdf
  netemitter object put files - --name logs/today.txt < today.txt
  netemitter object ls files
  netemitter object get files report.pdf --output /tmp/report.pdf
  netemitter object rm files report.pdf --force`;

export function registerObject(program: Command): void {
  const object = program.command('object').alias('obj').description('object stores for large payloads (NATS object store)').addHelpText('after', OBJECT_HELP);

  object.command('add')
    .description('create an object store (or show the one that exists)')
    .argument('<bucket>', 'store name: letters, digits, - and _')
    .addOption(serverOption())
    .option('--ttl <duration>', 'how long an object lives, e.g. 720h (default: forever)')
    .option('--storage <type>', 'file or memory (default: file)')
    .option('--max-bucket-size <size>', 'most bytes the store holds, e.g. 10GiB')
    .option('--description <text>', 'a description')
    .option('--json', 'print the stream\'s configuration as JSON')
    .action(async function objectAdd(this: Command, bucket: string): Promise<void> {
      const f = this.opts<Common & { ttl?: string; storage?: string; maxBucketSize?: string; description?: string }>();
      usage(() => checkBucket(bucket, 'object store'));
      const o: ObjectStoreOptions = {};
      if (f.ttl !== undefined) o.ttl = flagValue('--ttl', f.ttl, (r) => parseDuration(r, 0));
      const storage = oneOf('--storage', f.storage, ['file', 'memory'] as const);
      if (storage !== undefined) o.storage = storage;
      if (f.maxBucketSize !== undefined) o.maxBytes = flagValue('--max-bucket-size', f.maxBucketSize, (r) => parseSize(r, 1));
      if (f.description !== undefined) o.description = f.description;
      const info = await withBus(f, 'object add', async (bus) => bus.streams.info((await bus.objects(bucket, o)).stream));
      out(f.json === true ? json(info.config) : `Object store ${bucket} ready (stream ${info.config.name})\n`);
      exitWith(ExitCode.OK);
    });

  object.command('put')
    .description('store a file (or stdin) as an object')
    .argument('<bucket>', 'store name')
    .argument('<file>', 'the file to store; - for stdin (then --name is needed)')
    .addOption(serverOption())
    .option('--name <name>', 'the object\'s name (default: the file\'s name)')
    .option('--description <text>', 'a description')
    .addOption(headerOption())
    .option('--json', 'print the object\'s info as JSON')
    .action(async function objectPut(this: Command, bucket: string, file: string): Promise<void> {
      const f = this.opts<Common & { name?: string; description?: string; header?: string[] }>();
      usage(() => checkBucket(bucket, 'object store'));
      if (file === '-' && f.name === undefined) throw new ConfigError('--name is needed when the content comes from stdin');
      const name = checkName(f.name ?? basename(file));
      const headers = parseHeaders(f.header);
      const source = file === '-' ? process.stdin : createReadStream(file);
      // A missing file is found before anything is stored.
      if (file !== '-') await new Promise<void>((resolve, reject) => source.once('open', () => resolve()).once('error', (err: Error) => reject(new ConfigError(`cannot read ${JSON.stringify(file)}: ${err.message}`))));
      const info = await withBus(f, 'object put', async (bus) =>
        (await open(bus, bucket)).put(name, source, { ...(f.description !== undefined ? { description: f.description } : {}), ...(headers !== undefined ? { headers } : {}) }),
      );
      out(f.json === true ? json(infoJson(info)) : renderInfo(info));
      exitWith(ExitCode.OK);
    });

  object.command('get')
    .description('write an object to a file, or to stdout')
    .argument('<bucket>', 'store name')
    .argument('<name>', 'the object\'s name')
    .addOption(serverOption())
    .option('-O, --output <file>', 'write it here (default: stdout)')
    .action(async function objectGet(this: Command, bucket: string, name: string): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<Common & { output?: string }>();
      usage(() => checkBucket(bucket, 'object store'));
      checkName(name);
      await withBus(f, 'object get', async (bus) => {
        const r = await (await open(bus, bucket)).get(name);
        if (r === null) throw new Error(`object ${JSON.stringify(name)} not found in ${JSON.stringify(bucket)}`);
        await pipeline(r.data, f.output === undefined ? process.stdout : createWriteStream(f.output), { end: f.output !== undefined });
        if (f.output !== undefined) notice(`wrote ${bytes(r.info.size)} to ${f.output}`);
      });
      exitWith(ExitCode.OK);
    });

  object.command('ls')
    .alias('list')
    .description('list the object stores, or the objects of one')
    .argument('[bucket]', 'store name')
    .addOption(serverOption())
    .option('--json', 'a JSON array')
    .action(async function objectLs(this: Command, bucket: string | undefined): Promise<void> {
      exitOnBrokenPipe();
      const f = this.opts<Common>();
      if (bucket !== undefined) usage(() => checkBucket(bucket, 'object store'));
      if (bucket === undefined) {
        const names = await withBus(f, 'object ls', (bus) => storeNames(bus));
        if (f.json === true) out(json(names));
        else if (names.length === 0) notice('no object stores');
        else out(names.map((n) => `${n}\n`).join(''));
        return exitWith(ExitCode.OK);
      }
      const list = (await withBus(f, 'object ls', async (bus) => (await open(bus, bucket)).list())).sort((a, b) => a.name.localeCompare(b.name));
      if (f.json === true) out(json(list.map(infoJson)));
      else if (list.length === 0) notice(`no objects in ${bucket}`);
      else out(table(['Name', 'Size', 'Modified', 'Digest'], list.map((i) => [i.name, bytes(i.size), i.mtime.toISOString(), i.digest])));
      exitWith(ExitCode.OK);
    });

  object.command('rm')
    .alias('delete')
    .description('delete an object')
    .argument('<bucket>', 'store name')
    .argument('<name>', 'the object\'s name')
    .addOption(serverOption())
    .option('-f, --force', 'do not ask for confirmation')
    .action(async function objectRm(this: Command, bucket: string, name: string): Promise<void> {
      const f = this.opts<Common & { force?: boolean }>();
      usage(() => checkBucket(bucket, 'object store'));
      checkName(name);
      if (!(await confirm(`Really delete ${bucket} > ${name}?`, f.force))) return exitWith(ExitCode.OK, 'nothing deleted');
      const deleted = await withBus(f, 'object rm', async (bus) => (await open(bus, bucket)).delete(name));
      if (!deleted) throw new Error(`object ${JSON.stringify(name)} not found in ${JSON.stringify(bucket)}`);
      exitWith(ExitCode.OK);
    });

  for (const c of object.commands) withConnectionFlags(c);
}
