/**
 * `npm run bench -- --schemas`: what checking a JSON Schema costs the
 * publish path (issue #19's Measure). W1 with the same 200-byte JSON event
 * (schema-fixture.ts) against the hub with no schema, the hub with schemas on
 * other subjects only (the gate is on, W1's subject has no rule), and the
 * hub checking the event's schema on every message; nats-server beside them
 * for reference. Runs interleaved, each figure the median of `--runs`.
 * Targets: schema ÷ none ≥ 0.8 in msgs/s; other ÷ none no change (≈ 1.0).
 */
import { pubsub } from './workloads.js';
import { PUBSUB_COLUMNS, runSuite, selectPeers, type RatioDef } from './suite.js';
import { si } from './stats.js';
import { SCHEMA_EVENT } from './schema-fixture.js';
import type { PeerDef } from './peers.js';
import type { BenchOptions } from './options.js';

export const SCHEMA_PEERS: readonly PeerDef[] = [
  { id: 'hub/nats.js', server: 'hub', client: 'nats' },
  { id: 'hub+schema-other/nats.js', server: 'hub-schema-other', client: 'nats' },
  { id: 'hub+schema/nats.js', server: 'hub-schema', client: 'nats' },
  { id: 'nats-server/nats.js', server: 'nats-server', client: 'nats' },
];

const RATIOS: readonly RatioDef[] = [
  { caseId: 'w1', a: 'hub+schema/nats.js', b: 'hub/nats.js', target: '≥ 0.8', goal: 0.8 },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+schema/nats.js', b: 'hub/nats.js' },
  { caseId: 'w1', a: 'hub+schema-other/nats.js', b: 'hub/nats.js', target: '≈ 1.0', goal: 0.97 },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+schema-other/nats.js', b: 'hub/nats.js' },
  { caseId: 'w1', a: 'hub+schema/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w1', a: 'hub/nats.js', b: 'nats-server/nats.js' },
];

export async function runSchemas(o: BenchOptions): Promise<void> {
  const { peers, skipped } = await selectPeers(SCHEMA_PEERS, o);
  await runSuite(o, {
    kind: 'schemas',
    cases: [
      {
        id: 'w1',
        title: `W1 (schemas): 1 publisher → 1 subscriber, ${si(o.messages)} × a ${Buffer.byteLength(SCHEMA_EVENT)} B JSON event; no schema, schemas on other subjects, a schema on the subject`,
        metric: 'msgs/s',
        higherIsBetter: true,
        columns: PUBSUB_COLUMNS,
        peers,
        run: (p) => pubsub(p, o, 1, o.messages, {}, SCHEMA_EVENT),
      },
    ],
    ratios: RATIOS,
    skipped,
  });
}
