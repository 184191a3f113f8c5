/** The seed programs: an echo server and client over plain `node:net`. */
export { createEchoServer, EchoDefaults, EXIT_WORD } from './server.js';
export type { EchoServerOptions } from './server.js';
export { runEchoClient } from './client.js';
export type { EchoClientOptions } from './client.js';
