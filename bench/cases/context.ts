/** What every case gets from the CLI, and the helpers the cases share. */
import type { PeerHost } from '../host.js';
import { loadZeromq } from '../native.js';
import type { BenchOptions, PeerName } from '../options.js';
import type { ClientResult, ClientSpec, CurveKeys } from '../protocol.js';
import type { CaseResult, CpuCost, Report } from '../report.js';

/** The options, the report and the two peer hosts, as the CLI hands them to a case. */
export interface CaseContext {
  opts: BenchOptions;
  report: Report;
  /** The side that binds (started on first use). */
  server(): PeerHost;
  /** The side that connects (started on first use). */
  client(): PeerHost;
  keys: CurveKeys;
}

/** A case that lost or corrupted data, or whose peer errored: exit code 1. */
export class CaseFailure extends Error {
  override readonly name = 'CaseFailure';
}

/** A case: runs its trials and returns its rows (or why it was skipped). */
export type CaseFn = (ctx: CaseContext) => Promise<CaseResult>;

/** A selected peer that cannot run, and why: the case shows it as a skip row. */
export interface Skip {
  peer: PeerName;
  reason: string;
}

/**
 * The peers --peer selects among `allowed`, in order, with zeromq left out (and returned as a
 * skip, with a note) when it is not installed or does not load.
 */
export async function selectPeers(
  ctx: CaseContext,
  allowed: readonly PeerName[],
): Promise<{ peers: PeerName[]; skips: Skip[]; sources: string[] }> {
  const peers: PeerName[] = [];
  const skips: Skip[] = [];
  const sources: string[] = [];
  for (const p of ctx.opts.peers) {
    if (!allowed.includes(p)) continue;
    if (p === 'zeromq') {
      const z = await loadZeromq();
      if (!z.ok) {
        ctx.report.note(`${z.reason} (${z.detail})`);
        skips.push({ peer: p, reason: z.reason });
        continue;
      }
      sources.push(z.from);
    }
    peers.push(p);
  }
  return { peers, skips, sources };
}

/** How long one trial runs: for `durationMs`, or exactly `count` items when non-null. */
export interface TrialBudget {
  durationMs: number;
  count: number | null;
}

/** The warm-up trial's length: half a run, at most 500 ms; a tenth of --count. */
function warmup(b: TrialBudget): TrialBudget {
  return { durationMs: Math.min(b.durationMs / 2, 500), count: b.count === null ? null : Math.max(1, Math.ceil(b.count / 10)) };
}

/**
 * The loop every comparison shares: one warm-up trial per contender, then `runs` rounds in which
 * each contender runs once, back to back, so a slow stretch of the machine hits all of them alike
 * and run i of one contender pairs with run i of the others. Returns each contender's measured
 * results in run order (warm-up results are dropped; a trial that throws fails the case).
 */
export async function interleave<K, R>(
  report: Report,
  label: string,
  contenders: readonly K[],
  runs: number,
  budget: TrialBudget,
  trial: (who: K, budget: TrialBudget) => Promise<R>,
): Promise<Map<K, R[]>> {
  const out = new Map<K, R[]>(contenders.map((k) => [k, []]));
  const w = warmup(budget);
  for (const k of contenders) {
    report.progress(`${label}: ${String(k)} warm-up`);
    await trial(k, w);
  }
  for (let run = 0; run < runs; run++) {
    for (const k of contenders) {
      report.progress(`${label}: ${String(k)} run ${run + 1}/${runs}`);
      out.get(k)!.push(await trial(k, budget));
    }
  }
  return out;
}

/** How long the orchestrator waits for one trial before declaring the peer wedged. */
function trialTimeout(b: TrialBudget): number {
  return b.count === null ? b.durationMs + 60_000 : 600_000;
}

/** CPU µs per item of one trial: the client's process, and the server's when it has its own. */
export interface TrialCpu {
  client: number;
  server: number | null;
}

/** One client trial's result, and its CPU µs per item on each side. */
export interface Trial {
  result: ClientResult;
  cpu(items: number): TrialCpu;
}

/** Where the CPU figures come from: see CpuCost.scope. */
function cpuScope(ctx: CaseContext): 'split' | 'client' | 'both' {
  return ctx.opts.connect !== null ? 'client' : ctx.opts.oneProcess ? 'both' : 'split';
}

/**
 * Runs one client trial, reading the server process's CPU clock just before and just after it
 * when the server has a process of its own, and returns the trial with `cpu(items)`, the CPU µs
 * per item on each side. The server's reading spans the whole trial, connection set-up included;
 * against a one-second trial that is noise.
 */
export async function runTrial(ctx: CaseContext, spec: ClientSpec, budget: TrialBudget): Promise<Trial> {
  const server = cpuScope(ctx) === 'split' ? ctx.server() : null;
  const before = server === null ? 0 : await server.cpuUs();
  const result = await ctx.client().run(spec, trialTimeout(budget));
  const serverUs = server === null ? null : (await server.cpuUs()) - before;
  return { result, cpu: (items) => ({ client: result.cpuUs / items, server: serverUs === null ? null : serverUs / items }) };
}

/** A row's CpuCost from its trials' TrialCpu, in run order. */
export function cpuCost(ctx: CaseContext, per: string, trials: readonly TrialCpu[]): CpuCost {
  const scope = cpuScope(ctx);
  return { per, client: trials.map((t) => t.client), server: scope === 'split' ? trials.map((t) => t.server!) : null, scope };
}

/** The CpuCost of a case that runs in the CLI process alone (crypto, batch). */
export function selfCpu(per: string, trials: readonly TrialCpu[]): CpuCost {
  return { per, client: trials.map((t) => t.client), server: null, scope: 'self' };
}

/** "64 B", "4 KiB", "64 KiB". */
export function sizeLabel(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}
