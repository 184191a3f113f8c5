/** `npm run bench:peers`: every workload against every installed peer (see docs/performance.md). */
import { parseOptions } from './lib/options.js';
import { runPeers } from './lib/suite.js';
import { runSecurity } from './lib/security-suite.js';
import { runMonitor } from './lib/monitor-suite.js';
import { runWebSocket } from './lib/websocket-suite.js';

const o = parseOptions(process.argv.slice(2), 'bench:peers');
if (o.security) await runSecurity(o);
else if (o.monitor) await runMonitor(o);
else if (o.websocket) await runWebSocket(o);
else await runPeers(o);
process.exit(0);
