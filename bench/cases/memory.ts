/**
 * memory: what an idle CURVE connection costs a listener. The project's target is 10,000 idle
 * CURVE connections to one listener at under 16 KiB each.
 *
 * For each listener (ours: an OxenMQ `listenCurve`; zeromq: a libzmq Router with curveServer) a
 * fresh listener process and a fresh client process are forked with --expose-gc. The listener
 * reads `process.memoryUsage()` after gc once bound; the client opens --count connections (raw
 * ZmtpDealers sharing one CURVE factory, --inflight handshakes at a time, each sending HI and
 * waiting for the answer, which proves the connection is up); then both settle, collect twice
 * and read again. The deltas divided by the count are reported per connection: JS heap,
 * external (C++ objects and ArrayBuffer backing stores; Node's `external` already includes
 * `arrayBuffers`, shown separately), and RSS, which is everything the process holds (for
 * libzmq, whose state lives outside the JS heap, the only meaningful figure).
 *
 * Fresh processes per listener keep the two measurements apart, and the case never uses the
 * shared peer processes, so earlier cases' garbage cannot land in its figures.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { diffGroups, formatDiff, groupSnapshot } from '../heap-summary.js';
import type { MemoryImpl, MemoryReading, MemoryRequest, OpenResult } from '../memory-peer.js';
import { type ChildBody, ForkedChild } from '../child.js';
import { type CaseResult, type Row, fillRatios, skippedRow } from '../report.js';
import { type CaseContext, CaseFailure, selectPeers } from './context.js';

/** Connections opened by default: the target's figure. */
const DEFAULT_COUNT = 10_000;
/** --smoke: enough to exercise batching, small enough for CI. */
const SMOKE_COUNT = 200;
/** Handshakes in flight at once unless --inflight says otherwise: keeps the listener's accept queue and CPU from being swamped. */
const DEFAULT_CONCURRENCY = 200;

/** A forked dist/bench/memory-peer.js, with --expose-gc so each reading follows a full collection. */
class MemoryChild extends ForkedChild<ChildBody<MemoryRequest>> {
  constructor(role: string) {
    super('memory-peer.js', `memory ${role}`, ['--expose-gc']);
  }
}

/** One listener's measurement. */
interface Measured {
  impl: MemoryImpl;
  count: number;
  open: OpenResult;
  /** CPU µs the listener's process spent while the connections came up. */
  listenerCpuUs: number;
  listener: { before: MemoryReading; after: MemoryReading };
  client: { before: MemoryReading; after: MemoryReading };
  /** The heap snapshot diff, when --heap-snapshot was given. */
  heapDiff?: string;
}

/** Bytes per connection between two readings. */
function perConn(before: MemoryReading, after: MemoryReading, n: number) {
  return {
    heap: (after.heapUsed - before.heapUsed) / n,
    heapTotal: (after.heapTotal - before.heapTotal) / n,
    external: (after.external - before.external) / n,
    arrayBuffers: (after.arrayBuffers - before.arrayBuffers) / n,
    rss: (after.rss - before.rss) / n,
  };
}

const kib = (b: number) => `${(b / 1024).toFixed(2)} KiB`;

async function measureOne(ctx: CaseContext, impl: MemoryImpl, count: number, concurrency: number): Promise<Measured> {
  const { opts, keys } = ctx;
  const listener = new MemoryChild(`memory ${impl} listener`);
  const client = new MemoryChild(`memory ${impl} client`);
  try {
    const { endpoint, before } = await listener.call<{ endpoint: string; before: MemoryReading }>({ op: 'listen', impl, keys }, 30_000);
    const clientBefore = await client.call<MemoryReading>({ op: 'prepare', keys }, 30_000);
    let snapBefore: string | null = null;
    if (opts.heapSnapshot !== null) {
      mkdirSync(opts.heapSnapshot, { recursive: true });
      snapBefore = await listener.call<string>({ op: 'snapshot', path: path.resolve(opts.heapSnapshot, `memory-${impl}-before.heapsnapshot`) }, 120_000);
    }
    ctx.report.progress(`memory: ${impl} opening ${count} connections`);
    // Generous: at a few hundred handshakes/s the default count takes well under a minute.
    const timeoutMs = 30_000 + count * 10;
    const cpu0 = await listener.call<number>({ op: 'cpu' }, 30_000);
    const open = await client.call<OpenResult>(
      { op: 'open', endpoint, count, concurrency, expect: impl === 'oxenmq' ? 'HELLO' : 'HI', timeoutMs },
      timeoutMs + 10_000,
    );
    const listenerCpuUs = (await listener.call<number>({ op: 'cpu' }, 30_000)) - cpu0;
    if (open.up < count) {
      throw new CaseFailure(
        `memory ${impl}: ${open.up} of ${count} connections came up` +
          `${open.failed ? `, ${open.failed} refused` : ''}${open.timedOut ? `, gave up after ${Math.round(open.elapsedMs)} ms` : ''}`,
      );
    }
    if (open.bad > 0) throw new CaseFailure(`memory ${impl}: ${open.bad} connections answered something unexpected`);
    ctx.report.progress(`memory: ${impl} settling`);
    // Both sides idle for a moment so no handshake garbage or write buffers are in flight.
    const settleMs = opts.smoke ? 100 : 1_000;
    const [after, clientAfter] = await Promise.all([
      listener.call<MemoryReading>({ op: 'measure', settleMs }, 60_000),
      client.call<MemoryReading>({ op: 'measure', settleMs }, 60_000),
    ]);
    const m: Measured = { impl, count, open, listenerCpuUs, listener: { before, after }, client: { before: clientBefore, after: clientAfter } };
    if (snapBefore !== null) {
      ctx.report.progress(`memory: ${impl} heap snapshot`);
      const snapAfter = await listener.call<string>({ op: 'snapshot', path: path.resolve(opts.heapSnapshot!, `memory-${impl}-after.heapsnapshot`) }, 300_000);
      m.heapDiff = formatDiff(diffGroups(groupSnapshot(snapBefore), groupSnapshot(snapAfter), count));
    }
    return m;
  } finally {
    ctx.report.progress(`memory: ${impl} closing`);
    await Promise.all([client.close(), listener.close()]);
  }
}

/** The perf-tool style block of one measurement. */
function block(m: Measured, snapshotTaken: boolean): string {
  const l = perConn(m.listener.before, m.listener.after, m.count);
  const c = perConn(m.client.before, m.client.after, m.count);
  const who = m.impl === 'oxenmq' ? 'ours (OxenMQ listenCurve)' : 'zeromq (libzmq Router, curveServer)';
  const lines = [
    `memory · ${who} · ${m.count} idle CURVE connections${snapshotTaken ? ' (heap snapshots taken: RSS inflated)' : ''}`,
    `connection count: ${m.count}`,
    `connect rate: ${(m.count / (m.open.elapsedMs / 1000)).toFixed(1)} [conn/s]`,
    `cpu per conn: client ${(m.open.cpuUs / m.count).toFixed(3)} [us], listener ${(m.listenerCpuUs / m.count).toFixed(3)} [us]`,
    `listener heap per connection: ${Math.round(l.heap)} [B]`,
    `listener heap total per connection: ${Math.round(l.heapTotal)} [B]`,
    `listener external per connection: ${Math.round(l.external)} [B] (of which ArrayBuffers ${Math.round(l.arrayBuffers)} [B])`,
    `listener rss per connection: ${Math.round(l.rss)} [B] (${kib(l.rss)})`,
    `listener rss: ${(m.listener.before.rss / 2 ** 20).toFixed(1)} → ${(m.listener.after.rss / 2 ** 20).toFixed(1)} [MiB]`,
  ];
  if (m.impl === 'oxenmq') {
    lines.push(
      `client heap per connection: ${Math.round(c.heap)} [B]`,
      `client external per connection: ${Math.round(c.external)} [B] (of which ArrayBuffers ${Math.round(c.arrayBuffers)} [B])`,
      `client rss per connection: ${Math.round(c.rss)} [B] (${kib(c.rss)})`,
    );
  }
  if (m.heapDiff !== undefined) lines.push('listener heap snapshot difference per connection (shallow sizes):', m.heapDiff);
  return `${lines.join('\n')}\n`;
}

function row(label: string, peer: string, bytes: number): Row {
  return { case: label, peer, runs: [bytes], unit: 'B/conn', higherIsBetter: false, extra: [], ratios: {} };
}

/** Runs the memory case: one fresh listener and client process pair per listener kind. */
export async function memoryCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report } = ctx;
  const { peers, skips, sources } = await selectPeers(ctx, ['ours', 'zeromq']);
  const impls = peers.map<MemoryImpl>((p) => (p === 'ours' ? 'oxenmq' : 'zeromq'));
  if (impls.length === 0) return { name: 'memory', status: 'skipped', reason: skips.map((k) => k.reason).join('; ') || 'needs --peer ours or zeromq', rows: [] };

  const count = opts.count ?? (opts.smoke ? SMOKE_COUNT : DEFAULT_COUNT);
  const concurrency = opts.given.has('inflight') ? opts.inflight : DEFAULT_CONCURRENCY;
  const measured: Measured[] = [];
  for (const impl of impls) {
    const m = await measureOne(ctx, impl, count, concurrency);
    report.print(block(m, opts.heapSnapshot !== null));
    measured.push(m);
  }

  const label = (what: string) => `memory ×${count} ${what}`;
  const peerOf = (impl: MemoryImpl) => (impl === 'oxenmq' ? 'ours' : 'zeromq');
  const rows: Row[] = [];
  const ours = measured.find((m) => m.impl === 'oxenmq');
  if (ours !== undefined) {
    const l = perConn(ours.listener.before, ours.listener.after, count);
    rows.push(row(label('listener heap'), 'ours', l.heap), row(label('listener external'), 'ours', l.external));
  }
  // RSS is the one figure both listeners have; ours/zeromq pairs up as in every other case.
  const rssRows = measured.map((m) => row(label('listener RSS'), peerOf(m.impl), perConn(m.listener.before, m.listener.after, count).rss));
  for (const k of skips) rssRows.push(skippedRow(label('listener RSS'), k.peer, k.reason));
  fillRatios(rssRows, 'ours', ['zeromq']);
  rows.push(...rssRows);
  if (ours !== undefined) {
    const c = perConn(ours.client.before, ours.client.after, count);
    rows.push(
      row(label('client heap'), 'ours (ZmtpDealer)', c.heap),
      row(label('client external'), 'ours (ZmtpDealer)', c.external),
      row(label('client RSS'), 'ours (ZmtpDealer)', c.rss),
    );
  }
  // How fast the connections came up: a side figure (same client, --inflight handshakes at once).
  const rateRows = measured.map<Row>((m) => ({
    case: label(`connect ×${concurrency}`),
    peer: peerOf(m.impl),
    runs: [m.count / (m.open.elapsedMs / 1000)],
    unit: 'conn/s',
    higherIsBetter: true,
    extra: [],
    ratios: {},
    // The memory case always runs its own client and listener processes.
    cpu: { per: 'conn', client: [m.open.cpuUs / m.count], server: [m.listenerCpuUs / m.count], scope: 'split' },
  }));
  fillRatios(rateRows, 'ours', ['zeromq']);
  rows.push(...rateRows);
  return { name: 'memory', status: 'ok', sources, rows };
}
