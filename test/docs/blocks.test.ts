/**
 * Every fenced code block of README.md, docs/*.md and
 * examples/tickets/README.md runs or is checked, in reading order, against
 * one hub: the examples must work as written and compose. A block of a kind
 * the test does not know, or one it did not check, fails. Conventions for
 * writing blocks that pass: test/docs/README.md.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHub } from 'netemitter';
import { killAll } from '../helpers/cli.js';
import { skipUnavailable, startTarget } from '../cli/targets.js';
import { extractBlocks, label, type Block } from './blocks.js';
import { firstGroup, planDoc, runGroup, typecheck, type Doc, type WireTargets } from './checks.js';
import type { TypeError } from './typecheck.js';
import { clashes, findStreams } from './streams.js';
import { closePageBrowser } from './page.js';
import { ROOT, World } from './world.js';

const FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
  'examples/tickets/README.md',
];

const world = await World.open();
const plain = createHub({ host: '127.0.0.1', port: 0 });
const [plainAddress] = await plain.listen();
const nats = skipUnavailable('nats-server') === false ? await startTarget('nats-server') : null;
const wire: WireTargets = { hubPort: plainAddress!.port!, natsPort: nats === null ? null : Number(nats.url.split(':').at(-1)) };

after(async () => {
  await killAll();
  await closePageBrowser();
  await nats?.stop();
  await plain.close({ grace: 0 });
  await world.close();
});

const parsed = FILES.map((file) => {
  try {
    return { file, blocks: extractBlocks(file, readFileSync(join(ROOT, file), 'utf8')), error: null };
  } catch (err) {
    return { file, blocks: [] as Block[], error: err as Error };
  }
});

// One tsc run for every ```ts block of every doc, started when the first one needs it.
const tsBlocks = parsed.flatMap((p) => p.blocks.filter((b) => b.lang === 'ts'));
let typechecked: Promise<Map<Block, TypeError[]>> | undefined;
const typecheckAll = (): Promise<Map<Block, TypeError[]>> => (typechecked ??= world.pooled(() => typecheck(world, tsBlocks)));

const docs = parsed.map((p) => {
  const doc: Doc = { world, file: p.file, dir: world.workdir(p.file), outputs: new Map(), sources: new Map(), wire, typecheck: typecheckAll };
  return { ...p, doc, planned: p.error === null ? planDoc(doc, p.blocks) : [] };
});

for (const d of docs) {
  describe(d.file, () => {
    if (d.error !== null) {
      it('has well-formed code blocks', () => {
        throw d.error;
      });
      return;
    }
    for (const p of d.planned) {
      it(label(p.block), { skip: p.skip ?? false, timeout: 120_000 }, async (t) => {
        const notes = await p.result;
        assert.ok(notes.length > 0, `${label(p.block)} block not covered: the test neither ran nor checked anything in it`);
        for (const n of notes) t.diagnostic(n);
      });
    }
  });
}

describe('the examples compose', () => {
  it('no stream of any doc captures a request subject of any doc, and no two streams clash', (t) => {
    const { streams, requests } = findStreams(docs.flatMap((d) => d.blocks));
    assert.ok(streams.length > 0 && requests.length > 0, 'the docs create streams and make requests');
    for (const s of streams) t.diagnostic(`${s.where}: stream ${s.name} on ${s.subjects.join(', ')}`);
    t.diagnostic(`request subjects: ${[...new Set(requests.map((r) => r.what))].join(', ')}`);
    assert.deepEqual(clashes(streams, requests), []);
  });

  it("README.md's first multi-process example works again after every block of every doc ran on the same hub", { timeout: 120_000 }, async (t) => {
    const readme = docs[0]!;
    const group = firstGroup(readme.blocks);
    assert.ok(group.length > 1, 'README.md has a multi-process example (// worker.js, // api.js)');
    const again: Doc = { ...readme.doc, dir: world.workdir('replay'), outputs: new Map(), sources: new Map() };
    for (const n of await world.serial(() => runGroup(again, group))) t.diagnostic(n);
  });
});
