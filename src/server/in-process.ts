/**
 * The hub's in-process listener: clients of the hub's own process connect
 * through a pair of streams (in-process-pair.ts) instead of a socket, by
 * hub.connect() or by the hub's inprocess:// URL. The hub serves its end as
 * any accepted stream (admit(): INFO, CONNECT, authentication, permissions,
 * limits, slow consumers, heartbeats), so nothing of the protocol is skipped:
 * only the kernel and the port are.
 *
 *   hub.connect(opts) ──► client connect({ servers: inprocess://<id>, dialer }) ──► dial()
 *                                                                                   │ pipePair()
 *                        Bus ◄── client end                server end ──► hub.admit(stream, peer, this)
 *
 * The client is loaded on the first hub.connect() (a dynamic import), so a
 * hub that nobody connects to in-process does not load it.
 */
import type { Duplex } from 'node:stream';
import type { Bus } from '../client/bus.js';
import type { EventMap } from '../client/bus-types.js';
import type { ConnectOptions } from '../client/options.js';
import { ConfigError, ConnectionError } from '../errors.js';
import { inProcessUrl, registerInProcess } from '../in-process.js';
import { TransportKind, type ByteStream, type Peer } from '../transport.js';
import { infoPrefix, type InfoServer } from './info.js';
import { pipePair } from './in-process-pair.js';

/** hub.connect()'s options: the client's, less where to connect and how to dial (the hub decides both). */
export type InProcessConnectOptions = Omit<ConnectOptions, 'servers' | 'dialer'>;

/** What the listener needs of the hub. */
export interface InProcessHost {
  /** The server id: the URL's name, unique in the process. */
  readonly serverId: string;
  infoServer(): InfoServer;
  readonly authRequired: boolean;
  /** Serves an accepted stream (hub.admit). */
  admit(stream: Duplex, peer: Peer, listener: InProcessListener): void;
}

export class InProcessListener {
  readonly kind = TransportKind.INPROCESS;
  readonly url: string;
  /** INFO up to the client's fields: no host or port, never TLS (no network to protect). */
  infoPrefix = '';
  private readonly host: InProcessHost;
  private readonly peer: Peer;
  /** Undoes the registration by URL; null while closed. */
  private unregister: (() => void) | null = null;
  private open = false;

  constructor(host: InProcessHost) {
    this.host = host;
    this.url = inProcessUrl(host.serverId);
    // One record for every in-process client: there is no address to tell them apart.
    this.peer = { address: '', port: undefined, listener: { kind: TransportKind.INPROCESS, url: this.url }, tls: null };
  }

  /** Takes clients from now on, by hub.connect() and by URL. */
  start(): void {
    this.infoPrefix = infoPrefix(this.host.infoServer(), { tls: false, tlsVerify: false, auth: this.host.authRequired });
    this.open = true;
    this.unregister = registerInProcess(this.host.serverId, (_target, signal) => this.dial(signal));
  }

  /** Takes no new client (the hub is closing); those connected stay until the hub closes them. */
  stop(): void {
    this.open = false;
    this.unregister?.();
    this.unregister = null;
  }

  /** A new connection: the hub's end is admitted (INFO is on its way), the client's returned. */
  dial(signal: AbortSignal): Promise<ByteStream> {
    if (!this.open) return Promise.reject(new ConnectionError(`the hub at ${this.url} is not taking connections (closed, or not started)`));
    if (signal.aborted) return Promise.reject(new ConnectionError('connect aborted'));
    const { server, client } = pipePair();
    // Cast: the hub uses only the part of Duplex that PipeEnd has (write, cork, end, destroy, pause, resume, events).
    this.host.admit(server as unknown as Duplex, this.peer, this);
    return Promise.resolve(client);
  }

  /** A bus connected through this listener, after `start` (the hub's listen() if it was not); the client module is loaded on first use. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async connect<E extends EventMap = Record<string, any>>(options: InProcessConnectOptions, start: () => Promise<unknown> | null): Promise<Bus<E>> {
    if (options === null || typeof options !== 'object') throw new ConfigError('hub.connect() takes an options object');
    const given = options as ConnectOptions;
    if (given.servers !== undefined) throw new ConfigError('hub.connect() takes no servers option: it connects to this hub, in-process');
    if (given.dialer !== undefined) throw new ConfigError('hub.connect() takes no dialer option: it dials in-process');
    if (given.tls !== undefined) throw new ConfigError('the tls option does not apply to an in-process connection (no network between the two)');
    await start();
    const { connect } = await import('../client/node.js');
    return connect<E>({
      // A hub that closed never comes back at this URL (a new one has a new id): no reconnect unless asked for.
      reconnect: false,
      ...options,
      servers: this.url,
      dialer: (_target, signal) => this.dial(signal),
    });
  }
}
