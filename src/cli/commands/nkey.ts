/**
 * `netemitter nkey gen` and `nkey pub`: NKey user key pairs, for the `nkey`
 * users of the config file (docs/security.md). The public key (`U…`) goes
 * into the hub's config; the seed (`SU…`) stays with the client, which signs
 * the hub's nonce with it. The seed is a secret: it is written to stdout and
 * nowhere else, and never quoted in an error.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { lazy } from '../../lazy.js';
import { ConfigError } from '../../errors.js';

/** nkeys, loaded by the nkey commands only (not at every CLI start). */
const nkeys = lazy<typeof import('@nats-io/nkeys')>('@nats-io/nkeys');

/** The key types netemitter uses: a hub knows users only (no accounts, operators or servers). */
const TYPES = ['user'] as const;

/**
 * A seed in a file: the seed alone, or a `.creds` file around it. Seeds are
 * 58 characters of base32 starting with S and the key type's letter.
 */
const SEED = /\bS[UANOC][A-Z2-7]{56}\b/;

export function registerNkey(program: Command): void {
  const nkey = program.command('nkey').description('NKey user keys for the "nkey" users of the config file');
  nkey
    .command('gen')
    .description('print a new user key pair: the seed (secret: the client keeps it) and the public key (for the hub\'s config)')
    .option('--type <type>', `key type: ${TYPES.join(', ')}`, 'user')
    .option('--json', 'print {"seed", "publicKey"} as one JSON line')
    .action(function genAction(this: Command): void {
      const opts = this.opts<{ type: string; json?: boolean }>();
      if (!(TYPES as readonly string[]).includes(opts.type)) {
        throw new ConfigError(`invalid value for --type: ${JSON.stringify(opts.type)} (netemitter uses user keys only)`);
      }
      const pair = nkeys().createUser();
      const seed = new TextDecoder().decode(pair.getSeed());
      const publicKey = pair.getPublicKey();
      pair.clear();
      process.stdout.write(opts.json === true ? `${JSON.stringify({ seed, publicKey })}\n` : `${seed}\n${publicKey}\n`);
    });
  nkey
    .command('pub')
    .description('print the public key of the seed in a file (a seed file or a .creds file)')
    .argument('<seedfile>', 'file holding the seed')
    .action(function pubAction(file: string): void {
      process.stdout.write(`${publicKeyOfSeedFile(file)}\n`);
    });
}

/** The public key of the seed in `file`. Errors name the file, never what it holds. */
export function publicKeyOfSeedFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'a directory' : 'cannot read it';
    throw new ConfigError(`cannot read seed file ${file}: ${why}`, { cause: err });
  }
  const found = SEED.exec(text);
  if (found === null) throw new ConfigError(`no NKey seed in ${file} (a seed is 58 characters starting with S)`);
  try {
    const pair = nkeys().fromSeed(new TextEncoder().encode(found[0]));
    const key = pair.getPublicKey();
    pair.clear();
    return key;
  } catch {
    // The library's message may quote the seed: say only that it is not valid.
    throw new ConfigError(`the NKey seed in ${file} is not valid (bad checksum or encoding)`);
  }
}
