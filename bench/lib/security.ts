/**
 * The security set-ups the hub and nats-server are benchmarked with, the same
 * for both: one set of throwaway certificates and one users list per harness
 * run, made at bench time (no key is ever committed).
 *
 *   tls      a server certificate for 127.0.0.1 signed by a throwaway CA
 *            (test/helpers/tls.ts); clients verify it against that CA.
 *            nats-server's default flow: plaintext INFO, then the handshake.
 *   perms    a users list with plain passwords and a realistic permission set
 *            (allow lists with wildcards, a deny on each side); the bench
 *            logs in as `bench`, whose permissions cover what it uses.
 *   bcrypt   users with bcrypt passwords of cost 11 (what `netemitter passwd`
 *            makes), no permissions. Connection i logs in as user i, so no
 *            check is answered from a cache of verified passwords: each costs
 *            a full bcrypt compare, as every check does on nats-server.
 *   tls+…    both.
 */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { makeCerts } from '../../test/helpers/tls.js';
import { natsServerAuthorization, natsServerTls } from '../../test/helpers/target.js';
import type { AuthorizationOptions, Permissions, TlsOptions, UserEntry } from '../../src/server/security/types.js';
import type { Variant } from './options.js';

/** `netemitter passwd`'s default, and the nats CLI's. */
export const BCRYPT_COST = 11;

/** The server side of a set-up, in the hub's option shapes (file paths for PEMs). */
export interface ServerSecurity {
  tls?: TlsOptions;
  authorization?: AuthorizationOptions;
}

/** What a client needs to connect to a server with that set-up. Travels to workers as JSON. */
export interface Login {
  /** The CA file that verifies the server's certificate (TLS set-ups). */
  ca?: string;
  user?: string;
  pass?: string;
}

/** What the bench user may do: everything the workloads use, inside a set with wildcards and denies. */
const BENCH_PERMISSIONS: Permissions = {
  publish: { allow: ['bench.>', 'orders.*.created', 'orders.*.updated', 'metrics.>', '_INBOX.>'], deny: ['bench.admin.>', 'orders.*.secret'] },
  subscribe: { allow: ['bench.>', 'orders.>', 'metrics.*.cpu', '_INBOX.>'], deny: ['bench.audit.>', 'orders.*.secret'] },
};

/** The rest of a small deployment's users list, so the bench user is not alone in it. */
const OTHER_USERS: readonly { user: string; permissions?: Permissions }[] = [
  { user: 'orders', permissions: { publish: ['orders.>'], subscribe: { allow: ['orders.>', '_INBOX.>'], deny: ['orders.*.secret'] } } },
  { user: 'billing', permissions: { publish: { allow: ['billing.>', '_INBOX.>'] }, subscribe: ['orders.*.created', 'billing.>'] } },
  { user: 'audit', permissions: { publish: { deny: ['>'] }, subscribe: ['>'] } },
  { user: 'dashboard', permissions: { publish: ['_INBOX.>'], subscribe: { allow: ['metrics.>', 'orders.*.created'], deny: ['metrics.internal.>'] } } },
  { user: 'admin' },
];

interface Material {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** Passwords are this plus the user's name: new for every harness run. */
  readonly secret: string;
  /** bcrypt hashes of bcryptUser(i)'s password, in order. */
  readonly hashes: string[];
}

let material: Promise<Material> | null = null;
let hashing: Promise<void> = Promise.resolve();

async function base(): Promise<Material> {
  material ??= (async () => {
    const c = await makeCerts();
    return { ca: c.ca.path, cert: c.server.cert.path, key: c.server.key.path, secret: randomBytes(12).toString('base64url'), hashes: [] };
  })();
  return material;
}

function password(m: Material, user: string): string {
  return `${m.secret}-${user}`;
}

export function bcryptUser(i: number): string {
  return `user${i}`;
}

/**
 * The material with at least `n` bcrypt users. Hashing is about 0.15 s each
 * (bcryptjs, cost 11), done once per harness run and reused by every server.
 */
async function withBcryptUsers(n: number): Promise<Material> {
  const m = await base();
  hashing = hashing.then(async () => {
    if (m.hashes.length >= n) return;
    console.log(`  (hashing ${n - m.hashes.length} bcrypt passwords of cost ${BCRYPT_COST} for the users list…)`);
    while (m.hashes.length < n) m.hashes.push(await bcrypt.hash(password(m, bcryptUser(m.hashes.length)), BCRYPT_COST));
  });
  await hashing;
  return m;
}

function hasTls(v: Variant): boolean {
  return v.startsWith('tls');
}

function auth(v: Variant): 'perms' | 'bcrypt' | null {
  return v.endsWith('perms') ? 'perms' : v.endsWith('bcrypt') ? 'bcrypt' : null;
}

/**
 * The server's options for `v`. `users` is how many bcrypt users the list
 * needs (the set-up workload logs in as a different one each time).
 */
export async function serverSecurity(v: Variant, users = 1): Promise<ServerSecurity> {
  const a = auth(v);
  const m = a === 'bcrypt' ? await withBcryptUsers(users) : await base();
  const s: ServerSecurity = {};
  if (hasTls(v)) s.tls = { cert: m.cert, key: m.key };
  if (a === 'perms') {
    const list: UserEntry[] = [{ user: 'bench', password: password(m, 'bench'), permissions: BENCH_PERMISSIONS }];
    for (const u of OTHER_USERS) list.push({ user: u.user, password: password(m, u.user), ...(u.permissions ? { permissions: u.permissions } : {}) });
    s.authorization = { users: list };
  } else if (a === 'bcrypt') {
    s.authorization = { users: m.hashes.slice(0, users).map((hash, i) => ({ user: bcryptUser(i), password: hash })) };
  }
  return s;
}

/** How client `i` (the set-up workload's i-th connection; 0 for the others) logs in under `v`. */
export async function login(v: Variant, i = 0): Promise<Login> {
  const m = await base();
  const l: Login = {};
  if (hasTls(v)) l.ca = m.ca;
  const a = auth(v);
  if (a !== null) {
    l.user = a === 'perms' ? 'bench' : bcryptUser(i);
    l.pass = password(m, l.user);
  }
  return l;
}

/** nats-server config lines for a set-up (its listener address comes from the command line). */
export function natsServerSecurity(s: ServerSecurity): string {
  const blocks: string[] = [];
  if (s.tls !== undefined) blocks.push(natsServerTls(s.tls));
  if (s.authorization !== undefined) blocks.push(natsServerAuthorization(s.authorization));
  return `${blocks.join('\n')}\n`;
}
