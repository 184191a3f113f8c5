/**
 * What travels: JSON by default, Buffer/Uint8Array as raw bytes, strings as
 * JSON (see the rules at the top of src/client/codec.ts); headers; and the
 * metadata a listener gets. Over the wire against NETEMITTER_TARGET, plus
 * property tests of the codec alone.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connect, ErrorCode, InvalidPayloadError, MsgHeaders, type Bus } from '../../src/index.js';
import { encodePayload, decodePayload } from '../../src/client/codec.js';
import { startServer, type ServerHandle } from './helpers/server.js';
import { barrier, inbox, rejection } from './helpers/wait.js';

describe('payloads, headers and metadata over the wire', () => {
  let server: ServerHandle;
  let pub: Bus;
  let sub: Bus;

  before(async () => {
    server = await startServer();
    pub = await connect({ servers: server.url, name: 'payload-pub' });
    sub = await connect({ servers: server.url, name: 'payload-sub' });
  });

  after(async () => {
    await Promise.all([pub.close(), sub.close()]);
    await server.stop();
  });

  it('round-trips JSON values, and strings as strings whatever they contain', async () => {
    const values: unknown[] = [
      { a: 1, nested: { list: [1, 'two', null, true] } },
      [1, 2, 3],
      42,
      -1.5,
      0,
      true,
      false,
      null,
      'plain text',
      '',
      '123',
      'true',
      'null',
      '{"looks":"like json"}',
      ' spaced ',
      'ünïcødé ✓ \u0000 \r\n',
    ];
    const box = inbox(sub, 'pl.json');
    await sub.flush();
    for (const v of values) pub.emit('pl.json', v);
    await barrier(pub, sub);
    await box.atLeast(values.length);
    assert.deepEqual(box.payloads, values);
  });

  it('sends undefined as an empty payload, received as undefined', async () => {
    const box = inbox(sub, 'pl.empty');
    await sub.flush();
    pub.emit('pl.empty');
    pub.emit('pl.empty', undefined);
    await barrier(pub, sub);
    assert.deepEqual(box.payloads, [undefined, undefined]);
    assert.equal(box.items[0]!.meta.data.length, 0);
  });

  it('sends Buffer and Uint8Array as raw bytes; meta.data and { raw: true } give the bytes', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x0d, 0x0a, 0x80]); // not UTF-8
    const view = new Uint8Array([9, 0xc3, 0x28, 7, 8, 9, 10]).subarray(1, 4); // a view at an offset, not UTF-8
    const text = Buffer.from('{"a":1}');
    const box = inbox(sub, 'pl.bin');
    const raw = inbox(sub, 'pl.bin', { raw: true });
    await sub.flush();
    pub.emit('pl.bin', bytes);
    pub.emit('pl.bin', view);
    pub.emit('pl.bin', text);
    await barrier(pub, sub);
    await box.atLeast(3);
    assert.deepEqual(box.items.map((r) => Buffer.from(r.meta.data)), [bytes, Buffer.from(view), text]);
    assert.deepEqual(raw.payloads, [bytes, Buffer.from(view), text]);
    // Bytes that are not UTF-8 stay a Buffer; bytes that are JSON text decode as JSON.
    assert.deepEqual(box.payloads[0], bytes);
    assert.deepEqual(box.payloads[1], Buffer.from(view));
    assert.deepEqual(box.payloads[2], { a: 1 });
  });

  it('keeps subjects and sizes apart in a mixed stream (repeated lines are encoded once on each side)', async () => {
    // Runs of the same subject and size, then changes of either, of both, a reply in between and a UTF-8 subject.
    const sent: [string, string][] = [
      ['pl.mix.a', 'xxx'], ['pl.mix.a', 'yyy'], ['pl.mix.a', 'zzz'],
      ['pl.mix.b', 'bbb'], ['pl.mix.b', 'ccc'],
      ['pl.mix.a', 'long1'], ['pl.mix.a', 'long2'],
      ['pl.mix.a', 'qqq'],
      ['pl.mix.é', 'uuu'], ['pl.mix.é', 'vvv'],
      ['pl.mix.a', 'rrr'], ['pl.mix.a', 'sss'],
    ];
    const box = inbox(sub, 'pl.mix.*', { raw: true });
    await sub.flush();
    for (const [i, [subject, text]] of sent.entries()) {
      pub.emit(subject, Buffer.from(text), i === 6 ? { reply: 'pl.mix.reply' } : undefined);
    }
    await barrier(pub, sub);
    await box.atLeast(sent.length);
    assert.deepEqual(
      box.items.map((r) => [r.meta.subject, Buffer.from(r.meta.data).toString()]),
      sent,
    );
    assert.equal(box.items[6]!.meta.reply, 'pl.mix.reply');
    assert.equal(box.items[7]!.meta.reply, undefined);
  });

  it('carries headers, repeated values included, and gives the listener subject, reply and headers', async () => {
    const box = inbox(sub, 'pl.headers');
    await sub.flush();
    pub.emit('pl.headers', { n: 1 }, { headers: { 'X-Trace': 'abc-123', Multi: ['one', 'two'], Count: 5 }, reply: 'pl.reply.here' });
    pub.emit('pl.headers', { n: 2 });
    await barrier(pub, sub);
    await box.atLeast(2);
    const [first, second] = box.items;
    assert.deepEqual(first!.payload, { n: 1 });
    assert.equal(first!.meta.subject, 'pl.headers');
    assert.equal(first!.meta.reply, 'pl.reply.here');
    const h = first!.meta.headers!;
    assert.ok(h instanceof MsgHeaders);
    assert.equal(h.get('x-trace'), 'abc-123', 'lookup is case-insensitive');
    assert.deepEqual(h.values('Multi'), ['one', 'two']);
    assert.equal(h.get('Count'), '5');
    assert.deepEqual(h.toJSON(), { 'X-Trace': 'abc-123', Multi: ['one', 'two'], Count: '5' });
    assert.equal(second!.meta.headers, undefined);
    assert.equal(second!.meta.reply, undefined);
  });

  it('refuses header keys and values that cannot travel', () => {
    assert.throws(() => pub.emit('pl.headers', 1, { headers: { 'Bad Key': 'v' } }), TypeError);
    assert.throws(() => pub.emit('pl.headers', 1, { headers: { Key: 'line\r\nbreak' } }), TypeError);
  });

  it('refuses an event larger than the server\'s max_payload with PayloadTooLargeError', async () => {
    const max = sub.info!.max_payload;
    assert.throws(() => pub.emit('pl.big', Buffer.alloc(max + 1)), (e: { code?: string }) => e.code === ErrorCode.PAYLOAD_TOO_LARGE);
    const box = inbox(sub, 'pl.big', { raw: true });
    await sub.flush();
    pub.emit('pl.big', Buffer.alloc(max - 100, 7));
    await barrier(pub, sub);
    await box.atLeast(1);
    assert.equal((box.payloads[0] as Buffer).length, max - 100);
    assert.equal(pub.isConnected, true);
  });

  it('refuses a payload with no JSON form: emit throws, request and publish reject, with InvalidPayloadError naming the subject', async () => {
    const circular: Record<string, unknown> = { id: 1, child: { name: 'c' } };
    (circular.child as Record<string, unknown>).parent = circular;
    const cases: [unknown, string][] = [
      [10n, 'the payload is a BigInt, which JSON cannot carry: convert it, e.g. String(n), or Number(n) if it is a safe integer'],
      [{ order: { total: 10n } }, 'payload.order.total is a BigInt, which JSON cannot carry: convert it, e.g. String(n), or Number(n) if it is a safe integer'],
      [circular, 'payload.child.parent refers back to the payload: a circular structure, which JSON cannot carry'],
      [() => {}, 'the payload is a function, which JSON cannot carry'],
      [Symbol('s'), 'the payload is a symbol, which JSON cannot carry'],
    ];
    const box = inbox(sub, 'pl.bad');
    await sub.flush();
    for (const [value, why] of cases) {
      const expected = { name: 'InvalidPayloadError', code: ErrorCode.INVALID_PAYLOAD, subject: 'pl.bad', message: `invalid payload for "pl.bad": ${why}` };
      assert.throws(() => pub.emit('pl.bad', value as never), expected);
      await assert.rejects(pub.request('pl.bad', value as never), expected);
      await assert.rejects(pub.publish('pl.bad', value as never), expected);
    }
    const err = await rejection(pub.request('pl.bad', 10n as never));
    assert.ok(err instanceof InvalidPayloadError);
    assert.ok(err.cause instanceof TypeError, 'the cause is what JSON.stringify threw');
    // Nothing was sent for any of them.
    pub.emit('pl.bad', 'marker');
    await barrier(pub, sub);
    await box.atLeast(1);
    assert.deepEqual(box.payloads, ['marker']);
  });

  it('refuses a Map, a Set, an Error or another object JSON would send as {}, wherever it is in the payload', async () => {
    class Secret {
      #key = 'k';
      get key(): string {
        return this.#key;
      }
    }
    const cases: [unknown, string][] = [
      [new Map([['a', 1]]), 'the payload is a Map, which JSON sends as {}: convert it, e.g. Object.fromEntries(map) (or [...map] when its keys are not strings)'],
      [new Map(), 'the payload is a Map, which JSON sends as {}'],
      [{ users: new Map([[1, 'ann']]) }, 'payload.users is a Map, which JSON sends as {}'],
      [new Set([1, 2]), 'the payload is a Set, which JSON sends as {}: convert it, e.g. [...set]'],
      [{ list: [1, { tags: new Set(['x']) }] }, 'payload.list[1].tags is a Set, which JSON sends as {}'],
      [{ 'odd key': { error: new RangeError('boom') } }, 'payload["odd key"].error is a RangeError, which JSON sends as {}: send what you need of it, e.g. { message: err.message }'],
      [{ secret: new Secret() }, 'payload.secret is a Secret with no enumerable properties, which JSON sends as {}: send a plain object, or give it a toJSON() method'],
      [{ pending: Promise.resolve(1) }, 'payload.pending is a Promise with no enumerable properties'],
      [{ re: /x/ }, 'payload.re is a RegExp with no enumerable properties'],
    ];
    const box = inbox(sub, 'pl.empty.obj');
    await sub.flush();
    for (const [value, why] of cases) {
      const check = (e: unknown): boolean => {
        assert.ok(e instanceof InvalidPayloadError, String(e));
        assert.equal(e.code, ErrorCode.INVALID_PAYLOAD);
        assert.equal(e.subject, 'pl.empty.obj');
        assert.ok(e.message.startsWith(`invalid payload for "pl.empty.obj": ${why}`), e.message);
        return true;
      };
      assert.throws(() => pub.emit('pl.empty.obj', value as never), check);
      await assert.rejects(pub.request('pl.empty.obj', value as never), check);
    }
    // What JSON carries as the user meant it still goes: empty objects, "{}" in a string, a Date, toJSON.
    const fine: unknown[] = [{}, { meta: {} }, [{}, []], 'a {} in text', { at: new Date(0) }, Object.create(null) as object, { secret: Object.assign(new Secret(), { toJSON: () => 'hidden' }) }];
    for (const v of fine) pub.emit('pl.empty.obj', v);
    await barrier(pub, sub);
    await box.atLeast(fine.length);
    assert.deepEqual(box.payloads, [{}, { meta: {} }, [{}, []], 'a {} in text', { at: '1970-01-01T00:00:00.000Z' }, {}, { secret: 'hidden' }]);
  });

  it('sends typed arrays, DataViews and ArrayBuffers as their bytes', async () => {
    const floats = new Float32Array([1.5, -2]);
    const words = new Uint16Array([1, 2, 3]).subarray(1);
    const view = new DataView(new Uint8Array([1, 2, 3, 4, 5]).buffer, 1, 3);
    const buffer = new Uint8Array([7, 8, 9]).buffer;
    const empty = new ArrayBuffer(0);
    const box = inbox(sub, 'pl.views', { raw: true });
    await sub.flush();
    for (const v of [floats, words, view, buffer, empty]) pub.emit('pl.views', v);
    await barrier(pub, sub);
    await box.atLeast(5);
    const bytes = (v: ArrayBufferView | ArrayBuffer): Buffer => (ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v));
    assert.deepEqual(box.payloads, [floats, words, view, buffer, empty].map((v) => Buffer.from(bytes(v))));
  });

  it('a reply that cannot travel: respond() throws; a handler returning one answers the requester with the reason', async () => {
    let thrown: unknown;
    sub.on('pl.respond', (_, meta) => {
      try {
        meta.respond(new Map([['a', 1]]));
      } catch (err) {
        thrown = err;
        meta.respond('fallback');
      }
    });
    sub.handle('pl.handler', () => ({ seen: new Set([1]) }));
    await sub.flush();
    assert.equal(await pub.request('pl.respond'), 'fallback');
    assert.ok(thrown instanceof InvalidPayloadError);
    assert.equal(thrown.subject, 'pl.respond');
    assert.match(thrown.message, /^invalid payload for the reply to "pl\.respond": the payload is a Map, which JSON sends as \{\}/);
    const err = await rejection(pub.request('pl.handler'));
    assert.equal((err as { code?: string }).code, ErrorCode.REMOTE);
    assert.match(err.message, /^invalid payload for the reply to "pl\.handler": payload\.seen is a Set, which JSON sends as \{\}/);
    sub.unhandle('pl.handler');
    sub.removeAllListeners('pl.respond');
  });
});

describe('the codec (property tests)', () => {
  it('decode(encode(v)) equals v as JSON would carry it, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        assert.deepEqual(decodePayload(encodePayload(v, 'prop.json')), JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('any string comes back as the same string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        assert.equal(decodePayload(encodePayload(s, 'prop.string')), s);
      }),
    );
  });

  it('bytes are sent as they are', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (u) => {
        assert.deepEqual(Buffer.from(encodePayload(u, 'prop.bytes')), Buffer.from(u));
      }),
    );
  });
});
