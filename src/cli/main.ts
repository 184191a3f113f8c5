#!/usr/bin/env node
/**
 * The `netemitter` command. Each subcommand lives in commands/<name>.ts and
 * registers itself on the program; errors from any of them end here and are
 * turned into one line on stderr and an exit code (see errors.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerServe } from './commands/serve.js';
import { registerPub } from './commands/pub.js';
import { registerSub } from './commands/sub.js';
import { registerReq } from './commands/req.js';
import { registerReply } from './commands/reply.js';
import { registerEchoServer } from './commands/echo-server.js';
import { registerEchoClient } from './commands/echo-client.js';
import { registerBench } from './commands/bench.js';
import { registerPasswd } from './commands/passwd.js';
import { registerNkey } from './commands/nkey.js';
import { registerStream } from './commands/stream.js';
import { registerConsumer } from './commands/consumer.js';
import { registerKv } from './commands/kv.js';
import { registerObject } from './commands/object.js';
import { registerSchema } from './commands/schema.js';
import { serverFromNatsUrl } from './commands/common.js';
import { exitCodeFor, exitWith, formatCommanderMessage, formatError, PROGRAM } from './errors.js';

/** package.json sits three levels above this file once built: dist/src/cli/main.js. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

function createProgram(): Command {
  const program = new Command(PROGRAM)
    .description('an event hub and client that speak the NATS protocol')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print help and exit')
    .option('--debug', 'print stack traces with errors')
    // Settings below are inherited by the commands registered after them.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`${formatCommanderMessage(text)}\n`) })
    // --server, else NETEMITTER_SERVER, else NATS_URL, else the default.
    .hook('preAction', (_program, command) => serverFromNatsUrl(command));
  registerServe(program);
  registerPub(program);
  registerSub(program);
  registerReq(program);
  registerReply(program);
  registerStream(program);
  registerConsumer(program);
  registerKv(program);
  registerObject(program);
  registerSchema(program);
  registerEchoServer(program);
  registerEchoClient(program);
  registerBench(program);
  registerPasswd(program);
  registerNkey(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = exitCodeFor(err);
    // Commander has already printed its own messages (help, version, parse errors).
    if (err instanceof CommanderError) exitWith(code);
    else exitWith(code, formatError(err, program.opts().debug === true));
  }
}

await main(process.argv);
