/**
 * Permissions: nats-server's documented examples, the behaviours observed on
 * nats-server 2.9.10 (see the comments), and properties checked against a
 * brute-force reference over a small universe of literal subjects.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compilePermissions,
  validatePermissions,
  ResponseRights,
  coversTokens,
  collidesTokens,
  matchesLiteral,
  PermissionDefaults,
  type CompiledPermissions,
} from '../../../src/server/security/permissions.js';
import { subjectMatches } from '../../../src/protocol/subject.js';
import { ConfigError } from '../../../src/errors.js';
import type { Permissions } from '../../../src/server/security/types.js';

function compiled(p: Permissions): CompiledPermissions {
  const c = compilePermissions(p);
  assert.ok(c !== null);
  return c;
}

describe('compilePermissions: the fast path', () => {
  it('is null when nothing restricts', () => {
    assert.equal(compilePermissions(undefined), null);
    assert.equal(compilePermissions({}), null);
    assert.equal(compilePermissions({ allowResponses: false }), null);
    assert.notEqual(compilePermissions({ publish: { deny: ['x'] } }), null);
    assert.notEqual(compilePermissions({ allowResponses: true }), null);
  });

  it('validates what it compiles', () => {
    assert.throws(() => compilePermissions({ publish: ['a b'] }), ConfigError);
  });
});

describe('nats-server documentation examples', () => {
  // server/configs/authorization.conf and the docs' authorization page.
  const superUser = compiled({ publish: ['*'], subscribe: ['>'] });
  const reqPub = compiled({ publish: ['req.foo', 'req.bar'], subscribe: ['_INBOX.>'] });
  const defaultUser = compiled({ subscribe: ['PUBLIC.>'] });
  const service = compiled({ subscribe: ['my.service.req'], allowResponses: true });
  const streamService = compiled({ subscribe: ['my.service.req'], allowResponses: { max: 10, expires: 60_000 } });

  it('super user: publish "*" is one token only, subscribe ">" everything', () => {
    assert.equal(superUser.canPublish('foo'), true);
    assert.equal(superUser.canPublish('foo.bar'), false);
    assert.equal(superUser.canSubscribe('a.b.c', undefined), true);
    assert.equal(superUser.canSubscribe('>', undefined), true);
    assert.equal(superUser.canSubscribe('x', 'q'), true);
  });

  it('requestor: publishes requests, subscribes to inboxes', () => {
    assert.equal(reqPub.canPublish('req.foo'), true);
    assert.equal(reqPub.canPublish('req.baz'), false);
    assert.equal(reqPub.canSubscribe('_INBOX.abc.*', undefined), true);
    assert.equal(reqPub.canSubscribe('_INBOX.>', undefined), true);
    assert.equal(reqPub.canSubscribe('>', undefined), false);
    assert.equal(reqPub.canSubscribe('req.foo', undefined), false);
  });

  it('default user: subscribes to PUBLIC.> and may publish anywhere (no publish list)', () => {
    assert.equal(defaultUser.canSubscribe('PUBLIC.news', undefined), true);
    assert.equal(defaultUser.canSubscribe('PRIVATE.news', undefined), false);
    assert.equal(defaultUser.canPublish('anything.at.all'), true);
  });

  it('allow_responses: true turns the blanket publish allow off; one reply per request, 2 minutes', () => {
    assert.deepEqual(service.responses, { max: 1, expires: 120_000 });
    assert.equal(service.canPublish('_INBOX.x'), false);
    assert.equal(service.canPublish('other'), false);
    assert.deepEqual(streamService.responses, { max: 10, expires: 60_000 });
  });

  it('allowResponses beside a publish allow list keeps that list', () => {
    const p = compiled({ publish: ['events.>'], allowResponses: true });
    assert.equal(p.canPublish('events.x'), true);
    assert.equal(p.canPublish('other'), false);
  });

  it('subscribe "foo *.dev": foo only in a queue group matching *.dev', () => {
    const p = compiled({ subscribe: ['foo *.dev'] });
    assert.equal(p.canSubscribe('foo', 'a.dev'), true);
    assert.equal(p.canSubscribe('foo', 'prod'), false);
    assert.equal(p.canSubscribe('foo', 'a.b.dev'), false);
    assert.equal(p.canSubscribe('foo', undefined), false);
  });

  it('subscribe [foo.>, "bar v1"]', () => {
    const p = compiled({ subscribe: ['foo.>', 'bar v1'] });
    assert.equal(p.canSubscribe('foo.x', undefined), true);
    assert.equal(p.canSubscribe('foo.x', 'any'), true);
    assert.equal(p.canSubscribe('bar', 'v1'), true);
    assert.equal(p.canSubscribe('bar', 'v2'), false);
    assert.equal(p.canSubscribe('bar', undefined), false);
  });

  it('subscribe { allow: foo.*, deny: foo.bar }: foo.* is accepted, foo.bar filtered at delivery', () => {
    const p = compiled({ subscribe: { allow: ['foo.*'], deny: ['foo.bar'] } });
    assert.equal(p.canSubscribe('foo.bar', undefined), false);
    assert.equal(p.canSubscribe('foo.baz', undefined), true);
    assert.equal(p.canSubscribe('foo.*', undefined), true);
    assert.equal(p.needsDeliveryCheck('foo.*'), true);
    assert.equal(p.needsDeliveryCheck('foo.baz'), false);
    assert.equal(p.canDeliver('foo.bar'), false);
    assert.equal(p.canDeliver('foo.baz'), true);
  });

  it('publish { allow: data.>, deny: data.sensitive.> }: deny wins', () => {
    const p = compiled({ publish: { allow: ['data.>'], deny: ['data.sensitive.>'] } });
    assert.equal(p.canPublish('data.public'), true);
    assert.equal(p.canPublish('data.sensitive.passwords'), false);
    assert.equal(p.canPublish('data.sensitive'), true);
  });
});

describe('subscribe with wildcards, as observed on nats-server 2.9.10', () => {
  it('a SUB to > with deny secret.> is accepted and never receives secret.x', () => {
    const p = compiled({ subscribe: { allow: ['>'], deny: ['secret.>'] } });
    assert.equal(p.canSubscribe('>', undefined), true);
    assert.equal(p.needsDeliveryCheck('>'), true);
    assert.equal(p.canDeliver('secret.x'), false);
    assert.equal(p.canDeliver('secret.x.y'), false);
    assert.equal(p.canDeliver('public.x'), true);
    assert.equal(p.canSubscribe('secret.*', undefined), false);
    assert.equal(p.canSubscribe('secret.>', undefined), false);
  });

  it('deny foo.* refuses SUB foo.*, foo.> and foo.a, accepts > (filtered) and foo.a.b', () => {
    // nats-server: -ERR for foo.>, foo.* and foo.a; > and foo.a.b accepted.
    const p = compiled({ subscribe: { deny: ['foo.*'] } });
    assert.equal(p.canSubscribe('foo.>', undefined), false);
    assert.equal(p.canSubscribe('foo.*', undefined), false);
    assert.equal(p.canSubscribe('foo.a', undefined), false);
    assert.equal(p.canSubscribe('>', undefined), true);
    assert.equal(p.needsDeliveryCheck('>'), true);
    assert.equal(p.canSubscribe('foo.a.b', undefined), true);
    assert.equal(p.needsDeliveryCheck('foo.a.b'), false);
  });

  it('allow foo.* admits foo.* and foo.a but not foo.> (nats-server admits foo.>: a hole we do not copy)', () => {
    const p = compiled({ subscribe: { allow: ['foo.*'] } });
    assert.equal(p.canSubscribe('foo.*', undefined), true);
    assert.equal(p.canSubscribe('foo.a', undefined), true);
    assert.equal(p.canSubscribe('foo.>', undefined), false);
    assert.equal(p.canSubscribe('foo.a.b', undefined), false);
    assert.equal(p.canSubscribe('*.a', undefined), false);
  });

  it('queue entries: allow ["foo.* q1", "bar"], deny ["foo.x q1"]', () => {
    // nats-server: foo.a refused (no queue), foo.a q1 accepted, foo.x q1
    // refused, foo.* q1 accepted, bar q9 accepted, foo.* q2 refused.
    const p = compiled({ subscribe: { allow: ['foo.* q1', 'bar'], deny: ['foo.x q1'] } });
    assert.equal(p.canSubscribe('foo.a', undefined), false);
    assert.equal(p.canSubscribe('foo.a', 'q1'), true);
    assert.equal(p.canSubscribe('foo.x', 'q1'), false);
    assert.equal(p.canSubscribe('foo.*', 'q1'), true);
    assert.equal(p.canSubscribe('bar', 'q9'), true);
    assert.equal(p.canSubscribe('bar', undefined), true);
    assert.equal(p.canSubscribe('foo.*', 'q2'), false);
    // The queue deny concerns q1's deliveries only.
    assert.equal(p.needsDeliveryCheck('foo.*', 'q1'), true);
    assert.equal(p.needsDeliveryCheck('foo.*', 'q2'), false);
    assert.equal(p.needsDeliveryCheck('foo.*'), false);
    assert.equal(p.canDeliver('foo.x', 'q1'), false);
    assert.equal(p.canDeliver('foo.x'), true);
    assert.equal(p.canDeliver('foo.y', 'q1'), true);
  });

  it('a plain deny is not bypassed by a queue subscription (nats-server advisory: queue subscribe authz bypass)', () => {
    const p = compiled({ subscribe: { deny: ['foo', 'foo q1'] } });
    assert.equal(p.canSubscribe('foo', 'q2'), false);
    assert.equal(p.canSubscribe('foo', 'q1'), false);
    assert.equal(p.canSubscribe('foo', undefined), false);
    const wild = compiled({ subscribe: { deny: ['foo.bar'] } });
    assert.equal(wild.needsDeliveryCheck('foo.*', 'q'), true);
    assert.equal(wild.canDeliver('foo.bar', 'q'), false);
  });

  it('a queue allow entry decides for queue subscriptions even beside a plain one (as nats-server)', () => {
    const p = compiled({ subscribe: ['foo', 'foo q1'] });
    assert.equal(p.canSubscribe('foo', 'q1'), true);
    assert.equal(p.canSubscribe('foo', 'q2'), false);
    assert.equal(p.canSubscribe('foo', undefined), true);
  });
});

describe('validatePermissions', () => {
  function message(p: unknown): string {
    try {
      validatePermissions(p, 'authorization.users[1].permissions');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.ok(!err.message.includes('\n'), 'one line');
      return err.message;
    }
    assert.fail('expected a ConfigError');
  }

  it('returns a clean copy, taking a single subject for a list of one', () => {
    assert.deepEqual(validatePermissions({ publish: 'a.>', subscribe: { allow: ['b', 'c q'], deny: 'b.x' } }, 'p'), {
      publish: ['a.>'],
      subscribe: { allow: ['b', 'c q'], deny: ['b.x'] },
    });
    assert.deepEqual(validatePermissions({ allowResponses: { max: 0 } }, 'p'), { allowResponses: { max: 0 } });
  });

  it('names the place and the problem', () => {
    assert.equal(message(null), 'authorization.users[1].permissions: expected an object with publish, subscribe or allowResponses');
    assert.equal(message({ pub: ['x'] }), 'authorization.users[1].permissions: unknown key "pub" (expected publish, subscribe, allowResponses)');
    assert.equal(message({ publish: ['a', 'b..c'] }), 'authorization.users[1].permissions.publish[1]: "b..c" is not a subject');
    assert.equal(message({ publish: ['a q'] }), 'authorization.users[1].permissions.publish[0]: "a q" is not a subject');
    assert.equal(message({ subscribe: { deny: ['a q r'] } }), 'authorization.users[1].permissions.subscribe.deny[0]: "a q r" is not a subject or "subject queue"');
    assert.equal(message({ subscribe: { allow: [3] } }), 'authorization.users[1].permissions.subscribe.allow[0]: expected a subject or "subject queue"');
    assert.equal(message({ subscribe: { allwo: ['x'] } }), 'authorization.users[1].permissions.subscribe: unknown key "allwo" (expected allow, deny)');
    assert.equal(message({ publish: 7 }), 'authorization.users[1].permissions.publish: expected a list of subjects');
    assert.equal(message({ allowResponses: 'yes' }), 'authorization.users[1].permissions.allowResponses: expected true, false or { max, expires }');
    assert.equal(message({ allowResponses: { max: -1 } }), 'authorization.users[1].permissions.allowResponses.max: expected a non-negative integer (replies per request, 0 = no limit)');
    assert.equal(message({ allowResponses: { expires: 1.5 } }), 'authorization.users[1].permissions.allowResponses.expires: expected a non-negative integer (milliseconds, 0 = never)');
    assert.equal(message({ allowResponses: { ttl: 5 } }), 'authorization.users[1].permissions.allowResponses: unknown key "ttl" (expected max, expires)');
  });

  it('refuses an empty allow list rather than guess (nats-server reads it as "everything")', () => {
    assert.match(message({ subscribe: [] }), /^authorization\.users\[1\]\.permissions\.subscribe is empty: leave it out to allow every subject, or deny ">" to allow none$/);
    assert.match(message({ publish: { allow: [] } }), /publish\.allow is empty/);
    assert.deepEqual(validatePermissions({ publish: { deny: [] } }, 'p'), { publish: { deny: [] } });
  });
});

describe('ResponseRights', () => {
  it('one reply per request by default, then refused', () => {
    const r = new ResponseRights(1, 0);
    assert.equal(r.take('_INBOX.a', 0), false);
    r.grant('_INBOX.a', 0);
    assert.equal(r.size, 1);
    assert.equal(r.take('_INBOX.a', 1), true);
    assert.equal(r.take('_INBOX.a', 2), false);
    assert.equal(r.size, 0);
  });

  it('max replies, then refused; 0 means no limit', () => {
    const r = new ResponseRights(3, 0);
    r.grant('x', 0);
    assert.deepEqual([1, 2, 3, 4].map((t) => r.take('x', t)), [true, true, true, false]);
    const unlimited = new ResponseRights(0, 0);
    unlimited.grant('y', 0);
    for (let i = 0; i < 1000; i++) assert.equal(unlimited.take('y', i), true);
  });

  it('expires after `expires` ms, lazily', () => {
    const r = new ResponseRights(0, 100);
    r.grant('x', 1000);
    assert.equal(r.take('x', 1100), true);
    assert.equal(r.take('x', 1101), false);
    assert.equal(r.size, 0);
    r.grant('a', 0);
    r.grant('b', 70);
    r.grant('c', 160); // a (granted at 0) has expired and goes; b has not
    assert.equal(r.size, 2);
    assert.equal(r.take('b', 160), true);
  });

  it('a second request with the same reply subject renews the right', () => {
    const r = new ResponseRights(1, 100);
    r.grant('x', 0);
    r.grant('y', 10);
    r.grant('x', 90);
    assert.equal(r.take('x', 150), true);
  });

  it('stays bounded whatever arrives: the oldest go first', () => {
    const r = new ResponseRights(1, 0, 1000);
    for (let i = 0; i < 100_000; i++) r.grant(`_INBOX.${i}`, i);
    assert.equal(r.size, 1000);
    assert.equal(r.take('_INBOX.0', 100_000), false);
    assert.equal(r.take('_INBOX.99999', 100_000), true);
    assert.equal(new ResponseRights(1, 0).constructor.length, 2);
    assert.equal(PermissionDefaults.responseLimit, 10_000);
  });
});

// ── properties against a brute-force reference ───────────────────────────

const TOKENS = ['a', 'b'];
/** Every literal subject of 1..4 tokens over a, b and a token no pattern names. */
const UNIVERSE: string[] = (() => {
  const out: string[] = [];
  let level = [''];
  for (let n = 1; n <= 4; n++) {
    level = level.flatMap((prefix) => [...TOKENS, 'z'].map((t) => (prefix === '' ? t : `${prefix}.${t}`)));
    out.push(...level);
  }
  return out;
})();

const literal = fc.array(fc.constantFrom(...TOKENS, 'z'), { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const pattern = fc
  .tuple(fc.array(fc.constantFrom(...TOKENS, '*'), { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([t, fwc]) => (fwc ? [...t.slice(0, -1), '>'] : t).join('.'));
const list = fc.array(pattern, { minLength: 1, maxLength: 4 });
const subjectPermission = fc.record({ allow: fc.option(list, { nil: undefined }), deny: fc.option(list, { nil: undefined }) }, { requiredKeys: [] });

function refAllows(sp: { allow?: string[] | undefined; deny?: string[] | undefined }, subject: string): boolean {
  const allowed = sp.allow === undefined || sp.allow.some((p) => subjectMatches(p, subject));
  return allowed && !(sp.deny ?? []).some((p) => subjectMatches(p, subject));
}

function clean(sp: { allow?: string[] | undefined; deny?: string[] | undefined }): { allow?: string[]; deny?: string[] } {
  const out: { allow?: string[]; deny?: string[] } = {};
  if (sp.allow !== undefined) out.allow = sp.allow;
  if (sp.deny !== undefined) out.deny = sp.deny;
  return out;
}

describe('properties', () => {
  it('matchesLiteral is subject matching, without splitting the subject', () => {
    fc.assert(
      fc.property(pattern, literal, (entry, subject) => {
        assert.equal(matchesLiteral(entry.split('.'), subject), subjectMatches(entry, subject));
      }),
      { numRuns: 3000 },
    );
    for (const [e, l, ok] of [['a.>', 'a', false], ['a.>', 'a.b', true], ['a', 'ab', false], ['ab', 'a', false], ['a.b', 'a', false], ['a', 'a.b', false], ['*', 'abc', true], ['>', 'x.y', true]] as const) {
      assert.equal(matchesLiteral(e.split('.'), l), ok, `${e} ${l}`);
    }
  });

  it('coversTokens: every literal the subject matches, the entry matches', () => {
    fc.assert(
      fc.property(pattern, pattern, (entry, subject) => {
        const ref = UNIVERSE.every((l) => !subjectMatches(subject, l) || subjectMatches(entry, l));
        assert.equal(coversTokens(entry.split('.'), subject.split('.')), ref);
      }),
      { numRuns: 2000 },
    );
  });

  it('collidesTokens: some literal matches both', () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const ref = UNIVERSE.some((l) => subjectMatches(a, l) && subjectMatches(b, l));
        assert.equal(collidesTokens(a.split('.'), b.split('.')), ref);
        assert.equal(collidesTokens(b.split('.'), a.split('.')), ref);
      }),
      { numRuns: 2000 },
    );
  });

  it('canPublish: deny always wins, an allowed subject matches some allow entry', () => {
    fc.assert(
      fc.property(subjectPermission, literal, (sp, subject) => {
        const c = compilePermissions({ publish: clean(sp) });
        const ok = c === null || c.canPublish(subject);
        if ((sp.deny ?? []).some((p) => subjectMatches(p, subject))) assert.equal(ok, false);
        if (ok && sp.allow !== undefined) assert.ok(sp.allow.some((p) => subjectMatches(p, subject)));
        assert.equal(ok, refAllows(sp, subject));
      }),
      { numRuns: 2000 },
    );
  });

  it('canSubscribe of a literal subject is publish-style matching over the subscribe lists', () => {
    fc.assert(
      fc.property(subjectPermission, literal, (sp, subject) => {
        const c = compilePermissions({ subscribe: clean(sp) });
        assert.equal(c === null || c.canSubscribe(subject, undefined), refAllows(sp, subject));
        assert.equal(c === null || c.canSubscribe(subject, 'q'), refAllows(sp, subject));
      }),
      { numRuns: 2000 },
    );
  });

  it('a subscription never receives a subject that a literal SUB would be refused', () => {
    fc.assert(
      fc.property(subjectPermission, pattern, (sp, subject) => {
        const c = compilePermissions({ subscribe: clean(sp) });
        if (c === null || !c.canSubscribe(subject, undefined)) return;
        const filtered = c.needsDeliveryCheck(subject);
        for (const l of UNIVERSE) {
          if (!subjectMatches(subject, l)) continue;
          const delivered = !filtered || c.canDeliver(l);
          if (delivered) assert.ok(refAllows(sp, l), `${subject} would deliver ${l}`);
          // And the filter removes only what is denied.
          else assert.ok((sp.deny ?? []).some((p) => subjectMatches(p, l)));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('caches never change answers, however small', () => {
    fc.assert(
      fc.property(subjectPermission, subjectPermission, fc.array(fc.tuple(fc.nat(3), pattern, literal), { maxLength: 60 }), (pub, sub, asks) => {
        const perms: Permissions = { publish: clean(pub), subscribe: clean(sub) };
        const cached = compilePermissions(perms, { cacheSize: 2 });
        if (cached === null) return;
        for (const [kind, wild, lit] of asks) {
          const fresh = compilePermissions(perms, { cacheSize: 1 })!;
          // Ask three times: the second miss admits the answer, the third reads it (when it is still there).
          for (let i = 0; i < 3; i++) {
            if (kind === 0) assert.equal(cached.canPublish(lit), fresh.canPublish(lit));
            else if (kind === 1) assert.equal(cached.canSubscribe(wild, undefined), fresh.canSubscribe(wild, undefined));
            else if (kind === 2) assert.equal(cached.canSubscribe(wild, 'q'), fresh.canSubscribe(wild, 'q'));
            else assert.equal(cached.canDeliver(lit), fresh.canDeliver(lit));
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
