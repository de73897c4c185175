/**
 * thr, lat and rt: DEALER→ROUTER on ours, native zeromq and the raw net ceiling, with the peers'
 * runs interleaved (ours, zeromq, net, ours, …) so a slow stretch of the machine hits all of them
 * alike, and every ratio is taken between runs measured back to back.
 *
 * thr follows libzmq local_thr/remote_thr (the receiver times first message → last); lat/rt
 * follow local_lat/remote_lat (the client times round trips; "average latency" is half the mean
 * round trip, libzmq's convention), with percentiles of the full round trip added.
 */
import type { ClientResult, ClientSpec, ServeInfo, SocketImpl } from '../protocol.js';
import { type CaseResult, type CpuCost, type Row, cpuLine, fillRatios, skippedRow } from '../report.js';
import { localEndpoint } from '../options.js';
import { median } from '../stats.js';
import { type CaseContext, CaseFailure, type Trial, type TrialBudget, type TrialCpu, cpuCost, interleave, runTrial, selectPeers, sizeLabel } from './context.js';

type SocketCase = 'thr' | 'lat' | 'rt';

/** Checks one trial's counts; throws CaseFailure on loss or corruption. */
export function validate(name: SocketCase, impl: SocketImpl, r: ClientResult): void {
  const who = `${name} ${impl}`;
  if (r.bad > 0) throw new CaseFailure(`${who}: ${r.bad} corrupted or out-of-order replies`);
  if (name === 'thr') {
    const sink = r.sink;
    if (sink === undefined) throw new CaseFailure(`${who}: no report from the sink`);
    if (sink.bad > 0) throw new CaseFailure(`${who}: the sink saw ${sink.bad} corrupted or out-of-order messages`);
    if (sink.received !== r.sent) throw new CaseFailure(`${who}: sent ${r.sent} messages, the sink received ${sink.received}`);
    if (sink.received === 0) throw new CaseFailure(`${who}: nothing was sent`);
  } else {
    if (r.completed !== r.sent) throw new CaseFailure(`${who}: ${r.sent - r.completed} of ${r.sent} round trips never completed`);
    if (r.completed === 0) throw new CaseFailure(`${who}: no round trip completed`);
  }
}

interface Figures {
  primary: number;
  extra: number[];
  count: number;
  meanRttNs: number;
  cpu: TrialCpu;
}

function figures(name: SocketCase, size: number, t: Trial): Figures {
  const r = t.result;
  if (name === 'thr') {
    const s = r.sink!;
    // One message has no duration; count a nanosecond so the figure stays finite.
    const rate = s.received / (Math.max(s.elapsedNs, 1) / 1e9);
    return { primary: rate, extra: [rate * size], count: s.received, meanRttNs: 0, cpu: t.cpu(s.received) };
  }
  const rtt = r.rtt!;
  const rate = r.completed / (Math.max(r.elapsedNs, 1) / 1e9);
  const common = { count: r.completed, meanRttNs: rtt.mean, cpu: t.cpu(r.completed) };
  if (name === 'lat') return { primary: rtt.p50 / 1e3, extra: [rtt.p99 / 1e3, rate], ...common };
  return { primary: rate, extra: [rtt.p50 / 1e3, rtt.p99 / 1e3], ...common };
}

/** The libzmq perf-tool block for one peer's median figures. */
function block(name: SocketCase, impl: string, size: number, runs: number, f: Figures[], cpu: CpuCost): string {
  const med = (pick: (x: Figures) => number) => median(f.map(pick));
  const head = `${name} · ${impl} · median of ${runs} run${runs === 1 ? '' : 's'}\nmessage size: ${size} [B]\n`;
  if (name === 'thr') {
    const thr = med((x) => x.primary);
    return (
      head +
      `message count: ${Math.round(med((x) => x.count))}\n` +
      `mean throughput: ${Math.round(thr)} [msg/s]\n` +
      `mean throughput: ${((thr * size * 8) / 1e6).toFixed(3)} [Mb/s]\n` +
      cpuLine(cpu)
    );
  }
  const p50 = name === 'lat' ? med((x) => x.primary) : med((x) => x.extra[0]!);
  const p99 = name === 'lat' ? med((x) => x.extra[0]!) : med((x) => x.extra[1]!);
  const rate = name === 'lat' ? med((x) => x.extra[1]!) : med((x) => x.primary);
  return (
    head +
    `roundtrip count: ${Math.round(med((x) => x.count))}\n` +
    `average latency: ${(med((x) => x.meanRttNs) / 2 / 1e3).toFixed(3)} [us]\n` +
    `round trips: ${Math.round(rate)} [rt/s]\n` +
    `round trip p50: ${p50.toFixed(3)} [us]\n` +
    `round trip p99: ${p99.toFixed(3)} [us]\n` +
    cpuLine(cpu)
  );
}

/** Runs thr, lat or rt; with --connect only the client side, against that endpoint. */
export async function socketCase(ctx: CaseContext, name: SocketCase): Promise<CaseResult> {
  const { opts, report } = ctx;
  const { peers: impls, skips, sources } = await selectPeers(ctx, ['ours', 'zeromq', 'net']);
  const ws = opts.transport === 'ws';
  if (ws && impls.includes('net')) {
    impls.splice(impls.indexOf('net'), 1);
    skips.push({ peer: 'net', reason: 'net has no WebSocket form' });
  }
  if (impls.length === 0) return { name, status: 'skipped', reason: skips.map((k) => k.reason).join('; ') || 'no peer selected', rows: [] };
  const curve = opts.curve ? ctx.keys : null;
  const inflight = name === 'rt' ? opts.inflight : 1;
  const label = `${name} ${sizeLabel(opts.size)}${name === 'rt' ? ` ×${inflight}` : ''}${curve ? ' CURVE' : ''}${ws ? ' ws' : ''}`;
  const spec = (impl: SocketImpl, endpoint: string, budget: TrialBudget): ClientSpec => ({
    impl,
    mode: name === 'thr' ? 'thr' : 'rt',
    endpoint,
    size: opts.size,
    inflight,
    ...budget,
    // net has no security layer: under --curve it still runs in the clear, as the ceiling.
    curve: impl === 'net' ? null : curve,
  });

  const servers = new Map<SocketImpl, ServeInfo>();
  let figs: Map<SocketImpl, Figures[]>;
  try {
    for (const impl of impls) {
      if (opts.connect !== null) {
        servers.set(impl, { id: -1, endpoint: opts.connect });
        continue;
      }
      report.progress(`${label}: starting ${impl} server`);
      servers.set(
        impl,
        await ctx.server().serve({
          impl,
          mode: name === 'thr' ? 'sink' : 'echo',
          endpoint: localEndpoint(opts.transport),
          size: opts.size,
          curve: impl === 'net' ? null : curve,
        }),
      );
    }
    figs = await interleave(report, label, impls, opts.runs, opts, async (impl, budget) => {
      const t = await runTrial(ctx, spec(impl, servers.get(impl)!.endpoint, budget), budget);
      validate(name, impl, t.result);
      return figures(name, opts.size, t);
    });
  } finally {
    for (const s of servers.values()) if (s.id >= 0) await ctx.server().stop(s.id);
  }

  const rows: Row[] = impls.map((impl) => {
    const f = figs.get(impl)!;
    const cpu = cpuCost(ctx, name === 'thr' ? 'msg' : 'rt', f.map((x) => x.cpu));
    report.print(block(name, impl, opts.size, opts.runs, f, cpu));
    const col = (i: number) => f.map((x) => x.extra[i]!);
    const peer = curve && impl === 'net' ? 'net (plain)' : impl;
    if (name === 'thr') {
      return { case: label, peer, runs: f.map((x) => x.primary), unit: 'msg/s', higherIsBetter: true, extra: [{ unit: 'B/s', runs: col(0) }], ratios: {}, cpu };
    }
    if (name === 'lat') {
      return {
        case: label,
        peer,
        label: 'RTT p50',
        runs: f.map((x) => x.primary),
        unit: 'us',
        higherIsBetter: false,
        extra: [{ label: 'RTT p99', unit: 'us', runs: col(0) }],
        ratios: {},
        cpu,
      };
    }
    return {
      case: label,
      peer,
      runs: f.map((x) => x.primary),
      unit: 'rt/s',
      higherIsBetter: true,
      extra: [
        { label: 'RTT p50', unit: 'us', runs: col(0) },
        { label: 'RTT p99', unit: 'us', runs: col(1) },
      ],
      ratios: {},
      cpu,
    };
  });
  for (const k of skips) rows.push(skippedRow(label, k.peer, k.reason));
  fillRatios(rows, 'ours', ['zeromq', curve ? 'net (plain)' : 'net']);
  return { name, status: 'ok', sources, rows };
}
