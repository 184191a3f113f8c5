/** The monitoring options as `serve` reads them: flags, NETEMITTER_* variables and config keys. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { layerFromConfig, layerFromEnv, layerFromFlags, toHubOptions, resolveServeConfig } from '../../src/cli/config.js';

describe('monitoring options of serve', () => {
  it('--http-port, --http-host and --max-closed-clients reach the hub options', () => {
    const flags = layerFromFlags({ httpPort: '0', httpHost: '0.0.0.0', maxClosedClients: '50' });
    const hub = toHubOptions(resolveServeConfig({ flags }));
    assert.deepEqual([hub.httpPort, hub.httpHost, hub.maxClosedClients], [0, '0.0.0.0', 50]);
  });

  it('NETEMITTER_HTTP_PORT and NETEMITTER_HTTP_HOST, and the config keys, with flags first', () => {
    const env = layerFromEnv({ NETEMITTER_HTTP_PORT: '8222', NETEMITTER_HTTP_HOST: '127.0.0.2' });
    const file = layerFromConfig({ httpPort: 9000, maxClosedClients: 5 }, 'c.json');
    const flags = layerFromFlags({ httpPort: '8333' });
    const c = resolveServeConfig({ flags, env, file });
    assert.deepEqual([c.httpPort, c.httpHost, c.maxClosedClients], [8333, '127.0.0.2', 5]);
  });

  it('a bad port is an error naming the flag', () => {
    assert.throws(() => layerFromFlags({ httpPort: 'x' }), /--http-port/);
    assert.throws(() => layerFromEnv({ NETEMITTER_HTTP_PORT: '70000' }), /NETEMITTER_HTTP_PORT/);
  });
});
