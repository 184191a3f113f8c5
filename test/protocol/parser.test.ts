/**
 * Parser tests: every operation whole and one byte at a time, any split of a
 * valid stream parses identically (property), random bytes never throw, and
 * bounds are enforced before allocation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ServerParser, ClientParser, type ServerParserHandler, type ClientParserHandler } from '../../src/protocol/parser.js';
import type { ProtocolError } from '../../src/errors.js';

type Event = (string | number | undefined | null)[];

/** Records what a ServerParser reports, payloads as strings. */
function serverRecorder(): { events: Event[]; handler: ServerParserHandler } {
  const events: Event[] = [];
  const handler: ServerParserHandler = {
    connect: (json) => events.push(['connect', json]),
    pub: (subject, reply, hdr, payload, withHeaders) =>
      events.push([withHeaders ? 'hpub' : 'pub', subject, reply, hdr, Buffer.from(payload).toString('latin1')]),
    sub: (subject, queue, sid) => events.push(['sub', subject, queue, sid]),
    unsub: (sid, max) => events.push(['unsub', sid, max]),
    ping: () => events.push(['ping']),
    pong: () => events.push(['pong']),
    error: (err: ProtocolError) => events.push(['error', err.text ?? null]),
  };
  return { events, handler };
}

function clientRecorder(): { events: Event[]; handler: ClientParserHandler } {
  const events: Event[] = [];
  const handler: ClientParserHandler = {
    info: (json) => events.push(['info', json]),
    msg: (subject, sid, reply, hdr, payload, withHeaders) =>
      events.push([withHeaders ? 'hmsg' : 'msg', subject, sid, reply, hdr, payload.toString('latin1')]),
    ok: () => events.push(['ok']),
    err: (text) => events.push(['err', text]),
    ping: () => events.push(['ping']),
    pong: () => events.push(['pong']),
    error: (err: ProtocolError) => events.push(['error', err.text ?? null]),
  };
  return { events, handler };
}

function parseServer(chunks: (string | Buffer)[], opts?: { maxControlLine?: number; maxPayload?: number }): Event[] {
  const r = serverRecorder();
  const p = new ServerParser(r.handler, opts);
  for (const c of chunks) p.parse(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return r.events;
}

/** Cuts bytes at the given ascending offsets. */
function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    chunks.push(bytes.subarray(prev, c));
    prev = c;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

function bytewise(s: string): Buffer[] {
  const b = Buffer.from(s, 'latin1');
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i++) out.push(b.subarray(i, i + 1));
  return out;
}

/** Each case: the input, and what the parser must report. */
const SERVER_CASES: [string, string, Event[]][] = [
  ['CONNECT', 'CONNECT {"verbose":false}\r\n', [['connect', '{"verbose":false}']]],
  ['PUB', 'PUB foo 5\r\nhello\r\n', [['pub', 'foo', undefined, 0, 'hello']]],
  ['PUB with reply', 'PUB foo _INBOX.1 2\r\nhi\r\n', [['pub', 'foo', '_INBOX.1', 0, 'hi']]],
  ['PUB empty payload', 'PUB foo 0\r\n\r\n', [['pub', 'foo', undefined, 0, '']]],
  ['PUB payload with CRLF inside', 'PUB foo 6\r\na\r\nb\r\n\r\n', [['pub', 'foo', undefined, 0, 'a\r\nb\r\n']]],
  [
    'HPUB',
    'HPUB demo.a 23 28\r\nNATS/1.0\r\nX-Test: 1\r\n\r\nhello\r\n',
    [['hpub', 'demo.a', undefined, 23, 'NATS/1.0\r\nX-Test: 1\r\n\r\nhello']],
  ],
  ['HPUB hdr_len 0', 'HPUB orders.new _INBOX.x 0 2\r\no2\r\n', [['hpub', 'orders.new', '_INBOX.x', 0, 'o2']]],
  ['SUB', 'SUB foo.* 1\r\n', [['sub', 'foo.*', undefined, '1']]],
  ['SUB with queue', 'SUB foo q1 22\r\n', [['sub', 'foo', 'q1', '22']]],
  ['UNSUB', 'UNSUB 1\r\n', [['unsub', '1', undefined]]],
  ['UNSUB max', 'UNSUB 1 5\r\n', [['unsub', '1', 5]]],
  ['UNSUB with a max that is not a number means now', 'UNSUB 1 x\r\nUNSUB 2 -1\r\n', [['unsub', '1', 0], ['unsub', '2', 0]]],
  ['INFO and +OK from a client are ignored', 'INFO {}\r\n+OK\r\nPING\r\n', [['ping']]],
  ['PING PONG', 'PING\r\nPONG\r\n', [['ping'], ['pong']]],
  ['lowercase and tabs', 'sub\tfoo  1\r\npub foo 2\r\nhi\r\nping\r\n', [['sub', 'foo', undefined, '1'], ['pub', 'foo', undefined, 0, 'hi'], ['ping']]],
  ['mixed case', 'Pub foo 1\r\nx\r\nHpUb foo 0 0\r\n\r\n', [['pub', 'foo', undefined, 0, 'x'], ['hpub', 'foo', undefined, 0, '']]],
  ['LF-only line ending', 'PING\nPUB a 1\nx\r\n', [['ping'], ['pub', 'a', undefined, 0, 'x']]],
  ['binary payload bytes', 'PUB b 4\r\n\x00\xff\r\n\r\n', [['pub', 'b', undefined, 0, '\x00\xff\r\n']]],
  [
    'repeated lines, then another size, subject and a reply',
    'PUB foo 2\r\nhi\r\nPUB foo 2\r\nyo\r\nPUB foo 3\r\nabc\r\nPUB fox 3\r\nxyz\r\nPUB fox r 3\r\nxyz\r\nPUB foo 2\r\nzz\r\n',
    [['pub', 'foo', undefined, 0, 'hi'], ['pub', 'foo', undefined, 0, 'yo'], ['pub', 'foo', undefined, 0, 'abc'], ['pub', 'fox', undefined, 0, 'xyz'], ['pub', 'fox', 'r', 0, 'xyz'], ['pub', 'foo', undefined, 0, 'zz']],
  ],
];

const ERROR_CASES: [string, string, string | null][] = [
  ['unknown op', 'FOO bar\r\n', 'Unknown Protocol Operation'],
  ['payload longer than declared', 'PUB foo 3\r\nabcdef\r\n', 'Unknown Protocol Operation'],
  ['payload longer than declared after the same line', 'PUB foo 2\r\nhi\r\nPUB foo 2\r\nhixxPING\r\n', 'Unknown Protocol Operation'],
  ['PUB without size', 'PUB foo\r\n', 'Unknown Protocol Operation'],
  ['PUB with too many args', 'PUB a b c 1\r\nx\r\n', 'Unknown Protocol Operation'],
  ['PUB negative size', 'PUB foo -1\r\n', 'Unknown Protocol Operation'],
  ['PUB non-numeric size', 'PUB foo 1x\r\n', 'Unknown Protocol Operation'],
  ['HPUB header larger than total', 'HPUB foo 10 5\r\n', 'Unknown Protocol Operation'],
  ['SUB without sid', 'SUB foo\r\n', 'Unknown Protocol Operation'],
  ['size of 10 digits', 'PUB foo 0000000001\r\nx\r\n', 'Unknown Protocol Operation'],
  ['client sends -ERR', "-ERR 'x'\r\n", 'Unknown Protocol Operation'],
  ['client sends INFO that is not JSON', 'INFO x\r\n', 'Unknown Protocol Operation'],
  ['empty line', '\r\n', 'Unknown Protocol Operation'],
  ['leading space', ' PING\r\n', 'Unknown Protocol Operation'],
  ['client sends MSG', 'MSG foo 1 2\r\nhi\r\n', 'Unknown Protocol Operation'],
];

describe('ServerParser', () => {
  for (const [name, input, expected] of SERVER_CASES) {
    it(`${name}: whole`, () => assert.deepEqual(parseServer([input]), expected));
    it(`${name}: one byte at a time`, () => assert.deepEqual(parseServer(bytewise(input)), expected));
  }

  for (const [name, input, text] of ERROR_CASES) {
    it(`${name} → -ERR '${text}'`, () => {
      assert.deepEqual(parseServer([input]).at(-1), ['error', text]);
      assert.deepEqual(parseServer(bytewise(input)).at(-1), ['error', text]);
    });
  }

  it('stops after an error and ignores later input', () => {
    const events = parseServer(['FOO\r\n', 'PING\r\n']);
    assert.deepEqual(events, [['error', 'Unknown Protocol Operation']]);
  });

  it('rejects a declared payload over maxPayload on the control line, before the payload', () => {
    const events = parseServer(['PUB foo 1048577\r\n'], { maxPayload: 1048576 });
    assert.deepEqual(events, [['error', 'Maximum Payload Violation']]);
    // HPUB counts headers and payload together.
    assert.deepEqual(parseServer(['HPUB foo 12 17\r\n'], { maxPayload: 16 }), [['error', 'Maximum Payload Violation']]);
    assert.deepEqual(parseServer(['PUB foo 16\r\n0123456789abcdef\r\n'], { maxPayload: 16 }), [
      ['pub', 'foo', undefined, 0, '0123456789abcdef'],
    ]);
  });

  it('does not allocate for a huge declared size', () => {
    // Refused on the line, nothing is allocated for it.
    assert.deepEqual(parseServer(['PUB foo 999999999\r\n']), [['error', 'Maximum Payload Violation']]);
    assert.deepEqual(parseServer(['PUB foo 1099511627776\r\n']), [['error', 'Unknown Protocol Operation']]);
  });

  it('enforces maxControlLine on the argument bytes, with and without the LF yet', () => {
    // As nats-server: the op and the whitespace after it do not count.
    const args = (n: number): string => 'a'.repeat(n - 2) + ' 0';
    const opts = { maxControlLine: 100 };
    assert.deepEqual(parseServer(['PUB    ' + args(100) + '\r\n\r\n'], opts), [['pub', 'a'.repeat(98), undefined, 0, '']]);
    assert.deepEqual(parseServer(bytewise('PUB ' + args(100) + '\r\n\r\n'), opts), [['pub', 'a'.repeat(98), undefined, 0, '']]);
    assert.deepEqual(parseServer(['PUB ' + args(101) + '\r\n\r\n'], opts), [['error', 'maximum control line exceeded']]);
    assert.deepEqual(parseServer(['PUB ' + 'x'.repeat(101)], opts), [['error', 'maximum control line exceeded']]);
    assert.deepEqual(parseServer(bytewise('PUB ' + 'x'.repeat(101)), opts), [['error', 'maximum control line exceeded']]);
    assert.deepEqual(parseServer(['PUB ' + 'x'.repeat(100)], opts), []);
    // A line of nothing but whitespace is bounded too.
    assert.deepEqual(parseServer(['PUB' + ' '.repeat(1000)], opts), [['error', 'maximum control line exceeded']]);
  });

  it('delivers payload views of the received chunk when the frame is whole (no copy)', () => {
    const chunk = Buffer.from('PUB foo 5\r\nhello\r\n');
    let seen: Uint8Array | null = null;
    const r = serverRecorder();
    const p = new ServerParser({ ...r.handler, pub: (_s, _r, _h, payload) => (seen = payload) });
    p.parse(chunk);
    assert.ok(seen !== null);
    assert.equal((seen as Uint8Array).buffer, chunk.buffer);
  });

  it('any split of a valid stream parses identically (property)', () => {
    const all = SERVER_CASES.map((c) => c[1]).join('');
    const expected = parseServer([all]);
    const bytes = Buffer.from(all, 'latin1');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }), (cuts) => {
        cuts.sort((a, b) => a - b);
        assert.deepEqual(parseServer(cutAt(bytes, cuts)), expected);
      }),
      { numRuns: 500 },
    );
  });

  it('generated PUB/HPUB/SUB streams round-trip through any split (property)', () => {
    const token = fc.stringMatching(/^[a-zA-Z0-9_$-]{1,8}$/);
    const subject = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
    const payload = fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u).toString('latin1'));
    // PUBs also from small pools, so that whole lines often repeat (the parser's repeated-line path).
    const often = <T>(a: fc.Arbitrary<T>, ...pool: T[]): fc.Arbitrary<T> => fc.oneof(a, fc.constantFrom(...pool));
    const op = fc.oneof(
      fc.record({ k: fc.constant('pub' as const), subject: often(subject, 'a', 'a.b'), reply: fc.option(subject, { nil: undefined }), payload: often(payload, 'ab', 'xy', '') }),
      fc.record({ k: fc.constant('sub' as const), subject, queue: fc.option(token, { nil: undefined }), sid: fc.nat().map(String) }),
      fc.record({ k: fc.constant('hpub' as const), subject, value: token, payload }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (ops, cutSeeds) => {
        let wire = '';
        const expected: Event[] = [];
        for (const o of ops) {
          if (o.k === 'pub') {
            wire += `PUB ${o.subject}${o.reply ? ' ' + o.reply : ''} ${o.payload.length}\r\n${o.payload}\r\n`;
            expected.push(['pub', o.subject, o.reply, 0, o.payload]);
          } else if (o.k === 'sub') {
            wire += `SUB ${o.subject}${o.queue ? ' ' + o.queue : ''} ${o.sid}\r\n`;
            expected.push(['sub', o.subject, o.queue, o.sid]);
          } else {
            const hdr = `NATS/1.0\r\nX-K: ${o.value}\r\n\r\n`;
            wire += `HPUB ${o.subject} ${hdr.length} ${hdr.length + o.payload.length}\r\n${hdr}${o.payload}\r\n`;
            expected.push(['hpub', o.subject, undefined, hdr.length, hdr + o.payload]);
          }
        }
        const bytes = Buffer.from(wire, 'latin1');
        const cuts = [...new Set(cutSeeds.map((s) => s % bytes.length))].sort((a, b) => a - b);
        assert.deepEqual(parseServer(cutAt(bytes, cuts)), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw out of the parser (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), (chunks) => {
        const r = serverRecorder();
        const p = new ServerParser(r.handler, { maxControlLine: 256, maxPayload: 1024 });
        for (const c of chunks) p.parse(Buffer.from(c));
        // At most one error is ever reported, and nothing follows it.
        const errs = r.events.filter((e) => e[0] === 'error');
        assert.ok(errs.length <= 1);
        if (errs.length === 1) assert.equal(r.events.at(-1)![0], 'error');
      }),
      { numRuns: 2000 },
    );
  });

  it('PUB frames, well and badly formed, parse the same whole (one-pass path) and byte by byte (general path) (property)', () => {
    // A whole frame in one chunk takes the single-pass PUB path when it has
    // the common shape; one byte at a time never does. Same events, same errors.
    // Mostly well formed, so that most frames reach the one-pass path; each part sometimes wrong.
    const often = (good: string, ...bad: string[]): fc.Arbitrary<string> =>
      fc.oneof({ arbitrary: fc.constant(good), weight: 6 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
    const frame = fc.record({
      op: often('PUB', 'pub', 'Pub', 'PUBX', 'HPUB 0'),
      sep: often(' ', '  ', '\t'),
      subject: fc.constantFrom('foo', 'foo', 'fo', 'foo.bar', 'a.b.c', 'x'.repeat(40), 'f\ro', '\x00'),
      reply: fc.option(fc.constantFrom('_INBOX.abc.1', 'r', ''), { nil: undefined }),
      payload: fc.constantFrom('', 'hi', 'hello world', 'a\r\nb', '\x00\xff'),
      size: often('ok', 'plus1', 'minus1', 'x', '-1', '0000000001', '99999999999', ''),
      eol: often('\r\n', '\n', ' \r\n', '\r'),
      end: often('\r\n', 'x\r\n', '\n', ''),
    });
    const other = fc.constantFrom('PING\r\n', 'SUB foo 1\r\n', 'UNSUB 1\r\n', '');
    const sizeText = (f: { size: string; payload: string }): string =>
      f.size === 'ok' ? String(f.payload.length) : f.size === 'plus1' ? String(f.payload.length + 1) : f.size === 'minus1' ? String(f.payload.length - 1) : f.size;
    fc.assert(
      fc.property(fc.array(fc.tuple(frame, other), { minLength: 1, maxLength: 6 }), fc.constantFrom(32, 64, 4096), fc.constantFrom(8, 1024), (frames, maxControlLine, maxPayload) => {
        let text = '';
        for (const [f, o] of frames) {
          const reply = f.reply === undefined ? '' : f.sep + f.reply;
          text += `${f.op}${f.sep}${f.subject}${reply}${f.sep}${sizeText(f)}${f.eol}${f.payload}${f.end}${o}`;
        }
        const opts = { maxControlLine, maxPayload };
        assert.deepEqual(parseServer([text], opts), parseServer(bytewise(text), opts));
      }),
      { numRuns: 3000 },
    );
  });

  it('random protocol-shaped text never throws (property)', () => {
    const piece = fc.constantFrom('PUB', 'HPUB', 'SUB', 'UNSUB', 'PING', 'PONG', 'CONNECT', ' ', '\t', '\r\n', '\n', '\r', 'foo', '1', '0', '12', '-1', '{}', 'x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.nat({ max: 50 }), (pieces, cut) => {
        const s = Buffer.from(pieces.join(''), 'latin1');
        const r = serverRecorder();
        const p = new ServerParser(r.handler, { maxControlLine: 128, maxPayload: 64 });
        const at = Math.min(cut, s.length);
        p.parse(s.subarray(0, at));
        p.parse(s.subarray(at));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('ClientParser', () => {
  const INFO = 'INFO {"server_id":"N1","version":"2.10.0","headers":true,"max_payload":1048576} \r\n';
  const CASES: [string, string, Event[]][] = [
    ['INFO', INFO, [['info', '{"server_id":"N1","version":"2.10.0","headers":true,"max_payload":1048576}']]],
    ['MSG', 'MSG foo 1 5\r\nhello\r\n', [['msg', 'foo', '1', undefined, 0, 'hello']]],
    ['MSG with reply and double space', 'MSG _INBOX.a 2  bar 2\r\nhi\r\n', [['msg', '_INBOX.a', '2', 'bar', 0, 'hi']]],
    ['HMSG', 'HMSG demo.a 1 23 28\r\nNATS/1.0\r\nX-Test: 1\r\n\r\nhello\r\n', [['hmsg', 'demo.a', '1', undefined, 23, 'NATS/1.0\r\nX-Test: 1\r\n\r\nhello']]],
    [
      'HMSG no responders',
      'HMSG _INBOX.x.1 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n',
      [['hmsg', '_INBOX.x.1', '1', undefined, 16, 'NATS/1.0 503\r\n\r\n']],
    ],
    ['+OK -ERR PING PONG', "+OK\r\n-ERR 'Invalid Subject'\r\nPING\r\nPONG\r\n", [['ok'], ['err', 'Invalid Subject'], ['ping'], ['pong']]],
  ];
  for (const [name, input, expected] of CASES) {
    it(`${name}: whole and byte by byte`, () => {
      for (const chunks of [[Buffer.from(input, 'latin1')], bytewise(input)]) {
        const r = clientRecorder();
        const p = new ClientParser(r.handler);
        for (const c of chunks) p.parse(c);
        assert.deepEqual(r.events, expected);
      }
    });
  }

  it('generated MSG streams parse the same whole and byte by byte in the client (property)', () => {
    const token = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,6}$/);
    // Small pools beside the random values, so that whole lines often repeat (the parser's repeated-line path).
    const op = fc.record({
      subject: fc.oneof(token, fc.constantFrom('a', 'a.b')),
      sid: fc.oneof(fc.nat({ max: 99 }).map(String), fc.constantFrom('1', '2')),
      reply: fc.option(token, { nil: undefined }),
      payload: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('ab', 'xy', '')),
      sep: fc.constantFrom(' ', ' ', '  ', '\t'),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 4 }), (ops, cutSeeds) => {
        const text = ops.map((o) => `MSG ${o.subject}${o.sep}${o.sid}${o.reply ? ' ' + o.reply : ''} ${o.payload.length}\r\n${o.payload}\r\n`).join('');
        const parse = (chunks: Buffer[]): Event[] => {
          const r = clientRecorder();
          const p = new ClientParser(r.handler);
          for (const c of chunks) p.parse(c);
          return r.events;
        };
        const bytes = Buffer.from(text, 'latin1');
        const whole = parse([bytes]);
        assert.deepEqual(whole, parse(bytewise(text)));
        // A few chunks, each with whole frames and pieces: what one chunk's frames leave must not leak into the next.
        const cuts = bytes.length < 2 ? [] : [...new Set(cutSeeds.map((c) => 1 + (c % (bytes.length - 1))))].sort((a, b) => a - b);
        assert.deepEqual(parse(cutAt(bytes, cuts)), whole);
        assert.equal(whole.length, ops.length);
      }),
      { numRuns: 500 },
    );
  });

  it('hands a whole MSG payload over as a Buffer view of the chunk (no copy)', () => {
    const chunk = Buffer.from('xxMSG foo 1 5\r\nhello\r\nMSG foo 1 5\r\nworld\r\n').subarray(2);
    const seen: Buffer[] = [];
    const r = clientRecorder();
    new ClientParser({ ...r.handler, msg: (_s, _sid, _r, _h, payload) => seen.push(payload) }).parse(chunk);
    assert.equal(seen.length, 2);
    for (const [i, text] of ['hello', 'world'].entries()) {
      const p = seen[i]!;
      assert.ok(Buffer.isBuffer(p));
      assert.equal(Object.getPrototypeOf(p), Buffer.prototype);
      assert.equal(p.buffer, chunk.buffer);
      assert.equal(p.toString(), text);
      assert.equal(p.subarray(1, 3).toString(), text.slice(1, 3));
    }
  });

  it('rejects a client-side op from a server', () => {
    const r = clientRecorder();
    new ClientParser(r.handler).parse(Buffer.from('PUB foo 1\r\nx\r\n'));
    assert.deepEqual(r.events, [['error', 'Unknown Protocol Operation']]);
  });
});

describe('ServerParser pause and resume', () => {
  const stream = 'CONNECT {"verbose":false}\r\nSUB a 1\r\nPUB a 5\r\nhello\r\nHPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\nCONNECT {}\r\nPONG\r\n';

  /** Parses `chunks`; the handler pauses at each CONNECT, and resume() runs after `resumeAfter` more chunks. */
  function run(chunks: Buffer[], resumeAfter: number): Event[] {
    const r = serverRecorder();
    let parser: ServerParser | null = null;
    let pending = 0;
    const handler: ServerParserHandler = {
      ...r.handler,
      connect: (json) => {
        r.handler.connect(json);
        parser!.pause();
        pending = resumeAfter + 1;
      },
    };
    parser = new ServerParser(handler);
    const tick = (): void => {
      if (pending > 0 && --pending === 0) parser!.resume();
    };
    for (const c of chunks) {
      parser.parse(c);
      tick();
    }
    // Whatever is still held is parsed by the last resumes.
    while (parser.paused) parser.resume();
    return r.events;
  }

  it('dispatches nothing after the pausing operation until resume, then everything in order', () => {
    const r = serverRecorder();
    const parser = new ServerParser({
      ...r.handler,
      connect: (json) => {
        r.handler.connect(json);
        parser.pause();
      },
    });
    parser.parse(Buffer.from('CONNECT {}\r\nSUB a 1\r\nPING\r\n'));
    assert.deepEqual(r.events, [['connect', '{}']]);
    parser.parse(Buffer.from('PUB a 2\r\nok\r\n'));
    assert.deepEqual(r.events, [['connect', '{}']]);
    assert.equal(parser.paused, true);
    parser.resume();
    assert.equal(parser.paused, false);
    assert.deepEqual(r.events, [['connect', '{}'], ['sub', 'a', undefined, '1'], ['ping'], ['pub', 'a', undefined, 0, 'ok']]);
  });

  it('any split of the stream and any resume point give the events of an unpaused parse', () => {
    const whole = serverRecorder();
    new ServerParser(whole.handler).parse(Buffer.from(stream, 'latin1'));
    const bytes = Buffer.from(stream, 'latin1');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), fc.nat(4), (cuts, resumeAfter) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = points.slice(1).map((end, k) => bytes.subarray(points[k], end));
        assert.deepEqual(run(chunks, resumeAfter), whole.events);
      }),
    );
  });

  it('close() while paused drops what was held', () => {
    const r = serverRecorder();
    const parser = new ServerParser({
      ...r.handler,
      connect: (json) => {
        r.handler.connect(json);
        parser.pause();
      },
    });
    parser.parse(Buffer.from('CONNECT {}\r\nPING\r\n'));
    parser.close();
    parser.resume();
    assert.deepEqual(r.events, [['connect', '{}']]);
  });
});
