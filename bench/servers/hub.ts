/**
 * The netemitter hub as a bench server: its own process, loopback, port 0,
 * default options. Prints `LISTENING <port>`; exits cleanly on SIGTERM, so a
 * hub started with `node --cpu-prof` writes its profile.
 */
import { createHub } from '../../src/index.js';

const hub = createHub({ host: '127.0.0.1', port: 0 });
const [address] = await hub.listen();
process.stdout.write(`LISTENING ${address!.port}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await hub.close({ grace: 0 });
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
