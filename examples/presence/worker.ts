/**
 * A worker: announces itself on the bus with presence metadata and leaves a
 * last will, which the hub publishes if the process dies without closing.
 *
 *   node dist/examples/presence/worker.js --server URL --name workers.1 [--queue tickets]
 *
 * Prints `ready: …` once its metadata says so. SIGTERM drains and exits 0
 * (a clean close: no will). It exits too when the runner dies (IPC end).
 */
import { parseArgs } from 'node:util';
import { connect } from 'netemitter';

const { values } = parseArgs({
  options: { server: { type: 'string' }, name: { type: 'string' }, queue: { type: 'string', default: 'tickets' } },
  strict: true,
});
const name = values.name ?? 'workers.1';
const meta = { role: 'worker', queue: values.queue, pid: process.pid };

const bus = await connect({
  servers: values.server,
  name,
  presence: { ...meta, status: 'starting' },
  // Published by the hub for us if this process vanishes (SIGKILL, a lost network), never on close() or drain().
  will: { subject: 'workers.died', payload: JSON.stringify({ name, pid: process.pid }) },
});
// Setting up would go here; then everyone watching sees the change.
await bus.presence.update({ ...meta, status: 'ready' });
console.log(`ready: ${name} (pid ${process.pid})`);

const stop = (): void => {
  void bus.drain().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
