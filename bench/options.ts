/**
 * Command-line options of oxenmq-bench. Parsing is a pure function that throws UsageError, so
 * the CLI can map every bad invocation to exit code 2 and the tests can call it directly.
 */
import { type ParseArgsConfig, parseArgs as parseArgsUtil } from 'node:util';

/** The default suite, in the order it runs. */
export const CASES = ['thr', 'lat', 'rt', 'reqrep', 'handshake', 'crypto', 'batch'] as const;

/**
 * Cases that run only when named: `memory` opens 10,000 connections in fresh processes and `mesh`
 * starts hundreds of service nodes, each taking longer than the rest of the suite together, and
 * `soak` runs for --seconds (a minute by default), so all three are opt-in.
 */
const EXTRA_CASES = ['memory', 'mesh', 'soak'] as const;

/** Every case a user may name. */
const ALL_CASES = [...CASES, ...EXTRA_CASES] as const;
/** A case's name. */
export type CaseName = (typeof ALL_CASES)[number];

/** Peers a case may compare. */
export const PEERS = ['ours', 'zeromq', 'net'] as const;
/** A peer's name. */
export type PeerName = (typeof PEERS)[number];

/** The reqrep clients: a bare DEALER, and the public promise API. */
const CLIENTS = ['raw', 'promise'] as const;
/** A reqrep client's name. */
export type ClientName = (typeof CLIENTS)[number];

/** Transports the socket and reqrep cases run over. */
const TRANSPORTS = ['tcp', 'ws'] as const;
/** A transport's name. */
export type TransportName = (typeof TRANSPORTS)[number];

/** The endpoint a local bench server binds for `transport` (any free port). */
export function localEndpoint(transport: TransportName): string {
  return transport === 'ws' ? 'ws://127.0.0.1:0/bench' : 'tcp://127.0.0.1:0';
}

/** A bad invocation (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parsed options; `given` records which were set explicitly so --smoke fills in only the rest. */
export interface BenchOptions {
  cases: CaseName[];
  size: number;
  durationMs: number;
  count: number | null;
  inflight: number;
  curve: boolean;
  /** thr/lat/rt/reqrep/handshake: tcp, or ZWS 2.0 over WebSocket. */
  transport: TransportName;
  runs: number;
  peers: PeerName[];
  /** reqrep: which clients drive the OxenMQ server. */
  clients: ClientName[];
  json: boolean;
  connect: string | null;
  bind: string | null;
  smoke: boolean;
  oneProcess: boolean;
  help: boolean;
  /** memory: write listener heap snapshots to this directory and print their difference. */
  heapSnapshot: string | null;
  /** mesh: the mesh sizes to run (service nodes), in order. */
  nodes: number[];
  /** mesh: peers each node talks to. */
  meshPeers: number;
  /** mesh: processes the nodes are spread over. */
  workers: number;
  /** soak: how long to run, in seconds. */
  seconds: number;
  given: Set<string>;
}

/** The --help text. */
export const USAGE = `usage: oxenmq-bench [case ...] [options]

cases (default: all that are available except memory, mesh and soak):
  thr        one-way DEALER→ROUTER throughput (msg/s, B/s)
  lat        round trips with 1 in flight (RTT p50, p99)
  rt         round trips with --inflight in flight
  reqrep     OxenMQ request → REPLY at 1 and --inflight in flight, from a raw client and
             through the public promise API (see --client)
  handshake  CURVE connections per second, sequential and concurrent
  crypto     box seal/open at 64 B, 4 KiB, 64 KiB (or --size), against libsodium native
             (sodium-native) and as WebAssembly (libsodium-wrappers)
  batch      worker-pool speed-up for CPU-bound jobs
  memory     heap/external/RSS per idle CURVE connection on an OxenMQ listener (and on a
             zeromq Router) with --count connections (default 10000); not in the default
             suite: npm run bench -- memory
  mesh       service nodes (OxenMQ, CURVE, spread over --workers processes) that find
             each other by pubkey through snLookup, each sending requests, each followed
             by a command, to --peers others: connection set-up time, memory per node,
             messages/s, RTT p50/p99, for each of --nodes; not in the default suite:
             npm run bench -- mesh --nodes 100,1000 --peers 8
  soak       sustained CURVE request/reply with connection churn and a slow consumer for
             --seconds, printing the listener's RSS and heap every few seconds and their
             slope (MiB/min; the goal is flat); not in the default suite

options:
  --size N          message size in bytes (default 64)
  --duration S      seconds per measured run (default 1)
  --count N         fixed messages / round trips / connections per run instead of a duration
  --inflight N      outstanding round trips for rt and reqrep (default 64, at most 1000);
                    concurrent handshakes for memory (default 200)
  --runs N          measured runs after one warm-up; the median is reported (default 3)
  --curve           run thr/lat/rt/reqrep over CURVE (ours and zeromq)
  --transport T     tcp (default) or ws: thr/lat/rt/reqrep/handshake over ZWS 2.0 WebSockets
                    (ours and zeromq; net has no ws form and is skipped)
  --peer P[,P]      ours | zeromq | net | all (default all); zeromq also selects the
                    native references of crypto (libsodium)
  --client C        reqrep's clients: raw (a DEALER writing OxenMQ's request frames itself),
                    promise (await omq.request(conn, 'bench.echo', [payload]) per request, as
                    users write it) or all (default: both, interleaved, with the ratio)
  --json            print one JSON document instead of text, and nothing else on stdout
                    (through npm: npm run -s bench -- … --json; -s keeps npm's banner off)
  --bind EP         serve one case's server side on EP until interrupted
  --connect EP      run one case's client side against EP
  --nodes N[,N]     mesh: service nodes per mesh, one mesh after another (default 100,1000)
  --peers K         mesh: peers each node sends to (default 8)
  --workers W       mesh: processes the nodes are spread over (default 2)
  --one-process     run client and server in this process (default: separate processes;
                    memory always forks its own --expose-gc processes)
  --heap-snapshot DIR  memory: write listener heap snapshots (before/after) to DIR and print
                    the per-connection difference by constructor
  --seconds N       soak: how long to run (default 60)
  --smoke           tiny runs for CI (checks that everything runs, not how fast)
  -h, --help        this text

every row also shows the CPU time (user + system) per message, round trip, request or
connection, in the client's and in the server's process; progress and notes go to stderr.

exit status: 0 success, 1 a case failed (lost or corrupted messages, errors), 2 bad usage`;

function peerList(v: string): PeerName[] {
  const list = v.split(',');
  if (list.includes('all')) {
    if (list.length > 1) throw new UsageError('--peer all cannot be combined with other peers');
    return [...PEERS];
  }
  for (const p of list) {
    if (!(PEERS as readonly string[]).includes(p)) throw new UsageError(`unknown peer ${JSON.stringify(p)} (ours, zeromq, net, all)`);
  }
  return PEERS.filter((p) => list.includes(p));
}

function transportOpt(v: string): TransportName {
  if (!(TRANSPORTS as readonly string[]).includes(v)) throw new UsageError(`unknown transport ${JSON.stringify(v)} (tcp, ws)`);
  return v as TransportName;
}

function clientOpt(v: string): ClientName {
  if (!(CLIENTS as readonly string[]).includes(v)) throw new UsageError(`unknown client ${JSON.stringify(v)} (raw, promise, all)`);
  return v as ClientName;
}

function durationOpt(v: string): number {
  const s = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || !(s > 0) || s > 3600) throw new UsageError('--duration needs seconds > 0 (at most 3600)');
  return s * 1000;
}

function endpointOpt(name: string, v: string): string {
  if (!/^(tcp|ipc|ws):\/\/.+/.test(v)) throw new UsageError(`--${name} needs an endpoint like tcp://HOST:PORT`);
  return v;
}

/** The options, as node:util parseArgs takes them; every value option is parsed further below. */
const OPTIONS = {
  size: { type: 'string' },
  duration: { type: 'string' },
  count: { type: 'string' },
  inflight: { type: 'string' },
  runs: { type: 'string' },
  peer: { type: 'string' },
  client: { type: 'string' },
  transport: { type: 'string' },
  bind: { type: 'string' },
  connect: { type: 'string' },
  'heap-snapshot': { type: 'string' },
  nodes: { type: 'string' },
  peers: { type: 'string' },
  workers: { type: 'string' },
  seconds: { type: 'string' },
  curve: { type: 'boolean' },
  json: { type: 'boolean' },
  smoke: { type: 'boolean' },
  'one-process': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

function intOpt(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} needs an integer, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}`);
  return n;
}

/** node:util's parse, its errors turned into one-line UsageErrors. */
function parseRaw(argv: readonly string[]) {
  try {
    return parseArgsUtil({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw err;
    const message = (err as Error).message;
    // Node's unknown-option text goes on about positionals after `--`, which the bench has none of.
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${/'([^']*)'/.exec(message)?.[1] ?? ''}`);
    throw new UsageError(message.split('\n')[0]!);
  }
}

/** Parses argv (without node and script). @throws UsageError */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const { values: v, positionals } = parseRaw(argv);
  const given = new Set<string>();
  for (const [name, value] of Object.entries(v)) {
    if (value === '') throw new UsageError(`--${name} needs a value`);
    if (value !== undefined) given.add(name);
  }
  const o: BenchOptions = {
    cases: [],
    size: v.size === undefined ? 64 : intOpt('size', v.size, 1, 256 * 1024 * 1024),
    durationMs: v.duration === undefined ? 1000 : durationOpt(v.duration),
    count: v.count === undefined ? null : intOpt('count', v.count, 1, 1e9),
    // Bounded by the send high-water mark (1000): more outstanding than the queue holds would
    // turn the measurement into a test of the retry path.
    inflight: v.inflight === undefined ? 64 : intOpt('inflight', v.inflight, 1, 1000),
    curve: v.curve === true,
    transport: v.transport === undefined ? 'tcp' : transportOpt(v.transport),
    runs: v.runs === undefined ? 3 : intOpt('runs', v.runs, 1, 100),
    peers: v.peer === undefined ? [...PEERS] : peerList(v.peer),
    clients: v.client === undefined || v.client === 'all' ? [...CLIENTS] : [clientOpt(v.client)],
    json: v.json === true,
    connect: v.connect === undefined ? null : endpointOpt('connect', v.connect),
    bind: v.bind === undefined ? null : endpointOpt('bind', v.bind),
    smoke: v.smoke === true,
    oneProcess: v['one-process'] === true,
    help: v.help === true,
    heapSnapshot: v['heap-snapshot'] ?? null,
    nodes: v.nodes === undefined ? [100, 1000] : v.nodes.split(',').map((n) => intOpt('nodes', n, 2, 5000)),
    meshPeers: v.peers === undefined ? 8 : intOpt('peers', v.peers, 1, 100),
    workers: v.workers === undefined ? 2 : intOpt('workers', v.workers, 1, 64),
    seconds: v.seconds === undefined ? 60 : intOpt('seconds', v.seconds, 1, 86_400),
    given,
  };
  for (const arg of positionals) {
    if (!(ALL_CASES as readonly string[]).includes(arg)) {
      throw new UsageError(`unknown case ${JSON.stringify(arg)} (cases: ${ALL_CASES.join(', ')})`);
    }
    if (!o.cases.includes(arg as CaseName)) o.cases.push(arg as CaseName);
  }
  if (o.given.has('duration') && o.count !== null) throw new UsageError('--duration and --count are exclusive');
  if (o.connect !== null || o.bind !== null) {
    if (o.connect !== null && o.bind !== null) throw new UsageError('--bind and --connect are exclusive');
    const split = ['thr', 'lat', 'rt', 'handshake'];
    if (o.cases.length !== 1 || !split.includes(o.cases[0]!)) {
      throw new UsageError(`--bind/--connect run one side of exactly one of: ${split.join(', ')}`);
    }
    if (!o.given.has('peer')) o.peers = ['ours'];
    if (o.peers.length !== 1) throw new UsageError('--bind/--connect need a single --peer');
    if (o.cases[0] === 'handshake' && o.peers[0] === 'net') throw new UsageError('handshake has no net peer');
  }
  if (o.heapSnapshot !== null && !o.cases.includes('memory')) throw new UsageError('--heap-snapshot applies to the memory case only');
  for (const k of ['nodes', 'peers', 'workers']) {
    if (given.has(k) && !o.cases.includes('mesh')) throw new UsageError(`--${k} applies to the mesh case only`);
  }
  if (o.nodes.some((n) => n <= o.meshPeers)) throw new UsageError('--nodes must exceed --peers (each node needs that many others)');
  if (given.has('seconds') && !o.cases.includes('soak')) throw new UsageError('--seconds applies to the soak case only');
  if (given.has('client') && o.cases.length > 0 && !o.cases.includes('reqrep')) throw new UsageError('--client applies to the reqrep case only');
  if (o.smoke) {
    // Smoke runs prove every path works end to end; the figures are meaningless.
    if (!o.given.has('duration') && o.count === null) o.durationMs = 50;
    if (!o.given.has('runs')) o.runs = 1;
    if (!o.given.has('seconds')) o.seconds = 3;
  }
  return o;
}
