/**
 * CURVE connections per second: connect, complete the CurveZMQ handshake (RFC 26: HELLO, WELCOME,
 * INITIATE, READY — three X25519 agreements and a transient key pair a side), echo one message,
 * close. Sequential (one at a time: the latency of a connection) and concurrent (16 at once: what
 * a busy listener sustains).
 * ours and zeromq run interleaved against their own kind of server.
 */
import type { ServeInfo, SocketImpl } from '../protocol.js';
import { type CaseResult, type Row, cpuLine, fillRatios, skippedRow } from '../report.js';
import { localEndpoint } from '../options.js';
import { median } from '../stats.js';
import { type CaseContext, CaseFailure, cpuCost, interleave, runTrial, selectPeers } from './context.js';

/** Connections kept in flight by the concurrent variant. */
const CONCURRENCY = 16;

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
