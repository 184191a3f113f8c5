/**
 * Last wills (issue #18): a message a client leaves with the hub in CONNECT,
 * published for it when its connection ends any way but a clean close.
 *
 *   CONNECT {"will":{…}} ─► vet: valid, fits maxPayload, its user may publish there,
 *                              its payload meets the schema of its subject (issue #19)
 *        │                       (refused: -ERR, then the close)
 *        ▼
 *   kept per connection ─► PUB $NE.CTL.WILL.CANCEL ─► forgotten (close()/drain())
 *        │
 *        ▼ closed: socket lost, stale, slow consumer, protocol error…
 *   published from inside the hub (subscribers and streams take it)
 *
 * Not published when the hub itself shuts down: its clients did not vanish,
 * the hub did (MQTT brokers differ on this). A client that follows a
 * lame-duck INFO to another server cancels its will before leaving, for the
 * same reason.
 *
 * The will is encoded once, at CONNECT: firing it costs no more than any
 * publish, and a will that cannot be published is refused while the client
 * is there to hear why. Its size is bounded by the CONNECT line already
 * (maxControlLine) and by maxPayload.
 */
import { encodeHeaders } from '../protocol/headers.js';
import { checkWill, Feature, WILL_CANCEL } from '../protocol/extensions.js';
import { fromWire, toWire } from '../protocol/bytes.js';
import { CloseReason } from './types.js';
import type { Connection } from './connection.js';
import type { ConnectRequest } from './security/types.js';
import type { ResolvedHubOptions } from './options.js';

const EMPTY = Buffer.alloc(0);

/**
 * What the service uses of the hub: lifecycle.ts's LifecycleHost has it (kept
 * structural, as the whole service is: lifecycle.ts imports this file).
 */
export interface WillHost {
  readonly options: Pick<ResolvedHubOptions, 'maxPayload' | 'logger'>;
  publish(subject: string, reply: string | undefined, headers: Buffer | null, payload: Buffer): void;
}

/**
 * The schema of the will's subject, checked at CONNECT (server/schema-gate.ts):
 * true keeps the will, false discards it silently (the rule's action is
 * `drop`), a string refuses the CONNECT with that -ERR text.
 */
export type WillSchemaCheck = (wireSubject: string, payload: Buffer) => boolean | string;

/** A will ready to publish: user strings, the header block encoded. */
interface PreparedWill {
  subject: string;
  headers: Buffer | null;
  payload: Buffer;
}

/** A ClientWatcher (lifecycle.ts) with the cancel command. */
export class Wills {
  private readonly host: WillHost;
  private readonly schema: WillSchemaCheck | null;
  /** Weak: a connection refused after vet (by another service) never reaches closed(). */
  private readonly wills = new WeakMap<Connection, PreparedWill>();

  constructor(host: WillHost, schema: WillSchemaCheck | null = null) {
    this.host = host;
    this.schema = schema;
  }

  /**
   * Every CONNECT: one with a will replaces the current will; one without
   * keeps it, as CONNECT's other fields are kept when a later one omits them
   * (its permission checked again: the later CONNECT may be another user's).
   */
  vet(conn: Connection, request: ConnectRequest): string | null {
    const refusal = this.take(conn, request);
    // A refused CONNECT closes the connection as refused: whatever will it had is not published either.
    if (refusal !== null) this.wills.delete(conn);
    return refusal;
  }

  private take(conn: Connection, request: ConnectRequest): string | null {
    if (request.will === undefined) {
      const kept = this.wills.get(conn);
      return kept === undefined ? null : this.mayPublish(conn, kept.subject);
    }
    const will = checkWill(request.will);
    // Byte per char, as -ERR lines go out: a header name in the reason may be any UTF-8.
    if (typeof will === 'string') return toWire(`Invalid Will: ${will}`);
    let headers: Buffer | null = null;
    if (will.headers !== undefined) {
      const block = encodeHeaders(will.headers);
      if (block.length > 0) headers = block;
    }
    const payload = will.payload === undefined ? EMPTY : Buffer.from(will.payload, 'utf8');
    const size = (headers?.length ?? 0) + payload.length;
    const max = this.host.options.maxPayload;
    if (size > max) return `Invalid Will: ${size} bytes of headers and payload, more than max_payload (${max})`;
    const refusal = this.mayPublish(conn, will.subject);
    if (refusal !== null) return refusal;
    // A will's event meets the schema of its subject now, while the client can hear why; when it fires it is the hub's.
    const verdict = this.schema === null ? true : this.schema(toWire(will.subject), payload);
    if (typeof verdict === 'string') return verdict;
    if (!verdict) {
      this.wills.delete(conn);
      return null;
    }
    this.wills.set(conn, { subject: will.subject, headers, payload });
    return null;
  }

  /** The permission a PUB would need, refused in nats-server's words: the client learns at once that its will could never fire. */
  private mayPublish(conn: Connection, subject: string): string | null {
    const perms = conn.permissions;
    const wire = toWire(subject);
    if (perms === null || perms.canPublish(wire)) return null;
    const text = `Permissions Violation for Publish to "${wire}"`;
    this.host.options.logger.warn({ client: conn.id, user: conn.user, subject }, `${text} (its last will)`);
    return text;
  }

  closed(conn: Connection, reason: CloseReason): void {
    const will = this.wills.get(conn);
    if (will === undefined) return;
    this.wills.delete(conn);
    if (reason === CloseReason.SERVER_SHUTDOWN) return;
    this.host.publish(will.subject, undefined, will.headers, will.payload);
  }

  /** `PUB $NE.CTL.WILL.CANCEL [reply] 0`: forget this connection's will; an empty message to `reply` says it is done. */
  cancel(conn: Connection, reply: string | undefined): void {
    this.wills.delete(conn);
    // The reply comes as the wire carried it; host.publish takes user strings.
    if (reply !== undefined) this.host.publish(fromWire(reply), undefined, null, EMPTY);
  }
}

/** The service as createLifecycle() adds it: the watcher, INFO's feature name, the cancel command. */
export function willService(
  host: WillHost,
  schema: WillSchemaCheck | null = null,
): [Wills, { feature: string; controls: Record<string, (conn: Connection, reply: string | undefined) => void> }] {
  const wills = new Wills(host, schema);
  return [wills, { feature: Feature.WILL, controls: { [WILL_CANCEL]: (conn, reply) => wills.cancel(conn, reply) } }];
}
