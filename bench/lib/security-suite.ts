/**
 * `npm run bench -- --security`: what TLS, a users list with permissions and
 * bcrypt passwords cost, the hub against nats-server with the same
 * certificates and users (security.ts), loaded by the same client (nats.js):
 *
 *   w1      W1 plain, with a users list and permissions, and over TLS
 *   w2      W2 plain and over TLS
 *   setup   connection set-up (connect to first PONG), one connection after
 *           another: plain, TLS, bcrypt, TLS + bcrypt (a user of its own for
 *           each connection), and bcrypt with one user throughout
 *   stall   one connected client's PING round trips while bcrypt users log
 *           in two at a time: does a log-in hold up the server's other clients?
 *
 * The targets: hub+tls ÷ nats-server+tls ≥ 1.0 (W1, W2); hub with
 * permissions ÷ hub without ≥ 0.95 (W1), with nats-server's same pair beside
 * it for reference. Set-up and stall have no target: hub ÷ nats-server, lower is faster.
 */
import { connectionSetup, pubsub, stall } from './workloads.js';
import { PUBSUB_COLUMNS, runSuite, selectPeers, type Case, type RatioDef } from './suite.js';
import { si } from './stats.js';
import type { PeerDef } from './peers.js';
import type { BenchOptions, Variant } from './options.js';

function natsPeer(server: 'hub' | 'nats-server', variant?: Variant): PeerDef {
  const id = variant === undefined ? `${server}/nats.js` : `${server}+${variant}/nats.js`;
  return { id, server, client: 'nats', ...(variant === undefined ? {} : { variant }) };
}

/** Set-up runs from a bare client (setup-client.ts): the peer is the server and its set-up. */
function setupPeer(server: 'hub' | 'nats-server', variant?: Variant): PeerDef {
  return { id: variant === undefined ? server : `${server}+${variant}`, server, client: 'raw', ...(variant === undefined ? {} : { variant }) };
}

/** Adjacent pairs (hub with and without permissions) run next to each other, so drift on the machine hits both alike. */
const W1_PEERS: readonly PeerDef[] = [
  natsPeer('hub'),
  natsPeer('hub', 'perms'),
  natsPeer('nats-server'),
  natsPeer('nats-server', 'perms'),
  natsPeer('hub', 'tls'),
  natsPeer('nats-server', 'tls'),
];
const W2_PEERS: readonly PeerDef[] = [natsPeer('hub'), natsPeer('nats-server'), natsPeer('hub', 'tls'), natsPeer('nats-server', 'tls')];

interface SetupCase {
  readonly id: string;
  readonly variant: Variant | undefined;
  /** bcrypt: every connection a user of its own (a full compare each), or one user throughout. */
  readonly oneUser: boolean;
  readonly label: string;
}

const SETUPS: readonly SetupCase[] = [
  { id: 'setup-plain', variant: undefined, oneUser: false, label: 'plain' },
  { id: 'setup-tls', variant: 'tls', oneUser: false, label: 'TLS' },
  { id: 'setup-bcrypt', variant: 'bcrypt', oneUser: false, label: 'bcrypt (cost 11), a user of its own each' },
  { id: 'setup-tls+bcrypt', variant: 'tls+bcrypt', oneUser: false, label: 'TLS + bcrypt (cost 11), a user of its own each' },
  // A fleet reconnecting with the same credentials: a server that remembers a verified password answers from memory.
  { id: 'setup-bcrypt-1user', variant: 'bcrypt', oneUser: true, label: 'bcrypt (cost 11), the same user each time' },
];

const RATIOS: readonly RatioDef[] = [
  { caseId: 'w1', a: 'hub+tls/nats.js', b: 'nats-server+tls/nats.js', target: '≥ 1.0', goal: 1.0 },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+tls/nats.js', b: 'nats-server+tls/nats.js' },
  { caseId: 'w1', a: 'hub+perms/nats.js', b: 'hub/nats.js', target: '≥ 0.95', goal: 0.95 },
  { caseId: 'w1', metric: 'server µs/msg', a: 'hub+perms/nats.js', b: 'hub/nats.js' },
  { caseId: 'w1', a: 'nats-server+perms/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w1', metric: 'server µs/msg', a: 'nats-server+perms/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w1', a: 'hub/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w1', a: 'hub+tls/nats.js', b: 'hub/nats.js' },
  { caseId: 'w1', a: 'nats-server+tls/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w2', a: 'hub+tls/nats.js', b: 'nats-server+tls/nats.js', target: '≥ 1.0', goal: 1.0 },
  { caseId: 'w2', metric: 'server µs/msg', a: 'hub+tls/nats.js', b: 'nats-server+tls/nats.js' },
  { caseId: 'w2', a: 'hub/nats.js', b: 'nats-server/nats.js' },
  { caseId: 'w2', a: 'hub+tls/nats.js', b: 'hub/nats.js' },
  { caseId: 'w2', a: 'nats-server+tls/nats.js', b: 'nats-server/nats.js' },
  ...SETUPS.flatMap((c): RatioDef[] => {
    const a = setupPeer('hub', c.variant).id;
    const b = setupPeer('nats-server', c.variant).id;
    return [
      { caseId: c.id, a, b },
      { caseId: c.id, metric: 'p99 µs', a, b },
      { caseId: c.id, metric: 'server CPU µs/conn', a, b },
    ];
  }),
  { caseId: 'stall', a: 'hub+bcrypt', b: 'nats-server+bcrypt' },
  { caseId: 'stall', metric: 'p99 µs', a: 'hub+bcrypt', b: 'nats-server+bcrypt' },
  { caseId: 'stall', metric: 'max µs', a: 'hub+bcrypt', b: 'nats-server+bcrypt' },
  { caseId: 'stall', metric: 'log-ins s', a: 'hub+bcrypt', b: 'nats-server+bcrypt' },
];

const SETUP_COLUMNS: readonly string[] = ['median µs', 'p99 µs', 'mean µs', 'max µs', 'conns/s', 'server CPU µs/conn'];

const STALL_COLUMNS: readonly string[] = ['idle median µs', 'median µs', 'p99 µs', 'max µs', 'pings', 'log-in median µs', 'log-ins s', 'server CPU s'];

export async function runSecurity(o: BenchOptions): Promise<void> {
  const skipped: Record<string, string> = {};
  const select = async (defs: readonly PeerDef[]): Promise<PeerDef[]> => {
    const r = await selectPeers(defs, o);
    Object.assign(skipped, r.skipped);
    return r.peers;
  };
  const cases: Case[] = [];
  if (o.workloads.includes('w1')) {
    cases.push({
      id: 'w1', title: `W1 (security): 1 publisher → 1 subscriber, ${si(o.messages)} × ${o.size} B; plain, users with permissions, TLS`,
      metric: 'msgs/s', higherIsBetter: true, columns: PUBSUB_COLUMNS, peers: await select(W1_PEERS), run: (p) => pubsub(p, o, 1, o.messages),
    });
  }
  if (o.workloads.includes('w2')) {
    cases.push({
      id: 'w2', title: `W2 (security): 1 publisher → ${o.w2Subscribers} subscribers, ${si(o.w2Messages)} × ${o.size} B, total delivered; plain and TLS`,
      metric: 'msgs/s', higherIsBetter: true, columns: PUBSUB_COLUMNS, peers: await select(W2_PEERS), run: (p) => pubsub(p, o, o.w2Subscribers, o.w2Messages),
    });
  }
  if (o.workloads.includes('setup')) {
    for (const c of SETUPS) {
      const n = c.variant?.endsWith('bcrypt') === true ? o.setupBcryptConns : o.setupConns;
      cases.push({
        id: c.id,
        title: `Set-up, ${c.label}: ${n.toLocaleString('en')} connections one after another, connect to first PONG, µs`,
        metric: 'median µs', higherIsBetter: false, columns: SETUP_COLUMNS,
        peers: await select([setupPeer('hub', c.variant), setupPeer('nats-server', c.variant)]),
        run: (p) => connectionSetup(p, n, c.oneUser),
      });
    }
  }
  if (o.workloads.includes('stall')) {
    cases.push({
      id: 'stall',
      title: `Stall: one client's PING round trips (2 ms apart) while ${o.stallLogins} bcrypt users (cost 11, a user each) log in, ${o.stallParallel} at a time, µs`,
      metric: 'median µs', higherIsBetter: false, columns: STALL_COLUMNS,
      peers: await select([setupPeer('hub', 'bcrypt'), setupPeer('nats-server', 'bcrypt')]),
      run: (p) => stall(p, o.stallLogins, o.stallParallel),
    });
  }
  await runSuite(o, { kind: 'security', cases, ratios: RATIOS, skipped });
}
