/**
 * How a permission entry relates to a subject, over subjects split into
 * tokens: the three questions permissions ask (matches, covers, collides).
 * Property-tested against brute force in test/server/security/permissions.test.ts.
 */
/** A subject split into tokens. */
export type Tokens = readonly string[];

/**
 * nats-server's Sublist.Match of one entry: `subject` may hold wildcards,
 * which are compared as literal tokens (the entry's `*` takes any token, its
 * `>` one or more). For a literal subject this is plain subject matching.
 */
export function matchesTokens(entry: Tokens, subject: Tokens): boolean {
  for (let i = 0; i < entry.length; i++) {
    const t = entry[i]!;
    if (t === '>') return subject.length > i;
    if (i >= subject.length) return false;
    if (t !== '*' && t !== subject[i]) return false;
  }
  return entry.length === subject.length;
}

/**
 * matchesTokens for a literal subject given as a string, without splitting
 * it: a publish to a subject seen once (a reply inbox) is matched by this
 * walk, and allocating its tokens cost more than the walk.
 */
export function matchesLiteral(entry: Tokens, subject: string): boolean {
  const n = subject.length;
  let pos = 0;
  for (let i = 0; i < entry.length; i++) {
    if (pos > n) return false;
    const t = entry[i]!;
    if (t === '>') return pos < n;
    let end = subject.indexOf('.', pos);
    if (end === -1) end = n;
    if (t !== '*' && (end - pos !== t.length || !subject.startsWith(t, pos))) return false;
    pos = end + 1;
  }
  return pos > n;
}

/** Whether every literal subject that `subject` matches is matched by `entry`. */
export function coversTokens(entry: Tokens, subject: Tokens): boolean {
  for (let i = 0; i < subject.length; i++) {
    const e = entry[i];
    if (e === undefined) return false;
    if (e === '>') return true;
    const s = subject[i]!;
    if (s === '>') return false;
    if (e !== '*' && e !== s) return false;
  }
  return entry.length === subject.length;
}

/** Whether some literal subject is matched by both `a` and `b`. */
export function collidesTokens(a: Tokens, b: Tokens): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === '>' || y === '>') return true;
    if (x !== '*' && y !== '*' && x !== y) return false;
  }
  return a.length === b.length;
}

export const covers = (entry: string, subject: string): boolean => coversTokens(entry.split('.'), subject.split('.'));
export const collides = (a: string, b: string): boolean => collidesTokens(a.split('.'), b.split('.'));
