/**
 * Presence against nats-server, which has none of its own: the snapshot is
 * its CONNZ over NATS, the changes are its connect/disconnect advisories.
 * Both are published only to its system account, so the bus must connect as
 * a user of that account.
 *
 *   PUB $SYS.REQ.SERVER.PING.CONNZ <inbox> {"auth":true,"limit":1024}
 *     one reply per server of the cluster, gathered until `window` ms pass
 *     without another; a server with more connections than one page is
 *     asked again, directly ($SYS.REQ.SERVER.<id>.CONNZ), with an offset.
 *   SUB $SYS.ACCOUNT.*.CONNECT / $SYS.ACCOUNT.*.DISCONNECT
 *
 * Advisories carry no sequence number: the watch applies them by member
 * (server id, client id), so a join already in the snapshot is not repeated
 * and a leave of someone not in the view is dropped. Metadata is always {}.
 */
import { nameMatches, PresenceEvent, type Member } from '../protocol/presence.js';
import { PresenceError, TimeoutError } from '../errors.js';
import type { PresenceHost, PresenceListOptions, PresenceSource, Snapshot, SourceEvent } from './presence-types.js';

/** How long a list waits for one more server's CONNZ reply after the last (ms): a cluster answers once per server. */
export const SYS_GATHER_MS = 200;
/** CONNZ's page size by default (nats-server's own largest). */
export const SYS_PAGE = 1024;

const CONNZ_PING = '$SYS.REQ.SERVER.PING.CONNZ';
const CONNECT_ADVISORY = '$SYS.ACCOUNT.*.CONNECT';
const DISCONNECT_ADVISORY = '$SYS.ACCOUNT.*.DISCONNECT';

interface ConnzConnection {
  cid: number;
  name?: string;
  start: string;
  authorized_user?: string;
}

interface ConnzReply {
  server: { id: string };
  data?: { total: number; offset: number; connections?: ConnzConnection[] };
  error?: { code: number; description: string };
}

interface Advisory {
  type?: string;
  server?: { id?: string };
  client?: { id?: number; name?: string; user?: string; start?: string };
  reason?: string;
}

export class SysPresence implements PresenceSource {
  readonly subjects = [CONNECT_ADVISORY, DISCONNECT_ADVISORY] as const;

  constructor(private readonly host: PresenceHost) {}

  async snapshot(filter: string | undefined, opts: Required<PresenceListOptions>): Promise<Snapshot> {
    const first = await this.gather(CONNZ_PING, 0, opts);
    const members: Member[] = [];
    for (const reply of first) {
      let page = reply;
      for (;;) {
        const data = page.data!;
        const conns = data.connections ?? [];
        for (const c of conns) members.push(toMember(page.server.id, c));
        const next = data.offset + conns.length;
        if (conns.length === 0 || next >= data.total) break;
        const [more] = await this.gather(`$SYS.REQ.SERVER.${page.server.id}.CONNZ`, next, { ...opts, window: 0 });
        if (more === undefined) break;
        page = more;
      }
    }
    return { seq: null, members: filter === undefined ? members : members.filter((m) => m.name !== null && nameMatches(filter, m.name)) };
  }

  decode(subject: string, data: Buffer): SourceEvent | null {
    let a: Advisory;
    try {
      a = JSON.parse(data.toString('utf8')) as Advisory;
    } catch {
      return null;
    }
    const c = a.client;
    const server = a.server?.id;
    if (c === undefined || typeof c.id !== 'number' || typeof server !== 'string') return null;
    const member: Member = {
      server,
      id: c.id,
      name: c.name === undefined || c.name === '' ? null : c.name,
      user: c.user === undefined || c.user === '' ? null : c.user,
      meta: {},
      since: c.start ?? '',
    };
    if (subject.endsWith('.CONNECT')) return { seq: null, event: PresenceEvent.JOIN, member };
    if (subject.endsWith('.DISCONNECT')) {
      return a.reason === undefined ? { seq: null, event: PresenceEvent.LEAVE, member } : { seq: null, event: PresenceEvent.LEAVE, member, reason: a.reason };
    }
    return null;
  }

  /**
   * Sends one CONNZ request and collects the replies: until `window` ms pass
   * without one after the first (0: the first alone), or `timeout` with none.
   */
  private gather(subject: string, offset: number, opts: Required<PresenceListOptions>): Promise<ConnzReply[]> {
    const host = this.host;
    const inbox = host.newInbox();
    const replies: ConnzReply[] = [];
    return new Promise<ConnzReply[]>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout>;
      const done = (err: Error | null): void => {
        clearTimeout(timer);
        host.rawUnsubscribe(sid);
        if (err === null) resolve(replies);
        else reject(err);
      };
      const sid = host.rawSubscribe(inbox, (_s, _r, headers, data) => {
        if (headers?.code === 503) {
          done(new PresenceError('nats-server answered no one on $SYS.REQ.SERVER.PING.CONNZ: presence there needs a user of its system account'));
          return;
        }
        let reply: ConnzReply;
        try {
          reply = JSON.parse(data.toString('utf8')) as ConnzReply;
        } catch {
          return;
        }
        if (reply.error !== undefined) {
          done(new PresenceError(`CONNZ failed: ${reply.error.description}`));
          return;
        }
        if (reply.data === undefined || typeof reply.server?.id !== 'string') return;
        replies.push(reply);
        clearTimeout(timer);
        if (opts.window === 0) done(null);
        else timer = setTimeout(done, opts.window, null);
      });
      timer = setTimeout(() => done(new TimeoutError(`no CONNZ reply within ${opts.timeout} ms (presence on nats-server needs a user of its system account)`)), opts.timeout);
      try {
        host.rawPublish(subject, inbox, null, Buffer.from(JSON.stringify({ auth: true, limit: opts.page, offset })));
      } catch (err) {
        done(err as Error);
      }
    });
  }
}

function toMember(server: string, c: ConnzConnection): Member {
  return {
    server,
    id: c.cid,
    name: c.name === undefined || c.name === '' ? null : c.name,
    user: c.authorized_user === undefined || c.authorized_user === '' ? null : c.authorized_user,
    meta: {},
    since: c.start,
  };
}
