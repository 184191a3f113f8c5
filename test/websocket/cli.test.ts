/**
 * `netemitter serve`'s WebSocket options: the flags, NETEMITTER_WEBSOCKET_*
 * variables and the config file's `websocket` section (parsed as pure
 * functions), and a real `serve` process with a WebSocket port that nats-core's
 * wsconnect talks to, with its `listening` and plaintext lines.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { layerFromConfig, layerFromEnv, layerFromFlags, resolveServeConfig, toHubOptions } from '../../src/cli/config.js';
import { CliProcess, killAll, oneLine, runCli } from '../helpers/cli.js';
import { skipUnlessHub } from '../helpers/target.js';
import { wsConnect } from './ws-helpers.js';

const skip = skipUnlessHub('the hub\'s command line');

describe('serve: websocket options', { skip }, () => {
  it('reads the flags into the websocket section', () => {
    const layer = layerFromFlags({
      websocketPort: '8080',
      websocketHost: '0.0.0.0',
      websocketPath: '/nats',
      websocketNoTls: true,
      websocketAllowedOrigins: 'https://a.example.com, https://b.example.com:8443',
      websocketSameOrigin: true,
      websocketCompression: true,
      websocketHandshakeTimeout: '3s',
      websocketMaxMessageSize: '4MiB',
    });
    assert.deepEqual(layer.websocket, {
      port: 8080,
      host: '0.0.0.0',
      path: '/nats',
      noTls: true,
      allowedOrigins: ['https://a.example.com', 'https://b.example.com:8443'],
      sameOrigin: true,
      compression: true,
      handshakeTimeout: 3000,
      maxMessageSize: 4 * 1024 * 1024,
    });
  });

  it("takes 'http' for the monitoring port, from a variable", () => {
    assert.deepEqual(layerFromEnv({ NETEMITTER_WEBSOCKET_PORT: 'http', NETEMITTER_WEBSOCKET_COMPRESSION: 'yes' }).websocket, {
      port: 'http',
      compression: true,
    });
  });

  it('lets a flag override one key of the file and keep the others', () => {
    const file = layerFromConfig({ websocket: { port: 8080, allowedOrigins: ['https://a.example.com'] } }, 'hub.json');
    const flags = layerFromFlags({ websocketPort: '0' });
    const config = resolveServeConfig({ flags, file });
    assert.deepEqual(toHubOptions(config).websocket, { port: 0, allowedOrigins: ['https://a.example.com'] });
  });

  it('refuses bad values with the place they came from', () => {
    assert.throws(() => layerFromFlags({ websocketPort: 'https' }), /invalid value for --websocket-port: "https" \(expected an integer 0-65535, or "http"/);
    assert.throws(() => layerFromConfig({ websocket: { allowed_origins: ['x'] } }, 'hub.json'), /unknown config key "websocket.allowed_origins" in hub.json \(did you mean "websocket.allowedOrigins"\?\)/);
    assert.throws(() => layerFromConfig({ websocket: 8080 }, 'hub.json'), /"websocket" in hub.json: expected an object/);
    assert.throws(() => resolveServeConfig({ flags: layerFromFlags({ websocketHost: '0.0.0.0' }) }), /--websocket-host \(websocket.host\) needs --websocket-port \(websocket.port\)/);
  });
});

describe('serve: a WebSocket port', { skip }, () => {
  after(killAll);

  it('--websocket-port 0 serves WebSocket clients, says where, and warns that it is plaintext', async () => {
    const hub = new CliProcess(['serve', '--port', '0', '--store', 'memory', '--websocket-port', '0']);
    try {
      const [, url] = await hub.waitForOutput(/websocket clients on (ws:\/\/127\.0\.0\.1:\d+)/);
      await hub.waitForOutput(/plaintext ws:\/\//);
      const nc = await wsConnect(url!);
      try {
        const sub = nc.subscribe('cli.ws', { max: 1 });
        nc.publish('cli.ws', 'hello');
        for await (const m of sub) assert.equal(new TextDecoder().decode(m.data), 'hello');
      } finally {
        await nc.close();
      }
    } finally {
      hub.kill();
      await hub.waitForExit();
    }
  });

  it("--websocket-port http without --http-port is a configuration error (exit 2, one line)", async () => {
    const p = await runCli(['serve', '--port', '0', '--store', 'memory', '--websocket-port', 'http']);
    assert.equal(p.exit.code, 2);
    assert.match(oneLine(p.stderr), /websocket\.port 'http' shares the monitoring port: set httpPort too/);
  });
});
