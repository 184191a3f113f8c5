/**
 * The dashboard's subjects view: the busiest subjects, with message and byte
 * rates and subscriber counts. The router counts each subject's messages on
 * the record it keeps with the subject's cached match (RouteMemo: two
 * increments per publish); this reads those counters once per interval, only
 * while a page watches the view, and diffs them with the previous read.
 *
 * Bounded by the subject cache: only subjects that are published repeatedly
 * and reach at least one subscriber are there (a message nobody receives has
 * no cached line to count on), at most the cache's size. A subject whose entry
 * was dropped (a subscription changed its match) starts counting again.
 */
import { fromWire } from '../protocol/bytes.js';
import type { RouteMemo } from '../server/router.js';
import type { MonitorViewer } from './route.js';
import type { MonitorSource } from './types.js';

export const SUBJECTS_LIMIT = 50;

export interface SubjectRow {
  /** The wire subject (for the viewer's check). */
  wire: string;
  subject: string;
  msgs_rate: number;
  bytes_rate: number;
  msgs: number;
  subscribers: number;
}

interface Last {
  memo: RouteMemo;
  msgs: number;
  bytes: number;
}

export class SubjectRates {
  private last = new Map<string, Last>();
  private lastAt = 0;
  private rows: SubjectRow[] = [];

  /** A new interval: reads the counters; returns every subject that moved, busiest first. */
  sample(src: MonitorSource, now = Date.now()): SubjectRow[] {
    const ms = now - this.lastAt;
    const next = new Map<string, Last>();
    const rows: SubjectRow[] = [];
    for (const [subject, r] of src.bus.subjects()) {
      const memo = r.memo as RouteMemo | undefined;
      if (memo === undefined) continue;
      next.set(subject, { memo, msgs: memo.msgs, bytes: memo.bytes });
      const p = this.last.get(subject);
      // A new entry counted everything it holds since the last read.
      const same = p !== undefined && p.memo === memo;
      const dm = memo.msgs - (same ? p.msgs : 0);
      const db = memo.bytes - (same ? p.bytes : 0);
      let subscribers = r.plain.length;
      for (const g of r.queues) subscribers += g.length;
      rows.push({
        wire: subject,
        subject: fromWire(subject),
        msgs_rate: this.lastAt === 0 ? 0 : Math.round((dm * 10_000) / ms) / 10,
        bytes_rate: this.lastAt === 0 ? 0 : Math.round((db * 10_000) / ms) / 10,
        msgs: memo.msgs,
        subscribers,
      });
    }
    rows.sort((a, b) => b.msgs_rate - a.msgs_rate || b.msgs - a.msgs);
    this.last = next;
    this.lastAt = now;
    this.rows = rows;
    return rows;
  }

  /** The last sample's rows. */
  get current(): SubjectRow[] {
    return this.rows;
  }
}

/** What one viewer sees: the busiest subjects it may subscribe to. */
export function subjectsFor(rows: readonly SubjectRow[], viewer: MonitorViewer): object[] {
  const out: object[] = [];
  for (const r of rows) {
    if (out.length >= SUBJECTS_LIMIT) break;
    if (!viewer.maySubscribe(r.wire)) continue;
    out.push({ subject: r.subject, msgs_rate: r.msgs_rate, bytes_rate: r.bytes_rate, msgs: r.msgs, subscribers: r.subscribers });
  }
  return out;
}
