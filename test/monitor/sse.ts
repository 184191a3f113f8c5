/**
 * A Server-Sent Events reader for the live API tests (node:http, so a test
 * can stop reading to play a slow page): it parses `event:`/`data:` blocks
 * into a list, and waits for an event by name and condition with a bounded
 * timeout. The data of each event is parsed as JSON.
 */
import { request, type IncomingMessage, type ClientRequest } from 'node:http';

export interface SseEvent {
  readonly event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: any;
}

export class SseClient {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Every event so far, in order. */
  readonly events: SseEvent[] = [];
  /** The body of a refused stream (status other than 200). */
  body = '';
  ended = false;
  private buf = '';
  private waiters: (() => void)[] = [];
  private readonly req: ClientRequest;
  private readonly res: IncomingMessage;

  private constructor(req: ClientRequest, res: IncomingMessage) {
    this.req = req;
    this.res = res;
    this.status = res.statusCode ?? 0;
    this.headers = res.headers;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (this.status !== 200) this.body += chunk;
      else this.feed(chunk);
      this.wake();
    });
    res.on('close', () => {
      this.ended = true;
      this.wake();
    });
    res.on('error', () => {});
  }

  /** Opens a stream: resolves once the response headers arrive. */
  static open(url: string, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers } });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`no answer from ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('response', (res) => {
        clearTimeout(timer);
        resolve(new SseClient(req, res));
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    let end: number;
    while ((end = this.buf.indexOf('\n\n')) !== -1) {
      const block = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')) });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Events named `name` so far. */
  named(name: string): SseEvent[] {
    return this.events.filter((e) => e.event === name);
  }

  /**
   * The first event named `name` at index `from` or later for which `ok`
   * holds, waiting for it up to `timeoutMs`.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async waitFor(name: string, ok: (data: any) => boolean = () => true, timeoutMs = 5_000, from = 0): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.events.length; i++) {
        const e = this.events[i]!;
        if (e.event === name && ok(e.data)) return e;
      }
      if (this.ended) throw new Error(`the stream ended before a '${name}' event came`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${name}' event within ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-5)).slice(0, 1500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until the server ends the stream. */
  async waitEnd(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the stream did not end within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Stops reading (a slow page): the server's writes back up. */
  pause(): void {
    this.res.pause();
  }

  resume(): void {
    this.res.resume();
  }

  close(): void {
    this.req.destroy();
  }
}
