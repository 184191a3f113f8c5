/**
 * `npm run bench -- --monitor`: what an open dashboard costs the hub (issue
 * #16's Measure). W1 against the hub with monitoring off, and against the
 * hub with monitoring on and a dashboard page's live feed open, tailing `>`
 * (tail-page.ts reads it in its own process, as a browser would), and with
 * the dashboard itself open in headless Chromium (browser-page.ts; skipped
 * without /usr/bin/chromium or playwright-core; `--peers hub/,hub+tail`
 * leaves it out), runs interleaved, each figure the median of `--runs`. Target: tailed ÷ off ≥ 0.9
 * in msgs/s; the hub's CPU per message and peak RSS beside it.
 */
import { pubsub } from './workloads.js';
import { PUBSUB_COLUMNS, runSuite, selectPeers, type RatioDef } from './suite.js';
import { si } from './stats.js';
import type { PeerDef } from './peers.js';
import type { BenchOptions } from './options.js';

const PEERS: readonly PeerDef[] = [
  { id: 'hub/nats.js', server: 'hub', client: 'nats' },
  { id: 'hub+tail/nats.js', server: 'hub-tail', client: 'nats' },
  { id: 'hub+browser/nats.js', server: 'hub-browser', client: 'nats' },
];

const RATIOS: readonly RatioDef[] = [
  { caseId: 'w1', a: 'hub+tail/nats.js', b: 'hub/nats.js', target: '≥ 0.9', goal: 0.9 },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+tail/nats.js', b: 'hub/nats.js' },
  { caseId: 'w1', metric: 'server peak RSS', a: 'hub+tail/nats.js', b: 'hub/nats.js' },
  { caseId: 'w1', a: 'hub+browser/nats.js', b: 'hub/nats.js', target: '≥ 0.9', goal: 0.9 },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+browser/nats.js', b: 'hub/nats.js' },
];

export async function runMonitor(o: BenchOptions): Promise<void> {
  const { peers, skipped } = await selectPeers(PEERS, o);
  await runSuite(o, {
    kind: 'monitor',
    cases: [
      {
        id: 'w1',
        title: `W1 (monitoring): 1 publisher → 1 subscriber, ${si(o.messages)} × ${o.size} B; monitoring off, and the dashboard's live feed tailing '>'`,
        metric: 'msgs/s',
        higherIsBetter: true,
        columns: PUBSUB_COLUMNS,
        peers,
        run: (p) => pubsub(p, o, 1, o.messages),
      },
    ],
    ratios: RATIOS,
    skipped,
  });
}
