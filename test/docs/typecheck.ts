/**
 * ```ts blocks are API fragments: they are type-checked (tsc, strict) against
 * the built package, not run. Each block is a module of its own. It sees
 * every value netemitter exports as if imported (the `import { connect,
 * createHub } from 'netemitter'` that opens docs/api.md), and the few names
 * fragments take as given, declared in FRAGMENT_GLOBALS below; a block's own
 * declarations shadow them. One tsc process checks every block at once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Child } from '../helpers/cli.js';
import type { Block } from './blocks.js';
import { ROOT, type World } from './world.js';

/** What a fragment may use without declaring it. Add a name here when a doc needs one. */
const FRAGMENT_GLOBALS = `
  /** A connected bus (docs/api.md's fragments). */
  const bus: ne.Bus;
  /** A hub from createHub(). */
  const hub: ne.Hub;
  const url: string;
  const ticket: { id: string; title: string };
  const traceId: string;
  interface Ticket { id: string; title: string; status: string }
  const db: { tickets: { find(id: string): Promise<Ticket> } };
  const find: (id: string) => Ticket;
  const billing: { open(ticket: unknown): Promise<void> };
  const myStore: ne.Store;
`;

export interface TypeError {
  /** 1-based line in the Markdown file. */
  line: number;
  message: string;
}

/** Type-checks `blocks`; resolves with each block's errors (none: an empty list). */
export async function typecheck(world: World, blocks: Block[]): Promise<Map<Block, TypeError[]>> {
  const dir = join(world.root, 'ts');
  mkdirSync(dir, { recursive: true });
  const exported = Object.keys(await import('netemitter')).filter((k) => k !== 'default');
  writeFileSync(
    join(dir, 'globals.d.ts'),
    `import type * as ne from 'netemitter';\ndeclare global {\n${exported.map((k) => `  const ${k}: typeof ne.${k};`).join('\n')}\n${FRAGMENT_GLOBALS}}\nexport {};\n`,
  );
  const files = new Map<string, Block>();
  blocks.forEach((b, i) => {
    const name = `block${i}.ts`;
    files.set(name, b);
    // `export {}` makes it a module: its names are its own, and top-level await is allowed.
    writeFileSync(join(dir, name), `${b.text}export {};\n`);
  });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      include: ['*.ts'],
    }),
  );
  const tsc = new Child(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], {
    name: 'tsc (docs fragments)',
  });
  await tsc.waitForExit(90_000);
  const errors = new Map<Block, TypeError[]>(blocks.map((b) => [b, []]));
  for (const l of tsc.stdout.split('\n')) {
    const m = /^(?:.*\/)?(block\d+\.ts)\((\d+),\d+\): (error .*)$/.exec(l);
    if (m === null) continue;
    const b = files.get(m[1]!)!;
    errors.get(b)!.push({ line: b.line + Number(m[2]), message: m[3]! });
  }
  const counted = [...errors.values()].reduce((n, e) => n + e.length, 0);
  if (tsc.exit?.code !== 0 && counted === 0) throw new Error(`tsc failed without an error in a block:\n${tsc.output()}`);
  return errors;
}
