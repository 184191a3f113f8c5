/**
 * What the client commands (pub, sub, req, reply, stream, consumer, bench)
 * and the echo commands share: the --server option and the credential and
 * TLS flags, flag values, headers, subjects, how a message is printed, and
 * waiting for SIGINT/SIGTERM.
 *
 * Usage mistakes throw ConfigError (exit 2) before anything connects;
 * everything that goes wrong afterwards is a runtime error (exit 1).
 */
import { readFileSync } from 'node:fs';
import { TextDecoder } from 'node:util';
import { Option, type Command } from 'commander';
import type { Bus } from '../../client/bus.js';
import type { EventMeta } from '../../client/event-meta.js';
import { connect } from '../../client/node.js';
import { decodePayload } from '../../client/codec.js';
import type { ConnectOptions } from '../../client/options.js';
import { Defaults } from '../../protocol/constants.js';
import { isValidLiteralSubject, isValidSubject } from '../../protocol/subject.js';
import { ConfigError } from '../../errors.js';
import { InvalidValue } from '../values.js';
import { ExitCode } from '../errors.js';
import { forcedExitCode, onShutdownSignals, type ShutdownSignal } from '../signals.js';

export const SERVER_ENV = 'NETEMITTER_SERVER';
/** What the nats CLI and the NATS clients read; after ours. */
export const NATS_URL_ENV = 'NATS_URL';
export const DEFAULT_SERVER = `nats://${Defaults.host}:${Defaults.port}`;

/** -s, --server <url>, with NETEMITTER_SERVER, NATS_URL (see serverFromNatsUrl) and the default behind it. */
export function serverOption(): Option {
  return new Option('-s, --server <url>', `hub or NATS server(s), comma-separated: nats://host:port or unix:///path/to.sock; ${NATS_URL_ENV} is read after ${SERVER_ENV}`)
    .env(SERVER_ENV)
    .default(DEFAULT_SERVER);
}

/**
 * The credential and TLS flags, with the nats CLI's names. Each reads our
 * variable, then (natsEnvFallbacks) the nats CLI's: a password or token in a
 * variable stays out of `ps` and the shell history.
 */
const CONNECTION_FLAGS = [
  { flags: '--user <name>', help: 'user name (with --password)', env: 'NETEMITTER_USER', nats: 'NATS_USER' },
  { flags: '--password <password>', help: 'password (with --user)', env: 'NETEMITTER_PASSWORD', nats: 'NATS_PASSWORD' },
  { flags: '--token <token>', help: 'authentication token', env: 'NETEMITTER_TOKEN', nats: 'NATS_TOKEN' },
  { flags: '--nkey <seedfile>', help: 'file holding an NKey user seed (SU…), which signs the server\'s nonce', env: 'NETEMITTER_NKEY', nats: 'NATS_NKEY' },
  { flags: '--tlscert <file>', help: 'client certificate for mutual TLS (PEM, with --tlskey)', env: 'NETEMITTER_CERT', nats: 'NATS_CERT' },
  { flags: '--tlskey <file>', help: 'private key of --tlscert (PEM)', env: 'NETEMITTER_KEY', nats: 'NATS_KEY' },
  { flags: '--tlsca <file>', help: 'CA certificate(s) that verify the server (PEM); implies TLS', env: 'NETEMITTER_CA', nats: 'NATS_CA' },
] as const;

/**
 * Adds the credential and TLS flags to a command that connects (after its
 * --server). A server that requires TLS gets it without any flag, verified
 * against Node's trusted CAs.
 */
export function withConnectionFlags(cmd: Command): Command {
  for (const f of CONNECTION_FLAGS) cmd.addOption(new Option(f.flags, `${f.help}; ${f.nats} is read after ${f.env}`).env(f.env));
  cmd.option('--tlsfirst', 'TLS handshake before the server\'s INFO (a server configured for handshake-first)');
  return cmd;
}

/** The flags withConnectionFlags adds, as the action reads them. */
export interface ConnectionFlags {
  server: string;
  user?: string;
  password?: string;
  token?: string;
  nkey?: string;
  tlscert?: string;
  tlskey?: string;
  tlsca?: string;
  tlsfirst?: boolean;
}

/**
 * For a preAction hook: commander reads one variable per option, so NATS_URL
 * is applied here, when neither --server nor NETEMITTER_SERVER gave the
 * server. An empty variable counts as unset, as with `serve`'s variables.
 * The credential and TLS flags get the nats CLI's variables the same way.
 */
export function serverFromNatsUrl(cmd: Command, env: NodeJS.ProcessEnv = process.env): void {
  natsEnvFallbacks(cmd, env);
  if (!cmd.options.some((o) => o.attributeName() === 'server')) return;
  const source = cmd.getOptionValueSource('server');
  const unset = source === 'default' || (source === 'env' && cmd.getOptionValue('server') === '');
  if (!unset) return;
  const url = env[NATS_URL_ENV];
  if (url !== undefined && url !== '') cmd.setOptionValueWithSource('server', url, 'env');
  else cmd.setOptionValueWithSource('server', DEFAULT_SERVER, 'default');
}

/** NATS_USER, NATS_PASSWORD … for the flags that neither the command line nor our variable set. */
function natsEnvFallbacks(cmd: Command, env: NodeJS.ProcessEnv): void {
  for (const f of CONNECTION_FLAGS) {
    const name = f.flags.slice(2, f.flags.indexOf(' '));
    if (!cmd.options.some((o) => o.attributeName() === name)) continue;
    const value = cmd.getOptionValue(name) as string | undefined;
    if (value !== undefined && value !== '') continue;
    const fallback = env[f.nats];
    cmd.setOptionValueWithSource(name, fallback !== undefined && fallback !== '' ? fallback : undefined, fallback ? 'env' : 'default');
  }
}

/** A file a flag names, read now so that a missing one is a usage error naming the flag. */
function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`invalid value for ${flag}: cannot read ${JSON.stringify(path)}${code === undefined ? '' : ` (${code})`}`);
  }
}

/** The first NKey seed in a seed file (a bare seed, or one among other lines, as nsc writes them). */
function readSeed(path: string): string {
  const seed = /\bS[UAONCPX][A-Z2-7]{56}\b/.exec(readFlagFile('--nkey', path).toString('utf8'));
  // The file's content is a secret: never quoted in the message.
  if (seed === null) throw new ConfigError(`invalid value for --nkey: ${JSON.stringify(path)} holds no NKey seed`);
  return seed[0];
}

/** ConnectOptions from the connection flags; a flag combination that cannot work is a usage error. */
export function connectOptionsFrom(flags: ConnectionFlags): ConnectOptions {
  const o: ConnectOptions = { servers: flags.server };
  if (flags.password !== undefined && flags.user === undefined) throw new ConfigError('--password needs --user');
  if (flags.user !== undefined) {
    o.user = flags.user;
    o.pass = flags.password ?? '';
  }
  if (flags.token !== undefined) o.token = flags.token;
  if (flags.nkey !== undefined) o.nkey = readSeed(flags.nkey);
  if ((flags.tlscert === undefined) !== (flags.tlskey === undefined)) throw new ConfigError('--tlscert and --tlskey go together');
  if (flags.tlscert !== undefined || flags.tlsca !== undefined || flags.tlsfirst === true) {
    o.tls = {
      ...(flags.tlsca !== undefined ? { ca: readFlagFile('--tlsca', flags.tlsca) } : {}),
      ...(flags.tlscert !== undefined ? { cert: readFlagFile('--tlscert', flags.tlscert), key: readFlagFile('--tlskey', flags.tlskey!) } : {}),
      ...(flags.tlsfirst === true ? { handshakeFirst: true } : {}),
    };
  }
  return o;
}

/** -H, --header <key:value>, repeatable. */
export function headerOption(): Option {
  return new Option('-H, --header <key:value>', 'a header to send; repeat for more (a key may repeat too)').argParser(
    (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
  );
}

/** Parses a flag's value; an invalid one is a usage error naming the flag, as `serve` reports them. */
export function flagValue<T>(flag: string, raw: unknown, parse: (raw: unknown) => T): T {
  try {
    return parse(raw);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    throw new ConfigError(`invalid value for ${flag}: ${JSON.stringify(raw)} (${err.message})`);
  }
}

/** `key:value` flags as headers. The value is everything after the first colon, trimmed. */
export function parseHeaders(list: readonly string[] | undefined): Record<string, string[]> | undefined {
  if (list === undefined || list.length === 0) return undefined;
  const headers: Record<string, string[]> = {};
  for (const item of list) {
    const colon = item.indexOf(':');
    const key = colon === -1 ? '' : item.slice(0, colon).trim();
    // What encodeHeaders refuses, refused here as a usage error instead of a runtime one.
    if (key.length === 0 || /[\s:\u0000-\u001f\u007f]/.test(key) || /[\r\n]/.test(item)) {
      throw new ConfigError(`invalid value for --header: ${JSON.stringify(item)} (expected key:value, a key without spaces)`);
    }
    (headers[key] ??= []).push(item.slice(colon + 1).trim());
  }
  return headers;
}

/** A subject to publish to (no wildcards) or to listen on (wildcards allowed). */
export function checkSubject(subject: string, wildcards: boolean): string {
  const ok = wildcards ? isValidSubject(subject) : isValidLiteralSubject(subject);
  if (!ok) {
    const what = wildcards ? 'tokens separated by dots, no spaces, `>` only last' : 'tokens separated by dots, no spaces and no wildcards';
    throw new ConfigError(`invalid subject ${JSON.stringify(subject)} (expected ${what})`);
  }
  return subject;
}

export function checkQueue(queue: string | undefined): string | undefined {
  if (queue !== undefined && (queue.length === 0 || /\s/.test(queue))) {
    throw new ConfigError(`invalid value for --queue: ${JSON.stringify(queue)} (expected a name without spaces)`);
  }
  return queue;
}

/**
 * Connects our client with the command's connection flags, named after the
 * command so a server's connection list says who is who.
 */
export function connectBus(flags: ConnectionFlags, command: string, extra: ConnectOptions = {}): Promise<Bus> {
  return connect({ ...connectOptionsFrom(flags), name: `netemitter ${command}`, ...extra });
}

// ── printing messages ─────────────────────────────────────────────────────

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A payload for people: pretty JSON when it parses as JSON, the bytes as
 * they are otherwise (text, or binary written through unchanged).
 */
export function renderPayload(data: Buffer): Buffer | string {
  if (data.length === 0) return '';
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return data;
  }
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return data;
  }
}

/**
 * One received message, in the layout of `nats sub`:
 *
 *   [#1] Received on "orders.new" with reply "_INBOX.x.1"
 *   Key: value
 *
 *   {
 *     "id": 1
 *   }
 *   <blank line>
 */
export function writeMessage(out: NodeJS.WritableStream, n: number, meta: EventMeta): void {
  let head = `[#${n}] Received on ${JSON.stringify(meta.subject)}`;
  if (meta.reply !== undefined) head += ` with reply ${JSON.stringify(meta.reply)}`;
  head += '\n';
  if (meta.headers !== undefined) {
    for (const key of meta.headers.keys()) for (const v of meta.headers.values(key)) head += `${key}: ${v}\n`;
    head += '\n';
  }
  out.write(head);
  out.write(renderPayload(meta.data));
  out.write('\n\n');
}

// ── --json ────────────────────────────────────────────────────────────────

/** Headers for --json: key → value, or key → values when a key repeats (MsgHeaders.toJSON's shape). */
export type HeadersJson = Record<string, string | string[]>;

export function headersJson(h: Record<string, readonly string[]>): HeadersJson {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.length === 1 ? v[0]! : [...v]]));
}

/**
 * A message for --json, one shape for every command (stream view, sub, pub,
 * req): the fields given (subject, reply, seq …), headers when there are
 * any, then the payload as the client decodes it (JSON, else text; null
 * when empty), or `data_base64` for bytes that are not UTF-8.
 */
export function messageJson(fields: Record<string, unknown>, headers: HeadersJson | undefined, data: Buffer): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) o[k] = v;
  if (headers !== undefined && Object.keys(headers).length > 0) o.headers = headers;
  const payload = decodePayload(data);
  if (Buffer.isBuffer(payload)) o.data_base64 = data.toString('base64');
  else o.payload = payload ?? null;
  return o;
}

/** One JSON object on one line; waits while the pipe is full (until it drains, or breaks). */
export async function writeJsonLine(out: NodeJS.WritableStream, value: unknown): Promise<void> {
  if (out.write(`${JSON.stringify(value)}\n`)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      for (const e of ['drain', 'close', 'error']) out.off(e, done);
      resolve();
    };
    for (const e of ['drain', 'close', 'error']) out.on(e, done);
  });
}

/** A payload alone, for --raw: the bytes and a newline. */
export function writeRaw(out: NodeJS.WritableStream, data: Buffer): void {
  out.write(data);
  out.write('\n');
}

/**
 * `netemitter sub x | head -1`: once the reader is gone, stop quietly, as
 * Unix tools do, instead of dying on an unhandled EPIPE.
 */
export function exitOnBrokenPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(ExitCode.OK);
    throw err;
  });
}

/** A notice for people watching, on stderr so stdout stays data only. */
export function notice(text: string): void {
  process.stderr.write(`${text}\n`);
}

// ── waiting ───────────────────────────────────────────────────────────────

/**
 * Resolves on the first SIGINT/SIGTERM; a second one exits at once (130 or
 * 143), as `serve` does. Call `remove()` when the command ends otherwise.
 */
export function untilShutdown(): { signal: Promise<ShutdownSignal>; remove: () => void } {
  let requested!: (s: ShutdownSignal) => void;
  const signal = new Promise<ShutdownSignal>((resolve) => (requested = resolve));
  const remove = onShutdownSignals({
    graceful: requested,
    force(s) {
      process.exit(forcedExitCode(s));
    },
  });
  return { signal, remove };
}
