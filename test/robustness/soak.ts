/**
 * Mixed load against a hub, with every delivery accounted for:
 *
 *   events  pub ──► soak.events ──► 4 plain listeners     each gets every event
 *   jobs    pub ──► soak.jobs   ──► queue group of 3      each job handled once
 *   rpc     req ──► soak.rpc    ──► 2 handlers (queue)    every request answered
 *   churn   a connection opened, used and closed every 50 ms
 *
 * `npm run soak -- --minutes N` runs it against a child hub and prints hub
 * RSS over time, message counts and errors; the test suite runs it for a
 * few seconds. Any loss or duplicate is an error.
 */
import { connect, type Bus } from '../../src/index.js';

export interface SoakSample {
  atSeconds: number;
  rssMB: number;
  events: number;
  jobs: number;
  requests: number;
}

export interface SoakResult {
  seconds: number;
  eventsSent: number;
  eventsReceived: number;
  jobsSent: number;
  jobsHandled: number;
  jobDuplicates: number;
  requestsSent: number;
  requestsAnswered: number;
  requestsLost: number;
  churnCycles: number;
  errors: string[];
  samples: SoakSample[];
  /** Least-squares slope of RSS after the first 20% of the run, MB per minute. */
  rssSlopeMBPerMin: number;
}

export interface SoakOptions {
  url: string;
  seconds: number;
  /** Events and jobs per second, each. */
  rate?: number;
  /** Requests per second. */
  requestRate?: number;
  rss?: () => number;
  sampleEvery?: number;
  onSample?: (s: SoakSample) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const rate = o.rate ?? 2000;
  const requestRate = o.requestRate ?? 200;
  const errors: string[] = [];
  const note = (e: unknown): void => {
    if (errors.length < 50) errors.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  };
  const buses: Bus[] = [];
  const open = async (name: string): Promise<Bus> => {
    const b = await connect({ servers: o.url, name, reconnect: false });
    b.status.on('error', note);
    buses.push(b);
    return b;
  };

  let eventsReceived = 0;
  for (let i = 0; i < 4; i++) (await open(`listener-${i}`)).on('soak.events', () => eventsReceived++);
  const handled = new Map<number, number>();
  for (let i = 0; i < 3; i++) {
    (await open(`worker-${i}`)).on('soak.jobs', (n: number) => handled.set(n, (handled.get(n) ?? 0) + 1), { queue: 'workers' });
  }
  for (let i = 0; i < 2; i++) (await open(`rpc-${i}`)).handle('soak.rpc', (n: number) => n * 2);
  const pub = await open('publisher');
  const requester = await open('requester');
  for (const b of buses) await b.flush();

  const r: SoakResult = {
    seconds: o.seconds,
    eventsSent: 0,
    eventsReceived: 0,
    jobsSent: 0,
    jobsHandled: 0,
    jobDuplicates: 0,
    requestsSent: 0,
    requestsAnswered: 0,
    requestsLost: 0,
    churnCycles: 0,
    errors,
    samples: [],
    rssSlopeMBPerMin: 0,
  };
  const start = Date.now();
  const end = start + o.seconds * 1000;
  const inflight = new Set<Promise<void>>();

  const publishing = (async () => {
    const tick = 10;
    while (Date.now() < end) {
      const due = Math.round(((Date.now() - start) / 1000) * rate);
      while (r.eventsSent < due) {
        pub.emit('soak.events', { n: r.eventsSent++ });
        pub.emit('soak.jobs', r.jobsSent++);
      }
      const dueReq = Math.round(((Date.now() - start) / 1000) * requestRate);
      while (r.requestsSent < dueReq) {
        const n = r.requestsSent++;
        const p = requester
          .request('soak.rpc', n, { timeout: 5000 })
          .then((v) => {
            if (v === n * 2) r.requestsAnswered++;
            else note(`wrong reply ${String(v)} for ${n}`);
          })
          .catch((e: unknown) => {
            r.requestsLost++;
            note(e);
          });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await pub.flush().catch(note);
      await sleep(tick);
    }
  })();

  const churning = (async () => {
    while (Date.now() < end) {
      try {
        const b = await connect({ servers: o.url, reconnect: false });
        b.on('soak.churn', () => {});
        b.emit('soak.churn', r.churnCycles);
        await b.flush();
        await b.close();
        r.churnCycles++;
      } catch (e) {
        note(e);
      }
      await sleep(50);
    }
  })();

  const sampling = (async () => {
    const every = o.sampleEvery ?? 10;
    for (let t = every; start + t * 1000 <= end; t += every) {
      await sleep(Math.max(0, start + t * 1000 - Date.now()));
      const s: SoakSample = { atSeconds: t, rssMB: o.rss ? o.rss() : 0, events: eventsReceived, jobs: handled.size, requests: r.requestsAnswered };
      r.samples.push(s);
      o.onSample?.(s);
    }
  })();

  await Promise.all([publishing, churning, sampling]);
  await Promise.allSettled([...inflight]);
  // Let the last events arrive: every listener's flush round-trips after them.
  await pub.flush().catch(note);
  const settle = Date.now() + 10_000;
  while ((eventsReceived < r.eventsSent * 4 || handled.size < r.jobsSent) && Date.now() < settle) await sleep(20);
  r.eventsReceived = eventsReceived;
  r.jobsHandled = handled.size;
  for (const c of handled.values()) if (c > 1) r.jobDuplicates += c - 1;
  if (r.eventsReceived !== r.eventsSent * 4) note(`events: sent ${r.eventsSent} to 4 listeners, received ${r.eventsReceived}`);
  if (r.jobsHandled !== r.jobsSent) note(`jobs: sent ${r.jobsSent}, handled ${r.jobsHandled}`);
  if (r.jobDuplicates > 0) note(`jobs handled more than once: ${r.jobDuplicates}`);
  await Promise.all(buses.map((b) => b.close().catch(note)));
  r.rssSlopeMBPerMin = slope(r.samples.filter((s) => s.atSeconds > o.seconds * 0.2));
  return r;
}

function slope(samples: SoakSample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((a, s) => a + s.atSeconds, 0) / n;
  const my = samples.reduce((a, s) => a + s.rssMB, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.atSeconds - mx) * (s.rssMB - my);
    den += (s.atSeconds - mx) ** 2;
  }
  return den === 0 ? 0 : Math.round((num / den) * 60 * 100) / 100;
}
