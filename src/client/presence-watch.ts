/**
 * `bus.presence`'s work, loaded on first use (client/presence.ts is the
 * facade the bus holds): who is connected, and the changes (issue #18).
 *
 *   list(filter?)        one snapshot
 *   on('join' | 'leave' | 'update', fn)
 *     the first listener starts a watch:
 *       SUB events ─► list ─► the snapshot as joins (snapshot: true)
 *                          ─► events after the list's seq, in order
 *     no gap, no duplicate: an event with seq ≤ the last applied is dropped,
 *     one past a gap (seq > last + 1) starts a resync. After a reconnect the
 *     watch lists again and emits the differences (leaves, joins, updates),
 *     so the view converges on the server's.
 *
 * Two sources: a netemitter hub's (protocol/presence.ts), and nats-server's
 * advisories with its CONNZ (presence-sys.ts), chosen by INFO's `netemitter`.
 */
import { checkPresenceMeta, Feature, type PresenceMeta } from '../protocol/extensions.js';
import {
  PRESENCE_EVENTS,
  PRESENCE_LIST,
  PRESENCE_UPDATE_SUBJECT,
  PresenceEvent,
  type Member,
  type PresenceEventBody,
  type PresenceListBody,
} from '../protocol/presence.js';
import { ConfigError, PresenceError, TimeoutError } from '../errors.js';
import { SysPresence, SYS_GATHER_MS, SYS_PAGE } from './presence-sys.js';
import {
  memberKey,
  type PresenceChange,
  type PresenceHost,
  type PresenceListeners,
  type PresenceListOptions,
  type PresenceSource,
  type Snapshot,
  type SourceEvent,
} from './presence-types.js';

type State = 'idle' | 'syncing' | 'live' | 'failed';

export class PresenceWatch {
  private readonly view = new Map<string, Member>();
  private state: State = 'idle';
  private sids: string[] = [];
  /** The source the watch is subscribed to. */
  private current: PresenceSource | null = null;
  private buffered: SourceEvent[] = [];
  private lastSeq = 0;
  /** Bumped by every (re)sync and stop: a snapshot that comes back to an older one is dropped. */
  private generation = 0;
  private synced: Promise<void> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private sys: SysPresence | null = null;
  private partsInbox: string | null = null;
  private nextPart = 1;
  private readonly parts = new Map<string, Buffer[]>();

  constructor(
    /** The facade's listeners: the watch runs while there is one. */
    private readonly listeners: PresenceListeners,
    private readonly host: PresenceHost,
    /** The bus's options: `presence` is what the next CONNECT (a reconnect) carries. */
    private readonly opts: { presence: PresenceMeta | undefined; timeout: number },
  ) {}

  /** Whether the server is a netemitter hub with presence (else: nats-server's advisories). */
  get native(): boolean {
    return this.host.info?.netemitter?.includes(Feature.PRESENCE) === true;
  }

  /** Who is connected now; `filter` is a subject pattern matched against connection names. */
  async list(filter?: string, opts: PresenceListOptions = {}): Promise<Member[]> {
    return (await this.source().snapshot(filter, this.listOptions(opts))).members;
  }

  /** The members a watch sees now (empty while nobody listens). */
  get members(): ReadonlyMap<string, Member> {
    return this.view;
  }

  /** Resolves once the watch has applied its first snapshot (at once when no watch runs). */
  ready(): Promise<void> {
    return this.synced ?? Promise.resolve();
  }

  /**
   * Replaces this connection's metadata: the hub announces an `update`, and a
   * reconnect carries the new one. A netemitter hub only.
   */
  async update(meta: PresenceMeta): Promise<void> {
    const checked = checkPresenceMeta(meta);
    if (typeof checked === 'string') throw new ConfigError(checked);
    if (!this.native) throw new PresenceError('this server has no presence metadata (nats-server): update() needs a netemitter hub');
    const { data } = await this.host.rawRequest(PRESENCE_UPDATE_SUBJECT, null, Buffer.from(JSON.stringify(checked)), this.opts.timeout);
    const answer = JSON.parse(data.toString('utf8')) as { ok?: boolean; error?: string };
    if (answer.error !== undefined) throw new PresenceError(`presence update refused: ${answer.error}`);
    this.opts.presence = checked;
  }

  /** Starts the watch when a listener came, stops it when none is left. */
  listenersChanged(): void {
    if (this.listenerTotal() === 0) this.stop();
    else if (this.state === 'idle') this.start();
  }

  private listenerTotal(): number {
    return this.listeners.join.size + this.listeners.leave.size + this.listeners.update.size;
  }

  private listOptions(o: PresenceListOptions): Required<PresenceListOptions> {
    for (const k of ['timeout', 'window', 'page'] as const) {
      const v = o[k];
      // A window of 0 takes the first CONNZ reply alone; the others need at least 1.
      const least = k === 'window' ? 0 : 1;
      if (v !== undefined && (!Number.isSafeInteger(v) || v < least)) {
        throw new ConfigError(`presence list option ${k} must be an integer of at least ${least}, got ${String(v)}`);
      }
    }
    return { timeout: o.timeout ?? this.opts.timeout, window: o.window ?? SYS_GATHER_MS, page: o.page ?? SYS_PAGE };
  }

  private source(): PresenceSource {
    if (this.native) return this.nativeSource;
    return (this.sys ??= new SysPresence(this.host));
  }

  // ── the watch ───────────────────────────────────────────────────────────

  private start(): void {
    this.subscribe(this.source());
    this.host.status.on('reconnect', this.onReconnect);
    this.resync();
  }

  private subscribe(source: PresenceSource): void {
    this.current = source;
    this.sids = source.subjects.map((s) => this.host.rawSubscribe(s, (subject, _reply, _h, data) => this.onEvent(source, subject, data)));
  }

  private unsubscribe(): void {
    for (const sid of this.sids) this.host.rawUnsubscribe(sid);
    this.sids = [];
    this.current = null;
  }

  private stop(): void {
    if (this.state === 'idle') return;
    this.state = 'idle';
    this.generation++;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.unsubscribe();
    this.host.status.off('reconnect', this.onReconnect);
    this.view.clear();
    this.buffered = [];
    this.synced = null;
  }

  private readonly onReconnect = (): void => {
    // Another kind of server (hub ⇄ nats-server) has its events elsewhere: the view stays, the resync diffs it.
    const source = this.source();
    if (source !== this.current) {
      this.unsubscribe();
      this.subscribe(source);
    }
    this.resync();
  };

  /** Lists and brings the view to it; events arriving meanwhile wait in `buffered`. */
  private resync(): void {
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.state = 'syncing';
    this.buffered = [];
    const generation = ++this.generation;
    const p = this.current!.snapshot(undefined, this.listOptions({})).then(
      (snap) => {
        if (generation !== this.generation) return;
        this.applySnapshot(snap);
        // A listener may have stopped the watch (the last one removed) while it was told.
        if (generation !== this.generation) return;
        this.state = 'live';
        const waiting = this.buffered;
        this.buffered = [];
        for (const e of waiting) {
          // Stopped, or a gap started a new list (which covers the rest).
          if (this.state !== 'live' || generation !== this.generation) break;
          this.onSourceEvent(e);
        }
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        this.host.reportError(err instanceof Error ? err : new PresenceError(String(err)));
        if (err instanceof TimeoutError) {
          // A busy server: list again, once per timeout, until it answers (events wait meanwhile).
          this.retry = setTimeout(() => this.state === 'syncing' && generation === this.generation && this.resync(), this.opts.timeout);
        } else {
          // Refused (no permission, no presence there): events without a list would be deltas of nothing.
          // The watch waits for the next reconnect to try again.
          this.state = 'failed';
          this.buffered = [];
        }
        throw err;
      },
    );
    this.synced = p;
    p.catch(() => {});
  }

  private applySnapshot(snap: Snapshot): void {
    const generation = this.generation;
    const next = new Map<string, Member>();
    for (const m of snap.members) next.set(memberKey(m), m);
    for (const [key, m] of this.view) {
      if (generation !== this.generation) return;
      if (!next.has(key)) {
        this.view.delete(key);
        this.fire(m, { event: PresenceEvent.LEAVE, snapshot: true });
      }
    }
    for (const [key, m] of next) {
      if (generation !== this.generation) return;
      const had = this.view.get(key);
      this.view.set(key, m);
      if (had === undefined) this.fire(m, { event: PresenceEvent.JOIN, snapshot: true });
      else if (!sameMember(had, m)) this.fire(m, { event: PresenceEvent.UPDATE, snapshot: true, previous: had.meta });
    }
    if (snap.seq !== null) this.lastSeq = snap.seq;
  }

  private onEvent(source: PresenceSource, subject: string, data: Buffer): void {
    const e = source.decode(subject, data);
    if (e === null) return;
    if (this.state === 'syncing') this.buffered.push(e);
    else if (this.state === 'live') this.onSourceEvent(e);
  }

  private onSourceEvent(e: SourceEvent): void {
    if (e.seq !== null) {
      if (e.seq <= this.lastSeq) return;
      if (e.seq > this.lastSeq + 1) {
        // Lost events (a restarted hub starts at 1 again, but then a reconnect resyncs first): list again.
        this.resync();
        return;
      }
      this.lastSeq = e.seq;
    }
    const key = memberKey(e.member);
    const had = this.view.get(key);
    if (e.event === PresenceEvent.LEAVE) {
      if (had === undefined) return;
      this.view.delete(key);
      this.fire(e.member, e.reason === undefined ? { event: e.event, snapshot: false } : { event: e.event, reason: e.reason, snapshot: false });
      return;
    }
    this.view.set(key, e.member);
    if (had === undefined) this.fire(e.member, { event: PresenceEvent.JOIN, snapshot: false });
    else if (!sameMember(had, e.member)) this.fire(e.member, { event: PresenceEvent.UPDATE, snapshot: false, previous: had.meta });
  }

  private fire(member: Member, change: PresenceChange): void {
    const set = this.listeners[change.event];
    for (const [fn, once] of [...set]) {
      if (once) set.delete(fn);
      try {
        fn(member, change);
      } catch (err) {
        this.host.listenerFailed(`presence ${change.event}`, err);
      }
    }
    if (this.listenerTotal() === 0) this.stop();
  }

  // ── a netemitter hub's presence ─────────────────────────────────────────

  private readonly nativeSource: PresenceSource = {
    subjects: [PRESENCE_EVENTS],
    snapshot: (filter, o) => this.nativeList(filter, o.timeout),
    decode: (_subject, data) => decodeEvent(data),
  };

  private async nativeList(filter: string | undefined, timeout: number): Promise<Snapshot> {
    if (filter !== undefined && typeof filter !== 'string') throw new ConfigError('a presence filter must be a subject pattern');
    if (this.partsInbox === null) {
      this.partsInbox = this.host.newInbox();
      this.host.rawSubscribe(`${this.partsInbox}.*`, (subject, _r, _h, data) => {
        this.parts.get(subject)?.push(data);
      });
    }
    const partsSubject = `${this.partsInbox}.${(this.nextPart++).toString(36)}`;
    this.parts.set(partsSubject, []);
    try {
      const body = JSON.stringify({ ...(filter === undefined ? {} : { filter }), parts: partsSubject });
      const { data } = await this.host.rawRequest(PRESENCE_LIST, null, Buffer.from(body), timeout);
      // Parts come before the last, on the same connection: all of them are here.
      const earlier = this.parts.get(partsSubject) ?? [];
      const last = parseList(data);
      if (last.error !== undefined) throw new PresenceError(`presence list refused: ${last.error}`);
      const count = last.parts ?? 1;
      if (earlier.length !== count - 1) throw new PresenceError(`presence list came in ${earlier.length + 1} of ${count} parts`);
      const members: Member[] = [];
      for (const part of earlier) members.push(...parseList(part).members);
      members.push(...last.members);
      return { seq: last.seq, members };
    } finally {
      this.parts.delete(partsSubject);
    }
  }
}

function parseList(data: Buffer): PresenceListBody {
  const v = JSON.parse(data.toString('utf8')) as PresenceListBody;
  if (typeof v !== 'object' || v === null || !Array.isArray(v.members) || typeof v.seq !== 'number') {
    throw new PresenceError('the presence list reply is not {"seq", "members"}');
  }
  return v;
}

function decodeEvent(data: Buffer): SourceEvent | null {
  let v: PresenceEventBody;
  try {
    v = JSON.parse(data.toString('utf8')) as PresenceEventBody;
  } catch {
    return null;
  }
  if (typeof v?.seq !== 'number' || typeof v.member !== 'object' || v.member === null) return null;
  if (v.event !== 'join' && v.event !== 'leave' && v.event !== 'update') return null;
  return v.reason === undefined ? { seq: v.seq, event: v.event, member: v.member } : { seq: v.seq, event: v.event, member: v.member, reason: v.reason };
}

function sameMember(a: Member, b: Member): boolean {
  return a.name === b.name && a.user === b.user && JSON.stringify(a.meta) === JSON.stringify(b.meta);
}
