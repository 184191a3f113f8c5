/**
 * `netemitter pub SUBJECT [DATA]`: publishes events with our client.
 *
 * DATA goes as raw UTF-8 text, exactly as typed, not JSON-quoted: `nats sub`
 * and every other client see the same bytes (`hello` arrives as `hello`, and
 * `{"id":1}` as that JSON text). Without DATA, each line of stdin is one
 * event, so `tail -f app.log | netemitter pub logs.app` works.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import type { Bus } from '../../client/bus.js';
import type { HeadersInit } from '../../protocol/headers.js';
import { ExitCode, exitWith } from '../errors.js';
import { parseCount } from '../values.js';
import { checkSubject, connectBus, flagValue, headerOption, notice, parseHeaders, serverOption } from './common.js';

const HELP_AFTER = `
DATA is sent as raw UTF-8 text, not JSON-quoted: subscribers (netemitter sub,
nats sub, any NATS client) receive exactly the bytes typed. Without DATA, each
line read from stdin is one event (an empty line is an empty event).

--count N publishes DATA N times; when reading stdin, it stops after N lines.

Examples:
  netemitter pub orders.new '{"id":1}' -H source:cli
  printf 'one\\ntwo\\n' | netemitter pub logs.app
  netemitter pub --server unix:///tmp/hub.sock ping hello --count 3`;

interface PubFlags {
  server: string;
  header?: string[];
  count?: string;
}

export function registerPub(program: Command): void {
  program
    .command('pub')
    .description('publish an event: DATA, or one event per line of stdin')
    .argument('<subject>', 'subject to publish to, e.g. orders.new')
    .argument('[data]', 'payload, sent as raw UTF-8 text; read from stdin when absent')
    .addOption(serverOption())
    .addOption(headerOption())
    .option('--count <n>', 'publish DATA n times; with stdin, at most n lines')
    .addHelpText('after', HELP_AFTER)
    .action(async function pubAction(this: Command, subject: string, data: string | undefined): Promise<void> {
      const flags = this.opts<PubFlags>();
      checkSubject(subject, false);
      const headers = parseHeaders(flags.header);
      const count = flags.count === undefined ? undefined : flagValue('--count', flags.count, (raw) => parseCount(raw, 1));
      const bus = await connectBus(flags.server, 'pub');
      try {
        if (data !== undefined) await publishData(bus, subject, Buffer.from(data, 'utf8'), headers, count ?? 1);
        else await publishLines(bus, subject, headers, count);
        await bus.flush();
      } finally {
        await bus.close();
      }
      exitWith(ExitCode.OK);
    });
}

/** emit() returns false above the buffer's high-water mark: wait for the server before emitting more. */
async function send(bus: Bus, subject: string, payload: Buffer, headers: HeadersInit | undefined): Promise<void> {
  if (!bus.emit(subject, payload, headers === undefined ? undefined : { headers })) await bus.flush();
}

async function publishData(bus: Bus, subject: string, payload: Buffer, headers: HeadersInit | undefined, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await send(bus, subject, payload, headers);
}

async function publishLines(bus: Bus, subject: string, headers: HeadersInit | undefined, count: number | undefined): Promise<void> {
  if (process.stdin.isTTY) notice('reading events from stdin, one per line; end with Ctrl-D');
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let sent = 0;
  for await (const line of lines) {
    await send(bus, subject, Buffer.from(line, 'utf8'), headers);
    if (++sent === count) break;
  }
}
