/**
 * Child process for crash.test.ts: our hub with JetStream on a SQLite store
 * in the given directory. Prints its URL on one line once it listens, then
 * runs until it is killed (the parent SIGKILLs it).
 * argv: <store dir>
 */
import { createHub } from '../../src/index.js';

const [dir] = process.argv.slice(2);
if (dir === undefined || dir === '') {
  process.stderr.write('usage: crash-child <store dir>\n');
  process.exit(2);
}
const hub = createHub({ host: '127.0.0.1', port: 0, jetstream: { store: { dir } } });
const [addr] = await hub.listen();
if (addr === undefined) {
  process.stderr.write('the hub reported no address\n');
  process.exit(1);
}
process.stdout.write(`${addr.url}\n`);
