/**
 * `netemitter passwd` and `netemitter nkey`: the built CLI as a child
 * process, from a pipe and (passwd) from a terminal made with util-linux
 * `script`, which gives the command a pseudo-terminal.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { fromPublic, fromSeed } from '@nats-io/nkeys';
import { CLI_PATH, oneLine } from '../helpers/cli.js';
import { Proc, killProcs, runCli } from './proc.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netemitter-keys-'));
});
after(async () => {
  await killProcs();
  rmSync(dir, { recursive: true, force: true });
});

describe('netemitter passwd', () => {
  it('from a pipe: the first line, hashed with bcrypt ($2b$) at cost 11 by default; the hash verifies', async () => {
    const p = await runCli(['passwd'], { input: 'correct horse\nsecond line is not read\n' });
    assert.equal(p.exit.code, 0, p.output());
    assert.equal(p.stderr, '');
    const hash = p.stdout.trim();
    assert.match(hash, /^\$2b\$11\$[./A-Za-z0-9]{53}$/);
    assert.equal(p.stdout, `${hash}\n`, 'stdout holds the hash alone');
    assert.equal(await bcrypt.compare('correct horse', hash), true);
    assert.equal(await bcrypt.compare('correct horse\n', hash), false, 'the line ending is not part of the password');
  });

  it('--cost N; a CRLF line ending and a missing final newline are both fine', async () => {
    const [a, b] = await Promise.all([runCli(['passwd', '--cost', '4'], { input: 'p w\r\n' }), runCli(['passwd', '--cost', '5'], { input: 'p w' })]);
    assert.match(a!.stdout, /^\$2b\$04\$/);
    assert.match(b!.stdout, /^\$2b\$05\$/);
    assert.equal(await bcrypt.compare('p w', a!.stdout.trim()), true);
    assert.equal(await bcrypt.compare('p w', b!.stdout.trim()), true);
  });

  it('usage errors: one line, exit 2, nothing on stdout', async () => {
    const cases: [string[], string, string][] = [
      [['passwd'], '', 'netemitter: empty password'],
      [['passwd'], '\nsecret\n', 'netemitter: empty password'],
      [['passwd'], `${'x'.repeat(73)}\n`, 'netemitter: password longer than 72 bytes: bcrypt would ignore the rest'],
      [['passwd', '--cost', '3'], 'pw\n', 'netemitter: invalid value for --cost: "3" (expected an integer 4-31)'],
      [['passwd', '--cost', '32'], 'pw\n', 'netemitter: invalid value for --cost: "32" (expected an integer 4-31)'],
    ];
    for (const [args, input, line] of cases) {
      const p = await runCli(args, { input });
      assert.equal(p.exit.code, 2, p.output());
      assert.equal(oneLine(p.stderr), line);
      assert.equal(p.stdout, '');
    }
  });

  describe('on a terminal', { skip: existsSync('/usr/bin/script') ? false : 'util-linux script is not installed' }, () => {
    /** The CLI on a pseudo-terminal; `script` copies our pipe to it and its output (prompts and all) to us. */
    function onTerminal(): Proc {
      return new Proc('/usr/bin/script', ['-qec', `'${process.execPath}' '${CLI_PATH}' passwd --cost 4`, '/dev/null'], {}, 'netemitter passwd (on a tty)');
    }

    it('asks twice without echo; the hash of what was typed is printed', async () => {
      const p = onTerminal();
      await p.waitForStdout(/Password: $/);
      p.child.stdin!.write('tty pass\r');
      await p.waitForStdout(/Repeat the password: $/);
      p.child.stdin!.write('tty pass\r');
      const m = await p.waitForStdout(/(\$2b\$04\$\S{53})/);
      await p.waitForExit();
      assert.equal(p.exit?.code, 0, p.output());
      assert.doesNotMatch(p.stdout, /tty pass/, 'the password was not echoed');
      assert.equal(await bcrypt.compare('tty pass', m[1]!), true);
    });

    it('two different answers: one line, exit 2, no hash', async () => {
      const p = onTerminal();
      await p.waitForStdout(/Password: $/);
      p.child.stdin!.write('one\r');
      await p.waitForStdout(/Repeat the password: $/);
      p.child.stdin!.write('two\r');
      await p.waitForExit();
      assert.equal(p.exit?.code, 2, p.output());
      assert.match(p.stdout, /netemitter: the passwords do not match\r?\n$/);
      assert.doesNotMatch(p.stdout, /\$2b\$/);
    });

    it('backspace edits the line', async () => {
      const p = onTerminal();
      await p.waitForStdout(/Password: $/);
      p.child.stdin!.write('pasx\u007fs\r');
      await p.waitForStdout(/Repeat the password: $/);
      p.child.stdin!.write('pass\r');
      const m = await p.waitForStdout(/(\$2b\$04\$\S{53})/);
      assert.equal(await bcrypt.compare('pass', m[1]!), true);
    });
  });
});

describe('netemitter nkey', () => {
  it('gen: the seed and the public key of a new user key pair, on two lines; the seed signs what the key verifies', async () => {
    const p = await runCli(['nkey', 'gen']);
    assert.equal(p.exit.code, 0, p.output());
    const [seed, pub, ...rest] = p.stdout.split('\n');
    assert.deepEqual(rest, ['']);
    assert.match(seed!, /^SU[A-Z2-7]{56}$/);
    assert.match(pub!, /^U[A-Z2-7]{55}$/);
    const pair = fromSeed(new TextEncoder().encode(seed));
    assert.equal(pair.getPublicKey(), pub);
    const nonce = new TextEncoder().encode('a nonce from INFO');
    assert.equal(fromPublic(pub!).verify(nonce, pair.sign(nonce)), true);
    assert.equal(p.stderr, '');
  });

  it('gen --json; two runs give two different pairs', async () => {
    const [a, b] = await Promise.all([runCli(['nkey', 'gen', '--json']), runCli(['nkey', 'gen', '--type', 'user'])]);
    const json = JSON.parse(a!.stdout) as { seed: string; publicKey: string };
    assert.deepEqual(Object.keys(json), ['seed', 'publicKey']);
    assert.equal(fromSeed(new TextEncoder().encode(json.seed)).getPublicKey(), json.publicKey);
    assert.notEqual(b!.stdout.split('\n')[1], json.publicKey);
  });

  it('gen --type other than user: one line, exit 2', async () => {
    const p = await runCli(['nkey', 'gen', '--type', 'account']);
    assert.equal(p.exit.code, 2);
    assert.equal(oneLine(p.stderr), 'netemitter: invalid value for --type: "account" (netemitter uses user keys only)');
    assert.equal(p.stdout, '');
  });

  it('pub SEEDFILE: the public key of a seed file, or of a .creds-style file around the seed', async () => {
    const gen = await runCli(['nkey', 'gen']);
    const [seed, pub] = gen.stdout.split('\n');
    const plain = join(dir, 'alice.nk');
    const creds = join(dir, 'alice.creds');
    writeFileSync(plain, `${seed}\n`);
    writeFileSync(creds, `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`);
    for (const file of [plain, creds]) {
      const p = await runCli(['nkey', 'pub', file]);
      assert.equal(p.exit.code, 0, p.output());
      assert.equal(p.stdout, `${pub}\n`);
    }
  });

  it('pub: a missing file, a file without a seed, a corrupt seed: one line, exit 2, never the file\'s content', async () => {
    const seed = (await runCli(['nkey', 'gen'])).stdout.split('\n')[0]!;
    // One character changed in the middle: the checksum no longer matches.
    const corrupt = seed.slice(0, 20) + (seed[20] === 'A' ? 'B' : 'A') + seed.slice(21);
    const bad = join(dir, 'corrupt.nk');
    writeFileSync(bad, corrupt);
    const empty = join(dir, 'empty.nk');
    writeFileSync(empty, 'not a seed\n');
    const missing = join(dir, 'missing.nk');
    const cases: [string, string][] = [
      [missing, `netemitter: cannot read seed file ${missing}: no such file`],
      [empty, `netemitter: no NKey seed in ${empty} (a seed is 58 characters starting with S)`],
      [bad, `netemitter: the NKey seed in ${bad} is not valid (bad checksum or encoding)`],
    ];
    for (const [file, line] of cases) {
      const p = await runCli(['nkey', 'pub', file]);
      assert.equal(p.exit.code, 2, p.output());
      assert.equal(oneLine(p.stderr), line);
      assert.ok(!p.stderr.includes(corrupt.slice(2, 30)), 'the seed is not quoted');
    }
  });
});
