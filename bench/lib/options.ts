/**
 * Command-line options of the peer bench, with full and --quick sizes.
 * Every size can be set on its own; flags win over --quick.
 */
import { parseArgs } from 'node:util';
import { positiveNumber as int, parseCommandLine } from './args.js';

export const WORKLOADS = ['w1', 'w2', 'w3', 'w4', 'w5'] as const;
/**
 * The security suite's workloads (`--security`): W1 and W2 over TLS and with
 * permissions, connection set-up, and the stall of a connected client while
 * bcrypt users log in.
 */
export const SECURITY_WORKLOADS = ['w1', 'w2', 'setup', 'stall'] as const;
export type Workload = (typeof WORKLOADS)[number] | 'setup' | 'stall';
/** The WebSocket suite's workloads (`--websocket`): W1 (nats.ws, our client, nats.js over TCP) and W3 (nats.ws, nats.js over TCP). */
export const WEBSOCKET_WORKLOADS = ['w1', 'w3'] as const;
/** The in-process suite's workloads (`--inprocess`): W1 and W4, our client in-process and over loopback TCP. */
export const INPROCESS_WORKLOADS = ['w1', 'w4'] as const;

/**
 * A server's security set-up for a run (bench/lib/security.ts). Applied to
 * the hub and nats-server alike, with the same certificates and users.
 */
export const VARIANTS = ['tls', 'perms', 'bcrypt', 'tls+perms', 'tls+bcrypt'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface BenchOptions {
  quick: boolean;
  runs: number;
  peers: string[] | null;
  workloads: Workload[];
  /** W1: messages published. */
  messages: number;
  /** W2: messages published (each delivered to every subscriber). */
  w2Messages: number;
  w2Subscribers: number;
  /** W2: all subscribers in one process instead of one process each. */
  w2Shared: boolean;
  size: number;
  /** Flow control: a server round trip every `batch` messages… */
  batch: number;
  /** …with at most `inflight` round trips unanswered… */
  inflight: number;
  /** …and never more than `window` messages ahead of the slowest subscriber. */
  window: number;
  /** W3 */
  rate: number;
  durationMs: number;
  /** W4 */
  reqDurationMs: number;
  concurrency: number[];
  /** W5 */
  conns: number;
  /** Give up on a run when no subscriber progressed for this long. */
  stallMs: number;
  profile: boolean;
  /** With --profile: profile the client processes too. */
  profileClients: boolean;
  /** Client used to load the hub while profiling. */
  client: 'nats' | 'ours';
  out: string | null;
  /** The security suite instead of the peer comparison. */
  security: boolean;
  /** The monitoring suite: W1 with the dashboard's live feed tailing `>` against monitoring off. */
  monitor: boolean;
  /** The WebSocket suite: W1 and W3 over ws:// against the hub and nats-server; with --profile, the hub under W1 over ws://. */
  websocket: boolean;
  /** The in-process suite: W1 and W4 with our client, hub.connect() against loopback TCP, all in one process. */
  inprocess: boolean;
  /** The schema suite: W1 with a JSON event on a subject with a schema, without one, and with schemas on other subjects only. */
  schemas: boolean;
  /** Peers mode and --profile: run the NATS peers with this security set-up (--tls, --auth). */
  variant: Variant | null;
  /** Connection set-up: connections opened one after another per run without bcrypt… */
  setupConns: number;
  /** …and with a bcrypt password (each about 0.1 s of server CPU, and each a user of its own). */
  setupBcryptConns: number;
  /** Stall: bcrypt users that log in while one client pings… */
  stallLogins: number;
  /** …this many at a time. */
  stallParallel: number;
}

const HELP = `usage: npm run bench:peers -- [options]
       npm run bench -- --profile [--workloads w1,w2] [--client nats|ours] [--tls] [--auth perms|bcrypt]
       npm run bench -- --security [--workloads w1,w2,setup,stall] [--peers hub,nats-server]
       npm run bench -- --monitor [--runs 3] [--messages N]
       npm run bench -- --websocket [--runs 3] [--workloads w1,w3]
       npm run bench -- --profile --websocket [--client nats|ours]
       npm run bench -- --inprocess [--runs 3] [--workloads w1,w4]
       npm run bench -- --schemas [--runs 3] [--messages N]

  --quick               small sizes (about 10 minutes for every peer on 2 cores)
  --runs N              repetitions of every run (default 3)
  --peers a,b           only peers whose id contains one of these (e.g. hub,nats-server)
  --workloads w1,w3     only these workloads (w1 w2 w3 w4 w5)
  --messages N          W1 messages (default 1,000,000; quick 100,000)
  --w2-messages N       W2 messages published (default 1,000,000; quick 100,000)
  --w2-subscribers N    W2 subscribers (default 4)
  --w2-shared           W2: all subscribers in one process (default: one process each)
  --size N              payload bytes (default 128)
  --batch N             flow control: a server round trip every N messages (default 2,000)
  --inflight N          flow control: at most N round trips unanswered (default 4)
  --window N            flow control: at most N messages ahead of the slowest subscriber (default 100,000)
  --rate N              W3 messages per second (default 10,000)
  --duration S          W3 seconds measured (default 5; quick 2)
  --req-duration S      W4 seconds measured per concurrency (default 5; quick 2)
  --concurrency a,b     W4 concurrent requesters (default 1,16)
  --conns N             W5 idle connections (default 10,000; quick 5,000)
  --profile             profile the hub (node --cpu-prof) under W1 and W2 (and W4 if asked), print the top 20 functions
  --profile-clients     with --profile: profile the publisher/subscriber (requester/responder) processes too
  --client nats|ours    client that loads the hub while profiling (default nats; nats.ws with --websocket)
  --out FILE            JSON results file (default bench/results/<kind>-<time>.json)

Security (the hub and nats-server, same certificates and users, nats.js):
  --security            W1 and W2 over TLS, W1 with a users list and permissions against auth off,
                        connection set-up (plain, TLS, bcrypt, TLS + bcrypt), a connected client's PING
                        round trips while bcrypt users log in; workloads w1 w2 setup stall
  --setup-conns N       set-up: connections per run, one after another (default 1,000; quick 300)
  --setup-bcrypt-conns N  set-up: connections per run with bcrypt (cost 11) (default 100; quick 30)
  --stall-logins N      stall: bcrypt users (cost 11) that log in while one client pings (default 8)
  --stall-parallel N    stall: log-ins at a time (default 2)
  --tls                 peers and --profile: the hub and nats-server with TLS (nats.js and ours only)
  --auth perms|bcrypt   peers and --profile: a users list with permissions, or bcrypt passwords

Monitoring (the hub alone, nats.js):
  --monitor             W1 with monitoring off against W1 with the dashboard's live feed open and
                        tailing '>' (a reader process in the place of the page), runs interleaved

WebSocket (the hub and nats-server, each with a ws:// listener):
  --websocket           W1 with nats.ws and with our client over ws://, and with nats.js over TCP as the
                        baseline; W3 with nats.ws and with nats.js over TCP; workloads w1 w3.
                        With --profile: the hub's profile under W1 over ws:// (nats.ws, or --client ours)

In-process (the hub and our client in one process):
  --inprocess           W1 and W4 (request/reply, --concurrency) with our client, over hub.connect() and
                        over loopback TCP to the same kind of hub, each run a fresh process; workloads w1 w4.
                        With --profile: each run's process writes a CPU profile (bench/results/inprocess-prof)

Schemas (the hub alone, nats.js):
  --schemas             W1 with a 200-byte JSON event (5 fields) on a subject whose schema the hub checks, on a
                        hub with no schema, and on a hub whose schemas cover other subjects only; runs interleaved.
                        With --profile: the hub's profile under W1 with the schema
`;

/** The peer bench's options from its command line; `--help` and misuse end the process (see args.ts). */
export function parseOptions(argv: string[], script: string): BenchOptions {
  return parseCommandLine(script, HELP, () => readOptions(argv));
}

function readOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      peers: { type: 'string' },
      workloads: { type: 'string' },
      messages: { type: 'string' },
      'w2-messages': { type: 'string' },
      'w2-subscribers': { type: 'string' },
      'w2-shared': { type: 'boolean', default: false },
      size: { type: 'string' },
      batch: { type: 'string' },
      inflight: { type: 'string' },
      window: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'req-duration': { type: 'string' },
      concurrency: { type: 'string' },
      conns: { type: 'string' },
      stall: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'profile-clients': { type: 'boolean', default: false },
      client: { type: 'string' },
      out: { type: 'string' },
      security: { type: 'boolean', default: false },
      monitor: { type: 'boolean', default: false },
      websocket: { type: 'boolean', default: false },
      inprocess: { type: 'boolean', default: false },
      schemas: { type: 'boolean', default: false },
      tls: { type: 'boolean', default: false },
      auth: { type: 'string' },
      'setup-conns': { type: 'string' },
      'setup-bcrypt-conns': { type: 'string' },
      'stall-logins': { type: 'string' },
      'stall-parallel': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  const q = values.quick;
  const known: readonly string[] = values.security ? SECURITY_WORKLOADS : values.websocket ? WEBSOCKET_WORKLOADS : values.inprocess ? INPROCESS_WORKLOADS : WORKLOADS;
  const workloads = (values.workloads?.split(',').map((w) => w.trim().toLowerCase()) ?? (values.monitor || values.schemas ? ['w1'] : [...known])) as Workload[];
  for (const w of workloads) if (!known.includes(w)) throw new Error(`unknown workload ${w}: expected some of ${known.join(',')}`);
  const variant = readVariant(values.tls, values.auth);
  if (values.security && variant !== null) throw new Error('--tls and --auth do not combine with --security, which runs every set-up itself');
  if (values.security && values.profile) throw new Error('--profile does not run the security suite: profile a set-up with --profile --tls or --profile --auth perms|bcrypt');
  if (values.monitor && (values.security || values.profile || variant !== null)) throw new Error('--monitor runs on its own: not with --security, --profile, --tls or --auth');
  if (values.websocket && (values.security || values.monitor || variant !== null)) throw new Error('--websocket runs on its own (or with --profile): not with --security, --monitor, --tls or --auth');
  if (values.schemas && (values.security || values.monitor || values.websocket || values.inprocess || variant !== null)) throw new Error('--schemas runs on its own (or with --profile): not with --security, --monitor, --websocket, --inprocess, --tls or --auth');
  if (values.inprocess && (values.security || values.monitor || values.websocket || variant !== null)) throw new Error('--inprocess runs on its own (or with --profile): not with --security, --monitor, --websocket, --tls or --auth');
  const client = values.client ?? 'nats';
  if (client !== 'nats' && client !== 'ours') throw new Error(`--client must be nats or ours, got ${client}`);
  const size = int(values.size, 'size', 128);
  if (size < 16) throw new Error('--size must be at least 16 bytes (latency timestamps live in the payload)');
  return {
    quick: q,
    runs: int(values.runs, 'runs', 3),
    peers: values.peers?.split(',').map((p) => p.trim()).filter((p) => p.length > 0) ?? null,
    workloads,
    messages: int(values.messages, 'messages', q ? 100_000 : 1_000_000),
    w2Messages: int(values['w2-messages'], 'w2-messages', q ? 100_000 : 1_000_000),
    w2Subscribers: int(values['w2-subscribers'], 'w2-subscribers', 4),
    w2Shared: values['w2-shared'],
    size,
    batch: int(values.batch, 'batch', 2000),
    inflight: int(values.inflight, 'inflight', 4),
    window: int(values.window, 'window', 100_000),
    rate: int(values.rate, 'rate', 10_000),
    durationMs: int(values.duration, 'duration', q ? 2 : 5) * 1000,
    reqDurationMs: int(values['req-duration'], 'req-duration', q ? 2 : 5) * 1000,
    concurrency: (values.concurrency ?? '1,16').split(',').map((c) => int(c, 'concurrency', 1)),
    conns: int(values.conns, 'conns', q ? 5000 : 10_000),
    stallMs: int(values.stall, 'stall', 15) * 1000,
    profile: values.profile,
    profileClients: values['profile-clients'],
    client,
    out: values.out ?? null,
    security: values.security,
    monitor: values.monitor,
    websocket: values.websocket,
    inprocess: values.inprocess,
    schemas: values.schemas,
    variant,
    setupConns: int(values['setup-conns'], 'setup-conns', q ? 300 : 1000),
    setupBcryptConns: int(values['setup-bcrypt-conns'], 'setup-bcrypt-conns', q ? 30 : 100),
    stallLogins: int(values['stall-logins'], 'stall-logins', 8),
    stallParallel: int(values['stall-parallel'], 'stall-parallel', 2),
  };
}

function readVariant(tls: boolean, auth: string | undefined): Variant | null {
  if (auth !== undefined && auth !== 'perms' && auth !== 'bcrypt') throw new Error(`--auth must be perms or bcrypt, got ${JSON.stringify(auth)}`);
  if (auth === undefined) return tls ? 'tls' : null;
  return tls ? `tls+${auth}` : auth;
}
