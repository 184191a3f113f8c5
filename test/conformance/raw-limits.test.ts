/**
 * Golden tests of the configurable limits on a raw socket: control line,
 * payload, connections, subscriptions and the ping timer. Each describe
 * starts a server with the limit it needs (names and units are the hub's;
 * test/helpers/target.ts maps them to nats-server config).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type TestServer } from '../helpers/target.js';
import { connectLine, withRaw, RawClient } from '../helpers/raw.js';

const C = connectLine();

async function untilClosed(server: TestServer, data: string): Promise<string> {
  return withRaw(server, async (c) => {
    c.send(data);
    assert.equal(await c.waitClosed(), true, `the server kept the connection open; received ${JSON.stringify(c.text())}`);
    return c.text();
  });
}

describe('max_control_line', () => {
  const MCL = 128;
  let server: TestServer;

  before(async () => {
    server = await startServer({ maxControlLine: MCL });
  });

  after(async () => {
    await server.stop();
  });

  it("a longer line: -ERR 'maximum control line exceeded', close (probe: max control line 4096)", async () => {
    const got = await untilClosed(server, C + `PUB ${'a'.repeat(300)} 1\r\nx\r\n`);
    assert.equal(got, "-ERR 'maximum control line exceeded'\r\n");
  });

  it('a long line that never ends is cut off without waiting for its LF', async () => {
    const got = await untilClosed(server, C + `SUB ${'b'.repeat(1000)}`);
    assert.equal(got, "-ERR 'maximum control line exceeded'\r\n");
  });

  it('a long line split across writes is measured as a whole', async () => {
    await withRaw(server, async (c) => {
      c.send(C);
      await c.sendParts([`PUB ${'c'.repeat(100)}`, 'c'.repeat(100), ' 0\r\n\r\n'], 15);
      assert.equal(await c.waitClosed(), true);
      assert.equal(c.text(), "-ERR 'maximum control line exceeded'\r\n");
    });
  });

  // nats-server measures the arguments after the op (parser.go
  // overMaxControlLineLimit(arg)): "PUB " + 128 bytes of arguments is accepted,
  // 129 is not.
  it('the limit applies to the arguments after the op: exactly max_control_line bytes pass', async () => {
    await withRaw(server, async (c) => {
      const subject = 'd'.repeat(MCL - 2); // "<subject> 0" is MCL bytes
      const got = await c.roundTrip(C + `SUB ${subject} 1\r\nPUB ${subject} 0\r\n\r\n`);
      assert.equal(got, `MSG ${subject} 1 0\r\n\r\nPONG\r\n`);
    });
  });

  it('one byte of arguments over max_control_line is refused', async () => {
    const got = await untilClosed(server, C + `PUB ${'e'.repeat(MCL - 1)} 0\r\n\r\n`);
    assert.equal(got, "-ERR 'maximum control line exceeded'\r\n");
  });
});

describe('max_payload', () => {
  const MAX = 64;
  let server: TestServer;
  let defaults: TestServer;

  before(async () => {
    server = await startServer({ maxPayload: MAX });
    defaults = await startServer();
  });

  after(async () => {
    await server.stop();
    await defaults.stop();
  });

  it('advertises max_payload in INFO', async () => {
    await withRaw(server, async (c) => {
      assert.equal(c.info.max_payload, MAX);
    });
  });

  it('a PUB of exactly max_payload bytes is delivered', async () => {
    await withRaw(server, async (c) => {
      const body = 'p'.repeat(MAX);
      assert.equal(await c.roundTrip(C + `SUB p 1\r\nPUB p ${MAX}\r\n${body}\r\n`), `MSG p 1 ${MAX}\r\n${body}\r\nPONG\r\n`);
    });
  });

  it("a PUB declaring max_payload + 1: -ERR 'Maximum Payload Violation' on the control line, close", async () => {
    // No payload is sent: the server decides on the declared size.
    assert.equal(await untilClosed(server, C + `PUB p ${MAX + 1}\r\n`), "-ERR 'Maximum Payload Violation'\r\n");
  });

  it('an HPUB whose headers + payload are exactly max_payload is delivered', async () => {
    await withRaw(server, async (c) => {
      const hdr = 'NATS/1.0\r\n\r\n';
      const body = 'h'.repeat(MAX - hdr.length);
      const got = await c.roundTrip(C + `SUB p 1\r\nHPUB p ${hdr.length} ${MAX}\r\n${hdr}${body}\r\n`);
      assert.equal(got, `HMSG p 1 ${hdr.length} ${MAX}\r\n${hdr}${body}\r\nPONG\r\n`);
    });
  });

  it("an HPUB whose total is max_payload + 1 (headers count): -ERR 'Maximum Payload Violation', close (probe: HPUB total > max_payload counts headers)", async () => {
    assert.equal(await untilClosed(server, C + `HPUB p 12 ${MAX + 1}\r\n`), "-ERR 'Maximum Payload Violation'\r\n");
  });

  it('the default max_payload is 1 MiB: 1048577 is refused (probe: max payload (1MB default) via control line)', async () => {
    assert.equal(await untilClosed(defaults, C + 'PUB foo 1048577\r\n'), "-ERR 'Maximum Payload Violation'\r\n");
  });
});

describe('max_connections', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ maxConnections: 2 });
  });

  after(async () => {
    await server.stop();
  });

  it("one connection too many gets INFO, then -ERR 'maximum connections exceeded', then close (probe2: 3rd connection)", async () => {
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    try {
      assert.equal(await a.roundTrip(C), 'PONG\r\n');
      assert.equal(await b.roundTrip(C), 'PONG\r\n');
      const third = await RawClient.connect(server);
      try {
        assert.match(third.infoLine, /^INFO \{.*\} ?\r\n$/);
        assert.equal(await third.waitClosed(), true);
        assert.equal(third.text(), "-ERR 'maximum connections exceeded'\r\n");
      } finally {
        await third.close();
      }
      // The two admitted connections are unaffected.
      assert.equal(await a.roundTrip(), 'PONG\r\nPONG\r\n');
    } finally {
      await a.close();
    }
    // With one slot freed, a new connection is admitted (once the server has
    // seen the close: retried a bounded number of times).
    let admitted = false;
    for (let attempt = 0; attempt < 50 && !admitted; attempt++) {
      const c = await RawClient.connect(server);
      try {
        c.send(C + 'PING\r\n');
        await c.readUntil((r) => r.length > 0);
        admitted = c.text() === 'PONG\r\n';
      } catch {
        admitted = false;
      } finally {
        await c.close();
      }
      if (!admitted) await sleep(20);
    }
    await b.close();
    assert.equal(admitted, true, 'a connection is admitted again after one closed');
  });
});

describe('max_subscriptions', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ maxSubscriptions: 2 });
  });

  after(async () => {
    await server.stop();
  });

  it("one subscription too many: -ERR 'maximum subscriptions exceeded', connection stays, the others work", async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPUB a 1\r\n1\r\nPUB c 1\r\n3\r\n');
      assert.equal(got, "-ERR 'maximum subscriptions exceeded'\r\nMSG a 1 1\r\n1\r\nPONG\r\n");
      assert.equal(c.isClosed, false);
    });
  });

  it('the limit is per connection and an UNSUB frees a slot', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB a 1\r\nSUB b 2\r\nUNSUB 1\r\nSUB c 3\r\nSUB d 4\r\nPUB c 1\r\nx\r\n');
      assert.equal(got, "-ERR 'maximum subscriptions exceeded'\r\nMSG c 3 1\r\nx\r\nPONG\r\n");
    });
  });

  // nats-server checks the limit (client.go subsAtLimit: len(subs) >= max)
  // before it looks for a duplicate sid, so a duplicate at the limit is an error.
  it('a duplicate sid at the limit also gets the -ERR', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB a 1\r\nSUB b 2\r\nSUB a 1\r\n');
      assert.equal(got, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
    });
  });
});

describe('ping timer', () => {
  const INTERVAL = 200;
  let server: TestServer;

  before(async () => {
    server = await startServer({ pingInterval: INTERVAL, maxPingsOut: 2 });
  });

  after(async () => {
    await server.stop();
  });

  it("a client that never answers: PING, PING, -ERR 'Stale Connection', close (probe: stale connection)", async () => {
    await withRaw(server, async (c) => {
      c.send(C);
      assert.equal(await c.waitClosed(INTERVAL * 20), true);
      assert.equal(c.text(), "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
    });
  });

  it('a client that answers every PING stays connected', async () => {
    await withRaw(server, async (c) => {
      c.send(C);
      // Answer each PING as it comes; stop after a few more PINGs than maxPingsOut.
      let answered = 0;
      while (answered < 4) {
        await c.readUntil((r) => countPings(r.toString('latin1')) > answered, INTERVAL * 20);
        c.send('PONG\r\n');
        answered++;
      }
      // Still served, and no -ERR on the way: only PINGs, then our PONG.
      assert.match(await c.roundTrip(), /^(PING\r\n){4,5}PONG\r\n$/);
    });
  });
});

function countPings(s: string): number {
  return s.split('PING\r\n').length - 1;
}
