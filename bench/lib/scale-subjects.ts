/**
 * What the scale bench's workers subscribe to and publish on, as pure
 * functions of a few numbers: the harness and the workers compute the same
 * sets, so no list of a million subjects crosses a command line, and the
 * harness knows how many deliveries each subscriber process must see before
 * anything is published.
 *
 * The subscriptions axis, `total` subscriptions over `conns` connections
 * (subscription j on connection j mod conns):
 *
 *   j <  L = total - W        scale.<j>.ev          literal
 *   j >= L, w = j - L         scale.<k>.*  |  scale.<k>.>  |  *.<k>.ev   (w mod 3)
 *                             k = floor(w × L / W): spread over the literals,
 *                             each wildcard matching exactly one of them
 *
 * W is 10% of total. The publisher sends message m to literal plan[m mod P],
 * a seeded random draw made once (P = min(count, 2^20)), so the random
 * number generator is not what is measured.
 *
 * Latency samples are merged across processes as histograms with 2% wide
 * buckets (a thousand subscribers' samples do not cross the IPC channel).
 */

/** What a scale subscriber process subscribes to, connection by connection (c is the global connection index). */
export type SubjectSet =
  | { kind: 'scale'; total: number; conns: number }
  | { kind: 'same'; subject: string }
  | { kind: 'per-conn'; prefix: string };

/** Where a scale publisher's messages go: message m on its connection m mod conns. */
export type Targets = { kind: 'plan'; literals: number; seed: number } | { kind: 'same'; subject: string } | { kind: 'per-conn'; prefix: string };

export type ScaleJob =
  /** `conns` connections, global indexes from…from+conns-1; done after `expect` deliveries in all. */
  | { role: 'scale-sub'; url: string; subjects: SubjectSet; from: number; conns: number; expect: number; progressEvery: number; subBatch: number }
  | { role: 'scale-pub'; url: string; targets: Targets; from: number; conns: number; count: number; size: number; batch: number; inflight: number; window: number }
  /** `conns` latency probes on one subject (lat-pub's messages); done after `expect` measured samples in all. */
  | { role: 'scale-lat-sub'; url: string; subject: string; conns: number; expect: number };

/** The number of wildcard subscriptions among `total`. */
export function wildcards(total: number): number {
  return Math.floor(total / 10);
}

/** The literal subscriptions among `total`. */
export function literals(total: number): number {
  return total - wildcards(total);
}

/** Subscription j's subject. */
export function scaleSubject(total: number, j: number): string {
  const l = literals(total);
  if (j < l) return `scale.${j}.ev`;
  const w = j - l;
  const k = Math.floor((w * l) / wildcards(total));
  switch (w % 3) {
    case 0:
      return `scale.${k}.*`;
    case 1:
      return `scale.${k}.>`;
    default:
      return `*.${k}.ev`;
  }
}

/** The subjects connection c subscribes to. */
export function* subjectsOf(set: SubjectSet, c: number): Generator<string> {
  switch (set.kind) {
    case 'scale':
      for (let j = c; j < set.total; j += set.conns) yield scaleSubject(set.total, j);
      return;
    case 'same':
      yield set.subject;
      return;
    case 'per-conn':
      yield `${set.prefix}.${c}`;
      return;
  }
}

/** mulberry32: a small seeded generator, the same sequence in every process. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The literal indexes the publisher cycles through. */
export function plan(literalCount: number, seed: number, count: number): Uint32Array {
  const next = rng(seed);
  const p = new Uint32Array(Math.min(count, 1 << 20));
  for (let i = 0; i < p.length; i++) p[i] = Math.floor(next() * literalCount);
  return p;
}

/** Message m of connection i's share when `count` messages go round-robin over `conns` connections. */
export function shareOf(count: number, conns: number, i: number): number {
  return Math.floor(count / conns) + (i < count % conns ? 1 : 0);
}

/**
 * Deliveries each subscription connection sees when `count` messages follow
 * the plan: the literal's subscriber, and the wildcard's when one matches it.
 */
export function scaleExpect(total: number, conns: number, seed: number, count: number): Float64Array {
  const l = literals(total);
  const w = wildcards(total);
  // The wildcard matching literal k, or -1.
  const wildOf = new Int32Array(l).fill(-1);
  for (let i = 0; i < w; i++) wildOf[Math.floor((i * l) / w)] = l + i;
  const p = plan(l, seed, count);
  const perConn = new Float64Array(conns);
  const cycles = Math.floor(count / p.length);
  const rest = count % p.length;
  for (let m = 0; m < p.length; m++) {
    const times = cycles + (m < rest ? 1 : 0);
    const k = p[m]!;
    perConn[k % conns] += times;
    const j = wildOf[k]!;
    if (j >= 0) perConn[j % conns] += times;
  }
  return perConn;
}

// ── latency histograms ──────────────────────────────────────────────────────

const LOG_STEP = Math.log(1.02);

/** Adds a sample (µs) to a histogram keyed by bucket. */
export function histAdd(h: Map<number, number>, us: number): void {
  const b = us <= 1 ? 0 : Math.ceil(Math.log(us) / LOG_STEP);
  h.set(b, (h.get(b) ?? 0) + 1);
}

/** A percentile (µs, the bucket's upper edge: within 2%) of merged histograms. */
export function histPercentile(hs: readonly Record<string, number>[], p: number): number {
  const merged = new Map<number, number>();
  let n = 0;
  for (const h of hs) {
    for (const [k, v] of Object.entries(h)) {
      merged.set(Number(k), (merged.get(Number(k)) ?? 0) + v);
      n += v;
    }
  }
  if (n === 0) return NaN;
  const rank = Math.ceil((p / 100) * n);
  let seen = 0;
  for (const b of [...merged.keys()].sort((a, c) => a - c)) {
    seen += merged.get(b)!;
    if (seen >= rank) return Math.exp(b * LOG_STEP);
  }
  return NaN;
}
