/**
 * Aedes (MQTT broker in Node) as a bench server: in-memory persistence (the
 * default), TCP_NODELAY on every socket, loopback, port 0. Prints
 * `LISTENING <port>`. Loaded by name at run time, so the build does not need it.
 */
import { createServer, type Socket } from 'node:net';

interface AedesBroker {
  handle(socket: Socket): void;
  close(cb?: () => void): void;
}
interface AedesModule {
  Aedes: { createBroker(opts?: object): Promise<AedesBroker> };
}

const name = 'aedes';
const { Aedes } = (await import(name)) as AedesModule;
const broker = await Aedes.createBroker();
const server = createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true);
  broker.handle(socket);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const a = server.address();
process.stdout.write(`LISTENING ${typeof a === 'object' && a !== null ? a.port : 0}\n`);

function stop(): void {
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
