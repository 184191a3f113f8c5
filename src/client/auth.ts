/**
 * The client's credentials: which fields go into CONNECT, from the options
 * and the server's URL. Options win over the URL, kind by kind (a `user`
 * option replaces the URL's user and password, a `token` option its token).
 *
 * An NKey seed signs the nonce of the server's INFO (ed25519), so a new
 * signature is made at every connect. Nothing here is ever logged or put in
 * an error message.
 */
import type { KeyPair } from '@nats-io/nkeys';
import { ConfigError } from '../errors.js';

/** CONNECT's credential fields, as nats-server names them. */
export interface Credentials {
  user?: string;
  pass?: string;
  auth_token?: string;
  /** An NKey public key (`U…`) and `sig`, its signature of the nonce in base64url. */
  nkey?: string;
  sig?: string;
  /** A user JWT (decentralised auth), passed through as given. */
  jwt?: string;
}

/** Given the server's nonce (undefined when INFO has none), returns CONNECT's credentials; may be async. */
export type Authenticator = (nonce: string | undefined) => Credentials | Promise<Credentials>;

export interface ResolvedAuth {
  readonly user: string | undefined;
  readonly pass: string | undefined;
  readonly token: string | undefined;
  /**
   * The key pair of the nkey option, decoded as nkeys loads (lazily: its
   * ed25519 code is most of a browser bundle's weight, for the few who sign).
   * connect() awaits it before dialing, so a bad seed fails connect() first.
   */
  readonly nkey: Promise<KeyPair> | undefined;
  readonly authenticator: Authenticator | undefined;
}

/** Credentials read from a server URL (ServerAddress). */
export interface UrlCredentials {
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

interface AuthOptions {
  user?: string;
  pass?: string;
  token?: string;
  nkey?: string | Uint8Array;
  authenticator?: Authenticator;
}

function checkString(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  // The value itself is a secret: say only what type it has.
  if (typeof v !== 'string') throw new ConfigError(`option ${name} must be a string, got ${v === null ? 'null' : typeof v}`);
  return v;
}

/** Validates the credential options; a seed is decoded now, so a bad one fails connect() before any dial. */
export function resolveAuth(opts: AuthOptions): ResolvedAuth {
  const user = checkString('user', opts.user);
  const pass = checkString('pass', opts.pass);
  if (pass !== undefined && user === undefined) throw new ConfigError('option pass needs option user');
  const token = checkString('token', opts.token);
  if (opts.authenticator !== undefined && typeof opts.authenticator !== 'function') throw new ConfigError('option authenticator must be a function');
  let nkey: Promise<KeyPair> | undefined;
  if (opts.nkey !== undefined) {
    const seed = typeof opts.nkey === 'string' ? new TextEncoder().encode(opts.nkey.trim()) : opts.nkey;
    if (!(seed instanceof Uint8Array)) throw new ConfigError('option nkey must be a seed, as a string or a Uint8Array');
    nkey = keyPairOf(seed);
    // Awaited by connect(); until then a rejection is not unhandled.
    nkey.catch(() => {});
  }
  return { user, pass, token, nkey, authenticator: opts.authenticator };
}

async function keyPairOf(seed: Uint8Array): Promise<KeyPair> {
  const { fromSeed } = await import('@nats-io/nkeys');
  let pair: KeyPair;
  try {
    pair = fromSeed(seed);
  } catch {
    throw new ConfigError('option nkey is not a valid NKey seed (expected the text of a user seed, SU…)');
  }
  if (!pair.getPublicKey().startsWith('U')) throw new ConfigError('option nkey must be a user seed (SU…)');
  return pair;
}

/** CONNECT's credential fields for one server, given its INFO nonce. */
export async function credentialsFor(auth: ResolvedAuth, server: UrlCredentials, nonce: string | undefined): Promise<Credentials> {
  const c: Credentials = {};
  if (auth.user !== undefined) {
    c.user = auth.user;
    if (auth.pass !== undefined) c.pass = auth.pass;
  } else if (server.user !== undefined) {
    c.user = server.user;
    c.pass = server.pass ?? '';
  }
  const token = auth.token ?? server.token;
  if (token !== undefined) c.auth_token = token;
  if (auth.nkey !== undefined) {
    const pair = await auth.nkey;
    c.nkey = pair.getPublicKey();
    // base64url by hand: the browser bundle's Buffer (the buffer package) has no 'base64url'.
    c.sig = Buffer.from(pair.sign(new TextEncoder().encode(nonce ?? ''))).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  if (auth.authenticator !== undefined) Object.assign(c, await auth.authenticator(nonce));
  return c;
}
