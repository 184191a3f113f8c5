/**
 * The `tls` and `authorization` sections of serve's config, the security
 * flags and variables, and how they layer: pure functions, no process.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import {
  SERVE_OPTIONS,
  layerFromConfig,
  layerFromEnv,
  layerFromFlags,
  resolveServeConfig,
  toHubOptions,
} from '../../src/cli/config.js';
import { isLoopbackHost, redactAuthorization, requiresAuth } from '../../src/cli/security-config.js';
import { ConfigError } from '../../src/errors.js';

function configError(message: string | RegExp, secret?: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    if (secret !== undefined) assert.ok(!err.message.includes(secret), `the message quotes the secret: ${err.message}`);
    return true;
  };
}

/** The issue's example ("Configuration"), as a user would write it. */
const ISSUE_EXAMPLE = {
  tls: { cert: 'server.pem', key: 'server-key.pem', ca: 'ca.pem', verify: false, handshakeFirst: false, timeout: '2s' },
  authorization: {
    timeout: '2s',
    users: [
      {
        user: 'alice',
        password: '$2a$11$abcdefghijklmnopqrstuuJ5Q7K3Nq0dLxUuYwP4k7zWlS5Vg0s3C',
        permissions: {
          publish: { allow: ['orders.>'], deny: ['orders.secret'] },
          subscribe: { allow: ['orders.>', '_INBOX.>'], deny: ['orders.audit'] },
          allowResponses: true,
        },
      },
      { nkey: 'UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4', permissions: { publish: ['nk.>'], subscribe: ['nk.>'] } },
    ],
    defaultPermissions: { subscribe: ['public.>'] },
  },
};

describe('the tls and authorization sections', () => {
  const file = join('/etc', 'netemitter', 'hub.json');

  it("the issue's example: durations in ms, cert paths relative to the config file's directory, the rest as written", () => {
    const layer = layerFromConfig(ISSUE_EXAMPLE, file);
    assert.deepEqual(layer.tls, {
      cert: '/etc/netemitter/server.pem',
      key: '/etc/netemitter/server-key.pem',
      ca: '/etc/netemitter/ca.pem',
      verify: false,
      handshakeFirst: false,
      timeout: 2000,
    });
    assert.deepEqual(layer.authorization, { ...ISSUE_EXAMPLE.authorization, timeout: 2000 });
    const hub = toHubOptions(resolveServeConfig({ file: layer }));
    assert.equal(hub.tls?.cert, '/etc/netemitter/server.pem');
    assert.equal(hub.authorization?.users?.length, 2);
  });

  it('a relative config file: paths resolve against its directory, absolute paths stay', () => {
    const layer = layerFromConfig({ tls: { cert: 'certs/a.pem', key: '/abs/k.pem' } }, join('conf', 'hub.json'));
    assert.equal(layer.tls?.cert, resolve('conf', 'certs', 'a.pem'));
    assert.equal(layer.tls?.key, '/abs/k.pem');
  });

  it('publish and subscribe: a list, or { allow, deny }; allowResponses: a boolean or { max, expires }', () => {
    const layer = layerFromConfig(
      {
        authorization: {
          user: 'u',
          password: 'p',
          defaultPermissions: { publish: ['a.>'], subscribe: { deny: ['secret.>'] }, allowResponses: { max: 5, expires: '1m' } },
        },
      },
      'c.json',
    );
    assert.deepEqual(layer.authorization?.defaultPermissions, {
      publish: ['a.>'],
      subscribe: { deny: ['secret.>'] },
      allowResponses: { max: 5, expires: 60_000 },
    });
    assert.deepEqual(layerFromConfig({ authorization: { defaultPermissions: { allowResponses: false } } }, 'c.json').authorization, {
      defaultPermissions: { allowResponses: false },
    });
  });

  it('maxFailureDelay: a duration, 0 allowed (no brute-force delay)', () => {
    assert.deepEqual(layerFromConfig({ authorization: { token: 't', maxFailureDelay: '2s' } }, 'c.json').authorization, { token: 't', maxFailureDelay: 2000 });
    assert.deepEqual(layerFromConfig({ authorization: { token: 't', maxFailureDelay: 0 } }, 'c.json').authorization, { token: 't', maxFailureDelay: 0 });
    assert.throws(() => layerFromConfig({ authorization: { maxFailureDelay: 'long' } }, 'c.json'), configError(/^invalid value for "authorization.maxFailureDelay" in c.json: "long"/));
  });

  it('an unknown key inside a section is a ConfigError naming it, with the camelCase spelling for nats-server names', () => {
    assert.throws(() => layerFromConfig({ tls: { cert_file: 'a.pem' } }, 'c.json'), configError('unknown config key "tls.cert_file" in c.json (did you mean "tls.cert"?)'));
    assert.throws(() => layerFromConfig({ tls: { colour: 'red' } }, 'c.json'), configError('unknown config key "tls.colour" in c.json'));
    assert.throws(
      () => layerFromConfig({ authorization: { default_permissions: {} } }, 'c.json'),
      configError('unknown config key "authorization.default_permissions" in c.json (did you mean "authorization.defaultPermissions"?)'),
    );
    assert.throws(
      () => layerFromConfig({ authorization: { users: [{ user: 'a', pass: 'b' }] } }, 'c.json'),
      configError('unknown config key "authorization.users[0].pass" in c.json (did you mean "authorization.users[0].password"?)'),
    );
    assert.throws(
      () => layerFromConfig({ authorization: { users: [{ user: 'a', password: 'b', permissions: { pub: ['x'] } }] } }, 'c.json'),
      configError('unknown config key "authorization.users[0].permissions.pub" in c.json'),
    );
    assert.throws(
      () => layerFromConfig({ authorization: { defaultPermissions: { publish: { allow: ['a'], except: ['b'] } } } }, 'c.json'),
      configError('unknown config key "authorization.defaultPermissions.publish.except" in c.json'),
    );
    assert.throws(() => layerFromConfig({ authenticate: 'x' }, 'c.json'), configError(/config key "authenticate" in c.json is not supported by the CLI/));
  });

  it('a wrong type is a ConfigError naming the key', () => {
    const cases: [unknown, RegExp][] = [
      [{ tls: 'on' }, /^invalid value for "tls" in c.json: expected an object$/],
      [{ tls: { cert: 5 } }, /^invalid value for "tls.cert" in c.json: 5 \(expected a non-empty string\)$/],
      [{ tls: { verify: 'maybe' } }, /^invalid value for "tls.verify" in c.json: "maybe" \(expected true or false\)$/],
      [{ tls: { timeout: 'soon' } }, /^invalid value for "tls.timeout" in c.json: "soon" \(expected a duration in milliseconds >= 1/],
      [{ authorization: { timeout: -1 } }, /^invalid value for "authorization.timeout" in c.json: -1 \(expected a duration/],
      [{ authorization: { users: { alice: 'x' } } }, /^invalid value for "authorization.users" in c.json: expected a list of users$/],
      [{ authorization: { users: ['alice'] } }, /^invalid value for "authorization.users\[0\]" in c.json: expected an object$/],
      [{ authorization: { users: [{ user: 7 }] } }, /^invalid value for "authorization.users\[0\].user" in c.json: 7 /],
      [{ authorization: { defaultPermissions: { publish: 'a.>' } } }, /^invalid value for "authorization.defaultPermissions.publish" in c.json: expected a list of subjects or/],
      [{ authorization: { defaultPermissions: { publish: ['a', ''] } } }, /"authorization.defaultPermissions.publish" in c.json: expected a list of subjects \(non-empty strings\)/],
      [{ authorization: { defaultPermissions: { subscribe: { deny: 'x' } } } }, /"authorization.defaultPermissions.subscribe.deny" in c.json: expected a list of subjects/],
      [{ authorization: { defaultPermissions: { allowResponses: 'yes' } } }, /"authorization.defaultPermissions.allowResponses" in c.json: expected true, false or/],
      [{ authorization: { defaultPermissions: { allowResponses: { max: -1 } } } }, /"authorization.defaultPermissions.allowResponses.max" in c.json: -1 \(expected an integer\)/],
    ];
    for (const [json, message] of cases) assert.throws(() => layerFromConfig(json, 'c.json'), configError(message), JSON.stringify(json));
  });

  it('a token or password of the wrong type is not quoted back', () => {
    assert.throws(() => layerFromConfig({ authorization: { token: 918273645 } }, 'c.json'), configError('invalid value for "authorization.token" in c.json (expected a non-empty string)', '918273645'));
    assert.throws(
      () => layerFromConfig({ authorization: { users: [{ user: 'a', password: 918273645 }] } }, 'c.json'),
      configError('invalid value for "authorization.users[0].password" in c.json (expected a non-empty string)', '918273645'),
    );
  });
});

describe('the security flags and variables', () => {
  const byFlag = new Map(SERVE_OPTIONS.map((o) => [o.flag, o]));

  it("take nats-server's flag names; variables are NETEMITTER_ + the section and field, not the client commands' NETEMITTER_USER", () => {
    const rows = [
      ['--auth', 'NETEMITTER_AUTH_TOKEN', 'authorization.token'],
      ['--user', 'NETEMITTER_AUTH_USER', 'authorization.user'],
      ['--pass', 'NETEMITTER_AUTH_PASSWORD', 'authorization.password'],
      ['--tls-cert', 'NETEMITTER_TLS_CERT', 'tls.cert'],
      ['--tls-key', 'NETEMITTER_TLS_KEY', 'tls.key'],
      ['--tls-ca', 'NETEMITTER_TLS_CA', 'tls.ca'],
      ['--tls-verify', 'NETEMITTER_TLS_VERIFY', 'tls.verify'],
    ];
    for (const [flag, env, configKey] of rows) {
      const spec = byFlag.get(flag!);
      assert.ok(spec, `no option ${flag}`);
      assert.equal(spec.env, env);
      assert.equal(spec.configKey, configKey);
    }
    assert.equal(byFlag.get('--tls-verify')!.arg, '', 'a switch takes no value');
  });

  it('flags fill in their section; flag paths stay relative to the working directory', () => {
    assert.deepEqual(layerFromFlags({ authToken: 't0k', tlsCert: 'c.pem', tlsKey: 'k.pem', tlsVerify: true }), {
      authorization: { token: 't0k' },
      tls: { cert: 'c.pem', key: 'k.pem', verify: true },
    });
  });

  it('variables too; NETEMITTER_TLS_VERIFY takes true/false/1/0', () => {
    assert.deepEqual(layerFromEnv({ NETEMITTER_AUTH_USER: 'u', NETEMITTER_AUTH_PASSWORD: 'p', NETEMITTER_TLS_VERIFY: '0', NETEMITTER_USER: 'client-side' }), {
      authorization: { user: 'u', password: 'p' },
      tls: { verify: false },
    });
    assert.throws(() => layerFromEnv({ NETEMITTER_TLS_VERIFY: 'sure' }), configError('invalid value for NETEMITTER_TLS_VERIFY: "sure" (expected true or false)'));
  });

  it('a secret flag or variable with a bad value is not quoted back', () => {
    assert.throws(() => layerFromFlags({ authPassword: '' }), configError('invalid value for --pass (expected a non-empty string)'));
  });

  it('flags override the file key by key: --pass replaces the password and keeps the users; --tls-cert keeps the file\'s key and CA', () => {
    const file = layerFromConfig(
      { tls: { cert: 'old.pem', key: 'key.pem', ca: 'ca.pem' }, authorization: { user: 'ops', password: 'old', users: [{ user: 'alice', password: 'a' }] } },
      '/etc/ne/hub.json',
    );
    const config = resolveServeConfig({
      flags: layerFromFlags({ authPassword: 'new', tlsCert: 'new.pem' }),
      env: layerFromEnv({ NETEMITTER_TLS_VERIFY: 'true' }),
      file,
    });
    assert.deepEqual(config.tls, { cert: 'new.pem', key: '/etc/ne/key.pem', ca: '/etc/ne/ca.pem', verify: true });
    assert.deepEqual(config.authorization, { user: 'ops', password: 'new', users: [{ user: 'alice', password: 'a' }] });
    assert.deepEqual(toHubOptions(config).tls, config.tls);
  });

  it('a setting without its partner is a ConfigError naming both, from whichever layer', () => {
    const cases: [Parameters<typeof resolveServeConfig>[0], string][] = [
      [{ flags: layerFromFlags({ authUser: 'alice' }) }, '--user (authorization.user) needs --pass (authorization.password)'],
      [{ env: layerFromEnv({ NETEMITTER_AUTH_PASSWORD: 'x' }) }, '--pass (authorization.password) needs --user (authorization.user)'],
      [{ flags: layerFromFlags({ tlsCert: 'c.pem' }) }, '--tls-cert (tls.cert) needs --tls-key (tls.key)'],
      [{ flags: layerFromFlags({ tlsKey: 'k.pem' }) }, '--tls-key (tls.key) needs --tls-cert (tls.cert)'],
      [{ flags: layerFromFlags({ tlsCa: 'ca.pem', tlsVerify: true }) }, '--tls-ca (tls.ca), --tls-verify (tls.verify) needs a certificate and its key: --tls-cert (tls.cert) and --tls-key (tls.key)'],
      [{ file: layerFromConfig({ tls: { timeout: '1s' } }, 'c.json') }, 'tls.timeout needs a certificate and its key: --tls-cert (tls.cert) and --tls-key (tls.key)'],
    ];
    for (const [sources, message] of cases) assert.throws(() => resolveServeConfig(sources), configError(message));
    // Partners from two layers are a pair.
    const ok = resolveServeConfig({ flags: layerFromFlags({ authUser: 'alice' }), file: layerFromConfig({ authorization: { password: 'pw' } }, 'c.json') });
    assert.deepEqual(ok.authorization, { user: 'alice', password: 'pw' });
  });
});

describe('helpers', () => {
  it('loopback hosts: 127.0.0.0/8, ::1, localhost; anything else may be reachable', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', 'LocalHost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.0.2.1', '128.0.0.1', '::10', '1::', 'example.com', 'localhost.example.com', '::ffff:10.0.0.1']) {
      assert.equal(isLoopbackHost(h), false, h);
    }
  });

  it('auth is required with a token, a user or users; not with a timeout or default permissions alone', () => {
    assert.equal(requiresAuth(undefined), false);
    assert.equal(requiresAuth({ timeout: 1000, defaultPermissions: { publish: ['a'] } }), false);
    assert.equal(requiresAuth({ users: [] }), false);
    assert.equal(requiresAuth({ token: 't' }), true);
    assert.equal(requiresAuth({ user: 'u', password: 'p' }), true);
    assert.equal(requiresAuth({ users: [{ nkey: 'U…' }] }), true);
  });

  it('redaction replaces tokens and passwords (hashes too), and keeps the rest', () => {
    const auth = { token: 'tok', user: 'u', password: 'pw', users: [{ user: 'a', password: '$2b$11$x' }, { nkey: 'UABC' }], timeout: 5 };
    const shown = JSON.stringify(redactAuthorization(auth));
    for (const secret of ['"tok"', '"pw"', '$2b$11$x']) assert.ok(!shown.includes(secret), `${secret} in ${shown}`);
    assert.deepEqual(redactAuthorization(auth), {
      token: '[redacted]',
      user: 'u',
      password: '[redacted]',
      users: [{ user: 'a', password: '[redacted]' }, { nkey: 'UABC' }],
      timeout: 5,
    });
    assert.equal(auth.token, 'tok', 'the original is untouched');
  });
});
