/**
 * The servers of `npm run bench:durable`, each in its own process on a fresh
 * store directory: our hub on SQLite with either sync policy, and
 * nats-server with JetStream file storage and its defaults.
 *
 * nats-server 2.9.10 has no setting that fsyncs every write: `jetstream {
 * sync_interval: always }` (2.10 and later) is refused as an unknown field by
 * `nats-server -t`, so no peer matches sync=full's promise; its file store
 * syncs every two minutes, like sync=normal a PubAck there survives a process
 * crash but not a power loss.
 */
import { join } from 'node:path';
import { start, freePort, waitForPort, waitForLine, firstLine, type Proc } from './proc.js';
import { DIST_BENCH } from './peers.js';

export interface DurablePeer {
  /** 'hub sync=normal', 'hub sync=full', 'nats-server': the peer in tables and curves. */
  readonly id: string;
  /** The name on the command line (--peers). */
  readonly key: string;
  start(dir: string): Promise<{ url: string; proc: Proc; metrics?: string }>;
}

/** NETEMITTER_BENCH_SERVER_FLAGS, as the other benches take it: Node flags for the hub alone (`--cpu-prof --cpu-prof-dir=DIR`). */
function serverFlags(): string[] {
  const extra = process.env.NETEMITTER_BENCH_SERVER_FLAGS?.trim() ?? '';
  return extra === '' ? [] : extra.split(/\s+/);
}

/** Our hub on a SQLite store with the given sync policy. */
function hubPeer(sync: 'full' | 'normal'): DurablePeer {
  return {
    id: `hub sync=${sync}`,
    key: `hub-${sync}`,
    async start(dir) {
      // Monitoring on, for the commit count on /metrics (commits per PubAck): it costs a clock read per commit.
      const proc = start(process.execPath, [...serverFlags(), join(DIST_BENCH, 'servers', 'hub.js'), '--store', dir, '--sync', sync, '--monitor']);
      const m = await waitForLine(proc, /LISTENING (\d+) MONITOR (\d+)/);
      return { url: `127.0.0.1:${m[1]}`, proc, metrics: `http://127.0.0.1:${m[2]}/metrics` };
    },
  };
}

export const NATS_SERVER = 'nats-server';

export const DURABLE_PEERS: readonly DurablePeer[] = [
  hubPeer('full'),
  hubPeer('normal'),
  {
    id: NATS_SERVER,
    key: NATS_SERVER,
    async start(dir) {
      const port = await freePort();
      const proc = start('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]);
      await waitForPort(port, proc);
      return { url: `127.0.0.1:${port}`, proc };
    },
  },
];

/** nats-server's version line, or null when it is not installed. */
export function natsServerVersion(): string | null {
  return firstLine('nats-server', ['--version']);
}

/** The peers named in `list` (comma-separated keys), in the order of DURABLE_PEERS. */
export function pickPeers(list: string | undefined): DurablePeer[] {
  if (list === undefined) return [...DURABLE_PEERS];
  const keys = list.split(',').map((k) => k.trim()).filter((k) => k !== '');
  const known = DURABLE_PEERS.map((p) => p.key);
  for (const k of keys) if (!known.includes(k)) throw new Error(`unknown peer ${k}: expected some of ${known.join(',')}`);
  if (keys.length === 0) throw new Error('--peers needs at least one peer');
  return DURABLE_PEERS.filter((p) => keys.includes(p.key));
}
