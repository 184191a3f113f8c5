/** `npm run bench:peers`: every workload against every installed peer (see docs/performance.md). */
import { parseOptions } from './lib/options.js';
import { runPeers } from './lib/suite.js';

await runPeers(parseOptions(process.argv.slice(2), 'bench:peers'));
process.exit(0);
