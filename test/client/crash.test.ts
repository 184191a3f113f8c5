/**
 * A server process killed with SIGKILL (no goodbye, no lame duck), then a
 * new one started on the same port: the client recovers by itself. Against
 * our hub the server runs in a child process (test/client/fixtures/hub-child.ts);
 * against nats-server it is the nats-server process.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Bus } from '../../src/index.js';
import { skipInProcess, startServer, type ServerHandle } from './helpers/server.js';
import { inbox, next, until } from './helpers/wait.js';

describe('a server process killed with SIGKILL', { skip: skipInProcess('the hub runs in a child process to be killed') }, () => {
  let server: ServerHandle | undefined;
  const buses: Bus[] = [];

  after(async () => {
    await Promise.all(buses.map((b) => (b.isClosed ? undefined : b.close().catch(() => undefined))));
    await server?.stop();
  });

  it('is survived: the client reconnects to the new process, restores its subscriptions and sends what it buffered', async () => {
    server = await startServer({ child: true });
    const reconnect = { initialDelay: 20, maxDelay: 200 };
    const b = await connect({ servers: server.url, name: 'crash-bus', reconnect });
    buses.push(b);
    const events = inbox<number>(b, 'crash.events');
    const jobs = inbox<number>(b, 'crash.jobs', { queue: 'workers' });
    b.handle('crash.svc', (n: number) => n * 10);
    await b.flush();
    const before = await server.subscriptions('crash-bus');
    assert.deepEqual(before, ['crash.events', 'crash.jobs workers', 'crash.svc handlers']);

    const disconnected = next(b.status, 'disconnect');
    await server.kill();
    await disconnected;
    for (let i = 0; i < 3; i++) b.emit('crash.events', i);
    b.emit('crash.jobs', 9);

    const reconnected = next(b.status, 'reconnect', 10_000);
    await server.restart();
    await reconnected;
    await b.flush();
    assert.deepEqual(await server.subscriptions('crash-bus'), before);
    assert.deepEqual(events.payloads, [0, 1, 2]);
    assert.deepEqual(jobs.payloads, [9]);

    // Others reach it through the new process.
    const other = await connect({ servers: server.url, name: 'crash-other' });
    buses.push(other);
    assert.equal(await other.request('crash.svc', 4), 40);
    other.emit('crash.events', 3);
    await other.flush();
    await until(() => events.length === 4, 'event from another bus');
    assert.deepEqual(events.payloads, [0, 1, 2, 3]);
  });
});
