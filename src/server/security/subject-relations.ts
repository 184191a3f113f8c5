/**
 * How a permission entry relates to a subject: the three questions
 * permissions ask (matches, covers, collides). The token forms live in
 * protocol/subject.ts, shared with JetStream's stream subjects; this adds
 * the literal-string match for the publish path. Property-tested against
 * brute force in test/server/security/permissions.test.ts.
 */
import { collidesTokens, coversTokens, matchesTokens, subjectIsSubset, subjectsCollide, type Tokens } from '../../protocol/subject.js';

export { collidesTokens, coversTokens, matchesTokens, type Tokens };

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
export const covers = (entry: string, subject: string): boolean => subjectIsSubset(subject, entry);
export const collides = subjectsCollide;
