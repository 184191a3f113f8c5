/**
 * deliver_policy last_per_subject: a consumer starts with the newest message
 * of every subject its filter matches, as they were when it was created, then
 * delivers everything newer than the stream's last seq at that moment.
 *
 *   stream   1:a  2:b  3:a  4:c  5:b │ 6:a  7:d …
 *   listed        ────  3    4    5  │ resume = 5, then 6, 7, … as usual
 */
import type { Store, StoredMessage } from '../../store/index.js';

export class LastPerSubjectStart {
  /** The listed seqs, ascending. */
  readonly seqs: readonly number[];
  /** The stream's last seq when the consumer was created: after it, every message counts. */
  readonly resume: number;
  /** The first listed seq not yet passed. */
  private i = 0;

  constructor(seqs: readonly number[], resume: number) {
    this.seqs = seqs;
    this.resume = resume;
  }

  /** The start for a consumer created now. */
  static compute(store: Store, stream: string, filters: readonly string[]): LastPerSubjectStart {
    const resume = store.streamTotals(stream).lastSeq;
    return new LastPerSubjectStart(lastPerSubjectSeqs(store, stream, filters, resume), resume);
  }

  /**
   * The next listed message at or after `from`; `gone` counts listed ones
   * skipped because they left the stream since (a newer revision replaced
   * them, a purge). Undefined when the list is done: go on from resume + 1.
   */
  next(store: Store, stream: string, from: number): { msg: StoredMessage | undefined; gone: number } {
    let gone = 0;
    while (this.i < this.seqs.length) {
      const seq = this.seqs[this.i]!;
      if (seq >= from) {
        const msg = store.getMessage(stream, seq);
        if (msg !== undefined) return { msg, gone };
        gone++;
      }
      this.i++;
    }
    return { msg: undefined, gone };
  }

  /** Listed messages still to come after stream seq `after`. */
  leftAfter(after: number): number {
    let n = 0;
    for (let k = this.i; k < this.seqs.length; k++) if (this.seqs[k]! > after) n++;
    return n;
  }
}

/**
 * The newest message's seq of every subject matching `filters`, up to
 * `upTo`, in seq order. One pass over the matching messages (a KV bucket
 * keeps one per key by default).
 */
export function lastPerSubjectSeqs(store: Store, stream: string, filters: readonly string[], upTo: number): number[] {
  const last = new Map<string, number>();
  const filter = filters.length === 0 ? undefined : filters;
  for (let from = 1; ; ) {
    const batch = store.loadMessages(stream, from, { filter, limit: 1024 });
    for (const m of batch) if (m.seq <= upTo) last.set(m.subject, m.seq);
    if (batch.length === 0 || batch[batch.length - 1]!.seq >= upTo) break;
    from = batch[batch.length - 1]!.seq + 1;
  }
  return [...last.values()].sort((a, b) => a - b);
}
