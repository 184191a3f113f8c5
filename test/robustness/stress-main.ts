/**
 * `npm run stress -- <case>`: the full-size robustness runs, against a hub in
 * a child process (so its RSS is the hub's alone). Prints what it measured.
 *
 *   slow-consumer  offer 400 MB to a subscriber that never reads; report the
 *                  hub's peak RSS, when the subscriber was cut, and whether a
 *                  second subscriber got everything
 *   flood          5,000 concurrent connections, then max_connections refusal
 *   churn          10,000 connect/disconnect cycles; hub RSS before/after
 */
import { connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { startChildHub, type ChildHub } from './child-hub.js';

const CONNECT = 'CONNECT {"verbose":false,"pedantic":false,"protocol":1,"headers":true,"no_responders":true}\r\n';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function open(port: number, send = CONNECT + 'PING\r\n', until = 'PONG\r\n'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no ${JSON.stringify(until)}: got ${JSON.stringify(got.slice(0, 200))}`));
    }, 20_000);
    const onData = (c: Buffer): void => {
      got += c.toString('latin1');
      if (got.includes(until)) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve(s);
      }
    };
    s.on('data', onData);
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.write(send);
  });
}

async function slowConsumer(): Promise<void> {
  const hub = await startChildHub(['--max-pending', '64MiB', '--write-deadline', '10s']);
  try {
    const idle = hub.rssMB();
    const stalled = await open(hub.port, CONNECT + 'SUB big 1\r\nPING\r\n');
    stalled.pause();
    const healthy = await open(hub.port, CONNECT + 'SUB big 1\r\nPING\r\n');
    let healthyBytes = 0;
    healthy.on('data', (c: Buffer) => (healthyBytes += c.length));
    const stalledClosed = once(stalled, 'close');
    const pub = await open(hub.port);
    const body = Buffer.alloc(64 * 1024, 120);
    const frame = Buffer.concat([Buffer.from(`PUB big ${body.length}\r\n`), body, Buffer.from('\r\n')]);
    const count = 6400; // 400 MiB
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, hub.rssMB())), 50);
    const t0 = Date.now();
    let cutAt = -1;
    stalled.on('data', () => {});
    void stalledClosed.then(() => (cutAt = Date.now() - t0));
    stalled.pause();
    for (let i = 0; i < count; i++) if (!pub.write(frame)) await once(pub, 'drain');
    const sent = Date.now() - t0;
    const expected = count * (`MSG big 1 ${body.length}\r\n`.length + body.length + 2);
    const until = Date.now() + 120_000;
    while (healthyBytes < expected && Date.now() < until) await sleep(20);
    clearInterval(sampler);
    // The stalled socket reads again only to notice that the hub closed it.
    stalled.resume();
    await Promise.race([stalledClosed, sleep(10_000)]);
    console.log(
      JSON.stringify(
        {
          case: 'slow-consumer',
          offeredMB: (count * body.length) / 1048576,
          maxPendingMB: 64,
          hubIdleRssMB: idle,
          hubPeakRssMB: peak,
          publisherDoneMs: sent,
          stalledSubscriberClosed: cutAt >= 0,
          healthySubscriberGotAll: healthyBytes === expected,
        },
        null,
        2,
      ),
    );
    for (const s of [stalled, healthy, pub]) s.destroy();
  } finally {
    await hub.stop();
  }
}

async function flood(): Promise<void> {
  const n = 5000;
  const hub = await startChildHub(['--max-connections', String(n)]);
  try {
    const idle = hub.rssMB();
    const sockets: Socket[] = [];
    const t0 = Date.now();
    for (let i = 0; i < n; i += 250) sockets.push(...(await Promise.all(Array.from({ length: 250 }, () => open(hub.port)))));
    const connectedMs = Date.now() - t0;
    const rss = hub.rssMB();
    // One more is refused with nats-server's error; the hub keeps going.
    const extra = await open(hub.port, '', "-ERR 'maximum connections exceeded'\r\n").then(
      (s) => {
        s.destroy();
        return 'refused with -ERR maximum connections exceeded';
      },
      (e: Error) => `unexpected: ${e.message}`,
    );
    // Everyone still gets served: a PING on each of the first 100.
    await Promise.all(sockets.slice(0, 100).map((s) => new Promise<void>((r) => {
      s.once('data', () => r());
      s.write('PING\r\n');
    })));
    console.log(JSON.stringify({ case: 'flood', connections: n, connectedMs, hubIdleRssMB: idle, hubRssMB: rss, bytesPerConnection: Math.round(((rss - idle) * 1048576) / n), extra }, null, 2));
    for (const s of sockets) s.destroy();
  } finally {
    await hub.stop();
  }
}

async function churn(): Promise<void> {
  const cycles = 10_000;
  const hub: ChildHub = await startChildHub();
  try {
    // Warm up, then measure.
    for (let i = 0; i < 500; i += 50) await cycle(hub.port, 50);
    const before = hub.rssMB();
    const t0 = Date.now();
    for (let i = 0; i < cycles; i += 50) await cycle(hub.port, 50);
    await sleep(1000);
    console.log(JSON.stringify({ case: 'churn', cycles, ms: Date.now() - t0, hubRssBeforeMB: before, hubRssAfterMB: hub.rssMB() }, null, 2));
  } finally {
    await hub.stop();
  }
}

async function cycle(port: number, width: number): Promise<void> {
  const batch = await Promise.all(Array.from({ length: width }, () => open(port, CONNECT + 'SUB x 1\r\nPING\r\n')));
  await Promise.all(batch.map((s) => {
    const closed = once(s, 'close');
    s.end();
    return closed;
  }));
}

const cases: Record<string, () => Promise<void>> = { 'slow-consumer': slowConsumer, flood, churn };
const which = process.argv[2];
if (which === undefined || !(which in cases)) {
  console.error(`netemitter stress: name a case: ${Object.keys(cases).join(', ')}`);
  process.exit(2);
}
await cases[which]!();
