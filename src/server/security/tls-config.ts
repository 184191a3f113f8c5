// PLACEHOLDER until branch sec-core lands (interface contract only).
import type { SecureContext } from 'node:tls';
import type { TlsOptions } from './types.js';
export interface ResolvedTls {
  context: SecureContext;
  verify: boolean;
  handshakeFirst: boolean;
  timeout: number;
  reload(): void;
}
export function resolveTls(opts: TlsOptions | undefined): ResolvedTls | null {
  if (opts === undefined) return null;
  throw new Error('not merged');
}
