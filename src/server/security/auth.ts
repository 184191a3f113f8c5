// PLACEHOLDER until branch sec-core lands (interface contract only).
import type { AuthorizationOptions, AuthenticateHook, ConnectRequest, Identity } from './types.js';
import type { CompiledPermissions } from './permissions.js';
import type { Peer } from '../../transport.js';
export interface AuthResult {
  identity: Identity;
  permissions: CompiledPermissions | null;
}
export class Authenticator {
  static create(opts: AuthorizationOptions | undefined, hook: AuthenticateHook | undefined): Authenticator | null {
    if (opts === undefined && hook === undefined) return null;
    throw new Error('not merged');
  }
  readonly nonce: boolean = false;
  readonly timeout: number = 2000;
  newNonce(): string {
    return '';
  }
  check(connect: ConnectRequest, peer: Peer, nonce: string | undefined): AuthResult | null | Promise<AuthResult | null> {
    void connect, peer, nonce;
    return null;
  }
}
export class FailureTracker {
  constructor(opts?: { maxEntries?: number; baseDelay?: number; maxDelay?: number; window?: number }) {
    void opts;
  }
  fail(address: string, now: number): number {
    void address, now;
    return 0;
  }
  succeed(address: string): void {
    void address;
  }
  readonly size: number = 0;
}
