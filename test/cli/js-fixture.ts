/**
 * The fixture of the JetStream CLI tests: a server of NETEMITTER_TARGET with
 * JetStream on, a client connected to it to check what the commands did, a
 * scratch directory, and `ok`/`fails` to run the CLI against that server.
 * Call it inside a describe(): it registers the before/after hooks.
 */
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Bus } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/target.js';
import { lines, runCli, type Proc } from './proc.js';

export interface JetStreamCli {
  server: TestServer;
  bus: Bus;
  dir: string;
  /** `--server <url>`, for commands run by hand. */
  flags: string[];
  /** Runs the CLI against the server; it must exit 0. */
  ok(args: string[], input?: string): Promise<Proc>;
  /** Runs the CLI against the server; it must exit with `code` and one line on stderr matching `stderr`. */
  fails(args: string[], code: number, stderr: RegExp): Promise<Proc>;
}

export function jetStreamCli(name: string): JetStreamCli {
  const ctx = {
    flags: [] as string[],
    async ok(args: string[], input?: string): Promise<Proc> {
      const p = await runCli([...args, ...ctx.flags], input === undefined ? {} : { input });
      assert.equal(p.exit.code, 0, p.output());
      return p;
    },
    async fails(args: string[], code: number, stderr: RegExp): Promise<Proc> {
      const p = await runCli([...args, ...ctx.flags]);
      assert.equal(p.exit.code, code, p.output());
      assert.equal(lines(p.stderr).length, 1, p.output());
      assert.match(p.stderr, stderr);
      return p;
    },
  } as JetStreamCli;
  before(async () => {
    ctx.server = await startServer({ jetstream: true });
    ctx.bus = await connect({ servers: ctx.server.url, name });
    ctx.flags = ['--server', ctx.server.url];
    ctx.dir = mkdtempSync(join(tmpdir(), `netemitter-${name}-`));
  });
  after(async () => {
    if (ctx.bus !== undefined && !ctx.bus.isClosed) await ctx.bus.close();
    await ctx.server?.stop();
    if (ctx.dir !== undefined) rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}
