/**
 * Where the docs' blocks run: a temporary directory laid out like a user's
 * project (node_modules/netemitter is this repository, a `netemitter`
 * command on PATH is the built CLI), one working directory per Markdown file,
 * and one hub in this process that every documented client talks to, in the
 * order the docs are read, so the examples must compose. Work is scheduled on
 * lanes: the shared hub's, for everything that talks to it, in document
 * order across docs; one per doc for the rest of its blocks (its own servers,
 * its working directory), in document order; and a pool of two for checks
 * that stand alone (bench command lines, examples on their own hub, tsc).
 */
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHub, type Hub, type SubscriptionEvent } from 'netemitter';
import { CLI_PATH } from '../helpers/cli.js';

/** dist/test/docs/world.js → the repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

/** The bound on each wait for a process or a socket. */
export const WAIT_MS = 15_000;

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

/** A promise settled from outside; a rejection nobody awaits is not an unhandled one. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export class World {
  /** The temporary project directory. */
  readonly root: string;
  /** Holds the `netemitter` command. */
  readonly bin: string;
  readonly hub: Hub;
  readonly port: number;
  /** Every subscription the shared hub has seen, in order (for readiness checks). */
  readonly subscriptions: SubscriptionEvent[] = [];
  private readonly subWakers = new Set<() => void>();
  private readonly lanes = new Map<string, Promise<unknown>>();
  private poolFree = 2;
  private readonly poolQueue: (() => void)[] = [];

  private constructor(root: string, hub: Hub, port: number) {
    this.root = root;
    this.bin = join(root, 'bin');
    this.hub = hub;
    this.port = port;
    hub.on('subscribe', (e) => {
      this.subscriptions.push(e);
      for (const w of this.subWakers) w();
    });
  }

  static async open(): Promise<World> {
    const root = mkdtempSync(join(tmpdir(), 'ne-docs-'));
    // A user's project: ESM, netemitter installed, plus the dev dependencies a doc may import (nats.js).
    writeFileSync(join(root, 'package.json'), '{ "type": "module", "private": true }\n');
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(ROOT, join(root, 'node_modules', 'netemitter'));
    mkdirSync(join(root, 'bin'));
    const shim = join(root, 'bin', 'netemitter');
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
    chmodSync(shim, 0o755);
    // Absolute paths under /tmp and /run in the docs are relocated here (see relocate()).
    mkdirSync(join(root, 'tmp'));
    mkdirSync(join(root, 'run', 'netemitter'), { recursive: true });
    // A WebSocket listener too, for the pages of docs/browser.md (```html blocks).
    const hub = createHub({ host: '127.0.0.1', port: 0, jetstream: true, websocket: { port: 0 } });
    const [address] = await hub.listen();
    return new World(root, hub, address!.port!);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The shared hub's WebSocket listener: what `ws://127.0.0.1:8080` in the docs becomes. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.wsPort}`;
  }

  get wsPort(): number {
    return this.hub.websocketAddress!.port;
  }

  /** The working directory of one Markdown file's blocks. */
  workdir(file: string): string {
    const dir = join(this.root, 'work', file.replace(/[^A-Za-z0-9.-]+/g, '_'));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Makes `import 'pkg'` work for a dev dependency of this repository (e.g. @nats-io/transport-node). */
  linkPackage(name: string): void {
    const target = join(ROOT, 'node_modules', name);
    if (!existsSync(target)) throw new Error(`imports ${name}, which is not installed in this repository`);
    const link = join(this.root, 'node_modules', name);
    if (existsSync(link)) return;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link);
  }

  /** `/tmp/x` and `/run/x` in a doc become paths under the temporary directory ($root/tmp, $root/run/netemitter exist). */
  relocate(text: string): string {
    return text.replace(/(^|[\s'"=(]|:\/\/|:)\/(tmp|run)\//g, (_m, pre: string, top: string) => `${pre}${this.root}/${top}/`);
  }

  /** A port nothing listens on right now (for a documented hub that listens on a fixed one). */
  freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = createServer();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
  }

  /** The environment of a documented command: the built CLI on PATH, clients pointed at the shared hub. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { PATH: `${this.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, NETEMITTER_SERVER: this.url, ...extra };
  }

  /**
   * Resolves once the shared hub has seen, since `since` (an index into
   * `subscriptions`), a subscription to each subject; rejects after the
   * bound or when `gone()` says the process that should subscribe ended.
   */
  waitForSubscriptions(subjects: string[], since: number, gone: Promise<unknown>, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const missing = (): string[] => subjects.filter((s) => !this.subscriptions.slice(since).some((e) => e.subject === s));
      const done = (): void => {
        clearTimeout(timer);
        this.subWakers.delete(check);
      };
      const check = (): void => {
        if (missing().length === 0) {
          done();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: no subscription to ${missing().join(', ')} within ${WAIT_MS} ms`));
      }, WAIT_MS);
      void gone.then(() => {
        if (missing().length === 0) return;
        done();
        reject(new Error(`${what} ended before subscribing to ${missing().join(', ')}`));
      });
      this.subWakers.add(check);
      check();
    });
  }

  /** Runs `fn` after everything scheduled on the shared hub's lane before it: document order, across docs. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.lane('shared hub', fn);
  }

  /** Runs `fn` after everything scheduled on lane `name` before it (one per doc, for what uses only the doc's directory and its own servers). */
  lane<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.lanes.get(name) ?? Promise.resolve()).then(fn, fn);
    this.lanes.set(
      name,
      run.catch(() => {}),
    );
    return run;
  }

  /** Runs `fn` when one of the pool's two slots is free. */
  async pooled<T>(fn: () => Promise<T>): Promise<T> {
    if (this.poolFree === 0) await new Promise<void>((r) => this.poolQueue.push(r));
    else this.poolFree--;
    try {
      return await fn();
    } finally {
      const next = this.poolQueue.shift();
      if (next !== undefined) next();
      else this.poolFree++;
    }
  }

  async close(): Promise<void> {
    await this.hub.close({ grace: 0 });
    rmSync(this.root, { recursive: true, force: true });
  }
}
