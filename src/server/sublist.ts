/**
 * The subject index: literal subscriptions in one map by subject, wildcard
 * subscriptions in a trie of subject tokens, and a cache of match results
 * for the literal subjects that are published.
 *
 *   literals: Map<subject, node>           `orders.new`: one look-up
 *
 *   level ─┬─ nodes: Map<token, node>     literal tokens
 *          ├─ pwc: node                   `*`
 *          └─ fwc: node                   `>` (always a leaf)
 *   node ──┬─ one | many: sub | Set<sub>   subscribers ending here
 *          ├─ queues: Map<group, Set<sub>>
 *          └─ next: level                 longer subjects
 *
 * A node holds its collections only once it needs them: a lone subscriber
 * in `one`, a Set from the second on, no queue map without a queue group, and
 * no level below it without a longer subject. With a million distinct
 * subjects most nodes have one subscriber or none (an inner token), and
 * empty Sets and Maps were half the index's memory.
 *
 * Literal subjects stay out of the trie: a publish's subject finds its
 * literal subscribers with one look-up of the whole subject (its hash already
 * computed by the cache's look-up), and walks the trie only for wildcards.
 * Walking three levels of maps holding 100k subjects took ~2 µs, mostly
 * memory stalls; the trie of wildcards alone is a fraction of that size.
 *
 * A publish looks its subject up in the cache first; a miss walks the trie
 * and stores the result. Inserting or removing a subscription drops exactly
 * the cached subjects it could change: the subject itself when literal, every
 * cached subject it matches when it has wildcards. The cache is bounded
 * (option `cacheSize`); past the bound its oldest quarter is dropped.
 *
 * A subject enters the cache only on its second miss (a bounded set
 * remembers the subjects missed once). A subject that is published once,
 * such as a reply inbox `_INBOX.<id>.<n>`, is matched by the walk and never
 * stored: storing it cost more than the walk (the entry lives long enough for
 * the GC to copy and promote it) and pushed out subjects that repeat.
 */
import { subjectMatches, hasWildcard } from '../protocol/subject.js';

export interface Subscribable {
  readonly subject: string;
  readonly queue: string | undefined;
}

/** What a subject matches: every plain subscriber, and each queue group's members. */
export interface MatchResult<S> {
  readonly plain: readonly S[];
  readonly queues: readonly (readonly S[])[];
  /** A slot for the router's per-subject data (encoded lines); it goes away with the cache entry. */
  memo?: unknown;
}

interface Node<S> {
  next: Level<S> | null;
  /** The plain subscriber when there is exactly one and `many` is null. */
  one: S | null;
  /** The plain subscribers from the second on (insertion order kept); null otherwise. */
  many: Set<S> | null;
  queues: Map<string, Set<S>> | null;
  /**
   * A literal node's match result, kept while its subscribers and the
   * wildcards (generation `gen`) stay as they were: a publish to a subject the
   * bounded cache has dropped finds it here without a walk or a new result.
   */
  result: MatchResult<S> | null;
  gen: number;
}

interface Level<S> {
  nodes: Map<string, Node<S>>;
  pwc: Node<S> | null;
  fwc: Node<S> | null;
}

function newLevel<S>(): Level<S> {
  return { nodes: new Map(), pwc: null, fwc: null };
}

function newNode<S>(): Node<S> {
  return { next: null, one: null, many: null, queues: null, result: null, gen: 0 };
}

function nodeEmpty<S>(n: Node<S>): boolean {
  return n.one === null && n.many === null && n.queues === null && (n.next === null || levelEmpty(n.next));
}

function addPlain<S>(n: Node<S>, sub: S): void {
  if (n.many !== null) n.many.add(sub);
  else if (n.one === null) n.one = sub;
  else if (n.one !== sub) {
    n.many = new Set([n.one, sub]);
    n.one = null;
  }
}

/** Takes a subscription off its node (plain or in its queue group); false when it was not there. */
function removeFrom<S extends Subscribable>(n: Node<S>, sub: S): boolean {
  if (sub.queue === undefined) return removePlain(n, sub);
  const group = n.queues?.get(sub.queue);
  if (group === undefined || !group.delete(sub)) return false;
  if (group.size === 0) {
    n.queues!.delete(sub.queue);
    if (n.queues!.size === 0) n.queues = null;
  }
  return true;
}

function removePlain<S>(n: Node<S>, sub: S): boolean {
  if (n.one === sub) {
    n.one = null;
    return true;
  }
  if (n.many === null || !n.many.delete(sub)) return false;
  if (n.many.size === 0) n.many = null;
  return true;
}

function levelEmpty<S>(l: Level<S>): boolean {
  return l.nodes.size === 0 && l.pwc === null && l.fwc === null;
}

export interface SublistStats {
  subscriptions: number;
  cached: number;
  inserts: number;
  removes: number;
  matches: number;
  /** Of the matches, the share the cache answered (0 to 1). */
  hitRate: number;
  maxFanout: number;
  avgFanout: number;
}

/** Full scans of the cache for changed wildcards before emptying it is cheaper (see invalidate). */
const SCAN_BUDGET = 8;

const EMPTY: MatchResult<never> = Object.freeze({ plain: Object.freeze([]), queues: Object.freeze([]) });

export class Sublist<S extends Subscribable> {
  private readonly root: Level<S> = newLevel();
  /** Literal subscriptions by subject (their nodes never have a `next`). */
  private readonly literals = new Map<string, Node<S>>();
  /** Bumped by every change of a wildcard subscription: literal nodes' results made before it are stale. */
  private wildGen = 0;
  private readonly cache = new Map<string, MatchResult<S>>();
  private readonly cacheSize: number;
  /** Subjects missed once since it was last emptied (see admit); at most cacheSize. */
  private readonly seen = new Set<string>();
  private count = 0;
  /** Counters for /subsz (nats-server's sublist statistics): plain increments, read only by the monitor. */
  private inserts = 0;
  private removes = 0;
  private matches = 0;
  private hits = 0;
  /** Cached subjects matched against changed wildcards since the cache was last emptied (see invalidate). */
  private scanned = 0;

  constructor(opts: { cacheSize?: number } = {}) {
    this.cacheSize = opts.cacheSize ?? 4096;
  }

  /** Number of subscriptions held. */
  get size(): number {
    return this.count;
  }

  /** Adds a subscription. Its subject must be valid (see isValidSubject). */
  insert(sub: S): void {
    const wild = hasWildcard(sub.subject);
    const n = wild ? this.trieNode(sub.subject) : this.literalNode(sub.subject);
    if (wild) this.wildGen++;
    else n.result = null;
    if (sub.queue === undefined) {
      addPlain(n, sub);
    } else {
      const queues = (n.queues ??= new Map());
      let group = queues.get(sub.queue);
      if (group === undefined) {
        group = new Set();
        queues.set(sub.queue, group);
      }
      group.add(sub);
    }
    this.count++;
    this.inserts++;
    this.invalidate(sub.subject);
  }

  private literalNode(subject: string): Node<S> {
    let node = this.literals.get(subject);
    if (node === undefined) {
      node = newNode();
      this.literals.set(subject, node);
    }
    return node;
  }

  /** The trie's node for a wildcard subject, made as needed. */
  private trieNode(subject: string): Node<S> {
    const tokens = subject.split('.');
    let level = this.root;
    let node: Node<S> | null = null;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t === '*') {
        node = level.pwc ??= newNode();
      } else if (t === '>') {
        node = level.fwc ??= newNode();
      } else {
        node = level.nodes.get(t) ?? null;
        if (node === null) {
          node = newNode();
          level.nodes.set(t, node);
        }
      }
      if (i < tokens.length - 1) level = node.next ??= newLevel();
    }
    return node!;
  }

  /** Removes a subscription; returns whether it was present. */
  remove(sub: S): boolean {
    if (!hasWildcard(sub.subject)) {
      const node = this.literals.get(sub.subject);
      if (node === undefined || !removeFrom(node, sub)) return false;
      node.result = null;
      if (nodeEmpty(node)) this.literals.delete(sub.subject);
      this.removed(sub);
      return true;
    }
    const tokens = sub.subject.split('.');
    const path: { level: Level<S>; token: string; node: Node<S> }[] = [];
    let level: Level<S> | null = this.root;
    for (let i = 0; i < tokens.length; i++) {
      if (level === null) return false;
      const t = tokens[i]!;
      const node: Node<S> | null = t === '*' ? level.pwc : t === '>' ? level.fwc : (level.nodes.get(t) ?? null);
      if (node === null) return false;
      path.push({ level, token: t, node });
      level = node.next;
    }
    if (!removeFrom(path[path.length - 1]!.node, sub)) return false;
    this.wildGen++;
    // Prune nodes left empty, deepest first, so churn (inboxes) leaves no garbage.
    for (let i = path.length - 1; i >= 0; i--) {
      const { level: l, token, node } = path[i]!;
      if (node.next !== null && levelEmpty(node.next)) node.next = null;
      if (!nodeEmpty(node)) break;
      if (token === '*') l.pwc = null;
      else if (token === '>') l.fwc = null;
      else l.nodes.delete(token);
    }
    this.removed(sub);
    return true;
  }

  private removed(sub: S): void {
    this.count--;
    this.removes++;
    this.invalidate(sub.subject);
  }

  /** Everything a published subject reaches. The result is shared: do not mutate it. */
  match(subject: string): MatchResult<S> {
    this.matches++;
    const hit = this.cache.get(subject);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    const result = this.count === 0 ? (EMPTY as MatchResult<S>) : this.stored(subject);
    if (this.admit(subject)) {
      if (this.cache.size >= this.cacheSize) this.evict();
      this.cache.set(subject, result);
    }
    return result;
  }

  /** nats-server's sublist statistics, for /subsz: fan-out over the cached subjects (queue groups count once each). */
  stats(): SublistStats {
    let max = 0;
    let sum = 0;
    for (const r of this.cache.values()) {
      const fanout = r.plain.length + r.queues.length;
      sum += fanout;
      if (fanout > max) max = fanout;
    }
    const cached = this.cache.size;
    return {
      subscriptions: this.count,
      cached,
      inserts: this.inserts,
      removes: this.removes,
      matches: this.matches,
      hitRate: this.matches === 0 ? 0 : this.hits / this.matches,
      maxFanout: max,
      avgFanout: cached === 0 ? 0 : sum / cached,
    };
  }

  /** The cached subjects and their results (the oldest first). Do not mutate them. */
  cached(): IterableIterator<[string, MatchResult<S>]> {
    return this.cache.entries();
  }

  /**
   * What a subject used once reaches (a reply subject): the same as match,
   * without looking in the cache or counting towards it (a literal subject's
   * result is kept on its node, bounded by the subscriptions, as match does).
   */
  matchOnce(subject: string): MatchResult<S> {
    return this.count === 0 ? (EMPTY as MatchResult<S>) : this.stored(subject);
  }

  /**
   * Whether a subject just missed was missed before too (then it is cached).
   * The set of subjects missed once is emptied when it reaches cacheSize, so
   * it stays bounded however many one-off subjects pass; a subject that
   * repeats within that many misses gets in.
   */
  private admit(subject: string): boolean {
    const seen = this.seen;
    if (seen.delete(subject)) return true;
    if (seen.size >= this.cacheSize) seen.clear();
    seen.add(subject);
    return false;
  }

  /** Drops the oldest quarter of the cache (Map keeps insertion order). */
  private evict(): void {
    let n = Math.max(1, this.cacheSize >> 2);
    for (const key of this.cache.keys()) {
      this.cache.delete(key);
      if (--n === 0) break;
    }
  }

  /** A literal subject's result kept on its node (made now if stale), or a walk's for a subject without one. */
  private stored(subject: string): MatchResult<S> {
    const node = this.literals.get(subject);
    if (node === undefined) return this.walk(subject, undefined);
    if (node.result !== null && node.gen === this.wildGen) return node.result;
    const result = this.walk(subject, node);
    node.result = result;
    node.gen = this.wildGen;
    return result;
  }

  private walk(subject: string, literal: Node<S> | undefined): MatchResult<S> {
    const acc: Acc<S> = { plain: [], groups: null };
    if (literal !== undefined) addNode(literal, acc);
    const root = this.root;
    if (root.nodes.size !== 0 || root.pwc !== null || root.fwc !== null) collect(root, subject, 0, acc);
    if (acc.groups === null) return acc.plain.length === 0 ? (EMPTY as MatchResult<S>) : { plain: acc.plain, queues: EMPTY.queues as readonly (readonly S[])[] };
    return { plain: acc.plain, queues: [...acc.groups.values()] };
  }

  private invalidate(pattern: string): void {
    const cache = this.cache;
    if (cache.size === 0) return;
    if (!hasWildcard(pattern)) {
      cache.delete(pattern);
      return;
    }
    // A wildcard's change costs a match per cached subject. In a burst (a connection with 100k wildcard
    // subscriptions closing took 74 s of scans with a full cache) emptying the cache is far cheaper: the
    // subjects that repeat come back on their second miss. So past SCAN_BUDGET full scans since the cache
    // was last emptied, it is emptied instead.
    this.scanned += cache.size;
    if (this.scanned > SCAN_BUDGET * this.cacheSize) {
      cache.clear();
      this.seen.clear();
      this.scanned = 0;
      return;
    }
    for (const key of cache.keys()) {
      if (subjectMatches(pattern, key)) cache.delete(key);
    }
  }
}

/** What a walk has found so far; the group map is made only when a queue group matches. */
interface Acc<S> {
  plain: S[];
  groups: Map<string, S[]> | null;
}

function addNode<S>(node: Node<S>, acc: Acc<S>): void {
  if (node.one !== null) acc.plain.push(node.one);
  else if (node.many !== null) for (const s of node.many) acc.plain.push(s);
  const queues = node.queues;
  if (queues === null) return;
  const groups = (acc.groups ??= new Map());
  for (const [name, members] of queues) {
    let g = groups.get(name);
    if (g === undefined) {
      g = [];
      groups.set(name, g);
    }
    for (const s of members) g.push(s);
  }
}

/** Matches the token of subject starting at `start` (tokens are cut as the walk goes, not split up front). */
function collect<S>(level: Level<S>, subject: string, start: number, acc: Acc<S>): void {
  const dot = subject.indexOf('.', start);
  const last = dot === -1;
  if (level.fwc !== null) addNode(level.fwc, acc);
  if (level.pwc !== null) {
    if (last) addNode(level.pwc, acc);
    else if (level.pwc.next !== null) collect(level.pwc.next, subject, dot + 1, acc);
  }
  if (level.nodes.size === 0) return;
  const node = level.nodes.get(last ? (start === 0 ? subject : subject.slice(start)) : subject.slice(start, dot));
  if (node !== undefined) {
    if (last) addNode(node, acc);
    else if (node.next !== null) collect(node.next, subject, dot + 1, acc);
  }
}
