/** The shared store contract against MemoryStore. */
import { MemoryStore, openStore } from '../../src/store/index.js';
import { storeConformance } from './conformance.js';

storeConformance('memory', () => new MemoryStore());
storeConformance('openStore("memory")', () => openStore('memory'));
