/**
 * Per-user publish and subscribe permissions: validated from config, compiled
 * once per user, then asked on every PUB, SUB and (for subscribe denies)
 * delivery. The semantics are nats-server's (2.10, server/client.go):
 *
 *   publish    allowed = (no allow list || an allow entry matches) && no deny entry matches
 *              else, with allowResponses, a reply right granted by a delivered request
 *   subscribe  allowed = (no allow list || an allow entry covers the SUB subject)
 *                        && no deny entry matches the SUB subject
 *   delivery   a SUB whose subject only overlaps a deny entry (SUB `>`, deny `secret.>`)
 *              is accepted, and each message is checked against the deny entries
 *
 * Where a SUB subject holds wildcards, nats-server matches it against the
 * entries as if its wildcards were literal tokens, so an entry's `*` takes a
 * SUB's `>` token. For denies we do the same (deny `foo.*` refuses SUB
 * `foo.>`, as nats-server does); for allows we require true coverage (allow
 * `foo.*` does not admit SUB `foo.>`, which nats-server 2.9 and 2.10 accept and
 * which would then receive `foo.a.b`).
 *
 * Subscribe entries may be "subject queue": they then concern queue
 * subscriptions of that group (the queue name may hold wildcards). Like
 * nats-server after its queue-deny fix, a plain deny entry refuses a queue
 * subscription too; a queue allow entry that covers the subject decides for
 * queue subscriptions.
 */
import { ConfigError } from '../../errors.js';
import { isValidSubject, isValidToken } from '../../protocol/subject.js';
import type { Permissions } from './types.js';
import { collidesTokens, coversTokens, matchesLiteral, matchesTokens, covers, type Tokens } from './subject-relations.js';
import { DEFAULT_RESPONSE_LIMIT } from './response-rights.js';

export { matchesTokens, matchesLiteral, coversTokens, collidesTokens, covers, collides } from './subject-relations.js';
/** Reply rights live in response-rights.ts; exported from here with the rest of permissions. */
export { ResponseRights } from './response-rights.js';

export const PermissionDefaults = {
  /** Answers remembered per compiled object (per check kind); past it the oldest quarter goes. */
  cacheSize: 4096,
  /** nats-server's DEFAULT_ALLOW_RESPONSE_MAX_MSGS. */
  responseMax: 1,
  /** nats-server's DEFAULT_ALLOW_RESPONSE_EXPIRATION (2 minutes), in ms. */
  responseExpires: 120_000,
  /** Reply rights one connection may hold at once; past it the oldest go. */
  responseLimit: DEFAULT_RESPONSE_LIMIT,
} as const;

export interface CompiledPermissions {
  /** A literal subject: publish allow/deny, deny wins. Reply rights are ResponseRights' business. */
  canPublish(subject: string): boolean;
  /** At SUB time; `subject` may hold `*` and `>`. */
  canSubscribe(subject: string, queue: string | undefined): boolean;
  /** Whether messages for a subscription on `subject` (and queue) must pass canDeliver: it overlaps a subscribe deny. */
  needsDeliveryCheck(subject: string, queue?: string): boolean;
  /** A literal message subject against the subscribe deny list (the entries that concern `queue`, if given). */
  canDeliver(subject: string, queue?: string): boolean;
  /** allowResponses resolved: `max` replies per request (0 = no limit), for `expires` ms (0 = never); null when off. */
  readonly responses: { readonly max: number; readonly expires: number } | null;
}

/** nats-server's queueMatches for one entry: the same name, or a wildcard name covering it. */
function queueMatches(queue: string, entryQueue: string): boolean {
  if (queue === entryQueue) return true;
  return entryQueue.includes('*') || entryQueue.includes('>') ? covers(entryQueue, queue) : false;
}

// ── validation ────────────────────────────────────────────────────────────

const PERMISSION_KEYS = ['publish', 'subscribe', 'allowResponses'];
const LIST_KEYS = ['allow', 'deny'];
const RESPONSE_KEYS = ['max', 'expires'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function rejectUnknown(o: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k) && o[k] !== undefined) throw new ConfigError(`${where}: unknown key ${JSON.stringify(k)} (expected ${known.join(', ')})`);
  }
}

/** "subject" or "subject queue" (subscribe only), split; null when malformed. */
function splitEntry(entry: string, queueAllowed: boolean): { subject: string; queue: string | undefined } | null {
  if (isValidSubject(entry)) return { subject: entry, queue: undefined };
  if (!queueAllowed) return null;
  const parts = entry.trim().split(/\s+/);
  if (parts.length !== 2 || !isValidSubject(parts[0]!) || !isValidToken(parts[1]!)) return null;
  return { subject: parts[0]!, queue: parts[1]! };
}

function validateList(v: unknown, where: string, queueAllowed: boolean): string[] {
  // nats-server's parser takes a single subject for a list of one; so do we.
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw new ConfigError(`${where}: expected a list of subjects`);
  if (list.length === 0) {
    // nats-server reads an empty list as "no list" (everything allowed); the
    // literal reading is "nothing". Neither guess is safe, so say so.
    throw new ConfigError(`${where} is empty: leave it out to allow every subject, or deny ">" to allow none`);
  }
  return list.map((entry: unknown, i) => {
    const what = queueAllowed ? 'a subject or "subject queue"' : 'a subject';
    if (typeof entry !== 'string') throw new ConfigError(`${where}[${i}]: expected ${what}`);
    if (splitEntry(entry, queueAllowed) === null) throw new ConfigError(`${where}[${i}]: ${JSON.stringify(entry)} is not ${what}`);
    return entry;
  });
}

function validateSubjectPermission(v: unknown, where: string, queueAllowed: boolean): Permissions['publish'] {
  if (!isObject(v)) return validateList(v, where, queueAllowed);
  rejectUnknown(v, LIST_KEYS, where);
  const out: { allow?: string[]; deny?: string[] } = {};
  if (v['allow'] !== undefined) out.allow = validateList(v['allow'], `${where}.allow`, queueAllowed);
  if (v['deny'] !== undefined) {
    out.deny = Array.isArray(v['deny']) && v['deny'].length === 0 ? [] : validateList(v['deny'], `${where}.deny`, queueAllowed);
  }
  return out;
}

function validateCount(v: unknown, where: string, unit: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ConfigError(`${where}: expected a non-negative integer ${unit}`);
  return v;
}

function validateResponses(v: unknown, where: string): Permissions['allowResponses'] {
  if (typeof v === 'boolean') return v;
  if (!isObject(v)) throw new ConfigError(`${where}: expected true, false or { max, expires }`);
  rejectUnknown(v, RESPONSE_KEYS, where);
  const out: { max?: number; expires?: number } = {};
  if (v['max'] !== undefined) out.max = validateCount(v['max'], `${where}.max`, '(replies per request, 0 = no limit)');
  if (v['expires'] !== undefined) out.expires = validateCount(v['expires'], `${where}.expires`, '(milliseconds, 0 = never)');
  return out;
}

/**
 * Checks permissions from a config (or a hook) and returns a clean copy:
 * lists as arrays, unknown keys refused. Throws a one-line ConfigError that
 * names `where` (e.g. `authorization.users[2].permissions`).
 */
export function validatePermissions(p: unknown, where: string): Permissions {
  if (!isObject(p)) throw new ConfigError(`${where}: expected an object with publish, subscribe or allowResponses`);
  rejectUnknown(p, PERMISSION_KEYS, where);
  const out: Permissions = {};
  if (p['publish'] !== undefined) out.publish = validateSubjectPermission(p['publish'], `${where}.publish`, false);
  if (p['subscribe'] !== undefined) out.subscribe = validateSubjectPermission(p['subscribe'], `${where}.subscribe`, true);
  if (p['allowResponses'] !== undefined) out.allowResponses = validateResponses(p['allowResponses'], `${where}.allowResponses`);
  return out;
}

// ── compilation ───────────────────────────────────────────────────────────

interface QueueEntry {
  readonly tokens: Tokens;
  readonly queue: string;
}

/** One allow or deny list, split once: plain entries, and "subject queue" ones. */
interface EntryList {
  readonly plain: readonly Tokens[];
  readonly queued: readonly QueueEntry[];
}

function compileList(list: readonly string[] | undefined): EntryList | null {
  if (list === undefined) return null;
  const plain: Tokens[] = [];
  const queued: QueueEntry[] = [];
  for (const entry of list) {
    const e = splitEntry(entry, true)!;
    if (e.queue === undefined) plain.push(e.subject.split('.'));
    else queued.push({ tokens: e.subject.split('.'), queue: e.queue });
  }
  return { plain, queued };
}

function anyPlain(list: EntryList, subject: Tokens, rel: (e: Tokens, s: Tokens) => boolean): boolean {
  for (const e of list.plain) if (rel(e, subject)) return true;
  return false;
}

function anyLiteral(list: EntryList, subject: string): boolean {
  for (const e of list.plain) if (matchesLiteral(e, subject)) return true;
  return false;
}

/**
 * Among the queue entries related to `subject`: null when there are none,
 * else whether one of them names `queue`.
 */
function queueVerdict(list: EntryList, subject: Tokens, queue: string, rel: (e: Tokens, s: Tokens) => boolean): boolean | null {
  let related = false;
  for (const e of list.queued) {
    if (!rel(e.tokens, subject)) continue;
    if (queueMatches(queue, e.queue)) return true;
    related = true;
  }
  return related ? false : null;
}

function allowList(sp: Permissions['publish']): readonly string[] | undefined {
  return Array.isArray(sp) ? sp : sp?.allow;
}

function denyList(sp: Permissions['publish']): readonly string[] | undefined {
  const deny = Array.isArray(sp) ? undefined : sp?.deny;
  return deny === undefined || deny.length === 0 ? undefined : deny;
}

/**
 * A bounded answer cache, filled on a subject's second miss.
 *
 *   answers: Map<key, boolean>   insertion order: the front is the oldest
 *   seen:    Uint32Array         a key's hash, per slot: "missed once"
 *
 * Subjects used once (reply inboxes) would otherwise churn the map: an
 * insert, and later an eviction, cost several times the walk that answers
 * them. A key enters only when its hash is already in its slot; a collision
 * merely admits a key early. Past the bound the oldest quarter goes.
 */
class AnswerCache {
  private readonly answers = new Map<string, boolean>();
  /** Made on the first miss: a config with many users holds three caches per user, most never asked. */
  private seen: Uint32Array | null = null;

  constructor(private readonly limit: number) {}

  get(key: string): boolean | undefined {
    return this.answers.get(key);
  }

  put(key: string, value: boolean): boolean {
    // As many slots as answers (a power of two): 16 KiB at the default bound.
    this.seen ??= new Uint32Array(2 ** Math.ceil(Math.log2(Math.min(this.limit, 1 << 16))));
    const h = fnv1a(key);
    const slot = h & (this.seen.length - 1);
    if (this.seen[slot] !== h) {
      this.seen[slot] = h;
      return value;
    }
    if (this.answers.size >= this.limit) {
      let drop = Math.max(1, this.limit >> 2);
      for (const k of this.answers.keys()) {
        this.answers.delete(k);
        if (--drop === 0) break;
      }
    }
    this.answers.set(key, value);
    return value;
  }
}

/** FNV-1a over UTF-16 code units: cheap, and good enough to tell keys apart in a slot. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

class Compiled implements CompiledPermissions {
  readonly responses: { readonly max: number; readonly expires: number } | null;
  private readonly pubAllow: EntryList | null;
  private readonly pubDeny: EntryList | null;
  private readonly subAllow: EntryList | null;
  private readonly subDeny: EntryList | null;
  // One cache per question: a publish is asked once per PUB, a delivery once
  // per message to a filtered subscription; both are hot paths.
  private readonly pubCache: AnswerCache;
  private readonly subCache: AnswerCache;
  private readonly deliverCache: AnswerCache;

  constructor(p: Permissions, cacheSize: number) {
    this.pubCache = new AnswerCache(cacheSize);
    this.subCache = new AnswerCache(cacheSize);
    this.deliverCache = new AnswerCache(cacheSize);
    const r = p.allowResponses;
    this.responses =
      r === undefined || r === false
        ? null
        : r === true
          ? { max: PermissionDefaults.responseMax, expires: PermissionDefaults.responseExpires }
          : { max: r.max ?? PermissionDefaults.responseMax, expires: r.expires ?? PermissionDefaults.responseExpires };
    // As nats-server: allowResponses without a publish allow list turns the
    // blanket allow off, so such a user may publish replies and nothing else.
    const pubAllow = allowList(p.publish) ?? (this.responses !== null ? [] : undefined);
    this.pubAllow = compileList(pubAllow);
    this.pubDeny = compileList(denyList(p.publish));
    this.subAllow = compileList(allowList(p.subscribe));
    this.subDeny = compileList(denyList(p.subscribe));
  }

  canPublish(subject: string): boolean {
    const hit = this.pubCache.get(subject);
    if (hit !== undefined) return hit;
    const allowed = (this.pubAllow === null || anyLiteral(this.pubAllow, subject)) && (this.pubDeny === null || !anyLiteral(this.pubDeny, subject));
    return this.pubCache.put(subject, allowed);
  }

  canSubscribe(subject: string, queue: string | undefined): boolean {
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const hit = this.subCache.get(key);
    if (hit !== undefined) return hit;
    const s = subject.split('.');
    let allowed = true;
    if (this.subAllow !== null) {
      allowed = anyPlain(this.subAllow, s, coversTokens);
      if (queue !== undefined) allowed = queueVerdict(this.subAllow, s, queue, coversTokens) ?? allowed;
    }
    if (allowed && this.subDeny !== null) {
      allowed = !anyPlain(this.subDeny, s, matchesTokens);
      if (allowed && queue !== undefined) allowed = queueVerdict(this.subDeny, s, queue, matchesTokens) !== true;
    }
    return this.subCache.put(key, allowed);
  }

  needsDeliveryCheck(subject: string, queue?: string): boolean {
    if (this.subDeny === null) return false;
    const s = subject.split('.');
    if (anyPlain(this.subDeny, s, collidesTokens)) return true;
    return queue !== undefined && queueVerdict(this.subDeny, s, queue, collidesTokens) === true;
  }

  canDeliver(subject: string, queue?: string): boolean {
    if (this.subDeny === null) return true;
    const key = queue === undefined ? subject : `${subject} ${queue}`;
    const hit = this.deliverCache.get(key);
    if (hit !== undefined) return hit;
    let allowed = !anyLiteral(this.subDeny, subject);
    if (allowed && queue !== undefined && this.subDeny.queued.length > 0) allowed = queueVerdict(this.subDeny, subject.split('.'), queue, matchesTokens) !== true;
    return this.deliverCache.put(key, allowed);
  }
}

/**
 * Compiles permissions for the checks above; validates them first (throws
 * ConfigError). null means everything is allowed: the hub's fast path.
 * Compile once per user and share the result between its connections: the
 * caches then warm once.
 */
export function compilePermissions(p: Permissions | undefined, opts: { cacheSize?: number } = {}): CompiledPermissions | null {
  if (p === undefined) return null;
  const clean = validatePermissions(p, 'permissions');
  if (clean.publish === undefined && clean.subscribe === undefined && (clean.allowResponses === undefined || clean.allowResponses === false)) return null;
  const cacheSize = opts.cacheSize ?? PermissionDefaults.cacheSize;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 1) throw new ConfigError('permissions cacheSize: expected a positive integer');
  return new Compiled(clean, cacheSize);
}
