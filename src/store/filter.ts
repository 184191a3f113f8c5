/** Subject filters shared by both stores (wildcards per ADR-6). */
import { hasWildcard, subjectMatches } from '../protocol/subject.js';
import type { SubjectFilter } from './types.js';

export type SubjectTest = (subject: string) => boolean;

const all: SubjectTest = () => true;

/** undefined, '', '>' and lists holding '>' match everything. */
export function compileFilter(filter: SubjectFilter | undefined): SubjectTest {
  if (filter === undefined || filter === '' || filter === '>') return all;
  const list = typeof filter === 'string' ? [filter] : filter;
  if (list.length === 0 || list.includes('>')) return all;
  if (list.length === 1) {
    const f = list[0]!;
    return hasWildcard(f) ? (s) => subjectMatches(f, s) : (s) => s === f;
  }
  return (s) => list.some((f) => subjectMatches(f, s));
}

/** The single literal subject a filter reduces to, or undefined (lets SQLite use its subject index). */
export function literalOf(filter: SubjectFilter | undefined): string | undefined {
  if (filter === undefined) return undefined;
  const f = typeof filter === 'string' ? filter : filter.length === 1 ? filter[0]! : undefined;
  if (f === undefined || f === '' || hasWildcard(f)) return undefined;
  return f;
}

export function matchesAll(filter: SubjectFilter | undefined): boolean {
  return compileFilter(filter) === all;
}
