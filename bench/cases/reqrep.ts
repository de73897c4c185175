/**
 * reqrep: an OxenMQ request command (`bench.echo`, which answers with `sendReply()`) at 1 and
 * --inflight requests outstanding, driven by two clients in the same interleaved runs against the
 * same server:
 * - raw: a bare DEALER writing the request frames and matching REPLY frames itself, the tightest
 *   client there is, so its figures are what the server side sustains;
 * - promise: the public API as users write it, `await omq.request(conn, 'bench.echo', [payload])`
 *   per request, many in flight.
 * The raw row's ratio vs the promise row is what the promise API costs per request (the CPU
 * column shows it on the client side directly).
 *
 * Both are clients of one case rather than two cases so that their runs pair up, run i of one
 * against run i of the other, on one server. The reference is native zeromq doing a bare echo
 * of the same size and in-flight count (no command dispatch, no reply tags): an upper bound for
 * what the OxenMQ layer could reach over libzmq, not a like-for-like protocol.
 */
import { type ClientName, localEndpoint } from '../options.js';
import type { ClientImpl, Impl, ServeInfo } from '../protocol.js';
import { type CaseResult, type Row, cpuLine, fillRatios, skippedRow } from '../report.js';
import { median } from '../stats.js';
import { type CaseContext, CaseFailure, cpuCost, interleave, runTrial, selectPeers, sizeLabel } from './context.js';

const ZMQ_REF = 'zeromq (bare echo)';

const CLIENT: Record<ClientName, { impl: ClientImpl; peer: string }> = {
  raw: { impl: 'oxenmq-raw', peer: 'ours (raw client)' },
  promise: { impl: 'oxenmq', peer: 'ours (promise client)' },
};

/** The server a client talks to. */
function serverOf(impl: ClientImpl): Impl {
  return impl === 'oxenmq-raw' ? 'oxenmq' : impl;
}

/** Runs the reqrep case: the --client clients and zeromq's bare echo, at 1 and --inflight. */
export async function reqrepCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report } = ctx;
  if (!opts.peers.includes('ours')) return { name: 'reqrep', status: 'skipped', reason: 'needs --peer ours', rows: [] };
  const { peers, skips, sources } = await selectPeers(ctx, ['ours', 'zeromq']);
  const impls: ClientImpl[] = opts.clients.map((c) => CLIENT[c].impl);
  if (peers.includes('zeromq')) impls.push('zeromq');
  const peerOf = (impl: ClientImpl) => (impl === 'zeromq' ? ZMQ_REF : CLIENT[impl === 'oxenmq-raw' ? 'raw' : 'promise'].peer);
  const curve = opts.curve ? ctx.keys : null;
  const durationMs = opts.given.has('duration') ? opts.durationMs : opts.durationMs / 2;
  const servers = new Map<Impl, ServeInfo>();
  const rows: Row[] = [];
  try {
    for (const impl of new Set(impls.map(serverOf))) {
      servers.set(impl, await ctx.server().serve({ impl, mode: 'echo', endpoint: localEndpoint(opts.transport), size: opts.size, curve }));
    }
    for (const inflight of [...new Set([1, opts.inflight])]) {
      const label = `reqrep ${sizeLabel(opts.size)}${curve ? ' CURVE' : ''}${opts.transport === 'ws' ? ' ws' : ''} ×${inflight}`;
      const runs = await interleave(report, label, impls, opts.runs, { durationMs, count: opts.count }, async (impl, budget) => {
        const endpoint = servers.get(serverOf(impl))!.endpoint;
        const t = await runTrial(ctx, { impl, mode: 'rt', endpoint, size: opts.size, inflight, ...budget, curve }, budget);
        const r = t.result;
        if (r.bad > 0) throw new CaseFailure(`${label} ${impl}: ${r.bad} wrong replies`);
        if (r.completed !== r.sent || r.completed === 0) throw new CaseFailure(`${label} ${impl}: ${r.completed} of ${r.sent} requests answered`);
        return { rate: r.completed / (r.elapsedNs / 1e9), p50: r.rtt!.p50 / 1e3, p99: r.rtt!.p99 / 1e3, cpu: t.cpu(r.completed) };
      });
      const variant: Row[] = impls.map((impl) => {
        const r = runs.get(impl)!;
        const peer = peerOf(impl);
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
      // raw ÷ promise is the per-request cost of the promise API, shown on the raw row.
      fillRatios(variant, CLIENT.raw.peer, [CLIENT.promise.peer, ZMQ_REF]);
      fillRatios(variant, CLIENT.promise.peer, [ZMQ_REF]);
      rows.push(...variant);
    }
  } finally {
    for (const s of servers.values()) await ctx.server().stop(s.id);
  }
  return { name: 'reqrep', status: 'ok', sources, rows };
}
