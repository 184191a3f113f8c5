/**
 * A short fuzz run in every `npm test` (the long runs are `npm run fuzz`,
 * recorded in docs/reliability.md). A fixed seed, so a failure replays.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzParser, fuzzPipeline } from './fuzzers.js';

it('parser: 20,000 mutated inputs, split parsing equals whole parsing, nothing throws', () => {
  const r = fuzzParser(20_000, 1234);
  assert.deepEqual(r.failures, []);
});

it('pipeline: 800 mutated inputs through a live hub; it keeps routing and leaks nothing', async () => {
  const r = await fuzzPipeline(800, 4321);
  assert.deepEqual(r.failures, []);
});
