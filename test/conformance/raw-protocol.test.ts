/**
 * Golden tests of the client protocol on a raw socket: the exact bytes a
 * server sends for the exact bytes a client sends. Expected bytes come from
 * nats-server 2.9.10 captures (test/fixtures/wire/rawprobe*.txt, named per
 * test as "probe: <section>").
 *
 * Pattern: send commands followed by PING; the server handles one
 * connection's input in order, so the PONG marks the end of everything the
 * commands caused; then compare all bytes received after INFO.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer, SKIP_NATS_JS } from '../helpers/target.js';
import { connectLine, withRaw, RawClient } from '../helpers/raw.js';
import { connectTo, within } from '../helpers/client.js';

const C = connectLine();

describe('raw protocol: golden exchanges', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server.stop();
  });

  it('sends INFO first, as one line ending in CRLF, with what clients need', async () => {
    await withRaw(server, async (c) => {
      assert.match(c.infoLine, /^INFO \{.*\} ?\r\n$/);
      assert.equal(c.info.headers, true);
      assert.equal(c.info.proto, 1);
      assert.equal(c.info.max_payload, 1024 * 1024);
      assert.equal(typeof c.info.server_id, 'string');
      assert.equal(typeof c.info.version, 'string');
      assert.equal(c.info.tls_available, undefined, 'tls_available makes nats.js upgrade to TLS');
      assert.equal(c.info.tls_required, undefined);
      assert.equal(c.info.auth_required, undefined);
      assert.equal(c.text(), '', 'nothing after INFO until the client speaks');
    });
  });

  it('answers PING with PONG and ignores an unsolicited PONG', async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.roundTrip(C + 'PONG\r\n'), 'PONG\r\n');
    });
  });

  it('verbose: +OK after CONNECT, SUB, PUB and UNSUB, in order (probe: verbose +OK)', async () => {
    await withRaw(server, async (c) => {
      const connect = connectLine({ verbose: true });
      const got = await c.roundTrip(connect + 'SUB foo 1\r\nPUB foo 2\r\nhi\r\nUNSUB 1\r\n');
      assert.equal(got, '+OK\r\n+OK\r\n+OK\r\nMSG foo 1 2\r\nhi\r\n+OK\r\nPONG\r\n');
    });
  });

  it('verbose: each +OK answers its own op, one at a time', async () => {
    await withRaw(server, async (c) => {
      c.send(connectLine({ verbose: true }));
      await c.expect('+OK\r\n');
      c.send('SUB foo 1\r\n');
      await c.expect('+OK\r\n');
      c.send('PUB foo 2\r\nhi\r\n');
      await c.expect('+OK\r\nMSG foo 1 2\r\nhi\r\n');
      c.send('UNSUB 1\r\n');
      await c.expect('+OK\r\n');
      c.send('PING\r\n');
      await c.expect('PONG\r\n');
      assert.equal(c.text(), '+OK\r\n+OK\r\n+OK\r\nMSG foo 1 2\r\nhi\r\n+OK\r\nPONG\r\n');
    });
  });

  it('accepts lower- and mixed-case ops and tabs or several spaces between fields (probe: lowercase ops + tabs)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'sub\tfoo  1\r\npub foo 2\r\nhi\r\nPuB\tfoo \t 2\r\nho\r\nping\r\n');
      // roundTrip's own PING adds the second PONG.
      assert.equal(got, 'MSG foo 1 2\r\nhi\r\nMSG foo 1 2\r\nho\r\nPONG\r\nPONG\r\n');
    });
  });

  it('without auth, accepts ops before CONNECT with verbose defaults (probe: PUB before CONNECT)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip('SUB x 1\r\nPUB x 1\r\na\r\n');
      assert.equal(got, '+OK\r\n+OK\r\nMSG x 1 1\r\na\r\nPONG\r\n');
    });
  });

  it('CONNECT {} keeps the defaults verbose:true and echo:true', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip('CONNECT {}\r\nSUB a 1\r\nPUB a 1\r\nx\r\n');
      assert.equal(got, '+OK\r\n+OK\r\n+OK\r\nMSG a 1 1\r\nx\r\nPONG\r\n');
    });
  });

  it('ignores INFO and +OK sent by a client', async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.roundTrip(C + 'INFO {}\r\n+OK\r\n'), 'PONG\r\n');
      assert.equal(c.isClosed, false);
    });
  });

  it('delivers the reply subject in MSG', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB r 1\r\nPUB r rep.x 2\r\nhi\r\n');
      assert.equal(got, 'MSG r 1 rep.x 2\r\nhi\r\nPONG\r\n');
    });
  });

  it('encodes every MSG line exactly while a stream repeats, then varies, its subject, size and reply', async () => {
    // The hub keeps a repeating line whole per subscription; every change must show.
    const pubs: [subject: string, reply: string | undefined, payload: string][] = [
      ['s.a', undefined, 'x'],
      ['s.a', undefined, 'y'],
      ['s.a', undefined, 'z'],
      ['s.b', undefined, 'w'],
      ['s.a', undefined, 'hi'],
      ['s.a', undefined, 'ho'],
      ['s.a', 'r.1', 'hi'],
      ['s.a', 'r.2', 'hi'],
      ['s.a', undefined, 'ok'],
      ['s.b', undefined, 'q'],
      ['s.b', undefined, 'qq'],
      ['s.a', undefined, 'x'],
    ];
    await withRaw(server, async (c) => {
      let send = C + 'SUB s.* 17\r\n';
      let expected = '';
      for (const [subject, reply, payload] of pubs) {
        const r = reply === undefined ? '' : ` ${reply}`;
        send += `PUB ${subject}${r} ${payload.length}\r\n${payload}\r\n`;
        expected += `MSG ${subject} 17${r} ${payload.length}\r\n${payload}\r\n`;
      }
      assert.equal(await c.roundTrip(send), expected + 'PONG\r\n');
    });
  });

  it('ignores a SUB with a duplicate sid: the first subscription stays (probe: duplicate sid SUB)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB a 1\r\nSUB b 1\r\nPUB a 1\r\n1\r\nPUB b 1\r\n2\r\n');
      assert.equal(got, 'MSG a 1 1\r\n1\r\nPONG\r\n');
    });
  });

  it('ignores UNSUB of an unknown sid (probe: UNSUB unknown sid)', async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.roundTrip(C + 'UNSUB 99\r\n'), 'PONG\r\n');
    });
  });

  it('UNSUB <sid> <max> delivers max messages, then unsubscribes (probe: UNSUB max autounsub)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB a 1\r\nUNSUB 1 2\r\nPUB a 1\r\n1\r\nPUB a 1\r\n2\r\nPUB a 1\r\n3\r\n');
      assert.equal(got, 'MSG a 1 1\r\n1\r\nMSG a 1 1\r\n2\r\nPONG\r\n');
    });
  });

  it('UNSUB <sid> <max> with max already delivered unsubscribes at once', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB a 1\r\nPUB a 1\r\n1\r\nPUB a 1\r\n2\r\nUNSUB 1 2\r\nPUB a 1\r\n3\r\n');
      assert.equal(got, 'MSG a 1 1\r\n1\r\nMSG a 1 1\r\n2\r\nPONG\r\n');
    });
  });

  it('gives a queue group one copy and a plain subscriber one copy (probe: queue group: 2 members same conn)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB q g 1\r\nSUB q g 2\r\nSUB q 3\r\nPUB q 1\r\n1\r\n');
      const msgs = got.match(/MSG q \S+ 1\r\n1\r\n/g) ?? [];
      assert.equal(msgs.length, 2, got);
      assert.ok(msgs.includes('MSG q 3 1\r\n1\r\n'), got);
      assert.ok(msgs.includes('MSG q 1 1\r\n1\r\n') !== msgs.includes('MSG q 2 1\r\n1\r\n'), got);
      assert.ok(got.endsWith('PONG\r\n'));
    });
  });

  it('echo:false: a connection does not get its own messages (probe: echo:false)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(connectLine({ echo: false }) + 'SUB e 1\r\nPUB e 1\r\nx\r\n');
      assert.equal(got, 'PONG\r\n');
    });
  });

  it('echo:false still delivers messages from other connections', async () => {
    await withRaw(server, async (quiet) => {
      await quiet.roundTrip(connectLine({ echo: false }) + 'SUB e2 1\r\n');
      await withRaw(server, async (other) => {
        await other.roundTrip(C + 'PUB e2 2\r\nhi\r\n');
      });
      assert.equal(await quiet.roundTrip(), 'PONG\r\nMSG e2 1 2\r\nhi\r\nPONG\r\n');
    });
  });
});

describe('raw protocol: headers', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server.stop();
  });

  it('HPUB is delivered as HMSG with the header block untouched', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB demo.a 1\r\nHPUB demo.a 23 28\r\nNATS/1.0\r\nX-Test: 1\r\n\r\nhello\r\n');
      assert.equal(got, 'HMSG demo.a 1 23 28\r\nNATS/1.0\r\nX-Test: 1\r\n\r\nhello\r\nPONG\r\n');
    });
  });

  it('HPUB with a reply subject is delivered as HMSG with the reply', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB demo.r 1\r\nHPUB demo.r rep.1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
      assert.equal(got, 'HMSG demo.r 1 rep.1 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPONG\r\n');
    });
  });

  it('HPUB with hdr_len 0 is delivered as a plain MSG (probe: HPUB hdr=0)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB foo 1\r\nHPUB foo 0 2\r\nhi\r\n');
      assert.equal(got, 'MSG foo 1 2\r\nhi\r\nPONG\r\n');
    });
  });

  it('passes a client-supplied status line through unchanged (probe2: HPUB with status line passthrough)', async () => {
    await withRaw(server, async (c) => {
      const hdr = 'NATS/1.0 503\r\nNats-Subject: bar\r\n\r\n';
      assert.equal(hdr.length, 35);
      const got = await c.roundTrip(C + `SUB foo 1\r\nHPUB foo 35 35\r\n${hdr}\r\n`);
      assert.equal(got, `HMSG foo 1 35 35\r\n${hdr}\r\nPONG\r\n`);
    });
  });

  it('a subscriber that did not negotiate headers gets HPUBs as MSG with the payload only', async () => {
    await withRaw(server, async (plain) => {
      await plain.roundTrip(connectLine({ headers: false, no_responders: false }) + 'SUB h 1\r\n');
      await withRaw(server, async (pub) => {
        const got = await pub.roundTrip(C + 'HPUB h 24 26\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nok\r\nHPUB h r.1 12 12\r\nNATS/1.0\r\n\r\n\r\n');
        assert.equal(got, 'PONG\r\n');
      });
      assert.equal(await plain.roundTrip(), 'PONG\r\nMSG h 1 2\r\nok\r\nMSG h 1 r.1 0\r\n\r\nPONG\r\n');
    });
  });

  it('no responders: a 503 HMSG, exact bytes, on the requester\'s reply subscription (probe: no_responders request)', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB _INBOX.x.* 1\r\nPUB nobody _INBOX.x.1 0\r\n\r\n');
      assert.equal(got, 'HMSG _INBOX.x.1 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPONG\r\n');
    });
  });

  it('no responders: nothing is sent when the requester has no sub matching the reply (probe: no_responders w/o matching sub)', async () => {
    await withRaw(server, async (c) => {
      assert.equal(await c.roundTrip(C + 'PUB nobody _INBOX.y.1 0\r\n\r\n'), 'PONG\r\n');
    });
  });

  it('no responders: nothing is sent when CONNECT did not ask for no_responders', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(connectLine({ no_responders: false }) + 'SUB _INBOX.z.* 1\r\nPUB nobody _INBOX.z.1 0\r\n\r\n');
      assert.equal(got, 'PONG\r\n');
    });
  });

  it('no responders: no 503 when the request reached a subscriber', async () => {
    await withRaw(server, async (c) => {
      const got = await c.roundTrip(C + 'SUB svc 1\r\nSUB _INBOX.w.* 2\r\nPUB svc _INBOX.w.1 1\r\nq\r\n');
      assert.equal(got, 'MSG svc 1 _INBOX.w.1 1\r\nq\r\nPONG\r\n');
    });
  });
});

describe('raw protocol: frames split across TCP writes', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server.stop();
  });

  it('a PUB split byte-group by byte-group, with delays, is delivered intact', async () => {
    await withRaw(server, async (sub) => {
      await sub.roundTrip(C + 'SUB split 1\r\n');
      await withRaw(server, async (pub) => {
        pub.send(C);
        // Payload "hello\r\nworld": the split points fall inside the op, the
        // size, the CRLF of the control line, the payload's own CRLF and the trailing CRLF.
        await pub.sendParts(['PU', 'B spl', 'it 12\r', '\nhel', 'lo\r', '\nwor', 'ld', '\r', '\n'], 15);
        assert.equal(await pub.roundTrip(), 'PONG\r\n');
      });
      assert.equal(await sub.roundTrip(), 'PONG\r\nMSG split 1 12\r\nhello\r\nworld\r\nPONG\r\n');
    });
  });

  it('an HPUB split inside its header block is delivered intact', async () => {
    await withRaw(server, async (c) => {
      await c.roundTrip(C + 'SUB hsplit 1\r\n');
      await c.sendParts(['HPUB hsplit 24 26\r\nNATS/1.0\r', '\nA: b\r\n', 'C: d\r\n\r', '\nok\r\n'], 15);
      assert.equal(await c.roundTrip(), 'PONG\r\nHMSG hsplit 1 24 26\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nok\r\nPONG\r\n');
    });
  });

  it('a 300 KB payload written in uneven pieces reaches an official client byte for byte', { skip: SKIP_NATS_JS }, async () => {
    const nc = await connectTo(server);
    try {
      const payload = Buffer.alloc(300_000);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 8)) & 0xff;
      payload.write('\r\nPUB x 1\r\n', 1000, 'latin1');
      const got = new Promise<Uint8Array>((resolve) => {
        nc.subscribe('big.split', { max: 1, callback: (_e, m) => resolve(m.data) });
      });
      await nc.flush();
      const c = await RawClient.connect(server);
      try {
        const frame = Buffer.concat([Buffer.from(C + `PUB big.split ${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
        const cuts = [3, 70, 1_000, 1_005, 65_536, 200_001, frame.length - 1];
        const parts = cuts.map((end, i) => frame.subarray(i === 0 ? 0 : cuts[i - 1]!, end));
        parts.push(frame.subarray(cuts[cuts.length - 1]!));
        await c.sendParts(parts, 10);
        assert.equal(await c.roundTrip(), 'PONG\r\n');
      } finally {
        await c.close();
      }
      assert.deepEqual(Buffer.from(await within(got, 5_000, 'the split 300 KB message')), payload);
    } finally {
      await nc.close();
    }
  });
});
