/** The shared store contract against SqliteStore, each test in a fresh temp dir. */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, openStore } from '../../src/store/index.js';
import { storeConformance } from './conformance.js';

const root = mkdtempSync(join(tmpdir(), 'netemitter-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = () => join(root, String(n++));

storeConformance('sqlite (sync full)', () => openSqliteStore(dir(), { sync: 'full' }));
storeConformance('sqlite (sync normal)', () => openStore({ dir: dir(), sync: 'normal' }));
