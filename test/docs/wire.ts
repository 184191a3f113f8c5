/**
 * ```wire blocks: a protocol session as bytes on one TCP connection.
 *
 *   C: PUB ticket.created 12\r\n{"id":"T-1"}\r\n     what the client sends
 *   S: MSG ticket.created 1 12\r\n{"id":"T-1"}\r\n   what the server answers, exactly
 *
 * `\r` and `\n` are the CR and LF bytes (`\\` a backslash). The test sends
 * each C: line as written and reads each S: line as the next bytes from the
 * server; a session may start with `S: INFO {…} \r\n`, compared as JSON (the
 * same fields; `…` in a string matches anything; `port` is the documented
 * 4222 and `client_id` any number). After the last line, PING must get PONG
 * and nothing else, so a session shows every byte the server sends; a
 * session after which the server closes the connection ends with its -ERR.
 */
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw.js';

/** Each wait for the server's bytes; only a wrong session waits this long. */
const WAIT_MS = 10_000;

export interface WireLine {
  from: 'C' | 'S';
  bytes: string;
  /** 1-based line in the Markdown file. */
  line: number;
}

function unescape(s: string, where: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => {
    if (c === 'r') return '\r';
    if (c === 'n') return '\n';
    if (c === 't') return '\t';
    if (c === '\\') return '\\';
    throw new Error(`${where}: unknown escape \\${c}`);
  });
}

export function parseSession(text: string, fence: number, file: string): WireLine[] {
  const out: WireLine[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    const where = `${file}:${fence + 1 + i}`;
    const m = /^([CS]): (.*)$/.exec(l);
    if (m === null) throw new Error(`${where}: a wire line starts with "C: " (client) or "S: " (server): ${l}`);
    out.push({ from: m[1] as 'C' | 'S', bytes: unescape(m[2]!, where), line: fence + 1 + i });
  });
  if (out.length === 0) throw new Error(`${file}:${fence}: an empty wire session`);
  return out;
}

/** `"N…"` matches any string starting with N. */
function matches(doc: unknown, real: unknown): boolean {
  if (typeof doc === 'string' && doc.includes('…') && typeof real === 'string') {
    const re = doc.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    return new RegExp(`^${re}$`, 's').test(real);
  }
  return JSON.stringify(doc) === JSON.stringify(real);
}

function compareInfo(docLine: string, real: Record<string, unknown>, realPort: number, where: string): void {
  const json = /^INFO (\{.*\}) \r\n$/.exec(docLine);
  if (json === null) throw new Error(`${where}: an INFO line is "INFO {json} \\r\\n"`);
  const doc = JSON.parse(json[1]!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc).sort(), Object.keys(real).sort(), `${where}: INFO fields`);
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'client_id') assert.equal(typeof real[k], 'number', `${where}: INFO client_id`);
    else if (k === 'port') assert.ok(v === 4222 && real[k] === realPort, `${where}: INFO port ${JSON.stringify(v)} (the test's server listens on ${realPort})`);
    else assert.ok(matches(v, real[k]), `${where}: INFO ${k} is ${JSON.stringify(real[k])}, the doc says ${JSON.stringify(v)}`);
  }
}

/**
 * Plays a session against the server at `port`. With `info: false` (another
 * implementation, e.g. nats-server) a documented INFO line is not compared.
 */
export async function playSession(lines: WireLine[], port: number, file: string, opts: { info: boolean }): Promise<void> {
  const c = await RawClient.connect({ host: '127.0.0.1', port }, WAIT_MS);
  try {
    let i = 0;
    let at = 0; // bytes of the session read so far, after INFO
    if (lines[0]?.from === 'S' && lines[0].bytes.startsWith('INFO ')) {
      if (opts.info) compareInfo(lines[0].bytes, c.info, port, `${file}:${lines[0].line}`);
      i = 1;
    }
    for (; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.from === 'C') {
        c.send(l.bytes);
        continue;
      }
      try {
        await c.expect(l.bytes, WAIT_MS);
      } catch (err) {
        throw new Error(`${file}:${l.line}: the server sent ${JSON.stringify(c.text().slice(at))} here, the doc says ${JSON.stringify(l.bytes)}\n${(err as Error).message}`);
      }
      at += Buffer.byteLength(l.bytes, 'latin1');
    }
    // Then PING: PONG must be all that comes, unless the server has closed the connection.
    c.send('PING\r\n');
    await c.readUntil((b) => c.isClosed || b.length >= at + 6, WAIT_MS).catch(() => undefined);
    const rest = c.text().slice(at);
    const last = lines.at(-1)!;
    if (c.isClosed && !(last.from === 'S' && last.bytes.startsWith('-ERR '))) {
      throw new Error(`${file}:${last.line}: the server closed the connection, and the session does not end with its -ERR`);
    }
    if (rest !== (c.isClosed ? '' : 'PONG\r\n')) {
      throw new Error(`${file}:${lines.at(-1)!.line}: after the session the server sent ${JSON.stringify(rest)}${c.isClosed ? ' and closed' : ''}; the doc shows no more`);
    }
  } finally {
    await c.close();
  }
}
