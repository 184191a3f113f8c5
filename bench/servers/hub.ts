/**
 * The netemitter hub as a bench server: its own process, loopback, port 0,
 * default options. Prints `LISTENING <port>`; exits cleanly on SIGTERM, so a
 * hub started with `node --cpu-prof` writes its profile.
 *
 *   node hub.js                              core NATS only
 *   node hub.js --store DIR [--sync MODE]    durable streams in DIR (SQLite)
 *               [--commit-batch N]           maxCommitBatch (default the hub's)
 *   node hub.js --security FILE              tls and authorization options from a JSON
 *                                            file (bench/lib/security.ts writes it)
 *   node hub.js --monitor                    monitoring on, HTTP port 0; prints
 *                                            `LISTENING <port> MONITOR <http port>`
 *   node hub.js --websocket                  a WebSocket listener on 127.0.0.1, port 0,
 *                                            plain ws://; prints `LISTENING <port> WEBSOCKET <url>`
 *   node hub.js --schemas match|other        JSON Schemas (bench/lib/schema-fixture.ts): one on the
 *                                            W1 subject, or on other subjects only
 *
 * NETEMITTER_BENCH_HUB_MODULE=/other/tree/dist/src/index.js runs another
 * build's hub under this bench (e.g. a commit from before a fix, built in a
 * worktree of its own), for before/after figures from one harness.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as thisBuild from '../../src/index.js';
import type { ServerSecurity } from '../lib/security.js';
import { SCHEMA_SETS } from '../lib/schema-fixture.js';

const { values } = parseArgs({
  options: { store: { type: 'string' }, sync: { type: 'string' }, 'commit-batch': { type: 'string' }, security: { type: 'string' }, monitor: { type: 'boolean' }, websocket: { type: 'boolean' }, schemas: { type: 'string' } },
});
const security = values.security === undefined ? {} : (JSON.parse(readFileSync(values.security, 'utf8')) as ServerSecurity);
const batch = values['commit-batch'] === undefined ? {} : { maxCommitBatch: Number(values['commit-batch']) };
const sync = values.sync === 'normal' ? 'normal' : 'full';
const other = process.env.NETEMITTER_BENCH_HUB_MODULE;
// Another build's createHub takes the options this one passes (host, port, store, tls, authorization) or fails at start.
const { createHub } = other === undefined || other === '' ? thisBuild : ((await import(pathToFileURL(other).href)) as typeof thisBuild);
const hub = createHub({
  host: '127.0.0.1',
  port: 0,
  ...security,
  ...(values.monitor === true ? { httpPort: 0 } : {}),
  // From a record: this compiles (and fails below, with a clear line) in a build whose hub has no WebSocket listener.
  ...(values.websocket === true ? ({ websocket: { port: 0, host: '127.0.0.1' } } as Record<string, unknown>) : {}),
  ...(values.schemas === 'match' || values.schemas === 'other' ? ({ schemas: SCHEMA_SETS[values.schemas] } as Record<string, unknown>) : {}),
  ...(values.store !== undefined ? { jetstream: { store: { dir: values.store, sync }, ...batch } } : {}),
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await hub.close({ grace: 0 });
  process.exit(0);
}
// Before LISTENING: whoever reads that line may signal at once (Node's default for SIGINT/SIGTERM is to die, profile unwritten).
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

const [address] = await hub.listen();
const monitor = hub.monitorAddress === null ? '' : ` MONITOR ${hub.monitorAddress.port}`;
let websocket = '';
if (values.websocket === true) {
  const ws = (hub as { websocketAddress?: { url: string } | null }).websocketAddress;
  if (ws === undefined || ws === null) {
    process.stderr.write('hub.js --websocket: this build\'s hub has no WebSocket listener (hub.websocketAddress is not set)\n');
    await hub.close({ grace: 0 });
    process.exit(1);
  }
  websocket = ` WEBSOCKET ${ws.url}`;
}
process.stdout.write(`LISTENING ${address!.port}${monitor}${websocket}\n`);
