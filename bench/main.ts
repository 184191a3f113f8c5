/**
 * `npm run bench`: the peer comparison (as bench:peers), or with --profile the
 * hub's CPU profile under W1 and W2. See docs/performance.md.
 */
import { parseOptions } from './lib/options.js';
import { runPeers } from './lib/suite.js';
import { runProfile } from './lib/profile.js';

const o = parseOptions(process.argv.slice(2), 'bench');
if (o.profile) await runProfile(o);
else await runPeers(o);
process.exit(0);
