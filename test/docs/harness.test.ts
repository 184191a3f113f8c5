/**
 * The docs test can fail: small Markdown documents with one wrong block
 * each go through the same checks as the real docs, and each must be
 * refused for the reason it is wrong (and a right one next to it accepted).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHub } from 'netemitter';
import { killAll } from '../helpers/cli.js';
import { extractBlocks } from './blocks.js';
import { planDoc, type Doc } from './checks.js';
import { closePageBrowser, SKIP_PAGES } from './page.js';
import { clashes, findStreams } from './streams.js';
import { typecheck } from './typecheck.js';
import { World } from './world.js';

const world = await World.open();
const plain = createHub({ host: '127.0.0.1', port: 0 });
const [address] = await plain.listen();

after(async () => {
  await killAll();
  await closePageBrowser();
  await plain.close({ grace: 0 });
  await world.close();
});

let docs = 0;

/** Plans `markdown` as a doc of its own and returns each block's outcome: its notes, or the error. */
async function outcomes(markdown: string): Promise<(string[] | Error)[]> {
  const file = `selftest-${++docs}.md`;
  const blocks = extractBlocks(file, markdown);
  let tc: ReturnType<typeof typecheck> | undefined;
  const doc: Doc = {
    world,
    file,
    dir: world.workdir(file),
    outputs: new Map(),
    sources: new Map(),
    wire: { hubPort: address!.port!, natsPort: null },
    typecheck: () => (tc ??= typecheck(world, blocks.filter((b) => b.lang === 'ts'))),
  };
  return Promise.all(planDoc(doc, blocks).map((p) => p.result.catch((e: Error) => e)));
}

async function refused(markdown: string, reason: RegExp): Promise<void> {
  const [r] = await outcomes(markdown);
  assert.ok(r instanceof Error, `accepted: ${JSON.stringify(r)}`);
  assert.match(r.message, reason);
}

const fence = (info: string, body: string, above = ''): string => `${above}${above === '' ? '' : '\n'}\`\`\`${info}\n${body}\n\`\`\`\n`;

describe('the docs test refuses', () => {
  it('a block of no kind or an unknown kind, naming the file and line', async () => {
    await refused(`# x\n\n${fence('', 'hello')}`, /^selftest-\d+\.md:3 ```: a block without a kind/);
    await refused(fence('python', 'print(1)'), /unknown kind "python"/);
  });

  it('an output sample that says neither what printed it nor why it is not checked', async () => {
    await refused(fence('text', 'some output'), /output of PROGRAM-OR-COMMAND/);
    await refused(fence('text', 'x', '<!-- doc-test: output of nothing.js -->'), /no program or command of that name/);
    assert.throws(() => extractBlocks('x.md', fence('text', 'x', '<!-- doc-test: skip -->')), /needs a reason/);
  });

  it('a wire session whose byte count is off by one (the hub answers -ERR and closes)', async () => {
    const [good, bad] = await outcomes(
      fence('wire', ['C: CONNECT {"verbose":false}\\r\\n', 'C: SUB a 1\\r\\n', 'C: PUB a 2\\r\\n{}\\r\\n', 'S: MSG a 1 2\\r\\n{}\\r\\n'].join('\n')) +
        fence('wire', ['C: CONNECT {"verbose":false}\\r\\n', 'C: SUB a 1\\r\\n', 'C: PUB a 3\\r\\n{}\\r\\n', 'C: PING\\r\\n', 'S: MSG a 1 3\\r\\n{}\\r\\n'].join('\n')),
    );
    assert.ok(Array.isArray(good), String(good));
    assert.ok(bad instanceof Error);
    assert.match(bad.message, /the server sent "-ERR 'Unknown Protocol Operation'\\r\\n" here/);
  });

  it('a config key the CLI does not know', async () => {
    await refused(fence('json', '{ "max_payload": "1MB" }'), /unknown config key "max_payload".*did you mean "maxPayload"/);
  });

  it('a schema that does not compile, one that is not the example\'s file it shows, a config whose schema is missing', async () => {
    const [common, good, typo, twin, config] = await outcomes(
      fence('json schema file=defs/common.json', '{ "$defs": { "id": { "type": "string" } } }') +
        fence('json schema file=defs/ok.json', '{ "properties": { "id": { "$ref": "common.json#/$defs/id" } } }') +
        fence('json schema file=defs/typo.json', '{ "type": "object", "requird": ["id"] }') +
        fence('json schema file=schemas/ticket.created.json', '{ "type": "object" }') +
        fence('json file=hub.json', '{ "schemas": [{ "subjects": ["a"], "schema": "defs/missing.json" }] }'),
    );
    assert.ok(Array.isArray(common) && Array.isArray(good), `${String(common)} ${String(good)}`);
    assert.ok(typo instanceof Error && /its schemas do not load: .*requird/.test(typo.message), String(typo));
    assert.ok(twin instanceof Error && /differs from examples\/tickets\/schemas\/ticket\.created\.json/.test(twin.message), String(twin));
    assert.ok(config instanceof Error && /its schemas do not load: .*missing\.json/.test(config.message), String(config));
  });

  it('a js block that does not print its // → line, and a keeps-running one without any', async () => {
    await refused(fence('js', "console.log('one'); // → two"), /did not print "two"/);
    await refused(fence('js keeps-running', 'setInterval(() => {}, 1000);'), /keeps-running program needs a \/\/ → line/);
    await refused(fence('js continues=nowhere.js', 'x;'), /no block named nowhere\.js/);
  });

  it('a ts fragment that does not type-check against the built package', async () => {
    await refused(fence('ts', "bus.emit('a', 1, { headerz: {} });"), /does not type-check[\s\S]*headerz/);
  });

  it('a bench option that does not exist, and an npm script that does not', async () => {
    await refused(fence('sh', 'npm run bench:peers -- --runz 3'), /its command line is refused/);
    await refused(fence('sh', 'npm run no-such-script'), /package.json has no script "no-such-script"/);
  });

  it('a command that fails, unless its comment says which exit code it has', async () => {
    await refused(fence('sh', "netemitter req nobody.home ''"), /exited with \{"code":1,"signal":null\}, expected code 0/);
    const [ok] = await outcomes(fence('sh', "netemitter req nobody.home ''   # no responders: exit 1"));
    assert.ok(Array.isArray(ok), String(ok));
  });

  it('a console sample that is not what the command prints', async () => {
    await refused(fence('console', '$ netemitter serve --port abc\nnetemitter: invalid value for --port: "abc"'), /printed\nnetemitter: invalid value for --port: "abc" \(expected/);
  });

  it('a unit file that gives the hub less time to stop than its grace period', async () => {
    await refused(fence('ini', '[Service]\nExecStart=/usr/bin/netemitter serve --lame-duck-grace-period 10s --max-connections 100\nTimeoutStopSec=5'), /TimeoutStopSec 5 s does not leave the hub its grace period/);
  });

  it('a page that does not log its // → line, or that logs an error, and one that reaches off this machine', { skip: SKIP_PAGES }, async () => {
    const page = (body: string): string => `<!doctype html>\n<script type="module">\n${body}\n</script>`;
    const [good, silent, broken, offsite] = await outcomes(
      fence('html', page("import { connect } from '/netemitter.js';\nconst bus = await connect('ws://127.0.0.1:8080');\nconsole.log(bus.isConnected); // → true\nawait bus.close();")) +
        fence('html', page("console.log('one'); // → two")) +
        fence('html', page("import { nothing } from '/no-such-module.js';\nconsole.log('never'); // → never")) +
        fence('html', page("await fetch('http://192.0.2.1/').catch(() => {});\nconsole.log('done'); // → done")),
    );
    assert.ok(Array.isArray(good), String(good));
    assert.ok(silent instanceof Error && /the page did not log "two"/.test(silent.message), String(silent));
    assert.ok(broken instanceof Error && /the page reported errors/.test(broken.message), String(broken));
    assert.ok(offsite instanceof Error && /reached beyond 127\.0\.0\.1: http:\/\/192\.0\.2\.1\//.test(offsite.message), String(offsite));
  });

  it('a stream that captures a request subject, and streams that clash', () => {
    const blocks = extractBlocks(
      'x.md',
      fence('js', "await bus.streams.add({ name: 'T', subjects: ['ticket.>'] });\nawait bus.request('ticket.get', {});") +
        fence('sh', "netemitter stream add T --subjects 'ticket.created'\nnetemitter stream add U --subjects 'ticket.*'"),
    );
    const { streams, requests } = findStreams(blocks);
    const found = clashes(streams, requests);
    assert.ok(found.some((l) => /stream T stores ticket\.>, which captures the request subject ticket\.get/.test(l)), found.join('\n'));
    assert.ok(found.some((l) => /stream T again, with other subjects/.test(l)), found.join('\n'));
    assert.ok(found.some((l) => /stream U on ticket\.\* overlaps T/.test(l)), found.join('\n'));
  });
});
