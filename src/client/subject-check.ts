/** The subject checks of the bus's calls: a listener may use wildcards, an emit may not. */
import { isValidSubject, isValidLiteralSubject } from '../protocol/subject.js';
import { InvalidSubjectError } from '../errors.js';

export function checkListenSubject(subject: string): void {
  if (typeof subject !== 'string' || !isValidSubject(subject)) throw new InvalidSubjectError(String(subject), 'expected tokens separated by dots, no spaces, `>` only last');
}

/** The last subject found valid: a stream of emits mostly repeats its subject. */
let lastValidSubject = '';

export function checkEmitSubject(subject: string): void {
  if (subject === lastValidSubject) return;
  if (typeof subject !== 'string' || !isValidLiteralSubject(subject)) {
    throw new InvalidSubjectError(String(subject), 'expected tokens separated by dots, no spaces and no wildcards');
  }
  lastValidSubject = subject;
}
