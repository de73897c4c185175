/**
 * The fuzz loop shared by `npm run fuzz` (cli.ts) and the smoke spec: runs a target's inputs in
 * order, classifies what each one throws, and stops at the first crash. A crash is a throw the
 * target does not accept (anything but the typed errors its API documents, or a failed oracle
 * such as a round trip that does not hold) or, when a time limit is given, an input slower than
 * the limit: one whose wall time exceeds it is run three more times and timed in CPU time, and is
 * a crash when even the fastest of those exceeds it (so a busy machine that deschedules us, or
 * one GC pause, is not mistaken for the input).
 */
import { performance } from 'node:perf_hooks';
import type { Rng } from '../helpers/random.js';
import { inputRng } from './mutate.js';

/** A fuzz target: how to make an input, what to do with it, and which throws are fine. */
export interface FuzzTarget<I = unknown> {
  readonly name: string;
  /** One line: what is fed to what. */
  readonly description: string;
  generate(rng: Rng): I;
  /** Feeds the input; throws on an accepted error, a crash or a failed oracle. */
  run(input: I): void;
  /** True for the typed errors the API documents for this input. */
  accepts(err: unknown): boolean;
  /** The input as text to reproduce it (hex of the bytes and whatever else the run used). */
  show(input: I): string;
}

/** An oracle that did not hold: never accepted, always a crash. */
export class OracleFailure extends Error {
  override readonly name = 'OracleFailure';
}

/** Throws an {@link OracleFailure} unless `cond`. */
export function check(cond: boolean, what: string): asserts cond {
  if (!cond) throw new OracleFailure(what);
}

export interface FuzzOptions {
  count: number;
  seed: number;
  /** First input index (to reproduce one input: its index and count 1). */
  start?: number;
  /** Slowest allowed input in ms; Infinity for none. */
  timeLimitMs: number;
  /** Called every `progressEvery` inputs. */
  onProgress?: (done: number, elapsedMs: number) => void;
  progressEvery?: number;
}

export interface FuzzCrash {
  target: string;
  seed: number;
  index: number;
  kind: 'throw' | 'slow';
  input: string;
  error?: unknown;
  elapsedMs?: number;
}

export interface FuzzResult {
  target: string;
  inputs: number;
  elapsedMs: number;
  /** Inputs that ended in an accepted typed error. */
  rejected: number;
  crash?: FuzzCrash;
}

/** Runs `opts.count` inputs of `target`; stops at the first crash. */
export function fuzz<I>(target: FuzzTarget<I>, opts: FuzzOptions): FuzzResult {
  const start = opts.start ?? 0;
  const every = opts.progressEvery ?? 10_000;
  const t0 = performance.now();
  let rejected = 0;
  for (let i = start; i < start + opts.count; i++) {
    const input = target.generate(inputRng(opts.seed, target.name, i));
    const once = (): { err: unknown; ms: number } => {
      const s = performance.now();
      try {
        target.run(input);
        return { err: undefined, ms: performance.now() - s };
      } catch (err) {
        return { err: err ?? new Error(`threw ${String(err)}`), ms: performance.now() - s };
      }
    };
    let r = once();
    const crash = (kind: FuzzCrash['kind'], extra: Partial<FuzzCrash>): FuzzResult => ({
      target: target.name,
      inputs: i - start + 1,
      elapsedMs: performance.now() - t0,
      rejected,
      crash: { target: target.name, seed: opts.seed, index: i, kind, input: target.show(input), ...extra },
    });
    if (r.err !== undefined && !target.accepts(r.err)) return crash('throw', { error: r.err });
    if (r.ms > opts.timeLimitMs) {
      let fastest = Infinity;
      for (let k = 0; k < 3 && fastest > opts.timeLimitMs; k++) {
        const cpu0 = process.cpuUsage();
        r = once();
        const cpu = process.cpuUsage(cpu0);
        fastest = Math.min(fastest, (cpu.user + cpu.system) / 1000);
      }
      if (fastest > opts.timeLimitMs) return crash('slow', { elapsedMs: fastest });
    }
    if (r.err !== undefined) rejected++;
    if (opts.onProgress && (i - start + 1) % every === 0) opts.onProgress(i - start + 1, performance.now() - t0);
  }
  return { target: target.name, inputs: opts.count, elapsedMs: performance.now() - t0, rejected };
}

/** A crash as the lines the CLI prints. */
export function describeCrash(c: FuzzCrash): string {
  const what =
    c.kind === 'slow'
      ? `took ${c.elapsedMs!.toFixed(1)} ms of CPU time (fastest of 3 runs)`
      : `threw ${c.error instanceof Error ? `${c.error.name}${'code' in c.error ? ` ${String(c.error.code)}` : ''}: ${c.error.message}` : String(c.error)}`;
  return [
    `CRASH in ${c.target}: input ${c.index} ${what}`,
    `  seed ${c.seed}; reproduce: npm run fuzz -- --target ${c.target} --seed ${c.seed} --start ${c.index} --count 1`,
    `  input: ${c.input}`,
    ...(c.error instanceof Error && c.error.stack ? [`  ${c.error.stack.split('\n').slice(1, 6).join('\n  ')}`] : []),
  ].join('\n');
}
