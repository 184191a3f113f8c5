/**
 * The NATS protocol parser: a state machine over Buffers, shared by the hub,
 * the client and the fuzzers. It knows no socket: bytes go in through
 * `parse(chunk)`, operations come out as calls on an injected handler.
 *
 *   chunk ──► find LF ──► control line (decoded: op + args) ──► handler
 *                 │                      │ size > 0?
 *                 │                      ▼
 *                 │               payload: a subarray view when the whole
 *                 │               frame is in this chunk, else one copy into
 *                 │               an exact-size buffer across chunks
 *                 ▼
 *        no LF yet: keep the partial line (bounded by maxControlLine)
 *
 * Only control lines are turned into strings; payloads are never decoded.
 * Sizes are checked against maxPayload on the control line, before anything
 * is allocated for the payload, as nats-server does.
 *
 * Two roles: ServerParser reads what clients send (the hub uses it) and
 * ClientParser reads what servers send (the client uses it).
 */
import { CR, LF, ProtocolErrorText } from './constants.js';
import { bufferView, latin1Slice } from './bytes.js';
import { ProtocolError } from '../errors.js';

const SPACE = 32;
const TAB = 9;
const MAX_ARGS = 6;
/** Tokens longer than this are not cached (comparing would cost more than it saves). */
const TOKEN_CACHE_MAX = 128;
const EMPTY_BUFFER = new ArrayBuffer(0);

const State = {
  OP: 0,
  PAYLOAD: 1,
  CLOSED: 2,
} as const;
type State = (typeof State)[keyof typeof State];

export interface ParserOptions {
  /** Longest control line accepted, in bytes, CRLF excluded. */
  maxControlLine?: number;
  /** Largest payload (headers included) accepted, in bytes. */
  maxPayload?: number;
}

/** What a hub receives from a client. */
export interface ServerParserHandler {
  connect(json: string): void;
  /**
   * `payload` is headers + body; `headerLength` is 0 for PUB (and for HPUB with hdr_len 0). A view of the bytes
   * read, valid as long as the chunk (a Buffer, or a plain Uint8Array: cheaper to make, and the hub only copies it).
   */
  pub(subject: string, reply: string | undefined, headerLength: number, payload: Uint8Array, withHeaders: boolean): void;
  sub(subject: string, queue: string | undefined, sid: string): void;
  unsub(sid: string, max: number | undefined): void;
  ping(): void;
  pong(): void;
  /** A protocol violation. Parsing has stopped. */
  error(err: ProtocolError): void;
}

/** What a client receives from a hub. */
export interface ClientParserHandler {
  info(json: string): void;
  msg(subject: string, sid: string, reply: string | undefined, headerLength: number, payload: Buffer, withHeaders: boolean): void;
  ok(): void;
  err(text: string): void;
  ping(): void;
  pong(): void;
  error(err: ProtocolError): void;
}

function isSpace(b: number): boolean {
  return b === SPACE || b === TAB;
}

/** Parses a non-negative decimal from bytes; -1 when invalid. At most 9 digits, as nats-server. */
function parseSize(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len <= 0 || len > 9) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Bytes of a control line after the op and the whitespace that follows it:
 * what nats-server measures against max_control_line.
 */
function argLength(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && !isSpace(buf[i]!)) i++;
  while (i < end && isSpace(buf[i]!)) i++;
  return end - i;
}

/** Case-insensitive comparison of buf[start, end) with an upper-case ASCII op name. */
function opIs(buf: Buffer, start: number, end: number, op: string): boolean {
  if (end - start !== op.length) return false;
  for (let i = 0; i < op.length; i++) {
    let b = buf[start + i]!;
    if (b >= 97 && b <= 122) b -= 32;
    if (b !== op.charCodeAt(i)) return false;
  }
  return true;
}

function unknownOp(detail?: string): ProtocolError {
  return new ProtocolError(ProtocolErrorText.UNKNOWN_OP, true, detail);
}

/**
 * Framing shared by both roles: control lines, payloads, split buffers,
 * bounds. Subclasses decode a control line into an operation.
 */
abstract class BaseParser {
  protected readonly maxControlLine: number;
  protected readonly maxPayload: number;
  private state: State = State.OP;
  /** A control line that has not seen its LF yet. */
  private partial: Buffer | null = null;
  /** A payload being collected across chunks: size + CRLF bytes. */
  private payloadBuf: Buffer | null = null;
  private payloadFilled = 0;
  /** Token boundaries of the current control line: [start0, end0, start1, end1, …]. */
  protected readonly args = new Int32Array(MAX_ARGS * 2 + 2);
  /** Bytes consumed so far, for diagnostics. */
  offset = 0;
  /** The message being read: filled by frameLine, reported with its payload. */
  protected subject = '';
  protected reply: string | undefined = undefined;
  protected hdr = 0;
  protected withHeaders = false;
  /**
   * The chunk being parsed, as its ArrayBuffer and offset, read once per
   * chunk: a fast frame's payload view is made from them, and reading
   * `buffer` and `byteOffset` off a Buffer costs more than making the view.
   */
  protected chunkBuffer: ArrayBufferLike = EMPTY_BUFFER;
  protected chunkOffset = 0;

  constructor(opts: ParserOptions = {}) {
    this.maxControlLine = opts.maxControlLine ?? 4096;
    this.maxPayload = opts.maxPayload ?? 64 * 1024 * 1024;
  }

  get closed(): boolean {
    return this.state === State.CLOSED;
  }

  /**
   * Bytes that arrived while paused, in order, to parse at resume(): the
   * rest of the chunk that held the pausing operation, then later chunks.
   */
  private held: Buffer[] | null = null;

  /** Whether parsing is paused (see pause()). */
  get paused(): boolean {
    return this.held !== null;
  }

  /**
   * Stops dispatching after the operation being handled, until resume().
   * Called from a handler (e.g. CONNECT awaiting an async authentication):
   * the rest of the chunk, and chunks fed meanwhile, are kept and parsed at
   * resume(), so operations a client sent in the same write as CONNECT are
   * handled in order, after it. The caller bounds what is kept (a transport
   * that stops reading while paused).
   */
  pause(): void {
    if (this.state !== State.CLOSED) this.held ??= [];
  }

  /** Parses what arrived while paused, then goes on as usual. */
  resume(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    for (let k = 0; k < held.length; k++) {
      this.parse(held[k]!);
      // A handler may pause again: keep the chunks not parsed yet, in order.
      if (this.held !== null) {
        (this.held as Buffer[]).push(...held.slice(k + 1));
        return;
      }
    }
  }

  /** Stops parsing; later input is ignored. */
  close(): void {
    this.state = State.CLOSED;
    this.partial = null;
    this.payloadBuf = null;
    this.held = null;
  }

  /** Feeds bytes. Operations are dispatched synchronously, in order. */
  parse(chunk: Buffer): void {
    const buf = chunk;
    let i = 0;
    const n0 = chunk.length;
    if (this.state === State.CLOSED) return;
    if (this.held !== null) {
      this.held.push(chunk);
      return;
    }

    if (this.state === State.PAYLOAD) {
      i = this.fillPayload(chunk, 0);
      if ((this.state as State) !== State.OP) {
        this.offset += n0;
        return;
      }
    } else if (this.partial !== null) {
      // Join the partial line with this chunk's head, up to and including LF.
      const lf = chunk.indexOf(LF);
      const take = lf === -1 ? chunk.length : lf + 1;
      const joined = Buffer.concat([this.partial, chunk.subarray(0, take)]);
      if (lf === -1) {
        if (this.overLimit(joined, 0, joined.length)) {
          this.offset += n0;
          return this.fail(new ProtocolError(ProtocolErrorText.MAX_CONTROL_LINE, true));
        }
        this.partial = joined;
        this.offset += n0;
        return;
      }
      this.partial = null;
      // Parse the joined line as if it were its own chunk, then go on with the rest.
      const after = this.line(joined, 0, joined.length - 1);
      if (after === -2) {
        this.offset += n0;
        return;
      }
      if (after >= 0) {
        // A payload follows the joined line: it starts in `chunk` at take.
        i = this.payloadStart(chunk, take, after);
      } else {
        i = take;
      }
      if (this.held !== null) {
        this.hold(chunk, i);
        this.offset += n0;
        return;
      }
    }

    this.chunkBuffer = buf.buffer;
    this.chunkOffset = buf.byteOffset;
    this.repLen = 0;
    while (i < buf.length && this.state === State.OP && this.held === null) {
      // The common frame, whole in this chunk, in one pass; anything else
      // (other ops, unusual spacing, a frame cut by the chunk's end, any
      // error) goes the general way below, which decides it.
      const next = this.fastFrame(buf, i);
      if (next !== -1) {
        i = next;
        continue;
      }
      const lf = buf.indexOf(LF, i);
      if (lf === -1) {
        if (this.overLimit(buf, i, buf.length)) {
          this.chunkBuffer = EMPTY_BUFFER;
          this.offset += n0;
          return this.fail(new ProtocolError(ProtocolErrorText.MAX_CONTROL_LINE, true));
        }
        this.partial = Buffer.from(buf.subarray(i));
        break;
      }
      const size = this.line(buf, i, lf);
      if (size === -2) break;
      i = size >= 0 ? this.payloadStart(buf, lf + 1, size) : lf + 1;
    }
    if (this.held !== null) this.hold(buf, i);
    // Not kept past the chunk: an idle connection holds no read buffer.
    this.chunkBuffer = EMPTY_BUFFER;
    this.offset += n0;
  }

  /** Keeps the unparsed rest of a chunk for resume(): a copy, as the chunk's memory may be reused. */
  private hold(buf: Buffer, i: number): void {
    if (i >= buf.length || this.state === State.CLOSED) return;
    this.held!.push(Buffer.from(buf.subarray(i)));
    // Counted again when parsed at resume().
    this.offset -= buf.length - i;
  }

  /**
   * Whether a line still waiting for its LF is already too long: its
   * argument bytes (a trailing CR aside) pass maxControlLine, or the whole
   * line passes twice that (runs of whitespace are bounded too).
   */
  private overLimit(buf: Buffer, start: number, end: number): boolean {
    const len = end - start;
    if (len <= this.maxControlLine) return false;
    if (len > 2 * this.maxControlLine + 64) return true;
    const e = buf[end - 1] === CR ? end - 1 : end;
    return argLength(buf, start, e) > this.maxControlLine;
  }

  /**
   * Handles the control line buf[start, lf). Returns -1 when no payload
   * follows, the payload size when one does, or -2 when parsing stopped.
   */
  private line(buf: Buffer, start: number, lf: number): number {
    let end = lf;
    if (end > start && buf[end - 1] === CR) end--;
    if (end - start > this.maxControlLine && argLength(buf, start, end) > this.maxControlLine) {
      this.fail(new ProtocolError(ProtocolErrorText.MAX_CONTROL_LINE, true));
      return -2;
    }
    const size = this.controlLine(buf, start, end);
    if (this.state === State.CLOSED) return -2;
    return size;
  }

  /** Starts reading a payload of `size` bytes plus CRLF at buf[i]. Returns the next index. */
  private payloadStart(buf: Buffer, i: number, size: number): number {
    const need = size + 2;
    if (buf.length - i >= need) {
      if (buf[i + size] !== CR || buf[i + size + 1] !== LF) {
        this.fail(unknownOp('payload is not followed by CRLF'));
        return buf.length;
      }
      this.payload(buf.subarray(i, i + size));
      return i + need;
    }
    this.payloadBuf = Buffer.allocUnsafe(need);
    this.payloadFilled = 0;
    this.state = State.PAYLOAD;
    return this.fillPayload(buf, i);
  }

  private fillPayload(buf: Buffer, i: number): number {
    const target = this.payloadBuf!;
    const want = target.length - this.payloadFilled;
    const have = buf.length - i;
    const n = have < want ? have : want;
    buf.copy(target, this.payloadFilled, i, i + n);
    this.payloadFilled += n;
    if (this.payloadFilled < target.length) return buf.length;
    const size = target.length - 2;
    this.payloadBuf = null;
    this.state = State.OP;
    if (target[size] !== CR || target[size + 1] !== LF) {
      this.fail(unknownOp('payload is not followed by CRLF'));
      return buf.length;
    }
    this.payload(target.subarray(0, size));
    return i + n;
  }

  protected fail(err: ProtocolError): void {
    this.close();
    this.reportError(err);
  }

  /**
   * Splits buf[start, end) on runs of spaces and tabs into this.args.
   * Returns the number of tokens, or MAX_ARGS + 1 when there are more.
   */
  protected split(buf: Buffer, start: number, end: number): number {
    const a = this.args;
    let count = 0;
    let i = start;
    while (i < end) {
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) break;
      const s = i;
      while (i < end && !isSpace(buf[i]!)) i++;
      if (count === MAX_ARGS) return MAX_ARGS + 1;
      a[count * 2] = s;
      a[count * 2 + 1] = i;
      count++;
    }
    return count;
  }

  protected str(buf: Buffer, k: number): string {
    return latin1Slice(buf, this.args[k * 2]!, this.args[k * 2 + 1]!);
  }

  /**
   * Parses one whole frame at buf[i] in a single pass when it has the shape
   * of the stream's common case, dispatches it and returns the index after
   * it; returns -1, having done nothing, for anything else.
   */
  protected fastFrame(_buf: Buffer, _i: number): number {
    return -1;
  }

  /**
   * The common PUB/MSG frame: `<op> <lead tokens> [reply] <size>\r\n<payload>\r\n`
   * with one space between tokens, whole in buf from `s` (the byte after the
   * op's space). `lead` is 1 (subject) or 2 (subject, sid). On success it
   * sets subject, reply, hdr, withHeaders (and the sid's bounds in args[2..3])
   * and returns the payload's start; the payload ends at `payloadEnd`.
   * Returns -1, with no effect, when the frame is not of that shape or not
   * whole, or when the general path would reject it: that path then decides,
   * with the same result and error as always.
   */
  protected fastMessage(buf: Buffer, s: number, lead: 1 | 2): number {
    const n = buf.length;
    // A stream repeats its whole line (same subject, sid and size, no reply):
    // when the bytes at s are those of the last such line in this chunk,
    // its results stand and no token is scanned again.
    const rl = this.repLen;
    if (rl !== 0 && s + rl <= n) {
      const r = this.repStart;
      let k = 0;
      while (k < rl && buf[s + k] === buf[r + k]) k++;
      if (k === rl) {
        const ps = s + rl;
        const pe = ps + this.repSize;
        if (pe + 2 > n || buf[pe] !== CR || buf[pe + 1] !== LF) return -1;
        this.subject = this.repSubject;
        this.reply = undefined;
        this.hdr = 0;
        this.withHeaders = false;
        if (lead === 2) {
          this.args[2] = s + this.repSid;
          this.args[3] = s + this.repSidEnd;
        }
        this.payloadEnd = pe;
        return ps;
      }
    }
    let p = s;
    // Token boundaries: subject, [sid], second-to-last (reply or size), last.
    let c = 0;
    // A stream repeats its subject: when the bytes are the last subject's,
    // followed by a space, take that string without scanning them twice.
    let subject = this.tokenCache[0];
    const sl = subject.length;
    // A chunk that ends within the cached subject's length: the general path decides. Scanning it here would run
    // the loop below with no type feedback yet, a deopt early in every run (issue #20, helper B).
    if (sl !== 0 && s + sl >= n) return -1;
    let k = 0;
    if (sl !== 0 && buf[s + sl] === SPACE) {
      while (k < sl && buf[s + k] === subject.charCodeAt(k)) k++;
    }
    if (k === sl && sl !== 0) {
      p = s + sl;
    } else {
      while (p < n && (c = buf[p]!) !== SPACE) {
        if (c === TAB || c === CR || c === LF) return -1;
        p++;
      }
      subject = '';
    }
    const se = p;
    if (se === s || p >= n) return -1;
    let sidS = 0;
    let sidE = 0;
    if (lead === 2) {
      sidS = ++p;
      while (p < n && (c = buf[p]!) !== SPACE) {
        if (c === TAB || c === CR || c === LF) return -1;
        p++;
      }
      sidE = p;
      if (sidE === sidS || p >= n) return -1;
    }
    const t1 = ++p;
    while (p < n && (c = buf[p]!) !== SPACE && c !== CR) {
      if (c === TAB || c === LF) return -1;
      p++;
    }
    if (p === t1 || p >= n) return -1;
    let rs = -1;
    let re = -1;
    let zs = t1;
    if (c === SPACE) {
      rs = t1;
      re = p;
      zs = ++p;
      while (p < n && (c = buf[p]!) >= 48 && c <= 57) p++;
    }
    // p is at the size's end: CRLF must follow, and the size must be 1-9 digits.
    if (p + 1 >= n || buf[p] !== CR || buf[p + 1] !== LF) return -1;
    if (p - s > this.maxControlLine) return -1;
    const size = parseSize(buf, zs, p);
    if (size < 0 || size > this.maxPayload) return -1;
    const ps = p + 2;
    const pe = ps + size;
    if (pe + 2 > n || buf[pe] !== CR || buf[pe + 1] !== LF) return -1;
    this.subject = subject !== '' ? subject : this.cachedToken(buf, s, se, 0);
    this.reply = rs === -1 ? undefined : latin1Slice(buf, rs, re);
    this.hdr = 0;
    this.withHeaders = false;
    if (lead === 2) {
      this.args[2] = sidS;
      this.args[3] = sidE;
    }
    this.payloadEnd = pe;
    if (rs === -1) {
      this.repStart = s;
      this.repLen = ps - s;
      this.repSize = size;
      this.repSubject = this.subject;
      this.repSid = sidS - s;
      this.repSidEnd = sidE - s;
    }
    return ps;
  }

  /** Set by fastMessage: where the payload it found ends. */
  protected payloadEnd = 0;
  /**
   * The last line fastMessage parsed with no reply, in the chunk being
   * parsed (repLen 0: none yet): where it starts and how long it is up to
   * its LF, its payload size, subject and sid bounds (relative to its start).
   */
  private repStart = 0;
  private repLen = 0;
  private repSize = 0;
  private repSubject = '';
  private repSid = 0;
  private repSidEnd = 0;

  /**
   * Token k as a string, reusing the string made last time for this slot
   * when the bytes are the same: a stream of messages mostly repeats its
   * subject (and, to a client, its sid), and comparing a few bytes costs
   * less than making a new string.
   */
  protected cachedStr(buf: Buffer, k: number, slot: 0 | 1): string {
    return this.cachedToken(buf, this.args[k * 2]!, this.args[k * 2 + 1]!, slot);
  }

  /** buf[s, e) as a string, through the cache of `slot` (see cachedStr). */
  protected cachedToken(buf: Buffer, s: number, e: number, slot: 0 | 1): string {
    const len = e - s;
    const prev = this.tokenCache[slot];
    if (prev.length === len && len <= TOKEN_CACHE_MAX) {
      let i = 0;
      while (i < len && prev.charCodeAt(i) === buf[s + i]) i++;
      if (i === len) return prev;
    }
    const str = latin1Slice(buf, s, e);
    if (len <= TOKEN_CACHE_MAX) this.tokenCache[slot] = str;
    return str;
  }

  private readonly tokenCache: [string, string] = ['', ''];

  protected size(buf: Buffer, k: number): number {
    return parseSize(buf, this.args[k * 2]!, this.args[k * 2 + 1]!);
  }

  /**
   * Checks declared sizes: returns the total, or -1 after failing. hdr is -1
   * for operations without headers.
   */
  protected checkSizes(hdr: number, total: number, hasHdr: boolean): number {
    if (total < 0 || (hasHdr && (hdr < 0 || hdr > total))) {
      this.fail(unknownOp('bad message size'));
      return -1;
    }
    if (total > this.maxPayload) {
      this.fail(new ProtocolError(ProtocolErrorText.MAX_PAYLOAD, true));
      return -1;
    }
    return total;
  }

  /**
   * Reads the arguments of a message line, `<subject> [sid] [reply] [hdr]
   * <total>`: `lead` is 1 for PUB/HPUB (subject) and 2 for MSG/HMSG (subject,
   * sid). Returns the payload size, or -1 after failing. The leading tokens
   * stay in this.args for the caller.
   */
  protected frameLine(buf: Buffer, oe: number, end: number, headers: boolean, lead: number, op: string): number {
    const n = this.split(buf, oe, end);
    const min = lead + (headers ? 2 : 1);
    if (n !== min && n !== min + 1) {
      this.fail(unknownOp(`wrong number of arguments for ${op}`));
      return -1;
    }
    this.subject = this.cachedStr(buf, 0, 0);
    this.reply = n === min + 1 ? this.str(buf, lead) : undefined;
    const total = this.size(buf, n - 1);
    const hdr = headers ? this.size(buf, n - 2) : 0;
    if (this.checkSizes(hdr, total, headers) < 0) return -1;
    this.hdr = hdr;
    this.withHeaders = headers;
    return total;
  }

  /** The text after the op and its separating whitespace (for CONNECT, INFO, -ERR). */
  protected rest(buf: Buffer, opEnd: number, end: number, utf8: boolean): string {
    let s = opEnd;
    while (s < end && isSpace(buf[s]!)) s++;
    let e = end;
    while (e > s && isSpace(buf[e - 1]!)) e--;
    return utf8 ? buf.toString('utf8', s, e) : latin1Slice(buf, s, e);
  }

  /** Decodes one control line; returns the payload size or -1. */
  protected abstract controlLine(buf: Buffer, start: number, end: number): number;
  protected abstract payload(payload: Buffer): void;
  protected abstract reportError(err: ProtocolError): void;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Finds the end of the op token. */
function opEnd(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && !isSpace(buf[i]!)) i++;
  return i;
}

/** Parses what a client sends: CONNECT, PUB, HPUB, SUB, UNSUB, PING, PONG. */
export class ServerParser extends BaseParser {
  private readonly h: ServerParserHandler;

  constructor(handler: ServerParserHandler, opts?: ParserOptions) {
    super(opts);
    this.h = handler;
  }

  /** `PUB <subject> [reply] <size>`, any case, single spaces, whole in the chunk. */
  protected override fastFrame(buf: Buffer, i: number): number {
    if (
      buf.length - i < 11 ||
      buf[i + 3] !== SPACE ||
      (buf[i]! | 0x20) !== 0x70 ||
      (buf[i + 1]! | 0x20) !== 0x75 ||
      (buf[i + 2]! | 0x20) !== 0x62
    ) {
      return -1;
    }
    const ps = this.fastMessage(buf, i + 4, 1);
    if (ps === -1) return -1;
    const pe = this.payloadEnd;
    // A plain view: making a Buffer (subarray) cost ~4 times as much, a tenth of the hub's work per message.
    this.h.pub(this.subject, this.reply, 0, new Uint8Array(this.chunkBuffer, this.chunkOffset + ps, pe - ps), false);
    return pe + 2;
  }

  protected controlLine(buf: Buffer, start: number, end: number): number {
    const oe = opEnd(buf, start, end);
    const c = buf[start]! | 0x20;
    if (c === 0x70 /* p */) {
      if (opIs(buf, start, oe, 'PUB')) return this.frameLine(buf, oe, end, false, 1, 'PUB');
      // nats-server ignores anything after PING/PONG on the line.
      if (opIs(buf, start, oe, 'PING')) {
        this.h.ping();
        return -1;
      }
      if (opIs(buf, start, oe, 'PONG')) {
        this.h.pong();
        return -1;
      }
    } else if (c === 0x68 /* h */) {
      if (opIs(buf, start, oe, 'HPUB')) return this.frameLine(buf, oe, end, true, 1, 'HPUB');
    } else if (c === 0x73 /* s */) {
      if (opIs(buf, start, oe, 'SUB')) return this.subLine(buf, oe, end);
    } else if (c === 0x75 /* u */) {
      if (opIs(buf, start, oe, 'UNSUB')) return this.unsubLine(buf, oe, end);
    } else if (c === 0x63 /* c */) {
      if (opIs(buf, start, oe, 'CONNECT')) {
        this.h.connect(this.rest(buf, oe, end, true));
        return -1;
      }
    } else if (c === 0x69 /* i */) {
      if (opIs(buf, start, oe, 'INFO')) {
        // nats-server ignores INFO from a client as long as it is JSON.
        if (!isJson(this.rest(buf, oe, end, true))) this.fail(unknownOp('INFO from client is not JSON'));
        return -1;
      }
    } else if (opIs(buf, start, oe, '+OK')) {
      return -1;
    } else if (oe - start === 4 && opIs(buf, start, oe, '-ERR') && oe < end) {
      this.fail(unknownOp('client sent -ERR'));
      return -1;
    }
    this.fail(unknownOp());
    return -1;
  }

  private subLine(buf: Buffer, oe: number, end: number): number {
    const n = this.split(buf, oe, end);
    if (n === 2) this.h.sub(this.str(buf, 0), undefined, this.str(buf, 1));
    else if (n === 3) this.h.sub(this.str(buf, 0), this.str(buf, 1), this.str(buf, 2));
    else this.fail(unknownOp('wrong number of arguments for SUB'));
    return -1;
  }

  private unsubLine(buf: Buffer, oe: number, end: number): number {
    const n = this.split(buf, oe, end);
    if (n === 1) {
      this.h.unsub(this.str(buf, 0), undefined);
    } else if (n === 2) {
      // nats-server reads a max that is not a positive number as 0: unsubscribe now.
      const max = this.size(buf, 1);
      this.h.unsub(this.str(buf, 0), max < 0 ? 0 : max);
    } else {
      this.fail(unknownOp('wrong number of arguments for UNSUB'));
    }
    return -1;
  }

  protected payload(payload: Buffer): void {
    // A plain view, as fastFrame's: the hub's payload sites then see one map, not two.
    this.h.pub(this.subject, this.reply, this.hdr, new Uint8Array(payload.buffer, payload.byteOffset, payload.length), this.withHeaders);
  }

  protected reportError(err: ProtocolError): void {
    this.h.error(err);
  }
}

/** Parses what a server sends: INFO, MSG, HMSG, +OK, -ERR, PING, PONG. */
export class ClientParser extends BaseParser {
  private readonly h: ClientParserHandler;
  private sid = '';

  constructor(handler: ClientParserHandler, opts?: ParserOptions) {
    super(opts);
    this.h = handler;
  }

  /** `MSG <subject> <sid> [reply] <size>`, any case, single spaces, whole in the chunk. */
  protected override fastFrame(buf: Buffer, i: number): number {
    if (
      buf.length - i < 13 ||
      buf[i + 3] !== SPACE ||
      (buf[i]! | 0x20) !== 0x6d ||
      (buf[i + 1]! | 0x20) !== 0x73 ||
      (buf[i + 2]! | 0x20) !== 0x67
    ) {
      return -1;
    }
    const ps = this.fastMessage(buf, i + 4, 2);
    if (ps === -1) return -1;
    const pe = this.payloadEnd;
    this.sid = this.cachedToken(buf, this.args[2]!, this.args[3]!, 1);
    this.h.msg(this.subject, this.sid, this.reply, 0, bufferView(this.chunkBuffer, this.chunkOffset + ps, pe - ps), false);
    return pe + 2;
  }

  protected controlLine(buf: Buffer, start: number, end: number): number {
    const oe = opEnd(buf, start, end);
    const c = buf[start]! | 0x20;
    if (c === 0x6d /* m */ && opIs(buf, start, oe, 'MSG')) return this.msgLine(buf, oe, end, false);
    if (c === 0x68 /* h */ && opIs(buf, start, oe, 'HMSG')) return this.msgLine(buf, oe, end, true);
    if (c === 0x70 /* p */) {
      if (opIs(buf, start, oe, 'PING')) {
        this.h.ping();
        return -1;
      }
      if (opIs(buf, start, oe, 'PONG')) {
        this.h.pong();
        return -1;
      }
    }
    if (c === 0x69 /* i */ && opIs(buf, start, oe, 'INFO')) {
      this.h.info(this.rest(buf, oe, end, true));
      return -1;
    }
    if (opIs(buf, start, oe, '+OK')) {
      this.h.ok();
      return -1;
    }
    if (opIs(buf, start, oe, '-ERR')) {
      let text = this.rest(buf, oe, end, true);
      if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) text = text.slice(1, -1);
      this.h.err(text);
      return -1;
    }
    this.fail(unknownOp());
    return -1;
  }

  private msgLine(buf: Buffer, oe: number, end: number, headers: boolean): number {
    const total = this.frameLine(buf, oe, end, headers, 2, headers ? 'HMSG' : 'MSG');
    if (total >= 0) this.sid = this.cachedStr(buf, 1, 1);
    return total;
  }

  protected payload(payload: Buffer): void {
    this.h.msg(this.subject, this.sid, this.reply, this.hdr, payload, this.withHeaders);
  }

  protected reportError(err: ProtocolError): void {
    this.h.error(err);
  }
}
