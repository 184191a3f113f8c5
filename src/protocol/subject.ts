/**
 * Subject syntax (ADR-6): tokens separated by `.`, none empty, none holding
 * whitespace. `*` as a whole token matches one token; `>` as the last token
 * matches one or more. A wildcard character inside a longer token is literal.
 */

/** A token of a subject, or a queue group name: not empty, no whitespace. */
export function isValidToken(t: string): boolean {
  if (t.length === 0) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) return false;
  }
  return true;
}

/** A valid subscription subject: wildcards allowed, `>` only last. */
export function isValidSubject(subject: string): boolean {
  if (subject.length === 0) return false;
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!isValidToken(t)) return false;
    if (t === '>' && i !== tokens.length - 1) return false;
  }
  return true;
}

/** A valid publish subject: a valid subject with no wildcard token. */
export function isValidLiteralSubject(subject: string): boolean {
  if (subject.length === 0) return false;
  const tokens = subject.split('.');
  for (const t of tokens) {
    if (!isValidToken(t) || t === '*' || t === '>') return false;
  }
  return true;
}

/** Whether a subject has a wildcard token. */
export function hasWildcard(subject: string): boolean {
  if (subject === '*' || subject === '>') return true;
  if (subject.startsWith('*.') || subject.startsWith('>.')) return true;
  if (subject.endsWith('.*') || subject.endsWith('.>')) return true;
  return subject.includes('.*.');
}

/** A subject split into tokens. */
export type Tokens = readonly string[];

/**
 * Whether `subject` is matched by the pattern `entry` (nats-server's
 * Sublist.Match of one entry): the entry's `*` takes any token, its `>` one
 * or more; wildcards in `subject` are compared as literal tokens. For a
 * literal subject this is plain subject matching.
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

/**
 * Whether a literal subject matches a (possibly wildcard) pattern. The simple
 * reference implementation: the subject index is checked against it.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  return matchesTokens(pattern.split('.'), subject.split('.'));
}

/** Whether some literal subject matches both patterns. */
export function subjectsCollide(a: string, b: string): boolean {
  return collidesTokens(a.split('.'), b.split('.'));
}

/** Whether every subject `filter` matches is also matched by `pattern`. */
export function subjectIsSubset(filter: string, pattern: string): boolean {
  return coversTokens(pattern.split('.'), filter.split('.'));
}
