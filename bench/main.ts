/**
 * `npm run bench`: the peer comparison (as bench:peers), with --profile the
 * hub's CPU profile under W1 and W2, with --security what TLS, permissions
 * and bcrypt cost against nats-server, with --monitor what the dashboard's
 * live tail costs W1, with --websocket W1 and W3 over ws:// against
 * nats-server (and --profile --websocket: the hub's profile under W1 over
 * ws://), with --inprocess W1 and W4 over hub.connect() against loopback
 * TCP, with --schemas W1 with a JSON event whose schema the hub checks
 * against none. See docs/performance.md.
 */
import { parseOptions } from './lib/options.js';
import { runPeers } from './lib/suite.js';
import { runProfile } from './lib/profile.js';
import { runSecurity } from './lib/security-suite.js';
import { runMonitor } from './lib/monitor-suite.js';
import { runWebSocket } from './lib/websocket-suite.js';
import { runInProcess } from './lib/inprocess-suite.js';
import { runSchemas } from './lib/schema-suite.js';

const o = parseOptions(process.argv.slice(2), 'bench');
if (o.inprocess) await runInProcess(o);
else if (o.profile) await runProfile(o);
else if (o.schemas) await runSchemas(o);
else if (o.security) await runSecurity(o);
else if (o.monitor) await runMonitor(o);
else if (o.websocket) await runWebSocket(o);
else await runPeers(o);
process.exit(0);
