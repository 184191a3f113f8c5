/**
 * Golden tests of protocol errors (brief A.5) that need no special limits:
 * the exact `-ERR '<text>'` line, and whether the server closes the
 * connection afterwards. Expected bytes: nats-server 2.9.10 captures in
 * test/fixtures/wire/ (named per test as "probe: <section>").
 *
 * Fatal errors: send, wait for the server to close, compare everything
 * received after INFO. Non-fatal errors: the PING/PONG round trip shows
 * the connection is still served.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { differs, startServer, type TestServer } from '../helpers/target.js';
import { connectLine, withRaw } from '../helpers/raw.js';

const C = connectLine();

/** Sends `data` and returns what arrived before the server closed the connection. */
async function untilClosed(server: TestServer, data: string): Promise<string> {
  return withRaw(server, async (c) => {
    c.send(data);
    assert.equal(await c.waitClosed(), true, `the server kept the connection open; received ${JSON.stringify(c.text())}`);
    return c.text();
  });
}

describe('raw protocol: errors that close the connection', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server.stop();
  });

  it("unknown op: -ERR 'Unknown Protocol Operation', close (probe: unknown op)", async () => {
    assert.equal(await untilClosed(server, C + 'FOO bar\r\n'), "-ERR 'Unknown Protocol Operation'\r\n");
  });

  it("payload longer than declared: -ERR 'Unknown Protocol Operation', close (probe: PUB payload size mismatch)", async () => {
    assert.equal(await untilClosed(server, C + 'PUB foo 3\r\nabcdef\r\nPING\r\n'), "-ERR 'Unknown Protocol Operation'\r\n");
  });

  it("payload shorter than declared: -ERR 'Unknown Protocol Operation', close", async () => {
    // 5 declared, "ab\r\nPING\r\n" supplies them; what follows "PING\r" is not CRLF.
    assert.equal(await untilClosed(server, C + 'PUB foo 5\r\nab\r\nPING\r\n'), "-ERR 'Unknown Protocol Operation'\r\n");
  });

  it("CONNECT protocol 2: -ERR 'invalid client protocol', close (probe: CONNECT protocol:2)", async () => {
    assert.equal(await untilClosed(server, connectLine({ protocol: 2 })), "-ERR 'invalid client protocol'\r\n");
  });

  it("CONNECT protocol -1: -ERR 'invalid client protocol', close", async () => {
    assert.equal(await untilClosed(server, connectLine({ protocol: -1 })), "-ERR 'invalid client protocol'\r\n");
  });

  it("no_responders without headers: -ERR 'no responders requires headers support', close (probe: no_responders without headers)", async () => {
    const got = await untilClosed(server, connectLine({ headers: false, no_responders: true }));
    assert.equal(got, "-ERR 'no responders requires headers support'\r\n");
  });

  it('HPUB without headers:true in CONNECT: silent close (probe: HPUB when headers:false)', async () => {
    const got = await untilClosed(
      server,
      connectLine({ headers: false, no_responders: false }) + 'SUB foo 1\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n',
    );
    assert.equal(got, '', 'no -ERR, no MSG, no PONG');
  });

  it('HPUB with hdr_len 0 without headers:true in CONNECT: silent close too', async () => {
    const got = await untilClosed(server, connectLine({ headers: false, no_responders: false }) + 'SUB foo 1\r\nHPUB foo 0 2\r\nhi\r\nPING\r\n');
    assert.equal(got, '');
  });

  it('HPUB before CONNECT (headers default to off): silent close', async () => {
    assert.equal(await untilClosed(server, 'HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n'), '');
  });

  // nats-server 2.9.10 returns these argument errors from processPub /
  // processHeaderPub / processSub / processConnect without sending -ERR (it
  // only logs, e.g. "processPub Parse Error") and closes. Our hub says why
  // before closing: a deliberate difference (hub owner's note, test/CONFORMANCE-NOTES.md #1).
  // Each line is sent on its own connection.
  it('malformed PUB, HPUB, SUB and CONNECT arguments: close (nats-server silently, the hub after -ERR)', async () => {
    const cases: Record<string, string> = {
      'PUB without size': C + 'PUB foo\r\nPING\r\n',
      'PUB with 4 args': C + 'PUB foo a b 1\r\nx\r\nPING\r\n',
      'PUB with a non-numeric size': C + 'PUB foo x\r\nPING\r\n',
      'PUB with a 10-digit size': C + 'PUB foo 1234567890\r\nPING\r\n',
      'HPUB with hdr_len > total_len': C + 'HPUB foo 5 2\r\nhi\r\nPING\r\n',
      'SUB without sid': C + 'SUB foo\r\nPING\r\n',
      'SUB with 4 args': C + 'SUB foo q 1 2\r\nPING\r\n',
      'CONNECT with invalid JSON': 'CONNECT {bad\r\nPING\r\n',
      'CONNECT with a string for a boolean': 'CONNECT {"verbose":"yes"}\r\nPING\r\n',
    };
    const expected = differs({
      natsServer: '',
      hub: "-ERR 'Unknown Protocol Operation'\r\n",
      why: 'nats-server closes silently on malformed arguments; the hub sends -ERR first',
    });
    const got: Record<string, string> = {};
    for (const [name, data] of Object.entries(cases)) got[name] = await untilClosed(server, data);
    assert.deepEqual(got, Object.fromEntries(Object.keys(cases).map((k) => [k, expected])));
  });

  it("UNSUB without sid: -ERR 'Unknown Protocol Operation', close", async () => {
    assert.equal(await untilClosed(server, C + 'UNSUB\r\nPING\r\n'), "-ERR 'Unknown Protocol Operation'\r\n");
  });
});

describe('raw protocol: errors that keep the connection', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server.stop();
  });

  it("SUB with an invalid subject: -ERR 'Invalid Subject', connection stays (probe: SUB invalid subject foo..bar)", async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB foo..bar 1\r\nSUB foo.>.bar 2\r\nSUB >  3\r\n');
      assert.equal(got, "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\n");
      // `>` (sid 3) was valid and is active; the invalid ones were not added.
      assert.equal(await c.roundTrip('PUB any 1\r\nx\r\n'), "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\nMSG any 3 1\r\nx\r\nPONG\r\n");
      assert.equal(c.isClosed, false);
    });
  });

  it("SUB with empty leading/trailing tokens or > before the end: -ERR 'Invalid Subject' each", async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB .foo 1\r\nSUB foo. 2\r\nSUB foo.>.> 3\r\nSUB * 4\r\nSUB a*b 5\r\nSUB foo q.* 6\r\n');
      assert.equal(got, "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\nPONG\r\n");
    });
  });

  it("verbose: -ERR 'Invalid Subject' replaces the +OK", async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(connectLine({ verbose: true }) + 'SUB foo..bar 1\r\n');
      assert.equal(got, "+OK\r\n-ERR 'Invalid Subject'\r\nPONG\r\n");
    });
  });

  it("pedantic PUB to a wildcard subject: -ERR 'Invalid Publish Subject', connection stays (probe: PUB wildcard subject pedantic)", async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(connectLine({ pedantic: true }) + 'PUB foo.* 1\r\nx\r\n');
      assert.equal(got, "-ERR 'Invalid Publish Subject'\r\nPONG\r\n");
      assert.equal(c.isClosed, false);
    });
  });

  // nats-server 2.9.10 (client.go processPub) sends the -ERR and then goes on
  // with the message as usual: +OK when verbose, and delivery.
  it("pedantic PUB to a wildcard subject is still +OK'd and delivered after the -ERR", async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(connectLine({ pedantic: true, verbose: true }) + 'SUB foo.* 1\r\nPUB foo.* 1\r\nx\r\n');
      assert.equal(got, "+OK\r\n+OK\r\n-ERR 'Invalid Publish Subject'\r\n+OK\r\nMSG foo.* 1 1\r\nx\r\nPONG\r\n");
    });
  });

  it('without pedantic, a PUB to a wildcard subject is delivered literally (probe: PUB wildcard subject non-pedantic)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB foo.* 1\r\nPUB foo.* 1\r\nx\r\n');
      assert.equal(got, 'MSG foo.* 1 1\r\nx\r\nPONG\r\n');
    });
  });

  // nats-server 2.9.10 processUnsub: a max that is not a number parses as -1,
  // which means "no max": the subscription goes at once, nothing is sent.
  it('UNSUB with a non-numeric max unsubscribes at once, no error', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB a 1\r\nUNSUB 1 x\r\nPUB a 1\r\n1\r\n');
      assert.equal(got, 'PONG\r\n');
      assert.equal(c.isClosed, false);
    });
  });

  it('UNSUB <sid> 0 unsubscribes at once', async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.roundTrip(C + 'SUB a 1\r\nUNSUB 1 0\r\nPUB a 1\r\n1\r\n'), 'PONG\r\n');
    });
  });
});

// Differences the hub owner made on purpose (test/CONFORMANCE-NOTES.md). Each
// test states what each target sends, exactly, so a change on either side is
// noticed; probed against nats-server 2.9.10.
describe('raw protocol: deliberate differences, both sides asserted', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server.stop();
  });

  it('a size with leading zeros: nats-server echoes the token, the hub writes the number', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB foo 1\r\nPUB foo 01\r\nx\r\n');
      const size = differs({ natsServer: '01', hub: '1', why: 'the hub normalises size tokens' });
      assert.equal(got, `MSG foo 1 ${size}\r\nx\r\nPONG\r\n`);
    });
  });

  it('PINGX: nats-server answers PONG, the hub refuses the unknown op', async () => {
    await withRaw(server, async (c) => {
      c.send(C + 'PINGX\r\n');
      const closes = differs({ natsServer: false, hub: true, why: 'the hub matches whole op names' });
      if (closes) {
        assert.equal(await c.waitClosed(), true);
        assert.equal(c.text(), "-ERR 'Unknown Protocol Operation'\r\n");
      } else {
        await c.until('PONG\r\n');
        assert.equal(await c.roundTrip(), 'PONG\r\nPONG\r\n');
      }
    });
  });

  it('a PING line longer than max_control_line: nats-server ignores the excess, the hub refuses it', async () => {
    await withRaw(server, async (c) => {
      c.send(C + `PING ${'x'.repeat(5000)}\r\n`);
      const closes = differs({ natsServer: false, hub: true, why: 'the hub bounds every line, PING included' });
      if (closes) {
        assert.equal(await c.waitClosed(), true);
        assert.equal(c.text(), "-ERR 'maximum control line exceeded'\r\n");
      } else {
        await c.until('PONG\r\n');
        assert.equal(await c.roundTrip(), 'PONG\r\nPONG\r\n');
      }
    });
  });
});
