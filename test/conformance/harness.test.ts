/**
 * The harness itself (test/helpers/target.ts): every limit reaches the
 * target, bad combinations are refused the same way on both, and the hub's
 * own events (hub target only) follow what official clients do.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { natsServerConfig, skipUnlessHub, startServer, targetKind, SKIP_NATS_JS } from '../helpers/target.js';
import { RawClient, connectLine, withRaw } from '../helpers/raw.js';
import { connectTo, within } from '../helpers/client.js';

describe('test harness', () => {
  it('NETEMITTER_TARGET selects the target; the server reports it', async () => {
    const server = await startServer();
    try {
      assert.equal(server.kind, targetKind());
      if (server.kind === 'inprocess') {
        assert.equal(server.url, server.hub!.url);
        assert.match(server.url, /^inprocess:\/\//);
      } else {
        assert.equal(server.host, '127.0.0.1');
        assert.equal(server.url, `nats://127.0.0.1:${server.port}`);
      }
      assert.equal(server.hub !== undefined, server.kind !== 'nats-server');
    } finally {
      await server.stop();
    }
  });

  it('starts with every limit set, and they take effect', async () => {
    const server = await startServer({
      maxPayload: 2048,
      maxControlLine: 512,
      maxConnections: 10,
      maxSubscriptions: 1,
      maxPending: 1024 * 1024,
      writeDeadline: 2_000,
      pingInterval: 60_000,
      maxPingsOut: 3,
    });
    try {
      await withRaw(server, async (c) => {
        assert.equal(c.info.max_payload, 2048);
        const got = await c.roundTrip(connectLine() + 'SUB a 1\r\nSUB b 2\r\n');
        assert.equal(got, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
      });
    } finally {
      await server.stop();
    }
  });

  it('stop() closes the server: new connections are refused; a second stop() is harmless', async () => {
    const server = await startServer();
    await server.stop();
    await server.stop();
    await assert.rejects(RawClient.connect(server, 1_000));
  });

  it('refuses maxPayload > maxPending up front, for both targets', async () => {
    await assert.rejects(startServer({ maxPayload: 2048, maxPending: 1024 }), /maxPayload \(2048\) cannot be higher than maxPending \(1024\)/);
  });

  it('maps the limits to nats-server config keys and Go durations', () => {
    const conf = natsServerConfig(
      { maxPayload: 1, maxControlLine: 2, maxConnections: 3, maxSubscriptions: 4, maxPending: 5, writeDeadline: 6, pingInterval: 7, maxPingsOut: 8 },
      '/tmp/x',
    );
    assert.equal(
      conf,
      [
        'port: -1',
        'host: 127.0.0.1',
        'ports_file_dir: "/tmp/x"',
        'max_payload: 1',
        'max_control_line: 2',
        'max_connections: 3',
        'max_subscriptions: 4',
        'max_pending: 5',
        'write_deadline: "6ms"',
        'ping_interval: "7ms"',
        'ping_max: 8',
        '',
      ].join('\n'),
    );
  });
});

describe('hub events (hub target only)', { skip: SKIP_NATS_JS }, () => {
  it('connection, subscribe, unsubscribe and disconnect follow an official client', { skip: skipUnlessHub('reads the hub\'s EventEmitter') }, async () => {
    const server = await startServer();
    try {
      const hub = server.hub!;
      const events: string[] = [];
      hub.on('connection', () => events.push('connection'));
      hub.on('subscribe', (e) => events.push(`subscribe ${e.subject} ${e.queue ?? '-'}`));
      hub.on('unsubscribe', (e) => events.push(`unsubscribe ${e.subject}`));
      const disconnected = new Promise<string>((resolve) => hub.once('disconnect', (_c, reason) => resolve(reason)));
      const nc = await connectTo(server);
      const s = nc.subscribe('ev.a', { queue: 'g' });
      await nc.flush();
      s.unsubscribe();
      await nc.flush();
      await nc.close();
      assert.equal(await within(disconnected, 5_000, 'the disconnect event'), 'client closed');
      assert.deepEqual(events, ['connection', 'subscribe ev.a g', 'unsubscribe ev.a']);
    } finally {
      await server.stop();
    }
  });
});
