/**
 * The CLI logger in both modes, written to a stream instead of stdout.
 * (serve.test.ts covers JSON on a real pipe; a terminal cannot be had in CI,
 * so pretty mode is checked here.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { createCliLogger } from '../../src/cli/logger.js';

async function capture(pretty: boolean, level: 'info' | 'debug', write: (log: ReturnType<typeof createCliLogger>) => void): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8').on('data', (s: string) => (text += s));
  write(createCliLogger({ level, pretty, destination: out }));
  await tick();
  return text;
}

const address = { url: 'nats://127.0.0.1:4222', host: '127.0.0.1', port: 4222, family: 'IPv4' };

describe('CLI logger', () => {
  it('pretty: one human line per listener, without the address object', async () => {
    const text = await capture(true, 'info', (log) => {
      log.info({ address }, 'listening on nats://127.0.0.1:4222');
      log.info({ address: { url: 'unix:///tmp/a.sock', path: '/tmp/a.sock' } }, 'listening on unix:///tmp/a.sock');
    });
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 2, text);
    assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: listening on nats:\/\/127\.0\.0\.1:4222$/);
    assert.match(lines[1]!, /INFO: listening on unix:\/\/\/tmp\/a\.sock$/);
  });

  it('pretty: other fields stay, on the same line', async () => {
    const text = await capture(true, 'debug', (log) => {
      log.debug({ client: 7, address: '10.0.0.1', port: 5555 }, 'client connected');
    });
    assert.match(text, /^\[[^\]]+\] DEBUG: client connected \{"client":7,"address":"10\.0\.0\.1","port":5555\}\n$/);
  });

  it('JSON: one object per line, address object kept, level respected', async () => {
    const text = await capture(false, 'info', (log) => {
      log.debug('hidden');
      log.info({ address }, 'listening on nats://127.0.0.1:4222');
    });
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 1, text);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(entry.msg, 'listening on nats://127.0.0.1:4222');
    assert.equal(entry.level, 30);
    assert.deepEqual(entry.address, address);
  });
});
