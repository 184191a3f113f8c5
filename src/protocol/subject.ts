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

/**
 * Whether a literal subject matches a (possibly wildcard) pattern. The simple
 * reference implementation: the subject index is checked against it.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const t = p[i]!;
    if (t === '>') return s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return p.length === s.length;
}
