/**
 * Entry of a forked process of the `mesh` case (dist/bench/mesh-node.js), started with
 * --expose-gc. It hosts a share of the mesh's service nodes: each an OxenMQ instance with its
 * own key pair, running as a service node with a CURVE listener on 127.0.0.1, that finds its
 * peers by pubkey alone through `snLookup` (the directory the case hands out, as oxend hands
 * oxenmq the service-node list) and talks to them the way a quorum does: requests that wait
 * for their reply, each followed by a command.
 *
 * It answers the case over the IPC channel (see child.ts), prints nothing, and exits when the
 * parent disconnects.
 */
import { generateKeypair } from '../curve/index.js';
import { OxenMQ } from '../lib/index.js';
import { serveParent } from './child.js';
import { cpuUs } from './stopwatch.js';

/** Case → mesh node requests. */
export type MeshRequest =
  | { id: number; op: 'start'; count: number }
  | { id: number; op: 'directory'; entries: [pubkey: string, address: string][] }
  | { id: number; op: 'connect'; peers: string[][]; timeoutMs: number }
  | { id: number; op: 'traffic'; durationMs: number; size: number; timeoutMs: number }
  | { id: number; op: 'measure' }
  | { id: number; op: 'close' };

/** A started node, as the case lists it in the directory. */
export interface StartedNode {
  pubkey: string;
  address: string;
}

/** What `connect` reports: how long until every node had an answer from each of its peers. */
export interface ConnectResult {
  elapsedMs: number;
  failed: number;
  cpuUs: number;
}

/** What `traffic` reports. */
export interface TrafficResult {
  requests: number;
  commands: number;
  failed: number;
  elapsedMs: number;
  cpuUs: number;
  /** A uniform sample of the round-trip times (ms), at most SAMPLE_MAX of them. */
  sample: number[];
  /** How many round trips the sample was drawn from. */
  seen: number;
}

/** `process.memoryUsage()` after garbage collection (bytes). */
export interface MeshMemory {
  heapUsed: number;
  external: number;
  rss: number;
}

const SAMPLE_MAX = 20_000;
const gc = (globalThis as { gc?: () => void }).gc;
const quiet = { warn() {}, error() {} };

interface Node {
  omq: OxenMQ;
  pubkey: string;
  peers: Uint8Array[];
  votes: number;
}

const nodes: Node[] = [];
const directory = new Map<string, string>();

async function start(count: number): Promise<StartedNode[]> {
  const started: StartedNode[] = [];
  for (let i = 0; i < count; i++) {
    const kp = generateKeypair();
    const pubkey = Buffer.from(kp.publicKey).toString('hex');
    const omq = new OxenMQ({
      pubkey: kp.publicKey,
      privkey: kp.secretKey,
      serviceNode: true,
      snLookup: (pk) => directory.get(Buffer.from(pk).toString('hex')),
      logger: quiet,
      generalThreads: 1,
    });
    const node: Node = { omq, pubkey, peers: [], votes: 0 };
    // Quorum traffic: only service nodes may call these, as oxend's quorum commands require.
    omq
      .addCategory('quorum', { remoteSn: true })
      .addRequestCommand('ping', (m) => m.sendReply(...m.data))
      .addCommand('vote', () => {
        node.votes++;
      });
    const bound = omq.listenCurve('tcp://127.0.0.1:0');
    await omq.start();
    started.push({ pubkey, address: await bound });
    nodes.push(node);
  }
  return started;
}

function setDirectory(entries: [string, string][]): void {
  for (const [pk, addr] of entries) directory.set(pk, addr);
  const all = entries.map(([pk]) => Buffer.from(pk, 'hex'));
  for (const n of nodes) n.omq.setActiveSns(all);
}

/** Every node pings each of its peers once: the first request opens the connection (by pubkey). */
async function connect(peers: string[][], timeoutMs: number): Promise<ConnectResult> {
  const cpu0 = cpuUs();
  const t0 = performance.now();
  let failed = 0;
  const pings: Promise<unknown>[] = [];
  nodes.forEach((n, i) => {
    n.peers = (peers[i] ?? []).map((pk) => Buffer.from(pk, 'hex'));
    for (const pk of n.peers) pings.push(n.omq.request(pk, 'quorum.ping', ['hi'], { timeout: timeoutMs }).catch(() => failed++));
  });
  await Promise.all(pings);
  return { elapsedMs: performance.now() - t0, failed, cpuUs: cpuUs() - cpu0 };
}

/** Each node keeps one request in flight to each of its peers, and follows every reply with a command. */
async function traffic(durationMs: number, size: number, timeoutMs: number): Promise<TrafficResult> {
  const payload = Buffer.alloc(size, 0x61);
  const sample: number[] = [];
  let seen = 0;
  let requests = 0;
  let commands = 0;
  let failed = 0;
  const cpu0 = cpuUs();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  let rng = 0x9e3779b9;
  const keep = (ms: number) => {
    seen++;
    if (sample.length < SAMPLE_MAX) sample.push(ms);
    else {
      // Reservoir sampling (xorshift32): every round trip is equally likely to be kept.
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      const j = (rng >>> 0) % seen;
      if (j < SAMPLE_MAX) sample[j] = ms;
    }
  };
  const loop = async (n: Node, pk: Uint8Array) => {
    while (performance.now() < deadline) {
      const s = performance.now();
      try {
        await n.omq.request(pk, 'quorum.ping', [payload], { timeout: timeoutMs });
      } catch {
        failed++;
        continue;
      }
      keep(performance.now() - s);
      requests++;
      n.omq.send(pk, 'quorum.vote', payload);
      commands++;
    }
  };
  await Promise.all(nodes.flatMap((n) => n.peers.map((pk) => loop(n, pk))));
  return { requests, commands, failed, elapsedMs: performance.now() - t0, cpuUs: cpuUs() - cpu0, sample, seen };
}

async function measure(): Promise<MeshMemory> {
  await new Promise((r) => setTimeout(r, 200));
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, rss: m.rss };
}

async function closeAll(): Promise<void> {
  await Promise.all(nodes.splice(0).map((n) => n.omq.close(0)));
}

function handle(req: MeshRequest): Promise<unknown> {
  switch (req.op) {
    case 'start':
      return start(req.count);
    case 'directory':
      setDirectory(req.entries);
      return Promise.resolve(null);
    case 'connect':
      return connect(req.peers, req.timeoutMs);
    case 'traffic':
      return traffic(req.durationMs, req.size, req.timeoutMs);
    case 'measure':
      return measure();
    case 'close':
      return closeAll();
  }
}

serveParent(handle, closeAll);
