/**
 * CURVE connections per second: connect, complete the CurveZMQ handshake (RFC 26: HELLO, WELCOME,
 * INITIATE, READY — three X25519 agreements and a transient key pair a side), echo one message,
 * close. Sequential (one at a time: the latency of a connection) and concurrent (16 at once: what
 * a busy listener sustains), both measured after a warm-up (see JIT_WARMUP_MS).
 * ours and zeromq run interleaved against their own kind of server.
 */
import type { ServeInfo, SocketImpl } from '../protocol.js';
import { type CaseResult, type Row, cpuLine, fillRatios, skippedRow } from '../report.js';
import { localEndpoint } from '../options.js';
import { median } from '../stats.js';
import { type CaseContext, CaseFailure, cpuCost, interleave, runTrial, selectPeers } from './context.js';

/** Connections kept in flight by the concurrent variant. */
const CONCURRENCY = 16;

/**
 * How long each peer makes connections (CONCURRENCY at a time) before anything is measured. A
 * Node process runs its connection path (node:net, streams, the engine, the handshake) through
 * V8's slower tiers until each function has been called often enough to be optimised: on Node 20.20
 * here, our client's CPU per connection fell from 4.1 ms in its first second to 1.2 ms after
 * about 4,000 connections. A node pays that once in its life, so the runs measure after it; the
 * half-second warm-up of the other cases would leave the runs inside it.
 */
const JIT_WARMUP_MS = 3000;

/** Runs the handshake case: sequential and concurrent CURVE connections, ours and zeromq. */
export async function handshakeCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report } = ctx;
  const { peers: impls, skips, sources } = await selectPeers(ctx, ['ours', 'zeromq']);
  if (impls.length === 0) {
    return { name: 'handshake', status: 'skipped', reason: skips.map((k) => k.reason).join('; ') || 'needs --peer ours or zeromq', rows: [] };
  }
  // A connection costs far more than a message: half the run length keeps the suite near a minute.
  const durationMs = opts.given.has('duration') ? opts.durationMs : opts.durationMs / 2;
  const servers = new Map<SocketImpl, ServeInfo>();
  const rows: Row[] = [];
  try {
    for (const impl of impls) {
      servers.set(
        impl,
        opts.connect !== null
          ? { id: -1, endpoint: opts.connect }
          : await ctx.server().serve({ impl, mode: 'echo', endpoint: localEndpoint(opts.transport), size: 2, curve: ctx.keys }),
      );
    }
    // A smoke run proves the paths work; its figures mean nothing, so it skips the wait.
    for (const impl of opts.smoke ? [] : impls) {
      report.progress(`handshake: ${impl} warm-up (${JIT_WARMUP_MS / 1000} s)`);
      const warm = { durationMs: JIT_WARMUP_MS, count: null };
      await runTrial(ctx, { impl, mode: 'handshake', endpoint: servers.get(impl)!.endpoint, size: 2, inflight: CONCURRENCY, ...warm, curve: ctx.keys }, warm);
    }
    for (const [variant, inflight] of [
      ['sequential', 1],
      [`×${CONCURRENCY}`, CONCURRENCY],
    ] as const) {
      const label = `handshake ${variant}${opts.transport === 'ws' ? ' ws' : ''}`;
      const runs = await interleave(report, label, impls, opts.runs, { durationMs, count: opts.count }, async (impl, budget) => {
        const t = await runTrial(ctx, { impl, mode: 'handshake', endpoint: servers.get(impl)!.endpoint, size: 2, inflight, ...budget, curve: ctx.keys }, budget);
        const r = t.result;
        if (r.completed !== r.sent || r.completed === 0) throw new CaseFailure(`${label} ${impl}: ${r.completed} of ${r.sent} connections completed`);
        return { rate: r.completed / (r.elapsedNs / 1e9), n: r.completed, cpu: t.cpu(r.completed) };
      });
      const variantRows: Row[] = impls.map((impl) => {
        const r = runs.get(impl)!;
        const cpu = cpuCost(ctx, 'conn', r.map((x) => x.cpu));
        report.print(
          `${label} · ${impl} · median of ${opts.runs}\nconnection count: ${Math.round(median(r.map((x) => x.n)))}\n` +
            `mean rate: ${median(r.map((x) => x.rate)).toFixed(1)} [conn/s]\n` +
            cpuLine(cpu),
        );
        return { case: label, peer: impl, runs: r.map((x) => x.rate), unit: 'conn/s', higherIsBetter: true, extra: [], ratios: {}, cpu };
      });
      for (const k of skips) variantRows.push(skippedRow(label, k.peer, k.reason));
      fillRatios(variantRows, 'ours', ['zeromq']);
      rows.push(...variantRows);
    }
  } finally {
    for (const s of servers.values()) if (s.id >= 0) await ctx.server().stop(s.id);
  }
  return { name: 'handshake', status: 'ok', sources, rows };
}
