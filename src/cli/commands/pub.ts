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
import { ExitCode, exitWith } from '../errors.js';
import { compileTemplate, type Render } from '../template.js';
import { parseCount } from '../values.js';
import {
  checkSubject, connectBus, flagValue, headerOption, headersJson, messageJson, notice, parseHeaders, serverOption, writeJsonLine, withConnectionFlags, type ConnectionFlags,
} from './common.js';

const HELP_AFTER = `
DATA is sent as raw UTF-8 text, not JSON-quoted: subscribers (netemitter sub,
nats sub, any NATS client) receive exactly the bytes typed. Without DATA, each
line read from stdin is one event (an empty line is an empty event).

--count N publishes DATA N times; when reading stdin, it stops after N lines.

DATA, the subject and header values may use the nats CLI's templates, filled
in for each message (stdin lines are sent as read):
  {{Count}}          the message number, from 1 (also {{Cnt}})
  {{TimeStamp}}      the time, RFC 3339 to the second (2026-12-04T18:01:11Z)
  {{Unix}}           seconds since 1970      {{UnixNano}}  nanoseconds since 1970
  {{Time}}           the time of day (6:01PM)
  {{ID}}             a unique id
  {{Random 10 100}}  10 to 99 random letters and digits
--no-templates sends them as typed.

--json prints each message as it is published, one JSON object per line, as
sub --json prints it: subject, headers, payload. Exit 0 means the server
confirmed them all (a flush).

Examples:
  netemitter pub orders.new '{"id":1}' -H source:cli
  printf 'one\\ntwo\\n' | netemitter pub logs.app
  netemitter pub --server unix:///tmp/hub.sock ping hello --count 3
  netemitter pub 'orders.{{Count}}' '{"id":{{Count}},"at":"{{TimeStamp}}"}' --count 10`;

interface PubFlags extends ConnectionFlags {
  header?: string[];
  count?: string;
  templates: boolean;
  json?: boolean;
}

/** What one message is made of, each part rendered for message n (see template.ts). */
interface Message {
  subject: Render;
  headers: ((n: number) => Record<string, string[]>) | undefined;
  /** --json: print each message as it is published. */
  json?: boolean;
}

export function registerPub(program: Command): void {
  const command = program
    .command('pub')
    .description('publish an event: DATA, or one event per line of stdin')
    .argument('<subject>', 'subject to publish to, e.g. orders.new')
    .argument('[data]', 'payload, sent as raw UTF-8 text; read from stdin when absent')
    .addOption(serverOption())
    .addOption(headerOption())
    .option('--count <n>', 'publish DATA n times; with stdin, at most n lines')
    .option('--no-templates', 'send DATA, the subject and headers as typed, {{…}} included')
    .option('--json', 'print each message published as one JSON object per line')
    .addHelpText('after', HELP_AFTER)
    .action(async function pubAction(this: Command, subject: string, data: string | undefined): Promise<void> {
      const flags = this.opts<PubFlags>();
      const count = flags.count === undefined ? undefined : flagValue('--count', flags.count, (raw) => parseCount(raw, 1));
      const message: Message = { ...compileMessage(subject, parseHeaders(flags.header), flags.templates), json: flags.json === true };
      // `pub --json | head -1`: once the reader is gone, stop printing but publish everything.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err;
        message.json = false;
      });
      const body = data === undefined ? undefined : renderer(data, 'DATA', flags.templates);
      const bus = await connectBus(flags, 'pub');
      try {
        if (body !== undefined) await publishData(bus, message, body, count ?? 1);
        else await publishLines(bus, message, count);
        await bus.flush();
      } finally {
        await bus.close();
      }
      exitWith(ExitCode.OK);
    });
  withConnectionFlags(command);
}

/** A text's template, or undefined when it has none or templates are off. */
function template(text: string, where: string, templates: boolean): Render | undefined {
  return templates ? compileTemplate(text, where) : undefined;
}

function renderer(text: string, where: string, templates: boolean): Render {
  return template(text, where, templates) ?? (() => text);
}

/**
 * Parses the templates and checks the subject (a first rendering of it)
 * before anything connects, so a mistake is a usage error (exit 2). A
 * templated subject is checked again each time it is rendered.
 */
function compileMessage(subject: string, headers: Record<string, string[]> | undefined, templates: boolean): Message {
  const t = template(subject, 'the subject', templates);
  checkSubject(t === undefined ? subject : t(1), false);
  const subjectOf: Render = t === undefined ? () => subject : (n) => checkSubject(t(n), false);
  if (headers === undefined) return { subject: subjectOf, headers: undefined };
  const parts = Object.entries(headers).map(([key, values]) => [key, values.map((v) => renderer(v, `header ${key}`, templates))] as const);
  return {
    subject: subjectOf,
    headers: (n) => Object.fromEntries(parts.map(([key, values]) => [key, values.map((v) => v(n))])),
  };
}

/** emit() returns false above the buffer's high-water mark: wait for the server before emitting more. */
async function send(bus: Bus, m: Message, n: number, payload: Buffer): Promise<void> {
  const subject = m.subject(n);
  const headers = m.headers?.(n);
  if (!bus.emit(subject, payload, headers === undefined ? undefined : { headers })) await bus.flush();
  if (m.json === true) await writeJsonLine(process.stdout, messageJson({ subject }, headers === undefined ? undefined : headersJson(headers), payload));
}

async function publishData(bus: Bus, m: Message, body: Render, count: number): Promise<void> {
  for (let n = 1; n <= count; n++) await send(bus, m, n, Buffer.from(body(n), 'utf8'));
}

async function publishLines(bus: Bus, m: Message, count: number | undefined): Promise<void> {
  if (process.stdin.isTTY) notice('reading events from stdin, one per line; end with Ctrl-D');
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    await send(bus, m, ++n, Buffer.from(line, 'utf8'));
    if (n === count) break;
  }
}
