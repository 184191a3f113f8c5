/**
 * pub, sub, req and reply end to end: the built CLI as child processes,
 * against our hub (in this process) and against a real nats-server, with the
 * same tests. A `sub` or `reply` is ready when it says so on stderr (after a
 * flush: the server has the subscription); a `pub` has exited after its
 * flush, so what it sent has been routed by then.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import { createHub } from 'netemitter';
import { oneLine } from '../helpers/cli.js';
import { cli, killProcs, lines, runCli, runClis, type Proc } from './proc.js';
import { TARGET_KINDS, skipUnavailable, startTarget, type Target } from './targets.js';

after(killProcs);

/** Starts `netemitter sub …` and waits until its subscription is in place. */
async function startSub(args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const p = cli(['sub', ...args], env);
  await p.waitForStderr(/^subscribed to /m);
  return p;
}

async function startReply(args: string[]): Promise<Proc> {
  const p = cli(['reply', ...args]);
  await p.waitForStderr(/^answering requests on /m);
  return p;
}

async function ok(p: Promise<Proc & { exit: { code: number | null } }>): Promise<Proc> {
  const done = await p;
  assert.equal(done.exit.code, 0, done.output());
  return done;
}

/** The `[#n] Received on` headers of sub's or reply's output. */
function received(p: Proc): string[] {
  return lines(p.stdout).filter((l) => l.startsWith('[#'));
}

for (const kind of TARGET_KINDS) {
  describe(`client commands against ${kind}`, { skip: skipUnavailable(kind) }, () => {
    let target: Target;
    let server: string[];
    before(async () => {
      target = await startTarget(kind);
      server = ['--server', target.url];
    });
    after(() => target?.stop());

    it('pub → sub: subject, headers and pretty JSON', async () => {
      const sub = await startSub(['orders.new', '--count', '1', ...server]);
      const pub = await ok(runCli(['pub', 'orders.new', '{"id":1,"items":["a"]}', '-H', 'Source:cli', '-H', 'trace-id: abc:def', '-H', 'Source:again', ...server]));
      assert.equal(pub.stdout + pub.stderr, '', 'pub is quiet on success');
      assert.equal((await sub.waitForExit()).code, 0, sub.output());
      assert.equal(sub.stdout, '[#1] Received on "orders.new"\nSource: cli\nSource: again\ntrace-id: abc:def\n\n{\n  "id": 1,\n  "items": [\n    "a"\n  ]\n}\n\n');
    });

    it('DATA is raw UTF-8: the official NATS client sees exactly what was typed', async () => {
      const nc = await natsConnect({ servers: target.url, reconnect: false });
      try {
        const official = nc.subscribe('raw.text', { max: 3 });
        await nc.flush();
        const sub = await startSub(['raw.text', '--count', '3', ...server]);
        for (const data of ['hello world', '"quoted"', 'héllo {not json']) await ok(runCli(['pub', 'raw.text', data, ...server]));
        const seen: string[] = [];
        for await (const m of official) seen.push(m.string());
        assert.deepEqual(seen, ['hello world', '"quoted"', 'héllo {not json']);
        assert.equal((await sub.waitForExit()).code, 0, sub.output());
        // Text that is not JSON prints as it is; a JSON string prints as JSON.
        assert.deepEqual(lines(sub.stdout).filter((l) => !l.startsWith('[#')), ['hello world', '"quoted"', 'héllo {not json']);
      } finally {
        await nc.close();
      }
    });

    it('pub without DATA: one event per stdin line; --count stops after n lines', async () => {
      const sub = await startSub(['logs.app', '--raw', '--count', '6', ...server]);
      await ok(runCli(['pub', 'logs.app', ...server], { input: 'first line\r\n{"n":2}\n\nlast' }));
      await ok(runCli(['pub', 'logs.app', '--count', '1', ...server], { input: 'only this\nnot this\n' }));
      await ok(runCli(['pub', 'logs.app', 'end', ...server]));
      assert.equal((await sub.waitForExit()).code, 0, sub.output());
      assert.equal(sub.stdout, 'first line\n{"n":2}\n\nlast\nonly this\nend\n');
    });

    it('pub --count n publishes DATA n times; sub --count exits 0 after n', async () => {
      const two = await startSub(['tick', '--count', '2', ...server]);
      const all = await startSub(['tick', '--count', '5', '--raw', ...server]);
      await ok(runCli(['pub', 'tick', 'tock', '--count', '5', ...server]));
      assert.equal((await two.waitForExit()).code, 0, two.output());
      assert.deepEqual(received(two), ['[#1] Received on "tick"', '[#2] Received on "tick"']);
      assert.equal((await all.waitForExit()).code, 0, all.output());
      assert.equal(all.stdout, 'tock\n'.repeat(5));
    });

    it('pub fills in the nats CLI\'s templates in DATA, the subject and headers, per message; --no-templates sends them as typed', async () => {
      const sub = await startSub(['tpl.>', '--count', '4', ...server]);
      await ok(runCli(['pub', 'tpl.{{Count}}', '{"n":{{Count}},"id":"{{ID}}","r":"{{Random 4 5}}","at":"{{TimeStamp}}"}', '-H', 'Seq:{{ .Cnt }}', '--count', '3', ...server]));
      await ok(runCli(['pub', 'tpl.{{Count}}', 'as typed {{Count}}', '-H', 'Seq:{{Count}}', '--no-templates', ...server]));
      assert.equal((await sub.waitForExit()).code, 0, sub.output());
      const heads = received(sub);
      assert.deepEqual(heads, ['[#1] Received on "tpl.1"', '[#2] Received on "tpl.2"', '[#3] Received on "tpl.3"', '[#4] Received on "tpl.{{Count}}"']);
      assert.deepEqual(lines(sub.stdout).filter((l) => l.startsWith('Seq: ')), ['Seq: 1', 'Seq: 2', 'Seq: 3', 'Seq: {{Count}}']);
      const bodies = sub.stdout.split(/^\[#\d\] .*\nSeq: .*\n\n/m).slice(1).map((b) => b.trim());
      const json = bodies.slice(0, 3).map((b) => JSON.parse(b) as { n: number; id: string; r: string; at: string });
      assert.deepEqual(json.map((j) => j.n), [1, 2, 3]);
      assert.equal(new Set(json.map((j) => j.id)).size, 3, 'a new ID per message');
      for (const j of json) {
        assert.match(j.id, /^[A-Za-z0-9]{22}$/);
        assert.match(j.r, /^[A-Za-z0-9]{4}$/);
        assert.match(j.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
      }
      assert.equal(bodies[3], 'as typed {{Count}}');
    });

    it('--json: pub and sub print one object per line and message, req the reply; the shape of stream view --json', async () => {
      const sub = await startSub(['js.out.*', '--count', '3', '--json', ...server]);
      const pub = await ok(runCli(['pub', 'js.out.{{Count}}', '{"n":{{Count}}}', '-H', 'K:a', '-H', 'K:b', '-H', 'One:1', '--count', '2', '--json', ...server]));
      await ok(runCli(['pub', 'js.out.text', ...server], { input: 'plain text' }));
      assert.equal((await sub.waitForExit()).code, 0, sub.output());
      const published = lines(pub.stdout).map((l) => JSON.parse(l) as unknown);
      assert.deepEqual(published, [
        { subject: 'js.out.1', headers: { K: ['a', 'b'], One: '1' }, payload: { n: 1 } },
        { subject: 'js.out.2', headers: { K: ['a', 'b'], One: '1' }, payload: { n: 2 } },
      ]);
      const got = lines(sub.stdout).map((l) => JSON.parse(l) as unknown);
      assert.deepEqual(got, [...published, { subject: 'js.out.text', payload: 'plain text' }]);

      // A responder that sets a header, so req --json shows one.
      const nc = await natsConnect({ servers: target.url, reconnect: false });
      try {
        nc.subscribe('js.svc', {
          callback: (_err, m) => {
            const h = natsHeaders();
            h.set('Served-By', 'test');
            m.respond(`{"echo":${JSON.stringify(m.string())}}`, { headers: h });
          },
        });
        await nc.flush();
        const req = await ok(runCli(['req', 'js.svc', 'hi', '--json', ...server]));
        assert.deepEqual(JSON.parse(req.stdout), { headers: { 'Served-By': 'test' }, payload: { echo: 'hi' } });
      } finally {
        await nc.close();
      }
    });

    it('pub --json whose reader goes away (`| head -1`) stops printing and still publishes every message', async () => {
      const sub = await startSub(['js.many', '--count', '3000', '--raw', ...server]);
      const pub = cli(['pub', 'js.many', 'm{{Count}}', '--count', '3000', '--json', ...server]);
      pub.input('');
      await pub.waitForStdout(/\n/);
      pub.child.stdout!.destroy();
      assert.equal((await pub.waitForExit()).code, 0, pub.output());
      assert.equal((await sub.waitForExit()).code, 0, sub.output());
      assert.deepEqual(lines(sub.stdout), Array.from({ length: 3000 }, (_, i) => `m${i + 1}`));
    });

    it('sub --queue: each event reaches one member of the group; SIGTERM drains and exits 0', async () => {
      const a = await startSub(['jobs.*', '--queue', 'workers', '--raw', ...server]);
      const b = await startSub(['jobs.*', '--queue', 'workers', '--raw', ...server]);
      await ok(runCli(['pub', 'jobs.new', ...server], { input: Array.from({ length: 20 }, (_, i) => `job ${i}`).join('\n') }));
      a.kill('SIGTERM');
      b.kill('SIGTERM');
      assert.equal((await a.waitForExit()).code, 0, a.output());
      assert.equal((await b.waitForExit()).code, 0, b.output());
      const got = [...lines(a.stdout), ...lines(b.stdout)].sort((x, y) => Number(x.slice(4)) - Number(y.slice(4)));
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `job ${i}`));
    });

    it('req → reply: the reply is printed, the request shows on the responder', async () => {
      const text = await startReply(['svc.greet', 'hello there', ...server]);
      const json = await startReply(['svc.json', '{"ok":true,"n":[1,2]}', ...server]);
      const r1 = await ok(runCli(['req', 'svc.greet', 'who is there?', '-H', 'caller:test', ...server]));
      assert.equal(r1.stdout, 'hello there\n');
      assert.equal(r1.stderr, '');
      const r2 = await ok(runCli(['req', 'svc.json', '{}', ...server]));
      assert.equal(r2.stdout, '{\n  "ok": true,\n  "n": [\n    1,\n    2\n  ]\n}\n');
      for (const p of [text, json]) {
        p.kill('SIGTERM');
        assert.equal((await p.waitForExit()).code, 0, p.output());
      }
      // Read after the exit: the responder printed before it answered, but its pipe may lag behind req's.
      assert.match(text.stdout, /^\[#1\] Received on "svc\.greet" with reply "_INBOX\.[^"]+"\ncaller: test\n\nwho is there\?\n\n$/);
      assert.match(json.stdout, /^\[#1\] Received on "svc\.json" with reply "_INBOX\.[^"]+"\n\{\}\n\n$/);
    });

    it('req with no responders: one line, exit 1', async () => {
      const p = await runCli(['req', 'nobody.home', 'anyone?', ...server]);
      assert.equal(p.exit.code, 1, p.output());
      assert.equal(oneLine(p.stderr), 'netemitter: no responders for "nobody.home"');
      assert.equal(p.stdout, '');
    });

    it('req that gets no reply in time: one line, exit 1', async () => {
      // A subscriber that never answers: the request has a taker, so no 503.
      const mute = await startSub(['slow.svc', ...server]);
      const p = await runCli(['req', 'slow.svc', 'hello?', '--timeout', '200ms', ...server]);
      assert.equal(p.exit.code, 1, p.output());
      assert.equal(oneLine(p.stderr), 'netemitter: request to "slow.svc" got no reply within 200 ms');
      mute.kill();
      await mute.waitForExit();
    });

    it(`the server comes from NETEMITTER_SERVER when --server is absent`, async () => {
      const env = { NETEMITTER_SERVER: target.url };
      const sub = await startSub(['env.check', '--count', '1', '--raw'], env);
      await ok(runCli(['pub', 'env.check', 'via env'], { env }));
      assert.equal((await sub.waitForExit()).code, 0, sub.output());
      assert.equal(sub.stdout, 'via env\n');
    });

    it('then from NATS_URL, as the nats CLI reads it: --server > NETEMITTER_SERVER > NATS_URL > the default', async () => {
      const nowhere = 'nats://127.0.0.1:1';
      const sub = await startSub(['nats-url.check', '--count', '3', '--raw'], { NATS_URL: target.url });
      await ok(runCli(['pub', 'nats-url.check', 'NATS_URL alone'], { env: { NATS_URL: target.url } }));
      await ok(runCli(['pub', 'nats-url.check', 'NETEMITTER_SERVER first'], { env: { NETEMITTER_SERVER: target.url, NATS_URL: nowhere } }));
      await ok(runCli(['pub', 'nats-url.check', 'flag first', '--server', target.url], { env: { NETEMITTER_SERVER: nowhere, NATS_URL: nowhere } }));
      assert.equal((await sub.waitForExit()).code, 0, sub.output());
      assert.equal(sub.stdout, 'NATS_URL alone\nNETEMITTER_SERVER first\nflag first\n');
      const empty = await runCli(['pub', 'nats-url.check', 'x'], { env: { NETEMITTER_SERVER: '', NATS_URL: nowhere } });
      assert.equal(empty.exit.code, 1, 'an empty NETEMITTER_SERVER counts as unset');
      assert.match(oneLine(empty.stderr), /^netemitter: could not connect to nats:\/\/127\.0\.0\.1:1\b/);
    });
  });
}

describe('client commands over a Unix socket (hub)', () => {
  let dir: string;
  let hub: ReturnType<typeof createHub>;
  let url: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netemitter-cmd-'));
    hub = createHub({ unix: join(dir, 'hub.sock') });
    url = (await hub.listen())[0]!.url;
  });
  after(async () => {
    await hub?.close({ grace: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('pub → sub and req → reply with --server unix:///path', async () => {
    assert.match(url, /^unix:\/\/\//);
    const sub = await startSub(['local.>', '--count', '1', '--server', url]);
    await ok(runCli(['pub', 'local.event', '{"via":"unix"}', '--server', url]));
    assert.equal((await sub.waitForExit()).code, 0, sub.output());
    assert.equal(sub.stdout, '[#1] Received on "local.event"\n{\n  "via": "unix"\n}\n\n');
    const reply = await startReply(['local.ping', 'pong', '--server', url]);
    const req = await ok(runCli(['req', 'local.ping', 'ping', '--server', url]));
    assert.equal(req.stdout, 'pong\n');
    reply.kill('SIGINT');
    assert.equal((await reply.waitForExit()).code, 0, reply.output());
  });
});

describe('sub while the server is away', () => {
  it('SIGINT while disconnected: exit 0, no warning about bytes never sent (sub has sent nothing of the user\'s)', async () => {
    const hub = createHub({ host: '127.0.0.1', port: 0 });
    const url = (await hub.listen())[0]!.url;
    const sub = await startSub(['away.>', '--server', url]);
    await hub.close({ grace: 0 });
    await sub.waitForStderr(/^disconnected from .*: reconnecting$/m);
    sub.kill('SIGINT');
    assert.equal((await sub.waitForExit()).code, 0, sub.output());
    assert.doesNotMatch(sub.stderr, /never sent/);
    assert.equal(sub.stdout, '');
  });
});

describe('client commands: usage and connection errors', () => {
  it('usage errors: one line, exit 2, nothing connects', async () => {
    const cases: [string[], string | RegExp][] = [
      [['pub'], "netemitter: missing required argument 'subject'"],
      [['req', 'svc'], "netemitter: missing required argument 'data'"],
      [['pub', 'a b', 'x'], 'netemitter: invalid subject "a b" (expected tokens separated by dots, no spaces and no wildcards)'],
      [['pub', 'orders.*', 'x'], 'netemitter: invalid subject "orders.*" (expected tokens separated by dots, no spaces and no wildcards)'],
      [['sub', 'a.>.b'], 'netemitter: invalid subject "a.>.b" (expected tokens separated by dots, no spaces, `>` only last)'],
      [['sub', 'x', '--count', 'many'], 'netemitter: invalid value for --count: "many" (expected an integer >= 1)'],
      [['pub', 'x', 'y', '--count', '0'], 'netemitter: invalid value for --count: "0" (expected an integer >= 1)'],
      [['req', 'x', 'y', '--timeout', 'soon'], /^netemitter: invalid value for --timeout: "soon" \(expected a duration/],
      [['pub', 'x', 'y', '-H', 'no-colon'], 'netemitter: invalid value for --header: "no-colon" (expected key:value, a key without spaces)'],
      [['pub', 'x', 'y', '--server', 'ftp://example.com'], 'netemitter: invalid server URL "ftp://example.com": unknown scheme ftp://'],
      [['sub', 'x', '--queue', 'a b'], 'netemitter: invalid value for --queue: "a b" (expected a name without spaces)'],
      [['pub', 'x', 'y', 'z'], "netemitter: too many arguments for 'pub'. Expected 2 arguments but got 3."],
      [['sub', 'x', '--qeue', 'g'], "netemitter: unknown option '--qeue' (Did you mean --queue?)"],
      [['sub', 'x', '--raw', '--json'], "netemitter: option '--json' cannot be used with option '--raw'"],
      [['pub', 'x', '{{Count'], 'netemitter: invalid template in DATA: unclosed {{ at character 1 (--no-templates sends it as typed)'],
      [['pub', 'a.{{ Random 1 }}', 'x'], /^netemitter: invalid template in the subject: Random takes two whole numbers/],
      [['pub', 'a {{Count}}', 'x'], 'netemitter: invalid subject "a 1" (expected tokens separated by dots, no spaces and no wildcards)'],
      [['pub', 'x', 'y', '-H', 'k:{{Bogus}}'], /^netemitter: invalid template in header k: unknown \{\{Bogus\}\}/],
    ];
    const runs = await runClis(cases.map(([args]) => args));
    cases.forEach(([, expected], i) => {
      const p = runs[i]!;
      assert.equal(p.exit.code, 2, p.output());
      if (typeof expected === 'string') assert.equal(oneLine(p.stderr), expected);
      else assert.match(oneLine(p.stderr), expected);
      assert.equal(p.stdout, '');
    });
  });

  it('no server there: one line, exit 1, for every command', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    await new Promise((resolve) => blocker.close(resolve));
    const url = `nats://127.0.0.1:${port}`;
    const runs = await runClis([['pub', 'x', 'y'], ['sub', 'x'], ['req', 'x', 'y'], ['reply', 'x', 'y']].map((args) => [...args, '--server', url]));
    for (const p of runs) {
      assert.equal(p.exit.code, 1, p.output());
      assert.match(oneLine(p.stderr), new RegExp(`^netemitter: could not connect to ${url}: connect ECONNREFUSED`));
    }
  });

  it('--debug adds the stack trace', async () => {
    const p = await runCli(['--debug', 'req', 'x', 'y', '--server', 'nats://127.0.0.1:1']);
    assert.equal(p.exit.code, 1, p.output());
    const out = p.stderr.trim().split('\n');
    assert.match(out[0]!, /^netemitter: could not connect to nats:\/\/127\.0\.0\.1:1/);
    assert.ok(out.some((l) => /^\s+at /.test(l)), p.stderr);
  });

  it('--help and --version, for each command', async () => {
    const commands = ['pub', 'sub', 'req', 'reply'];
    const helps = await runClis(commands.map((cmd) => [cmd, '--help']));
    const versions = await runClis(commands.map((cmd) => [cmd, '--version']));
    commands.forEach((cmd, i) => {
      const help = helps[i]!;
      assert.equal(help.exit.code, 0, help.output());
      assert.match(help.stdout, new RegExp(`^Usage: netemitter ${cmd} `));
      assert.match(help.stdout, /-s, --server <url>/);
      // Help wraps at the terminal's width: compare the words.
      const flat = help.stdout.replace(/\s+/g, ' ');
      assert.match(flat, /env: NETEMITTER_SERVER/);
      assert.match(flat, /NATS_URL is read after NETEMITTER_SERVER/);
      assert.equal(versions[i]!.exit.code, 0, versions[i]!.output());
      assert.match(versions[i]!.stdout, /^\d+\.\d+\.\d+\n$/);
    });
    assert.match(helps[0]!.stdout.replace(/\s+/g, ' '), /DATA is sent as raw UTF-8 text, not JSON-quoted/);
  });
});
