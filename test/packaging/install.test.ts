/**
 * The package a user installs: what `npm pack` puts in the tarball, that the
 * tarball installs into a project of its own and works there (ESM import, a
 * hub and a client, the `netemitter` bin), that a git URL install builds
 * dist through `prepare`, and that a build leaves the bin executable.
 *
 * The git install and the build run in a clone of HEAD: they test the
 * committed tree, not uncommitted changes. The tarball is packed from the
 * working tree's dist (built before the tests run; packed with
 * --ignore-scripts, so `prepare` does not rebuild dist under the other test
 * files).
 *
 * better-sqlite3 compiles its addon with node-gyp when its install script
 * runs (its prebuilt download needs the network), a minute or more of CPU.
 * Nothing here needs the addon: better-sqlite3 loads it when a database is
 * opened, and these hubs use the memory store. So the tarball install runs
 * with --ignore-scripts, and the git install (which needs scripts, for
 * netemitter's `prepare`) denies better-sqlite3's script in the project's
 * allowScripts and turns scripts off, through a user config of its own, for
 * the npm install that pacote runs inside the git clone to get the build's
 * devDependencies (that install's own `prepare` is then skipped too: the
 * one that counts is pacote's, run before it packs the clone).
 *
 * The run bit is checked on a build, not on an install: npm makes a
 * package's bin files executable when it extracts them, whatever the tarball
 * says, so only a build shows what `npm link` users met (a rebuild left the
 * linked command 0644). Two tsc builds, that one and the git install's
 * prepare, take most of this file's time.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childEnv, killRunning, run } from './run.js';

/** dist/test/packaging/ → the repository. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};
const BIN = PKG.bin.netemitter!;

/** Bounds on each command; a loaded machine (the suite beside a CPU burner) needs the margin. */
const PACK_MS = 60_000;
const INSTALL_MS = 180_000;
const BUILD_MS = 180_000;
const GIT_INSTALL_MS = 300_000;
const NODE_MS = 30_000;

const NPM_QUIET = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

let tmp = '';

before(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'netemitter-packaging-')));
  assert.ok(relative(ROOT, tmp).startsWith('..'), `the temporary directory ${tmp} is inside the repository ${ROOT}: set TMPDIR elsewhere`);
});

after(() => {
  killRunning();
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

/** A project of its own that depends on nothing yet. */
function project(name: string, extra: Record<string, unknown> = {}): string {
  const dir = join(tmp, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module', ...extra }, null, 2));
  return dir;
}

/**
 * A program that uses the installed package as the README shows: an embedded
 * hub on a free port with the memory store, a client, one event there and
 * back. It prints where 'netemitter' resolved from and what it received.
 */
const USE_IT = `import { createHub, connect } from 'netemitter';

const hub = createHub({ host: '127.0.0.1', port: 0, jetstream: { store: 'memory' } });
const [address] = await hub.listen();
const bus = await connect(address.url);
const received = new Promise((resolve) => bus.on('packaging.check', (payload, meta) => resolve({ payload, subject: meta.subject })));
bus.emit('packaging.check', { n: 1 });
const got = await received;
await bus.close();
await hub.close();
console.log(JSON.stringify({ resolved: import.meta.resolve('netemitter'), browser: import.meta.resolve('netemitter/browser'), got }));
`;

/** Runs USE_IT in `dir` and checks it used dir's node_modules/netemitter. */
async function useIt(dir: string): Promise<void> {
  writeFileSync(join(dir, 'use-it.mjs'), USE_IT);
  const { stdout } = await run(process.execPath, ['use-it.mjs'], { cwd: dir, timeoutMs: NODE_MS });
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { resolved: string; browser: string; got: unknown };
  assert.equal(fileURLToPath(out.resolved), join(dir, 'node_modules', 'netemitter', 'dist', 'src', 'index.js'));
  const bundle = fileURLToPath(out.browser);
  assert.equal(bundle, join(dir, 'node_modules', 'netemitter', 'dist', 'browser', 'netemitter.js'));
  assert.ok(existsSync(bundle), 'netemitter/browser resolves to a file the package holds');
  assert.deepEqual(out.got, { payload: { n: 1 }, subject: 'packaging.check' });
}

/** The relative modules a built .js file imports (and files or folders it reads through new URL()), as package paths. */
function localImports(path: string): string[] {
  const text = readFileSync(join(ROOT, path), 'utf8');
  const specs = [
    ...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm),
    ...text.matchAll(/new URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((s) => posix.normalize(posix.join(posix.dirname(path), s)));
}

function git(args: string[], cwd = ROOT): Promise<string> {
  return run('git', args, { cwd, timeoutMs: 30_000 }).then((r) => r.stdout.trim());
}

/** A clone of HEAD outside the repository, made once, with the repository's node_modules linked in. */
let cloned: Promise<{ dir: string; sha: string; dirty: boolean }> | undefined;
function cloneHead(): Promise<{ dir: string; sha: string; dirty: boolean }> {
  cloned ??= (async () => {
    const sha = await git(['rev-parse', 'HEAD']);
    const dirty = (await git(['status', '--porcelain', '--untracked-files=no'])) !== '';
    const dir = join(tmp, 'clone');
    await git(['clone', '--quiet', '--no-hardlinks', ROOT, dir], tmp);
    await git(['checkout', '--quiet', '--detach', sha], dir);
    return { dir, sha, dirty };
  })();
  return cloned;
}

const gitMissing = await run('git', ['rev-parse', '--is-inside-work-tree'], { cwd: ROOT, timeoutMs: 10_000 }).then(
  () => false as const,
  (err: Error) => `not a git work tree, or no git: ${err.message.split('\n')[0]}`,
);

describe('the npm package', () => {
  it('builds through scripts/build.mjs on every path (the bin keeps its run bit), and prepare builds', () => {
    assert.match(PKG.scripts.build ?? '', /^node scripts\/build\.mjs$/);
    assert.match(PKG.scripts.prepare ?? '', /^npm run build$/, 'prepare: a git install and npm pack build dist with it');
    const direct = Object.entries(PKG.scripts).filter(([, s]) => /(^|[\s&;|])(npx )?tsc\b/.test(s));
    assert.deepEqual(direct, [], 'these scripts run tsc themselves: the bin would lose its run bit; use node scripts/build.mjs');
  });

  it('npm pack --dry-run lists dist/src, dist/browser, README.md, LICENSE and the bin, and no tests or sources', { timeout: PACK_MS + 10_000 }, async (t) => {
    const { stdout, ms } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], { cwd: ROOT, timeoutMs: PACK_MS });
    t.diagnostic(`npm pack --dry-run: ${ms} ms`);
    const [report] = JSON.parse(stdout) as [{ files: { path: string; mode: number }[] }];
    const files = new Set(report.files.map((f) => f.path));
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', BIN, 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/browser/netemitter.js', 'dist/src/browser.d.ts']) {
      assert.ok(files.has(f), `${f} is not in the tarball`);
    }
    const outside = [...files].filter((f) => !f.startsWith('dist/src/') && !f.startsWith('dist/browser/') && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f));
    assert.deepEqual(outside, [], 'files outside dist/src and dist/browser');
    const tests = [...files].filter((f) => /(^|\/)(test|tests|bench|fixtures)\/|\.test\.|(?<!\.d)\.ts$/.test(f));
    assert.deepEqual(tests, [], 'tests, benchmarks or TypeScript sources in the tarball');
    const missing = [...files]
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => localImports(f).filter((i) => !files.has(i) && !(i.endsWith('/') && [...files].some((g) => g.startsWith(i)))).map((i) => `${f} → ${i}`));
    assert.deepEqual(missing, [], 'modules the package imports that the tarball does not hold');
  });

  it('the tarball installs into a project outside the repository: ESM import works, and netemitter --help runs from node_modules/.bin', { timeout: PACK_MS + INSTALL_MS + 3 * NODE_MS }, async (t) => {
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--loglevel=error', '--pack-destination', tmp], { cwd: ROOT, timeoutMs: PACK_MS });
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    const tarball = join(tmp, filename);
    const dir = project('from-tarball');
    // --ignore-scripts: better-sqlite3's addon is not built (see the top of this file).
    const installed = await run('npm', ['install', tarball, '--ignore-scripts', ...NPM_QUIET], { cwd: dir, timeoutMs: INSTALL_MS });
    t.diagnostic(`npm pack: ${packed.ms} ms, npm install of the tarball: ${installed.ms} ms`);
    await useIt(dir);
    // Run through the .bin link itself, not with node: that needs the file's run bit and its #! line.
    const help = await run(join(dir, 'node_modules', '.bin', 'netemitter'), ['--help'], { cwd: dir, timeoutMs: NODE_MS });
    assert.match(help.stdout, /^Usage: netemitter /m);
    assert.match(help.stdout, /\bserve\b/);
  });

  it('npm run build leaves the bin executable (in a clone of HEAD)', { skip: gitMissing, timeout: BUILD_MS + 60_000 }, async (t) => {
    const { dir, dirty } = await cloneHead();
    if (dirty) t.diagnostic('the working tree has uncommitted changes: this builds HEAD without them');
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(dir, 'node_modules'), 'dir');
    try {
      const built = await run('npm', ['run', 'build', '--loglevel=error'], { cwd: dir, timeoutMs: BUILD_MS });
      t.diagnostic(`npm run build: ${built.ms} ms`);
      const mode = statSync(join(dir, BIN)).mode;
      assert.ok((mode & 0o100) !== 0, `${BIN} is ${(mode & 0o777).toString(8)} after npm run build: no run bit for its owner`);
      assert.ok((mode & 0o011) === ((mode & 0o044) >> 2), `${BIN} is ${(mode & 0o777).toString(8)}: whoever may read it may not run it`);
      // As `npm link` leaves it: the built file itself is the command.
      const help = await run(join(dir, BIN), ['--help'], { cwd: dir, timeoutMs: NODE_MS });
      assert.match(help.stdout, /^Usage: netemitter /m);
    } finally {
      rmSync(join(dir, 'node_modules'));
    }
  });

  it('installs from a git URL (a clone of HEAD: the committed tree): prepare builds dist, and the ESM import works', { skip: gitMissing, timeout: GIT_INSTALL_MS + 60_000 }, async (t) => {
    const { dir: clone, sha, dirty } = await cloneHead();
    if (dirty) t.diagnostic('the working tree has uncommitted changes: this installs HEAD without them');
    const dir = project('from-git', { allowScripts: { 'better-sqlite3': false } });
    // The user's npm config plus ignore-scripts, for the npm install pacote runs in its clone (it inherits
    // the environment); --ignore-scripts=false on the command line keeps scripts on for this install.
    const userconfig = process.env.npm_config_userconfig ?? join(homedir(), '.npmrc');
    const npmrc = join(tmp, 'npmrc-no-scripts');
    writeFileSync(npmrc, `${existsSync(userconfig) ? readFileSync(userconfig, 'utf8') : ''}\nignore-scripts=true\n`);
    const url = `git+${pathToFileURL(clone).href}#${sha}`;
    const installed = await run('npm', ['install', url, '--ignore-scripts=false', ...NPM_QUIET], {
      cwd: dir,
      timeoutMs: GIT_INSTALL_MS,
      env: childEnv({ npm_config_userconfig: npmrc }),
    });
    t.diagnostic(`npm install ${url}: ${installed.ms} ms`);
    const pkgDir = join(dir, 'node_modules', 'netemitter');
    assert.ok(existsSync(join(pkgDir, 'dist', 'src', 'index.js')), `no dist/src/index.js in the installed package: did prepare run?\n${installed.stderr}`);
    assert.ok(!existsSync(join(pkgDir, 'dist', 'test')), 'dist/test was installed: "files" did not apply');
    await useIt(dir);
  });
});

