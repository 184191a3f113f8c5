/**
 * The supervisor: follows the workers through `bus.presence` (who is there,
 * who came, who changed, who left and why) and hears their last wills.
 *
 *   node dist/examples/presence/supervisor.js --server URL
 *
 * Prints `ready: …` once it has the snapshot. SIGTERM drains and exits 0.
 */
import { parseArgs } from 'node:util';
import { connect, type Member } from 'netemitter';

const { values } = parseArgs({ options: { server: { type: 'string' } }, strict: true });
const bus = await connect({ servers: values.server, name: 'supervisor' });

const isWorker = (m: Member): boolean => m.name?.startsWith('workers.') === true;
bus.presence.on('join', (m, change) => {
  if (isWorker(m)) console.log(`${change.snapshot ? 'present' : 'joined'}: ${m.name} ${JSON.stringify(m.meta)}`);
});
bus.presence.on('update', (m) => {
  if (isWorker(m)) console.log(`update: ${m.name} is ${String(m.meta.status)}`);
});
bus.presence.on('leave', (m, change) => {
  if (isWorker(m)) console.log(`left: ${m.name} (${change.reason ?? 'gone while we were away'})`);
});
bus.on('workers.died', (w: { name: string; pid: number }) => console.log(`will: ${w.name} (pid ${w.pid}) died without closing`));
await bus.presence.ready();
const workers = await bus.presence.list('workers.*');
console.log(`ready: watching, ${workers.length} worker(s) present`);

const stop = (): void => {
  void bus.drain().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);
