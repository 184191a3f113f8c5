/**
 * The publishers of group-commit.test.ts, in a worker thread: their event
 * loop runs while the test's (the hub's) is blocked in Atomics.wait. Opens
 * `conns` raw NATS connections, each subscribed to its own inbox; on 'go'
 * writes one PUB with a reply subject on each, and once every write has
 * reached the kernel wakes the hub's thread; then collects the PubAcks.
 */
import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  port: number;
  conns: number;
  subject: string;
  /** Int32Array over a SharedArrayBuffer: [0] set to 1 when every PUB is written. */
  flag: SharedArrayBuffer;
}

const job = workerData as Job;
const port = parentPort!;
const flag = new Int32Array(job.flag);

/** A raw connection's received bytes as text, and a way to wait for a pattern in them. */
class Raw {
  text = '';
  private waiter: { re: RegExp; resolve: () => void } | null = null;
  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (s: string) => {
      this.text += s;
      if (this.waiter !== null && this.waiter.re.test(this.text)) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve();
      }
    });
  }
  until(re: RegExp): Promise<void> {
    if (re.test(this.text)) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { re, resolve }));
  }
}

function open(k: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: job.port });
    s.once('error', reject);
    s.once('connect', () => {
      s.setNoDelay(true);
      const raw = new Raw(s);
      s.write(`CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nSUB _INBOX.gc${k} ${k + 1}\r\nPING\r\n`);
      void raw.until(/PONG\r\n/).then(() => resolve(raw));
    });
  });
}

const raws: Raw[] = [];
for (let k = 0; k < job.conns; k++) raws.push(await open(k));
port.postMessage({ type: 'ready' });

port.once('message', async () => {
  const body = 'event';
  // Every write's callback: the bytes are in the kernel, on their way to the hub's socket.
  await Promise.all(
    raws.map((r, k) => new Promise<void>((resolve, reject) => {
      r.socket.write(`PUB ${job.subject} _INBOX.gc${k} ${body.length}\r\n${body}\r\n`, (err) => (err ? reject(err) : resolve()));
    })),
  );
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  await Promise.all(raws.map((r, k) => r.until(new RegExp(`MSG _INBOX\\.gc${k} ${k + 1} \\d+\\r\\n[^\\r]*\\r\\n`))));
  const acks = raws.map((r, k) => {
    const m = r.text.match(new RegExp(`MSG _INBOX\\.gc${k} ${k + 1} \\d+\\r\\n([^\\r]*)\\r\\n`))!;
    return JSON.parse(m[1]!) as { stream: string; seq: number };
  });
  for (const r of raws) r.socket.destroy();
  port.postMessage({ type: 'acks', acks });
});
