/**
 * mesh: a network of service nodes on one machine, to plan for Oxen's ~2,000 nodes. For each
 * --nodes N, N OxenMQ service nodes (CURVE listeners, explicit keys) are spread over --workers
 * fresh processes (mesh-node.ts). Each node is given only the directory pubkey → address, as
 * oxend gives oxenmq its service-node list, and picks --peers K others at random (seeded, so a
 * run is repeatable); it reaches them by pubkey alone (`request(pubkey, …)` through
 * `snLookup`), and talks to them as a quorum does: one request in flight per peer, each reply
 * followed by a command.
 *
 * Printed per mesh: connection set-up (from the first ping to the last node's last answer: N×K
 * CURVE handshakes and SN authentications), memory per node (RSS, heap and external of the
 * worker processes after gc, minus their reading before any node started, over N), messages per
 * second (requests, their replies and the commands), round-trip p50/p99 of the requests, and CPU
 * per request across all workers. There is no reference to compare with: the figures are ours.
 */
import { type ChildBody, ForkedChild } from '../child.js';
import type { ConnectResult, MeshMemory, MeshRequest, StartedNode, TrafficResult } from '../mesh-node.js';
import { type CaseResult, type Row } from '../report.js';
import { type CaseContext, CaseFailure } from './context.js';

type Body = ChildBody<MeshRequest>;

/** --smoke: a mesh just big enough to route by pubkey between processes. */
const SMOKE = { nodes: 6, peers: 2, durationMs: 100 };
/** Traffic time when --duration is not given: long enough for the p99 of a 1000-node mesh to settle. */
const DEFAULT_TRAFFIC_MS = 5_000;
/** A request with no answer after this long counts as failed. */
const REQUEST_TIMEOUT_MS = 30_000;

/** mulberry32: a small seeded PRNG, so the same --nodes/--peers pick the same peers every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** For each node, `k` distinct others chosen at random. */
function pickPeers(n: number, k: number, rnd: () => number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const chosen = new Set<number>();
    while (chosen.size < k) {
      const j = Math.floor(rnd() * n);
      if (j !== i) chosen.add(j);
    }
    return [...chosen];
  });
}

interface MeshFigures {
  nodes: number;
  peers: number;
  workers: number;
  setupMs: number;
  setupCpuUs: number;
  perNode: MeshMemory;
  requests: number;
  commands: number;
  failed: number;
  seconds: number;
  cpuUs: number;
  p50Ms: number;
  p99Ms: number;
}

async function runMesh(ctx: CaseContext, nodes: number, peers: number, workers: number, durationMs: number): Promise<MeshFigures> {
  const w = Math.min(workers, nodes);
  const children = Array.from({ length: w }, (_, i) => new ForkedChild<Body>('mesh-node.js', `mesh worker ${i + 1}`, ['--expose-gc']));
  try {
    const before = await Promise.all(children.map((c) => c.call<MeshMemory>({ op: 'measure' }, 30_000)));
    // Node i lives in worker i % w: shares differ by at most one.
    const share = (i: number) => Math.floor(nodes / w) + (i < nodes % w ? 1 : 0);
    ctx.report.progress(`mesh ×${nodes}: starting nodes`);
    const started = await Promise.all(children.map((c, i) => c.call<StartedNode[]>({ op: 'start', count: share(i) }, 60_000 + nodes * 100)));
    const all: StartedNode[] = [];
    for (let j = 0; all.length < nodes; j++) for (const list of started) if (j < list.length) all.push(list[j]!);
    const entries = all.map((s): [string, string] => [s.pubkey, s.address]);
    await Promise.all(children.map((c) => c.call({ op: 'directory', entries }, 30_000)));

    const picks = pickPeers(nodes, peers, prng(nodes * 7919 + peers));
    const localPeers = children.map((_, wi) => started[wi]!.map((_, j) => picks[j * w + wi]!.map((p) => all[p]!.pubkey)));
    ctx.report.progress(`mesh ×${nodes}: connecting ${nodes * peers} pairs`);
    const connects = await Promise.all(children.map((c, i) => c.call<ConnectResult>({ op: 'connect', peers: localPeers[i]!, timeoutMs: REQUEST_TIMEOUT_MS }, REQUEST_TIMEOUT_MS + 30_000)));
    const setupFailed = connects.reduce((a, r) => a + r.failed, 0);
    if (setupFailed > 0) throw new CaseFailure(`mesh ×${nodes}: ${setupFailed} of ${nodes * peers} first pings failed`);

    ctx.report.progress(`mesh ×${nodes}: traffic for ${durationMs / 1000} s`);
    const traffic = await Promise.all(
      children.map((c) => c.call<TrafficResult>({ op: 'traffic', durationMs, size: ctx.opts.size, timeoutMs: REQUEST_TIMEOUT_MS }, durationMs + REQUEST_TIMEOUT_MS + 30_000)),
    );
    const after = await Promise.all(children.map((c) => c.call<MeshMemory>({ op: 'measure' }, 30_000)));

    // Percentiles over the workers' samples, each weighted by how many round trips it stands for.
    const weighted: { ms: number; weight: number }[] = [];
    for (const t of traffic) for (const ms of t.sample) weighted.push({ ms, weight: t.seen / Math.max(1, t.sample.length) });
    weighted.sort((a, b) => a.ms - b.ms);
    const total = weighted.reduce((a, x) => a + x.weight, 0);
    const pct = (p: number) => {
      let acc = 0;
      for (const x of weighted) if ((acc += x.weight) >= p * total) return x.ms;
      return weighted.at(-1)?.ms ?? NaN;
    };
    const sum = (f: (m: MeshMemory) => number) => after.reduce((a, m, i) => a + f(m) - f(before[i]!), 0) / nodes;
    return {
      nodes,
      peers,
      workers: w,
      setupMs: Math.max(...connects.map((r) => r.elapsedMs)),
      setupCpuUs: connects.reduce((a, r) => a + r.cpuUs, 0),
      perNode: { rss: sum((m) => m.rss), heapUsed: sum((m) => m.heapUsed), external: sum((m) => m.external) },
      requests: traffic.reduce((a, t) => a + t.requests, 0),
      commands: traffic.reduce((a, t) => a + t.commands, 0),
      failed: traffic.reduce((a, t) => a + t.failed, 0),
      seconds: Math.max(...traffic.map((t) => t.elapsedMs)) / 1000,
      cpuUs: traffic.reduce((a, t) => a + t.cpuUs, 0),
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
    };
  } finally {
    ctx.report.progress(`mesh ×${nodes}: closing`);
    await Promise.all(children.map((c) => c.close()));
  }
}

/** The perf-tool style block of one mesh. */
function block(m: MeshFigures): string {
  const msgs = 2 * m.requests + m.commands;
  return [
    `mesh · ${m.nodes} service nodes × ${m.peers} peers · ${m.workers} processes · CURVE`,
    `connection setup: ${m.setupMs.toFixed(0)} [ms] for ${m.nodes * m.peers} pairs (cpu per pair ${(m.setupCpuUs / (m.nodes * m.peers)).toFixed(1)} [us])`,
    `rss per node: ${Math.round(m.perNode.rss)} [B]`,
    `heap per node: ${Math.round(m.perNode.heapUsed)} [B]`,
    `external per node: ${Math.round(m.perNode.external)} [B]`,
    `requests: ${m.requests} (${m.failed} failed), commands: ${m.commands}, in ${m.seconds.toFixed(2)} [s]`,
    `mean throughput: ${(msgs / m.seconds).toFixed(0)} [msg/s] (requests, replies and commands)`,
    `round trip p50: ${(m.p50Ms * 1000).toFixed(1)} [us]`,
    `round trip p99: ${(m.p99Ms * 1000).toFixed(1)} [us]`,
    `cpu per request: ${(m.cpuUs / Math.max(1, m.requests)).toFixed(3)} [us] (all workers, its reply and command included)`,
    '',
  ].join('\n');
}

function meshRows(m: MeshFigures): Row[] {
  const label = `mesh ×${m.nodes} K=${m.peers}`;
  const cpu = { per: 'req', client: [m.cpuUs / Math.max(1, m.requests)], server: null, scope: 'self' as const };
  return [
    { case: `${label} setup`, peer: 'ours', runs: [m.setupMs * 1000], unit: 'us', higherIsBetter: false, extra: [], ratios: {}, note: `${m.nodes * m.peers} pairs` },
    { case: `${label} memory`, peer: 'ours', runs: [m.perNode.rss], unit: 'B/node', higherIsBetter: false, label: 'RSS', extra: [{ label: 'heap', unit: 'B/node', runs: [m.perNode.heapUsed] }], ratios: {} },
    {
      case: `${label} traffic`,
      peer: 'ours',
      runs: [(2 * m.requests + m.commands) / m.seconds],
      unit: 'msg/s',
      higherIsBetter: true,
      extra: [
        { label: 'RTT p50', unit: 'us', runs: [m.p50Ms * 1000] },
        { label: 'RTT p99', unit: 'us', runs: [m.p99Ms * 1000] },
      ],
      ratios: {},
      cpu,
    },
  ];
}

/** Runs the mesh case: one fresh mesh per --nodes value. */
export async function meshCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report } = ctx;
  const sizes = opts.smoke && !opts.given.has('nodes') ? [SMOKE.nodes] : opts.nodes;
  const peers = opts.smoke && !opts.given.has('peers') ? SMOKE.peers : opts.meshPeers;
  const durationMs = opts.given.has('duration') ? opts.durationMs : opts.smoke ? SMOKE.durationMs : DEFAULT_TRAFFIC_MS;
  const rows: Row[] = [];
  for (const n of sizes) {
    const m = await runMesh(ctx, n, peers, opts.workers, durationMs);
    if (m.failed > 0) throw new CaseFailure(`mesh ×${n}: ${m.failed} requests failed`);
    report.print(block(m));
    rows.push(...meshRows(m));
  }
  return { name: 'mesh', status: 'ok', rows };
}
