/**
 * The raw bound: a Node process that only moves bytes. A client says who it
 * is with its first byte: `P` (publisher) or `S` (subscriber). Every byte a
 * publisher sends is written, unchanged, to every subscriber; nothing is
 * parsed, so this is what any hub written in Node could do at best on this
 * machine. The clients frame 128-byte payloads with a 4-byte length prefix.
 *
 * Backpressure as a real hub must do it: when a subscriber's socket is full,
 * publishers are paused until it drains.
 */
import { createServer, type Socket } from 'node:net';

const subs = new Set<Socket>();
const pubs = new Set<Socket>();
let blocked = 0;

function onDrain(): void {
  if (--blocked === 0) for (const p of pubs) p.resume();
}

function onPubData(chunk: Buffer): void {
  for (const s of subs) {
    if (!s.write(chunk)) {
      if (blocked++ === 0) for (const p of pubs) p.pause();
      s.once('drain', onDrain);
    }
  }
}

const server = createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true);
  socket.once('data', (first: Buffer) => {
    const role = first[0];
    if (role === 0x53 /* S */) {
      subs.add(socket);
      socket.on('close', () => subs.delete(socket));
      socket.resume();
    } else if (role === 0x50 /* P */) {
      pubs.add(socket);
      socket.on('close', () => pubs.delete(socket));
      socket.on('data', onPubData);
      if (first.length > 1) onPubData(first.subarray(1));
    } else {
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const a = server.address();
process.stdout.write(`LISTENING ${typeof a === 'object' && a !== null ? a.port : 0}\n`);

function stop(): void {
  server.close();
  for (const s of [...subs, ...pubs]) s.destroy();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
