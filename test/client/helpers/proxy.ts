/**
 * A TCP proxy on loopback in front of a server, for what a healthy server
 * cannot show:
 *
 *   drop()     existing connections are cut; the client reconnects through it.
 *   freeze()   connections through it stay open but no byte passes either
 *              way (a hung peer, a network dropping packets): only
 *              heartbeats can notice.
 *   hold()     bytes from the server to the client are held back until
 *   release()  release(): the client then receives all of them at once,
 *              e.g. a batch the server routed before the client's next
 *              command reached it.
 *
 * New connections pass normally.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  frozen: boolean;
  held: Buffer[] | null;
}

export class TestProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  port = 0;

  private constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      const pair: Pair = { client, upstream, frozen: false, held: null };
      this.pairs.add(pair);
      client.on('data', (b) => {
        if (!pair.frozen) upstream.write(b);
      });
      upstream.on('data', (b) => {
        if (pair.frozen) return;
        if (pair.held !== null) pair.held.push(b);
        else client.write(b);
      });
      const end = (): void => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      for (const s of [client, upstream]) {
        s.on('close', end);
        s.on('error', end);
      }
    });
  }

  static async start(target: { host: string; port: number }): Promise<TestProxy> {
    const p = new TestProxy(target);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(0, '127.0.0.1', () => resolve());
    });
    p.port = (p.server.address() as { port: number }).port;
    return p;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Open connections through the proxy. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Cuts every existing connection (both sides see it close); new ones pass. */
  drop(): void {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
  }

  /** Existing connections stop passing bytes, both ways, but stay open. */
  freeze(): void {
    for (const p of this.pairs) p.frozen = true;
  }

  /** Holds back what the server sends on existing connections. */
  hold(): void {
    for (const p of this.pairs) p.held ??= [];
  }

  /** Delivers what was held, in one write per connection. */
  release(): void {
    for (const p of this.pairs) {
      if (p.held === null) continue;
      const held = Buffer.concat(p.held);
      p.held = null;
      if (held.length > 0) p.client.write(held);
    }
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
