/**
 * `pub`'s templates (src/cli/template.ts): the nats CLI's functions and
 * spellings, the formats it prints, and a usage error for the rest.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { compileTemplate, type Render } from '../../src/cli/template.js';

function compile(text: string): Render {
  const t = compileTemplate(text, 'DATA');
  assert.ok(t !== undefined, `no template in ${text}`);
  return t;
}

const savedTz = process.env.TZ;
after(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('pub templates', () => {
  it('text without {{ is no template', () => {
    assert.equal(compileTemplate('{"a":{"b":1}}', 'DATA'), undefined);
    assert.equal(compileTemplate('', 'DATA'), undefined);
  });

  it('{{Count}} and {{Cnt}} are the message number; spaces and the field form {{.Count}} as in Go', () => {
    const t = compile('#{{Count}} {{ Cnt }} {{.Count}} {{ .Cnt }}!');
    assert.equal(t(1), '#1 1 1 1!');
    assert.equal(t(42), '#42 42 42 42!');
  });

  it('a comment is dropped', () => {
    assert.equal(compile('a{{/* why */}}b{{ /* spaced */ }}c')(1), 'abc');
  });

  it('the times: Unix seconds, UnixNano, RFC 3339 in the local zone, Kitchen; one instant per rendering', () => {
    process.env.TZ = 'UTC';
    const t = compile('{{Unix}} {{UnixNano}} {{TimeStamp}} {{Time}}');
    const before = Date.now();
    const [unix, nano, stamp, kitchen] = t(1).split(' ') as [string, string, string, string];
    const afterMs = Date.now();
    assert.match(unix, /^\d+$/);
    assert.match(nano, /^\d{19}$/);
    assert.equal(BigInt(unix), BigInt(nano) / 1_000_000_000n, 'Unix and UnixNano are the same instant');
    const ms = Number(BigInt(nano) / 1_000_000n);
    // nowNs() is a read of Date.now() plus the monotonic clock since (time.ts): that read's whole
    // millisecond puts it up to 1 ms behind Date.now() (a run failed on exactly that: 313 against 314),
    // and the read's bracket (a few µs) ahead of it, which can cross a millisecond.
    assert.ok(ms >= before - 1 && ms <= afterMs + 1, `${ms} not within ${before - 1}..${afterMs + 1}`);
    assert.equal(stamp, new Date(ms).toISOString().slice(0, 19) + 'Z');
    const d = new Date(ms);
    const h = d.getUTCHours();
    assert.equal(kitchen, `${h % 12 === 0 ? 12 : h % 12}:${String(d.getUTCMinutes()).padStart(2, '0')}${h < 12 ? 'AM' : 'PM'}`);
  });

  it('{{TimeStamp}} carries the zone offset where there is one, as Go prints time.RFC3339', () => {
    process.env.TZ = 'Asia/Kolkata'; // +05:30, no daylight saving
    assert.match(compile('{{TimeStamp}}')(1), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$/);
    process.env.TZ = 'America/Caracas'; // -04:00
    assert.match(compile('{{TimeStamp}}')(1), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-04:00$/);
  });

  it('{{ID}} is a new 22-character id each time', () => {
    const t = compile('{{ID}}');
    const ids = new Set(Array.from({ length: 50 }, () => t(1)));
    assert.equal(ids.size, 50);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9]{22}$/);
  });

  it('{{Random min max}}: letters and digits, at least min and fewer than max; exactly min when equal; either order', () => {
    const t = compile('{{Random 3 6}}');
    const lengths = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const s = t(1);
      assert.match(s, /^[A-Za-z0-9]*$/);
      lengths.add(s.length);
    }
    assert.deepEqual([...lengths].sort(), [3, 4, 5]);
    assert.equal(compile('{{Random 7 7}}')(1).length, 7);
    assert.equal(compile('{{ Random 0 0 }}')(1), '');
    for (let i = 0; i < 50; i++) assert.ok([2, 3].includes(compile('{{Random 4 2}}')(1).length));
  });

  it('anything else is a usage error naming where it is', () => {
    const cases: [string, RegExp][] = [
      ['{{Nope}}', /^invalid template in DATA: unknown \{\{Nope\}\}: expected one of Count, Cnt, TimeStamp, Unix, UnixNano, Time, ID, Random/],
      ['{{Count 3}}', /Count takes no arguments/],
      ['{{Random 10}}', /Random takes two whole numbers/],
      ['{{Random a b}}', /Random takes two whole numbers/],
      ['{{.Random 1 2}}', /unknown/],
      ['{{if .Count}}x{{end}}', /unknown \{\{if \.Count\}\}/],
      ['{{Count | printf "%d"}}', /Count takes no arguments/],
      ['open {{Count', /unclosed \{\{ at character 6/],
    ];
    for (const [text, re] of cases) {
      assert.throws(() => compileTemplate(text, 'DATA'), (e: unknown) => e instanceof ConfigError && re.test(e.message), text);
    }
    assert.throws(() => compileTemplate('{{x}}', 'header Trace'), /^ConfigError: invalid template in header Trace: .*\(--no-templates sends it as typed\)$/);
  });
});
