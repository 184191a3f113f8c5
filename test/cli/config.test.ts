/**
 * The CLI's value parsers and config layering, as pure functions: no
 * process, no files (except one read of a temp file for loadConfigFile).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SERVE_OPTIONS,
  configPath,
  layerFromConfig,
  layerFromEnv,
  layerFromFlags,
  loadConfigFile,
  logLevelOf,
  mergeLayers,
  parseConfigText,
  resolveServeConfig,
  toHubOptions,
} from '../../src/cli/config.js';
import { parseDuration, parseFileMode, parseLogLevel, parsePort, parseSize, parseCount } from '../../src/cli/values.js';
import { ConfigError } from '../../src/errors.js';
import { Defaults } from '../../src/protocol/constants.js';
import { resolveOptions } from '../../src/server/options.js';

function configError(message: string | RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  };
}

describe('value parsers', () => {
  it('ports: integers 0-65535 only', () => {
    assert.equal(parsePort('0'), 0);
    assert.equal(parsePort('4222'), 4222);
    assert.equal(parsePort(65535), 65535);
    for (const bad of ['abc', '-1', '65536', '42.5', '0x10', '1e3', '', ' ', 4222.5, true, null]) {
      assert.throws(() => parsePort(bad), /expected an integer 0-65535/, `accepted ${JSON.stringify(bad)}`);
    }
  });

  it('counts honour their minimum', () => {
    assert.equal(parseCount('0'), 0);
    assert.equal(parseCount('7', 1), 7);
    assert.throws(() => parseCount('0', 1), /expected an integer >= 1/);
    assert.throws(() => parseCount('1.5'), /expected an integer/);
  });

  it('sizes: bytes, nats-server units (K = 1000, KB = KiB = 1024)', () => {
    const cases: [string | number, number][] = [
      ['1048576', 1048576],
      [1048576, 1048576],
      ['1MB', 1024 * 1024],
      ['1mb', 1024 * 1024],
      ['64MiB', 64 * 1024 * 1024],
      ['512KB', 512 * 1024],
      ['512KiB', 512 * 1024],
      ['1K', 1000],
      ['1M', 1_000_000],
      ['1.5M', 1_500_000],
      ['2G', 2_000_000_000],
      ['1GB', 1024 ** 3],
      ['100B', 100],
      [' 8 MB ', 8 * 1024 * 1024],
    ];
    for (const [raw, want] of cases) assert.equal(parseSize(raw), want, `parseSize(${JSON.stringify(raw)})`);
    for (const bad of ['abc', '1x', '1.5', '1.0001K', '-1', 'MB', '', 1.5, '1 000']) {
      assert.throws(() => parseSize(bad), /expected a size in bytes/, `accepted ${JSON.stringify(bad)}`);
    }
    assert.throws(() => parseSize('0', 1), /expected a size in bytes >= 1/);
  });

  it('durations: milliseconds, or with ms/s/m/h, compound allowed', () => {
    const cases: [string | number, number][] = [
      ['2000', 2000],
      [2000, 2000],
      ['500ms', 500],
      ['10s', 10_000],
      ['1.5s', 1500],
      ['1.1s', 1100],
      ['2m', 120_000],
      ['1h', 3_600_000],
      ['1m30s', 90_000],
      ['10S', 10_000],
    ];
    for (const [raw, want] of cases) assert.equal(parseDuration(raw), want, `parseDuration(${JSON.stringify(raw)})`);
    for (const bad of ['abc', '10x', '0.5ms', '1.5', 's', '-1s', '', 1.5, '10 s']) {
      assert.throws(() => parseDuration(bad), /expected a duration in milliseconds/, `accepted ${JSON.stringify(bad)}`);
    }
    assert.throws(() => parseDuration('0', 1), /expected a duration in milliseconds >= 1/);
  });

  it('file modes: octal strings, not numbers', () => {
    assert.equal(parseFileMode('660'), 0o660);
    assert.equal(parseFileMode('0660'), 0o660);
    assert.equal(parseFileMode('0o600'), 0o600);
    for (const bad of ['800', '6600', 'rw', '', 660, 0o660]) {
      assert.throws(() => parseFileMode(bad), /expected an octal file mode/, `accepted ${JSON.stringify(bad)}`);
    }
  });

  it('log levels', () => {
    assert.equal(parseLogLevel('debug'), 'debug');
    assert.equal(parseLogLevel('WARN'), 'warn');
    assert.throws(() => parseLogLevel('verbose'), /expected one of trace, debug, info, warn, error, silent/);
  });
});

describe('option table', () => {
  it('derives flags and variables from the camelCase key', () => {
    const byKey = new Map(SERVE_OPTIONS.map((o) => [o.key, o]));
    assert.equal(byKey.get('maxPayload')!.flag, '--max-payload');
    assert.equal(byKey.get('maxPayload')!.env, 'NETEMITTER_MAX_PAYLOAD');
    assert.equal(byKey.get('lameDuckGracePeriod')!.env, 'NETEMITTER_LAME_DUCK_GRACE_PERIOD');
    assert.equal(byKey.get('serverName')!.flag, '--name');
    assert.equal(byKey.get('serverName')!.env, 'NETEMITTER_SERVER_NAME');
    assert.equal(byKey.get('unixMode')!.flag, '--unix-mode');
    assert.equal(byKey.get('logLevel')!.env, 'NETEMITTER_LOG_LEVEL');
  });

  it('covers every limit of the hub', () => {
    const keys = new Set(SERVE_OPTIONS.map((o) => o.key));
    for (const name of Object.keys(Defaults)) assert.ok(keys.has(name as never), `no CLI option for ${name}`);
  });

  it('shows the defaults of protocol/constants.ts', () => {
    const shown = Object.fromEntries(SERVE_OPTIONS.map((o) => [o.key, o.defaultText]));
    assert.equal(shown.host, Defaults.host);
    assert.equal(shown.port, String(Defaults.port));
    // A shown default, parsed back, is the default itself.
    for (const key of Object.keys(Defaults) as (keyof typeof Defaults)[]) {
      if (key === 'host') continue;
      const fromText = layerFromFlags({ [key]: shown[key] })[key];
      assert.equal(fromText, Defaults[key], `${key}: "${shown[key]}"`);
    }
  });
});

describe('layers', () => {
  it('flags: strings parsed, errors name the flag', () => {
    assert.deepEqual(layerFromFlags({ port: '5000', maxPayload: '2MB', writeDeadline: '5s', unixMode: '600' }), {
      port: 5000,
      maxPayload: 2 * 1024 * 1024,
      writeDeadline: 5000,
      unixMode: 0o600,
    });
    assert.throws(
      () => layerFromFlags({ port: 'abc' }),
      configError('invalid value for --port: "abc" (expected an integer 0-65535)'),
    );
    assert.throws(() => layerFromFlags({ serverName: '' }), configError('invalid value for --name: "" (expected a non-empty string)'));
    assert.throws(() => layerFromFlags({ maxConnections: '0' }), configError(/^invalid value for --max-connections: "0" \(expected an integer >= 1\)$/));
  });

  it('env: NETEMITTER_* only, empty means unset, errors name the variable', () => {
    const env = { NETEMITTER_PORT: '5001', NETEMITTER_MAX_PENDING: '', NETEMITTER_LOG_LEVEL: 'debug', PORT: '1', NETEMITTER_UNKNOWN: 'x' };
    assert.deepEqual(layerFromEnv(env), { port: 5001, logLevel: 'debug' });
    assert.throws(
      () => layerFromEnv({ NETEMITTER_MAX_PAYLOAD: '1x' }),
      configError(/^invalid value for NETEMITTER_MAX_PAYLOAD: "1x" \(expected a size in bytes >= 1, like/),
    );
  });

  it('config: camelCase keys, numbers or unit strings, errors name key and file', () => {
    assert.deepEqual(layerFromConfig({ port: 5002, maxPayload: '8MB', pingInterval: 30000, unixMode: '660', serverName: 'a' }, 'c.json'), {
      port: 5002,
      maxPayload: 8 * 1024 * 1024,
      pingInterval: 30000,
      unixMode: 0o660,
      serverName: 'a',
    });
    assert.throws(() => layerFromConfig({ port: '70000' }, 'c.json'), configError('invalid value for "port" in c.json: "70000" (expected an integer 0-65535)'));
    assert.throws(() => layerFromConfig({ port: 70000 }, 'c.json'), configError('invalid value for "port" in c.json: 70000 (expected an integer 0-65535)'));
    assert.throws(() => layerFromConfig({ unixMode: 660 }, 'c.json'), configError(/"unixMode" in c.json: 660 \(expected an octal file mode/));
  });

  it('config: an unknown key is an error naming it, with a hint for other spellings', () => {
    assert.throws(() => layerFromConfig({ colour: 'red' }, 'c.json'), configError('unknown config key "colour" in c.json'));
    assert.throws(
      () => layerFromConfig({ max_payload: 1 }, 'c.json'),
      configError('unknown config key "max_payload" in c.json (did you mean "maxPayload"?)'),
    );
    assert.throws(() => layerFromConfig({ listen: [] }, 'c.json'), configError(/config key "listen" in c.json is not supported by the CLI/));
    assert.throws(() => layerFromConfig([1], 'c.json'), configError('config file c.json must hold a JSON object'));
  });

  it('config text: invalid JSON is a ConfigError', () => {
    assert.throws(() => parseConfigText('{"port": 1,}', 'c.json'), configError(/^config file c.json is not valid JSON: /));
    assert.deepEqual(parseConfigText('{"port": 1}', 'c.json'), { port: 1 });
  });

  it('config file: read from disk; a missing file is a ConfigError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netemitter-config-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'hub.json');
    writeFileSync(file, JSON.stringify({ maxPayload: '2MB' }));
    assert.deepEqual(loadConfigFile(file), { maxPayload: 2 * 1024 * 1024 });
    assert.throws(() => loadConfigFile(join(dir, 'nope.json')), configError(`cannot read config file ${join(dir, 'nope.json')}: no such file`));
  });

  it('config path: --config beats NETEMITTER_CONFIG', () => {
    assert.equal(configPath('a.json', { NETEMITTER_CONFIG: 'b.json' }), 'a.json');
    assert.equal(configPath(undefined, { NETEMITTER_CONFIG: 'b.json' }), 'b.json');
    assert.equal(configPath(undefined, { NETEMITTER_CONFIG: '' }), undefined);
    assert.equal(configPath(undefined, {}), undefined);
  });
});

describe('precedence: flags > env > config file > defaults', () => {
  const file = { port: 1, maxPayload: 100, serverName: 'file', pingInterval: 5000, logLevel: 'warn' as const };
  const env = { port: 2, maxPayload: 200, serverName: 'env' };
  const flags = { port: 3, maxPayload: 300 };

  it('each key comes from the highest layer that has it', () => {
    assert.deepEqual(resolveServeConfig({ flags, env, file }), {
      port: 3,
      maxPayload: 300,
      serverName: 'env',
      pingInterval: 5000,
      logLevel: 'warn',
    });
  });

  it('a missing layer falls through', () => {
    assert.deepEqual(resolveServeConfig({ env, file }), { port: 2, maxPayload: 200, serverName: 'env', pingInterval: 5000, logLevel: 'warn' });
    assert.deepEqual(resolveServeConfig({ flags }), { port: 3, maxPayload: 300 });
    assert.deepEqual(resolveServeConfig({}), {});
  });

  it('undefined in a higher layer does not hide a lower one', () => {
    assert.deepEqual(mergeLayers({ port: undefined }, { port: 7 }), { port: 7 });
  });

  it('whole pipeline from raw strings', () => {
    const config = resolveServeConfig({
      flags: layerFromFlags({ maxPayload: '3KB' }),
      env: layerFromEnv({ NETEMITTER_MAX_PAYLOAD: '2KB', NETEMITTER_SERVER_NAME: 'env' }),
      file: layerFromConfig({ maxPayload: 1024, serverName: 'file', port: 0 }, 'c.json'),
    });
    assert.deepEqual(config, { maxPayload: 3072, serverName: 'env', port: 0 });
  });

  it('defaults are the hub\'s: absent options stay absent', () => {
    const hub = resolveOptions(toHubOptions({}));
    assert.equal(hub.maxPayload, Defaults.maxPayload);
    assert.deepEqual(hub.listen, [{ host: Defaults.host, port: Defaults.port }]);
    assert.equal(logLevelOf({}), 'info');
  });

  it('unix alone listens only there; with a port from any layer, on both', () => {
    const unixOnly = resolveOptions(toHubOptions(resolveServeConfig({ flags: { unix: '/tmp/x.sock' } })));
    assert.deepEqual(unixOnly.listen, [{ path: '/tmp/x.sock' }]);
    const both = resolveOptions(toHubOptions(resolveServeConfig({ flags: { unix: '/tmp/x.sock' }, file: { port: 0 } })));
    assert.deepEqual(both.listen, [{ path: '/tmp/x.sock' }, { host: Defaults.host, port: 0 }]);
  });

  it('logLevel is the CLI\'s, not passed to the hub', () => {
    assert.deepEqual(toHubOptions({ logLevel: 'debug', port: 1 }), { port: 1, jetstream: { store: { dir: './data' } } });
  });

  it('durable streams are on, in ./data unless told otherwise', () => {
    assert.deepEqual(toHubOptions({}).jetstream, { store: { dir: './data' } });
    assert.deepEqual(toHubOptions({ store: 'memory', storeSync: 'normal' }).jetstream, { store: 'memory' });
    assert.deepEqual(toHubOptions({ store: '/var/lib/ne', storeSync: 'normal', deadLetterPrefix: 'dead', maxCommitBatch: 64 }).jetstream, {
      store: { dir: '/var/lib/ne', sync: 'normal' },
      deadLetterPrefix: 'dead',
      maxCommitBatch: 64,
    });
    assert.deepEqual(layerFromFlags({ maxCommitBatch: '64' }), { maxCommitBatch: 64 });
    assert.throws(() => layerFromEnv({ NETEMITTER_MAX_COMMIT_BATCH: '0' }), /NETEMITTER_MAX_COMMIT_BATCH/);
    assert.deepEqual(layerFromFlags({ store: 'memory', storeSync: 'NORMAL' }), { store: 'memory', storeSync: 'normal' });
    assert.throws(() => layerFromEnv({ NETEMITTER_STORE_SYNC: 'always' }), /NETEMITTER_STORE_SYNC.*one of full, normal/);
  });
});
