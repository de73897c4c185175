/** What every case gets from the CLI, and how a case reports failure. */
import type { PeerHost } from '../host.js';
import type { BenchOptions } from '../options.js';
import type { CurveKeys } from '../protocol.js';
import type { CaseResult, Report } from '../report.js';

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

export type CaseFn = (ctx: CaseContext) => Promise<CaseResult>;

/** The warm-up trial's length: half a run, at most 500 ms; a tenth of --count. */
export function warmup(durationMs: number, count: number | null): { durationMs: number; count: number | null } {
  return { durationMs: Math.min(durationMs / 2, 500), count: count === null ? null : Math.max(1, Math.ceil(count / 10)) };
}

/** How long the orchestrator waits for one trial before declaring the peer wedged. */
export function trialTimeout(durationMs: number, count: number | null): number {
  return count === null ? durationMs + 60_000 : 600_000;
}

/** "64 B", "4 KiB", "64 KiB". */
export function sizeLabel(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}
