/**
 * reqrep: OxenMQ `request()` → a request command → `sendReply()` → the promise resolves, at 1 and
 * --inflight requests outstanding. The reference is native zeromq doing a bare echo of the same
 * size and in-flight count (no command dispatch, no reply tags): an upper bound for what the
 * OxenMQ layer could reach over libzmq, not a like-for-like protocol.
 */
import type { Impl, ServeInfo } from '../protocol.js';
import { type CaseResult, type Row, cpuLine, fillRatios, skippedRow } from '../report.js';
import { median } from '../stats.js';
import { type CaseContext, CaseFailure, cpuCost, interleave, runTrial, selectPeers, sizeLabel } from './context.js';

const ZMQ_REF = 'zeromq (bare echo)';

export async function reqrepCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report } = ctx;
  if (!opts.peers.includes('ours')) return { name: 'reqrep', status: 'skipped', reason: 'needs --peer ours', rows: [] };
  const { peers, skips, sources } = await selectPeers(ctx, ['ours', 'zeromq']);
  const impls = peers.map<Impl>((p) => (p === 'ours' ? 'oxenmq' : 'zeromq'));
  const curve = opts.curve ? ctx.keys : null;
  const durationMs = opts.given.has('duration') ? opts.durationMs : opts.durationMs / 2;
  const servers = new Map<Impl, ServeInfo>();
  const rows: Row[] = [];
  try {
    for (const impl of impls) {
      servers.set(impl, await ctx.server().serve({ impl, mode: 'echo', endpoint: 'tcp://127.0.0.1:0', size: opts.size, curve }));
    }
    for (const inflight of [...new Set([1, opts.inflight])]) {
      const label = `reqrep ${sizeLabel(opts.size)}${curve ? ' CURVE' : ''} ×${inflight}`;
      const runs = await interleave(report, label, impls, opts.runs, { durationMs, count: opts.count }, async (impl, budget) => {
        const t = await runTrial(ctx, { impl, mode: 'rt', endpoint: servers.get(impl)!.endpoint, size: opts.size, inflight, ...budget, curve }, budget);
        const r = t.result;
        if (r.bad > 0) throw new CaseFailure(`${label} ${impl}: ${r.bad} wrong replies`);
        if (r.completed !== r.sent || r.completed === 0) throw new CaseFailure(`${label} ${impl}: ${r.completed} of ${r.sent} requests answered`);
        return { rate: r.completed / (r.elapsedNs / 1e9), p50: r.rtt!.p50 / 1e3, p99: r.rtt!.p99 / 1e3, cpu: t.cpu(r.completed) };
      });
      const variant: Row[] = impls.map((impl) => {
        const r = runs.get(impl)!;
        const peer = impl === 'oxenmq' ? 'ours' : ZMQ_REF;
        const cpu = cpuCost(ctx, 'req', r.map((x) => x.cpu));
        report.print(
          `${label} · ${peer} · median of ${opts.runs}\nmessage size: ${opts.size} [B]\n` +
            `mean throughput: ${Math.round(median(r.map((x) => x.rate)))} [req/s]\n` +
            `round trip p50: ${median(r.map((x) => x.p50)).toFixed(3)} [us]\nround trip p99: ${median(r.map((x) => x.p99)).toFixed(3)} [us]\n` +
            cpuLine(cpu),
        );
        return {
          case: label,
          peer,
          runs: r.map((x) => x.rate),
          unit: 'req/s',
          higherIsBetter: true,
          extra: [
            { label: 'RTT p50', unit: 'us', runs: r.map((x) => x.p50) },
            { label: 'RTT p99', unit: 'us', runs: r.map((x) => x.p99) },
          ],
          ratios: {},
          cpu,
        };
      });
      for (const k of skips) variant.push(skippedRow(label, ZMQ_REF, k.reason));
      fillRatios(variant, 'ours', [ZMQ_REF]);
      rows.push(...variant);
    }
  } finally {
    for (const s of servers.values()) await ctx.server().stop(s.id);
  }
  return { name: 'reqrep', status: 'ok', sources, rows };
}
