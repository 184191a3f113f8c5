/**
 * A 3-node nats-server cluster on loopback (docs: shared reference, Part D),
 * on ephemeral ports in a temp dir of its own.
 *
 * Every port is chosen by the server (-1) and read back from its ports file,
 * so nothing races for a port: n1 starts first as the seed, n2 and n3 route
 * to it, and route gossip completes the mesh (n2 <-> n3 directly). The
 * cluster is ready when /routez shows num_routes == 2 on every node; killing
 * any one node then leaves the other two routed to each other.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsServerBin, portOf, spawnChild, waitForPorts, type Child } from './procs.js';
import { until } from './wait.js';

const HOST = '127.0.0.1';

export interface ClusterNode {
  readonly name: string;
  /** nats://127.0.0.1:PORT for clients. */
  readonly url: string;
  readonly port: number;
  /** http://127.0.0.1:PORT, the monitoring endpoint. */
  readonly monitor: string;
  /** ws://127.0.0.1:PORT when the cluster was started with `websocket: true`. */
  readonly wsUrl: string | undefined;
  readonly child: Child;
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  private constructor(
    private readonly dir: string,
    private readonly websocket: boolean,
    private readonly systemAccount: boolean,
  ) {}

  /**
   * Starts n1, n2, n3 and waits (bounded) until the routes form a full mesh. `websocket`: each node gets a ws://
   * listener too. `systemAccount`: accounts as test/helpers/target.ts makes them (SYS with the user sys/sys as the
   * system account, clients without credentials in APP), for `$SYS` requests and advisories across the cluster.
   */
  static async start(bin: string, readyMs = 10_000, opts: { websocket?: boolean; systemAccount?: boolean } = {}): Promise<Cluster> {
    const c = new Cluster(await mkdtemp(join(tmpdir(), 'netemitter-cluster-')), opts.websocket === true, opts.systemAccount === true);
    try {
      const seed = await c.startNode(bin, 'n1', null);
      await c.startNode(bin, 'n2', seed);
      await c.startNode(bin, 'n3', seed);
      await c.waitForRoutes(2, readyMs);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  /** Returns the cluster URL of the node (for others' routes). */
  private async startNode(bin: string, name: string, seed: string | null): Promise<string> {
    const dir = join(this.dir, name);
    await mkdir(dir);
    const conf = join(dir, 'nats.conf');
    await writeFile(
      conf,
      [
        `server_name: ${name}`,
        'port: -1',
        `host: ${HOST}`,
        `http: "${HOST}:-1"`,
        `ports_file_dir: ${JSON.stringify(dir)}`,
        'cluster {',
        '  name: netemitter-test',
        `  listen: "${HOST}:-1"`,
        seed === null ? '' : `  routes: [ ${seed.replace(/^nats:/, 'nats-route:')} ]`,
        '}',
        this.websocket ? `websocket { host: ${HOST}, port: -1, no_tls: true }` : '',
        this.systemAccount
          ? 'accounts { SYS { users: [{ user: sys, password: sys }] }, APP { users: [{ user: app, password: app }] } }\nsystem_account: SYS\nno_auth_user: app'
          : '',
        '',
      ].join('\n'),
    );
    const child = spawnChild(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    const ports = await waitForPorts(child, join(dir, `nats-server_${child.pid}.ports`)).catch(async (err: unknown) => {
      await child.kill();
      throw err;
    });
    const url = ports.nats[0]!;
    this.nodes.push({ name, url, port: portOf(url), monitor: ports.monitoring![0]!, wsUrl: ports.websocket?.[0], child });
    return ports.cluster![0]!;
  }

  /** Waits (bounded) until every live node reports `n` routes on /routez. */
  async waitForRoutes(n: number, ms = 10_000): Promise<void> {
    const live = this.nodes.filter((x) => x.child.process.exitCode === null && x.child.process.signalCode === null);
    await until(async () => (await Promise.all(live.map((x) => routes(x)))).every((r) => r === n), `cluster routes (num_routes == ${n} on each live node)`, ms, 50);
  }

  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  /** The node whose client port is in `url`. */
  nodeAt(url: string | undefined): ClusterNode | undefined {
    return url === undefined ? undefined : this.nodes.find((n) => n.port === portOf(url));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.child.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function routes(n: ClusterNode): Promise<number> {
  try {
    const res = await fetch(`${n.monitor}/routez`);
    return ((await res.json()) as { num_routes: number }).num_routes;
  } catch {
    return -1;
  }
}

export { natsServerBin };
