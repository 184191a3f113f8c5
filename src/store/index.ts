/**
 * The storage layer of durable streams and pull consumers. Nothing here
 * speaks the protocol: the JetStream API handlers call a Store.
 */
import { ConfigError } from '../errors.js';
import { MemoryStore } from './memory.js';
import { openSqliteStore, SyncMode } from './sqlite.js';
import type { Store } from './types.js';
import { StoreInUseError, StoreOpenError, StoreSchemaError } from './errors.js';

export * from './types.js';
export * from './errors.js';
export { MemoryStore } from './memory.js';
export { SqliteStore, openSqliteStore, SyncMode, DB_FILE, MAX_STREAMS, type SqliteStoreOptions } from './sqlite.js';
export { migrations, SCHEMA_VERSION } from './migrations.js';
export { PID_FILE } from './lock.js';

export type StoreSpec = 'memory' | { readonly dir: string; readonly sync?: SyncMode | undefined };

/** 'memory', or a directory for `dir/netemitter.db`. */
export function openStore(spec: StoreSpec): Store {
  if (spec === 'memory') return new MemoryStore();
  if (spec === null || typeof spec !== 'object' || typeof spec.dir !== 'string' || spec.dir === '') {
    throw new ConfigError(`store: expected 'memory' or { dir }, got ${JSON.stringify(spec)}`);
  }
  if (spec.sync !== undefined && spec.sync !== SyncMode.FULL && spec.sync !== SyncMode.NORMAL) {
    throw new ConfigError(`store: sync must be 'full' or 'normal', got ${JSON.stringify(spec.sync)}`);
  }
  try {
    return openSqliteStore(spec.dir, { sync: spec.sync });
  } catch (err) {
    if (err instanceof StoreSchemaError || err instanceof StoreInUseError) throw err;
    throw new StoreOpenError(spec.dir, err instanceof Error ? err.message : String(err), { cause: err });
  }
}
