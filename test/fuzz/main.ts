/**
 * `npm run fuzz -- --runs N [--seed S] [--target parser|pipeline|all]`
 *
 * Runs the fuzzers (see fuzzers.ts) and prints one JSON line per target.
 * Exits 1 when any input failed, printing the failures. Seeds replay exactly.
 */
import { parseArgs } from 'node:util';
import { fuzzParser, fuzzPipeline, type FuzzResult } from './fuzzers.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    'pipeline-runs': { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    target: { type: 'string', default: 'all' },
  },
});
const runs = Number(values.runs);
const pipelineRuns = values['pipeline-runs'] !== undefined ? Number(values['pipeline-runs']) : runs;
const seed = Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(pipelineRuns) || pipelineRuns < 1 || !Number.isSafeInteger(seed)) {
  console.error('netemitter fuzz: --runs and --seed take whole numbers');
  process.exit(2);
}
if (!['parser', 'pipeline', 'all'].includes(values.target!)) {
  console.error('netemitter fuzz: --target is parser, pipeline or all');
  process.exit(2);
}

const results: FuzzResult[] = [];
if (values.target !== 'pipeline') {
  results.push(fuzzParser(runs, seed, (n) => console.error(`parser: ${n} inputs`)));
}
if (values.target !== 'parser') {
  results.push(await fuzzPipeline(pipelineRuns, seed, (n) => console.error(`pipeline: ${n} inputs`)));
}
let failed = false;
for (const r of results) {
  console.log(JSON.stringify({ ...r, failures: r.failures.length }));
  for (const f of r.failures) console.error(`  ${r.target}: ${f}`);
  if (r.failures.length > 0) failed = true;
}
process.exit(failed ? 1 : 0);
