/**
 * The subject index checked against the simple reference matcher, with
 * property tests over random subscriptions, removals and publishes, so the
 * cache and its invalidation are exercised too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Sublist } from '../../src/server/sublist.js';
import { subjectMatches, isValidSubject, isValidLiteralSubject, hasWildcard } from '../../src/protocol/subject.js';

interface TestSub {
  readonly id: number;
  readonly subject: string;
  readonly queue: string | undefined;
}

function ids(result: { plain: readonly TestSub[]; queues: readonly (readonly TestSub[])[] }): { plain: number[]; queues: number[][] } {
  return {
    plain: result.plain.map((s) => s.id).sort((a, b) => a - b),
    queues: result.queues.map((g) => g.map((s) => s.id).sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!),
  };
}

function reference(subs: Iterable<TestSub>, subject: string): { plain: number[]; queues: number[][] } {
  const plain: number[] = [];
  const groups = new Map<string, number[]>();
  for (const s of subs) {
    if (!subjectMatches(s.subject, subject)) continue;
    if (s.queue === undefined) plain.push(s.id);
    else {
      const g = groups.get(s.queue) ?? [];
      g.push(s.id);
      groups.set(s.queue, g);
    }
  }
  return {
    plain: plain.sort((a, b) => a - b),
    queues: [...groups.values()].map((g) => g.sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!),
  };
}

describe('subject syntax', () => {
  it('validates subscription subjects', () => {
    for (const ok of ['foo', 'foo.bar', 'foo.*', '*', '>', 'foo.>', '*.*.>', 'foo*bar', 'a.b>c', '$JS.API.>', '_INBOX.x.*']) {
      assert.ok(isValidSubject(ok), ok);
    }
    for (const bad of ['', 'foo..bar', '.foo', 'foo.', 'foo.>.bar', '>.foo', 'foo bar', 'foo\tbar', 'a.\r.b']) {
      assert.ok(!isValidSubject(bad), bad);
    }
  });

  it('validates publish subjects (pedantic)', () => {
    assert.ok(isValidLiteralSubject('foo.bar'));
    assert.ok(isValidLiteralSubject('foo*bar'));
    for (const bad of ['foo.*', '>', 'foo.>', 'a..b', '']) assert.ok(!isValidLiteralSubject(bad), bad);
  });

  it('knows wildcard subjects', () => {
    for (const w of ['*', '>', 'a.*', 'a.>', '*.a', 'a.*.b']) assert.ok(hasWildcard(w), w);
    for (const l of ['a', 'a.b', 'a*', 'a.b*', '*a.b']) assert.ok(!hasWildcard(l), l);
  });

  it('reference matcher follows the wildcard rules', () => {
    assert.ok(subjectMatches('foo.*', 'foo.bar'));
    assert.ok(!subjectMatches('foo.*', 'foo.bar.baz'));
    assert.ok(!subjectMatches('foo.*', 'foo'));
    assert.ok(subjectMatches('foo.>', 'foo.bar.baz'));
    assert.ok(!subjectMatches('foo.>', 'foo'));
    assert.ok(subjectMatches('>', 'a'));
    assert.ok(subjectMatches('*.b.>', 'a.b.c.d'));
    assert.ok(!subjectMatches('foo*', 'foox'));
  });
});

describe('Sublist', () => {
  it('matches literal, * and > subscriptions and groups queues by name', () => {
    const sl = new Sublist<TestSub>();
    const subs: TestSub[] = [
      { id: 1, subject: 'a.b', queue: undefined },
      { id: 2, subject: 'a.*', queue: undefined },
      { id: 3, subject: 'a.>', queue: undefined },
      { id: 4, subject: 'a.b', queue: 'q' },
      { id: 5, subject: 'a.*', queue: 'q' },
      { id: 6, subject: '>', queue: 'r' },
    ];
    for (const s of subs) sl.insert(s);
    assert.deepEqual(ids(sl.match('a.b')), { plain: [1, 2, 3], queues: [[4, 5], [6]] });
    assert.deepEqual(ids(sl.match('a.b.c')), { plain: [3], queues: [[6]] });
    assert.deepEqual(ids(sl.match('x')), { plain: [], queues: [[6]] });
    assert.equal(sl.size, 6);
  });

  it('invalidates cached results when subscriptions change', () => {
    const sl = new Sublist<TestSub>();
    const s1 = { id: 1, subject: 'a.b', queue: undefined };
    const s2 = { id: 2, subject: 'a.*', queue: undefined };
    // Each subject three times: a miss, a miss that caches it, a hit.
    const thrice = (subject: string): number[] => {
      const first = ids(sl.match(subject)).plain;
      assert.deepEqual(ids(sl.match(subject)).plain, first);
      assert.deepEqual(ids(sl.match(subject)).plain, first);
      return first;
    };
    assert.deepEqual(thrice('a.b'), []);
    sl.insert(s1);
    assert.deepEqual(thrice('a.b'), [1]);
    sl.insert(s2);
    assert.deepEqual(thrice('a.b'), [1, 2]);
    sl.remove(s1);
    assert.deepEqual(thrice('a.b'), [2]);
    sl.remove(s2);
    assert.deepEqual(thrice('a.b'), []);
    assert.equal(sl.size, 0);
  });

  it('caches a subject on its second miss, not its first: one-off subjects never fill the cache', () => {
    const sl = new Sublist<TestSub>({ cacheSize: 64 });
    sl.insert({ id: 1, subject: '_INBOX.x.*', queue: undefined });
    sl.insert({ id: 2, subject: 'orders.new', queue: undefined });
    const cached = (): number => (sl as unknown as { cache: Map<string, unknown> }).cache.size;
    for (let i = 0; i < 1000; i++) assert.deepEqual(ids(sl.match(`_INBOX.x.${i}`)).plain, [1]);
    assert.equal(cached(), 0);
    const first = sl.match('orders.new');
    assert.equal(cached(), 0);
    assert.deepEqual(ids(sl.match('orders.new')).plain, [2]);
    assert.equal(cached(), 1);
    assert.equal(sl.match('orders.new'), first, 'a literal subject\'s result is kept on its node, not walked again');
    assert.equal(sl.match('orders.new'), sl.match('orders.new'), 'answered from the cache');
  });

  it('caches repeating subjects published in turn among one-off subjects', () => {
    const sl = new Sublist<TestSub>({ cacheSize: 256 });
    sl.insert({ id: 1, subject: 'feed.>', queue: undefined });
    sl.insert({ id: 2, subject: '_INBOX.*', queue: undefined });
    const subjects = Array.from({ length: 100 }, (_, i) => `feed.s${i}`);
    let inbox = 0;
    for (let round = 0; round < 2; round++) {
      for (const s of subjects) {
        sl.match(s);
        sl.match(`_INBOX.${inbox++}`);
      }
    }
    const cache = (sl as unknown as { cache: Map<string, unknown> }).cache;
    assert.deepEqual([...cache.keys()].sort(), [...subjects].sort());
  });

  it('a burst of wildcard changes empties a full cache instead of scanning it for each (a connection with 100k wildcards closing)', () => {
    const size = 64;
    const sl = new Sublist<TestSub>({ cacheSize: size });
    const plain = Array.from({ length: size }, (_, i) => ({ id: i, subject: `s.${i}.ev`, queue: undefined }));
    for (const p of plain) sl.insert(p);
    const cached = (): number => (sl as unknown as { cache: Map<string, unknown> }).cache.size;
    const fill = (): void => {
      for (let r = 0; r < 2; r++) for (let i = 0; i < size; i++) sl.match(`s.${i}.ev`);
    };
    fill();
    assert.equal(cached(), size);
    // A few wildcard changes scan the cache and drop only what they match.
    const w0 = { id: 1000, subject: 's.0.*', queue: undefined };
    sl.insert(w0);
    assert.equal(cached(), size - 1);
    assert.deepEqual(ids(sl.match('s.0.ev')).plain, [0, 1000]);
    // Past the budget the cache is emptied: the answers stay right.
    const wild = Array.from({ length: 20 }, (_, i) => ({ id: 2000 + i, subject: `s.${i}.>`, queue: undefined }));
    let emptied = 0;
    for (const w of wild) {
      fill();
      sl.insert(w);
      if (cached() === 0) emptied++;
      else assert.equal(cached(), size - 1, 'a scan drops the one subject the wildcard matches');
    }
    assert.ok(emptied >= 1 && emptied <= 3, `the cache was emptied ${emptied} times in 20 changes, and scanned the other times`);
    for (const w of wild) sl.remove(w);
    sl.remove(w0);
    for (let i = 0; i < size; i++) assert.deepEqual(ids(sl.match(`s.${i}.ev`)).plain, [i]);
    fill();
    for (let i = 0; i < size; i++) assert.deepEqual(ids(sl.match(`s.${i}.ev`)).plain, [i], 'from the cache');
  });

  it('removing an absent subscription is a no-op', () => {
    const sl = new Sublist<TestSub>();
    assert.equal(sl.remove({ id: 1, subject: 'a.b', queue: undefined }), false);
    sl.insert({ id: 1, subject: 'a.b', queue: undefined });
    assert.equal(sl.remove({ id: 2, subject: 'a.b', queue: undefined }), false);
    assert.equal(sl.size, 1);
  });

  it('agrees with the reference matcher under random inserts, removes and publishes (property)', () => {
    const token = fc.constantFrom('a', 'b', 'c', 'foo');
    const patToken = fc.constantFrom('a', 'b', 'c', 'foo', '*');
    const pattern = fc
      .tuple(fc.array(patToken, { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([t, fwc]) => (fwc ? [...t, '>'] : t).join('.'));
    const literal = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
    const action = fc.oneof(
      { weight: 3, arbitrary: fc.record({ k: fc.constant('add' as const), subject: pattern, queue: fc.option(fc.constantFrom('q1', 'q2'), { nil: undefined }) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), index: fc.nat() }) },
      { weight: 3, arbitrary: fc.record({ k: fc.constant('match' as const), subject: literal }) },
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 80 }), fc.integer({ min: 1, max: 8 }), (actions, cacheSize) => {
        // A tiny cache forces eviction paths too.
        const sl = new Sublist<TestSub>({ cacheSize });
        const live: TestSub[] = [];
        let nextId = 1;
        for (const a of actions) {
          if (a.k === 'add') {
            const s = { id: nextId++, subject: a.subject, queue: a.queue };
            sl.insert(s);
            live.push(s);
          } else if (a.k === 'remove') {
            if (live.length === 0) continue;
            const [s] = live.splice(a.index % live.length, 1);
            assert.equal(sl.remove(s!), true);
          } else {
            // Twice: subjects are cached on their second miss, so the cache paths run too.
            assert.deepEqual(ids(sl.match(a.subject)), reference(live, a.subject));
            assert.deepEqual(ids(sl.match(a.subject)), reference(live, a.subject));
          }
        }
        assert.equal(sl.size, live.length);
        for (const s of [...live]) sl.remove(s);
        assert.equal(sl.size, 0);
      }),
      { numRuns: 500 },
    );
  });
});
