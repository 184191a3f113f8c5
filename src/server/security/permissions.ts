// PLACEHOLDER until branch sec-core lands (interface contract only).
import type { Permissions } from './types.js';
export interface CompiledPermissions {
  canPublish(subject: string): boolean;
  canSubscribe(subject: string, queue: string | undefined): boolean;
  needsDeliveryCheck(subject: string): boolean;
  canDeliver(subject: string): boolean;
  readonly responses: { max: number; expires: number } | null;
}
export function compilePermissions(p: Permissions | undefined): CompiledPermissions | null {
  if (p === undefined) return null;
  throw new Error('not merged');
}
export class ResponseRights {
  constructor(max: number, expires: number, limit?: number) {
    void max, expires, limit;
  }
  grant(reply: string, now: number): void {
    void reply, now;
  }
  take(reply: string, now: number): boolean {
    void reply, now;
    return false;
  }
  readonly size: number = 0;
}
