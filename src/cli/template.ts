/**
 * The message templates of the nats CLI's `pub`, for ours: DATA, the subject
 * and header values may hold `{{…}}` actions that are filled in for each
 * message, so `--count 10 'order {{Count}} at {{TimeStamp}}'` sends ten
 * different messages. The nats CLI runs them through Go's text/template with
 * a few functions; this understands the same functions and spellings, not
 * the rest of Go's template language (pipes, conditions, variables), which
 * is refused with a usage error rather than sent half-filled:
 *
 *   {{Count}}, {{Cnt}}      the message number, from 1
 *   {{TimeStamp}}           the time, RFC 3339 to the second in the local zone (2026-12-04T18:01:11+01:00)
 *   {{Unix}}                seconds since 1970
 *   {{UnixNano}}            nanoseconds since 1970
 *   {{Time}}                the time of day, Go's Kitchen layout (6:01PM)
 *   {{ID}}                  a unique id, 22 letters and digits, like a NATS nuid
 *   {{Random 10 100}}       random letters and digits, at least 10 and fewer than 100 of them
 *
 * As in Go, each may be written `{{ Count }}` or as a field, `{{.Count}}`,
 * and `{{/* a comment *\/}}` is dropped. All the times of one message are the
 * same instant.
 */
import { ConfigError } from '../errors.js';
import { randomToken } from '../client/token.js';
import { nowNs } from '../server/jetstream/time.js';

/** Renders the text for message `n` (1-based). */
export type Render = (n: number) => string;

interface Moment {
  readonly n: number;
  readonly ns: bigint;
}

type Part = string | ((m: Moment) => string);

const pad = (v: number, width = 2): string => String(v).padStart(width, '0');

/** Go's time.RFC3339 of a local time: seconds, and Z or the zone's offset. */
function rfc3339Local(d: Date): string {
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}

/** Go's time.Kitchen: 3:04PM. */
function kitchen(d: Date): string {
  const h = d.getHours();
  return `${h % 12 === 0 ? 12 : h % 12}:${pad(d.getMinutes())}${h < 12 ? 'AM' : 'PM'}`;
}

const date = (m: Moment): Date => new Date(Number(m.ns / 1_000_000n));

/** The functions without arguments, by name; each is also a field (`.Count`). */
const VALUES: Record<string, (m: Moment) => string> = {
  Count: (m) => String(m.n),
  Cnt: (m) => String(m.n),
  TimeStamp: (m) => rfc3339Local(date(m)),
  Unix: (m) => String(m.ns / 1_000_000_000n),
  UnixNano: (m) => String(m.ns),
  Time: (m) => kitchen(date(m)),
  ID: () => randomToken(22),
};

export const TEMPLATE_FUNCTIONS = [...Object.keys(VALUES), 'Random'] as const;

/** `{{Random min max}}`: a length from min up to, not including, max (exactly min when they are equal). */
function random(args: string[], fail: (why: string) => never): Part {
  const n = args.map((a) => (/^\d+$/.test(a) ? Number(a) : NaN));
  if (n.length !== 2 || n.some((v) => !Number.isSafeInteger(v))) fail('Random takes two whole numbers, e.g. {{Random 10 100}}');
  const [lo, hi] = n[0]! <= n[1]! ? [n[0]!, n[1]!] : [n[1]!, n[0]!];
  return () => randomToken(lo + Math.floor(Math.random() * (hi - lo)));
}

function action(body: string, fail: (why: string) => never): Part {
  const text = body.trim();
  if (text.startsWith('/*') && text.endsWith('*/')) return '';
  const [head = '', ...args] = text.split(/\s+/);
  const field = head.startsWith('.');
  const name = field ? head.slice(1) : head;
  if (name === 'Random' && !field) return random(args, fail);
  const value = VALUES[name];
  if (value === undefined) fail(`unknown {{${text}}}: expected one of ${TEMPLATE_FUNCTIONS.join(', ')}`);
  if (args.length > 0) fail(`${name} takes no arguments, in {{${text}}}`);
  return value;
}

/**
 * Parses `text`; undefined when it holds no `{{`, so plain text costs
 * nothing. `where` names it in errors (`DATA`, `the subject`, `header X`).
 */
export function compileTemplate(text: string, where: string): Render | undefined {
  if (!text.includes('{{')) return undefined;
  const fail = (why: string): never => {
    throw new ConfigError(`invalid template in ${where}: ${why} (--no-templates sends it as typed)`);
  };
  const parts: Part[] = [];
  let at = 0;
  for (;;) {
    const open = text.indexOf('{{', at);
    if (open === -1) break;
    const close = text.indexOf('}}', open + 2);
    if (close === -1) fail(`unclosed {{ at character ${open + 1}`);
    if (open > at) parts.push(text.slice(at, open));
    parts.push(action(text.slice(open + 2, close), fail));
    at = close + 2;
  }
  if (at < text.length) parts.push(text.slice(at));
  return (n) => {
    const m: Moment = { n, ns: nowNs() };
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(m);
    return out;
  };
}
