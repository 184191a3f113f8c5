/**
 * The `netemitter` program itself: --version, --help, and how usage errors
 * look (one line on stderr, exit code 2).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { killAll, oneLine, runCli } from '../helpers/cli.js';

after(killAll);

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('netemitter', () => {
  it('--version prints the version of package.json and exits 0', async () => {
    const p = await runCli(['--version']);
    assert.equal(p.exit.code, 0);
    assert.equal(p.stdout, `${pkg.version}\n`);
  });

  it('--help lists the serve command and exits 0', async () => {
    const p = await runCli(['--help']);
    assert.equal(p.exit.code, 0);
    assert.match(p.stdout, /^Usage: netemitter /);
    assert.match(p.stdout, /\bserve\b/);
    assert.equal(p.stderr, '');
  });

  it('serve --help lists every option with its variable and exits 0', async () => {
    const p = await runCli(['serve', '--help']);
    assert.equal(p.exit.code, 0);
    const flat = p.stdout.replace(/\s+/g, ' ');
    for (const flag of ['--host', '--port', '--unix', '--unix-mode', '--name', '--max-payload', '--max-pending', '--lame-duck-grace-period', '--config', '--log-level']) {
      assert.ok(flat.includes(`${flag} <`), `no ${flag} in help`);
    }
    assert.ok(flat.includes('env NETEMITTER_MAX_PAYLOAD'));
  });

  it('an invalid value: one line naming flag, value and what was expected; exit 2', async () => {
    const p = await runCli(['serve', '--port', 'abc']);
    assert.equal(p.exit.code, 2);
    assert.equal(oneLine(p.stderr), 'netemitter: invalid value for --port: "abc" (expected an integer 0-65535)');
    assert.equal(p.stdout, '');
  });

  it('an invalid environment variable: exit 2, names the variable', async () => {
    const p = await runCli(['serve'], { NETEMITTER_MAX_PAYLOAD: 'lots' });
    assert.equal(p.exit.code, 2);
    assert.match(oneLine(p.stderr), /^netemitter: invalid value for NETEMITTER_MAX_PAYLOAD: "lots" \(expected a size in bytes/);
  });

  it('an unknown flag: one line with commander\'s suggestion; exit 2', async () => {
    const p = await runCli(['serve', '--prot', '5000']);
    assert.equal(p.exit.code, 2);
    assert.equal(oneLine(p.stderr), "netemitter: unknown option '--prot' (Did you mean --port?)");
  });

  it('a missing value and an unknown command: exit 2', async () => {
    const missing = await runCli(['serve', '--port']);
    assert.equal(missing.exit.code, 2);
    assert.equal(oneLine(missing.stderr), "netemitter: option '--port <port>' argument missing");
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.exit.code, 2);
    assert.equal(oneLine(unknown.stderr), "netemitter: unknown command 'frobnicate'");
  });

  it('options the hub rejects together are usage errors too', async () => {
    const p = await runCli(['serve', '--max-payload', '2MB', '--max-pending', '1MB']);
    assert.equal(p.exit.code, 2);
    assert.equal(oneLine(p.stderr), 'netemitter: maxPayload (2097152) cannot be higher than maxPending (1048576)');
  });

  it('--debug adds the stack trace', async () => {
    const p = await runCli(['--debug', 'serve', '--port', 'abc']);
    assert.equal(p.exit.code, 2);
    const lines = p.stderr.trim().split('\n');
    assert.equal(lines[0], 'netemitter: invalid value for --port: "abc" (expected an integer 0-65535)');
    assert.ok(lines.length > 2, p.stderr);
    assert.match(lines[1]!, /^ConfigError: /);
    assert.ok(lines.some((l) => /^\s+at /.test(l)));
  });
});
