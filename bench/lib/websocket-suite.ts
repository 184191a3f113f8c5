/**
 * `npm run bench -- --websocket`: what the WebSocket transport costs (issue
 * #17's Measure), the hub against nats-server, each with a plain ws://
 * listener on a port of its own (peers.ts: hub-ws, nats-server-ws):
 *
 *   w1   W1 with nats.ws (the browser client, in Node through the ws
 *        package), with our client over ws:// on both ends, and with nats.js
 *        and our client over TCP: the baselines the WebSocket cost is read
 *        against
 *   w3   W3 (latency at a fixed rate) with nats.ws, and with nats.js over TCP
 *
 * Every peer's server and clients are processes of their own, as in the peer
 * comparison; runs are interleaved and each figure is the median of --runs.
 * The issue's targets: hub ÷ nats-server ≥ 1.0 for W1 (msgs/s) and W3 (as
 * fast: p99 ≤ 1.0) over WebSocket with nats.ws.
 */
import { latency, pubsub } from './workloads.js';
import { PUBSUB_COLUMNS, runSuite, selectPeers, type Case, type RatioDef } from './suite.js';
import { si } from './stats.js';
import type { PeerDef } from './peers.js';
import type { BenchOptions } from './options.js';

/** Pairs of the same client against the hub and nats-server next to each other, so drift on the machine hits both alike. */
const TCP: readonly PeerDef[] = [
  { id: 'hub/nats.js', server: 'hub', client: 'nats' },
  { id: 'nats-server/nats.js', server: 'nats-server', client: 'nats' },
];
const WS_NATS: readonly PeerDef[] = [
  { id: 'hub+ws/nats.ws', server: 'hub-ws', client: 'nats-ws' },
  { id: 'nats-server+ws/nats.ws', server: 'nats-server-ws', client: 'nats-ws' },
];
const WS_OURS: readonly PeerDef[] = [
  { id: 'hub+ws/ours', server: 'hub-ws', client: 'ours' },
  { id: 'nats-server+ws/ours', server: 'nats-server-ws', client: 'ours' },
];
const TCP_OURS: readonly PeerDef[] = [
  { id: 'hub/ours', server: 'hub', client: 'ours' },
  { id: 'nats-server/ours', server: 'nats-server', client: 'ours' },
];

const RATIOS: readonly RatioDef[] = [
  { caseId: 'w1', a: 'hub+ws/nats.ws', b: 'nats-server+ws/nats.ws', target: '≥ 1.0', goal: 1.0 },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+ws/nats.ws', b: 'nats-server+ws/nats.ws' },
  { caseId: 'w1', a: 'hub+ws/ours', b: 'nats-server+ws/ours' },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+ws/ours', b: 'nats-server+ws/ours' },
  { caseId: 'w1', a: 'hub+ws/ours', b: 'nats-server+ws/nats.ws' },
  { caseId: 'w1', a: 'hub/nats.js', b: 'nats-server/nats.js' },
  // The WebSocket cost on each server: the same workload over ws:// against over TCP.
  { caseId: 'w1', a: 'hub+ws/nats.ws', b: 'hub/nats.js' },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+ws/nats.ws', b: 'hub/nats.js' },
  { caseId: 'w1', a: 'nats-server+ws/nats.ws', b: 'nats-server/nats.js' },
  { caseId: 'w1', metric: 'server µs/msg', a: 'nats-server+ws/nats.ws', b: 'nats-server/nats.js' },
  { caseId: 'w1', a: 'hub+ws/ours', b: 'hub/ours' },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+ws/ours', b: 'hub/ours' },
  { caseId: 'w1', a: 'nats-server+ws/ours', b: 'nats-server/ours' },
  // The clients' side of the transport: each client's CPU per message over ws:// against over TCP.
  { caseId: 'w1', metric: 'pub µs/msg', a: 'hub+ws/ours', b: 'hub/ours' },
  { caseId: 'w1', metric: 'sub µs/msg', a: 'hub+ws/ours', b: 'hub/ours' },
  { caseId: 'w1', metric: 'pub µs/msg', a: 'hub+ws/nats.ws', b: 'hub/nats.js' },
  { caseId: 'w1', metric: 'sub µs/msg', a: 'hub+ws/nats.ws', b: 'hub/nats.js' },
  { caseId: 'w1', metric: 'pub µs/msg', a: 'hub+ws/ours', b: 'hub+ws/nats.ws' },
  { caseId: 'w1', metric: 'sub µs/msg', a: 'hub+ws/ours', b: 'hub+ws/nats.ws' },
  { caseId: 'w3', a: 'hub+ws/nats.ws', b: 'nats-server+ws/nats.ws', target: '≤ 1.0 (p99)', goal: 1.0 },
  { caseId: 'w3', metric: 'p50 µs', a: 'hub+ws/nats.ws', b: 'nats-server+ws/nats.ws' },
  { caseId: 'w3', metric: 'server µs/msg', a: 'hub+ws/nats.ws', b: 'nats-server+ws/nats.ws' },
  { caseId: 'w3', a: 'hub/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w3', a: 'hub+ws/nats.ws', b: 'hub/nats.js' },
  { caseId: 'w3', a: 'nats-server+ws/nats.ws', b: 'nats-server/nats.js' },
];

const W3_COLUMNS: readonly string[] = ['p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'server µs/msg', 'server reads/1k', 'server writes/1k'];

export async function runWebSocket(o: BenchOptions): Promise<void> {
  const skipped: Record<string, string> = {};
  const select = async (defs: readonly PeerDef[]): Promise<PeerDef[]> => {
    const r = await selectPeers(defs, o);
    Object.assign(skipped, r.skipped);
    return r.peers;
  };
  const cases: Case[] = [];
  if (o.workloads.includes('w1')) {
    cases.push({
      id: 'w1',
      title: `W1 (WebSocket): 1 publisher → 1 subscriber, ${si(o.messages)} × ${o.size} B; nats.ws and our client over ws://, nats.js and ours over TCP`,
      metric: 'msgs/s',
      higherIsBetter: true,
      columns: [...PUBSUB_COLUMNS, 'pub µs/msg', 'sub µs/msg'],
      peers: await select([...WS_NATS, ...WS_OURS, ...TCP, ...TCP_OURS]),
      run: (p) => pubsub(p, o, 1, o.messages),
    });
  }
  if (o.workloads.includes('w3')) {
    cases.push({
      id: 'w3',
      title: `W3 (WebSocket): latency at ${si(o.rate)} msgs/s for ${o.durationMs / 1000} s (after 1 s warm-up), µs; nats.ws over ws://, nats.js over TCP`,
      metric: 'p99 µs',
      higherIsBetter: false,
      columns: W3_COLUMNS,
      peers: await select([...WS_NATS, ...TCP]),
      run: (p) => latency(p, o),
    });
  }
  await runSuite(o, { kind: 'websocket', cases, ratios: RATIOS, skipped });
}
