/**
 * batch: the worker pool's speed-up on CPU-bound batch jobs. The same jobs run one after another
 * on the main thread (what an in-process job does: every socket waits) and as one Batch of
 * worker jobs (`Batch.addWorkerJob`, submitted with `omq.batch()`) on the worker pool, a thread
 * per core; the ratio is the speed-up, bounded by the core count.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Batch, type JobResult, OxenMQ } from '../../lib/index.js';
import { spin } from '../jobs.js';
import { type CaseResult, type Row, cpuLine, fillRatios } from '../report.js';
import { ratioText, spread } from '../stats.js';
import { Stopwatch } from '../stopwatch.js';
import { type CaseContext, CaseFailure, interleave, selfCpu } from './context.js';

const JOBS_URL = new URL('../jobs.js', import.meta.url);

/** Iterations of `spin` that take about `ms` on this machine. */
function calibrate(ms: number): number {
  let it = 100_000;
  for (;;) {
    const t0 = performance.now();
    spin(it);
    const el = performance.now() - t0;
    if (el >= 5) return Math.max(1000, Math.round((it * ms) / el));
    it *= 4;
  }
}

/** Runs the batch case: inline jobs against one worker-job Batch, interleaved. */
export async function batchCase(ctx: CaseContext): Promise<CaseResult> {
  const { opts, report } = ctx;
  const size = os.availableParallelism();
  // ~20 ms jobs: long enough that thread hand-off is noise, short enough for a quick suite.
  const iterations = calibrate(opts.smoke ? 2 : 20);
  const jobs = size * 4;
  const expected = spin(iterations);
  // An OxenMQ with no listener: omq.batch() is how a user hands work to the pool (a worker
  // thread per core by default).
  const omq = new OxenMQ();
  await omq.start();
  const runBatch = () =>
    new Promise<JobResult<number>[]>((resolve) => {
      const b = new Batch<number>();
      for (let i = 0; i < jobs; i++) b.addWorkerJob({ module: JOBS_URL, export: 'spin', args: [iterations] });
      omq.batch(b.completion(resolve));
    });
  try {
    // A trial is the whole set of jobs, whatever --duration says; the warm-up starts the workers.
    const runs = await interleave(report, 'batch', ['inline', 'pool'] as const, opts.runs, opts, async (how) => {
      const sw = new Stopwatch();
      if (how === 'inline') {
        for (let i = 0; i < jobs; i++) if (spin(iterations) !== expected) throw new CaseFailure('batch: inline job gave a wrong result');
      } else {
        const results = await runBatch();
        if (results.some((r) => !r.ok || r.value !== expected)) throw new CaseFailure('batch: a worker job failed or gave a wrong result');
      }
      const { elapsedNs, cpuUs } = sw.read();
      return { rate: jobs / (elapsedNs / 1e9), cpu: { client: cpuUs / jobs, server: null } };
    });
    const a = runs.get('inline')!.map((x) => x.rate);
    const b = runs.get('pool')!.map((x) => x.rate);
    const cpu = (how: 'inline' | 'pool') => selfCpu('job', runs.get(how)!.map((x) => x.cpu));
    const inlineRow: Row = { case: 'batch', peer: 'inline (main thread)', runs: a, unit: 'jobs/s', higherIsBetter: true, extra: [], ratios: {}, cpu: cpu('inline') };
    const poolRow: Row = { case: 'batch', peer: `worker pool (${size} threads)`, runs: b, unit: 'jobs/s', higherIsBetter: true, extra: [], ratios: {}, cpu: cpu('pool') };
    // The speed-up is the pool's rate ÷ the inline rate, run by run.
    fillRatios([inlineRow, poolRow], poolRow.peer, [inlineRow.peer]);
    report.print(
      `batch · ${jobs} jobs of ~${opts.smoke ? 2 : 20} ms · median of ${opts.runs}\n` +
        `inline: ${spread(a).median.toFixed(1)} [jobs/s]\n${cpuLine(inlineRow.cpu!)}` +
        `pool (${size} workers): ${spread(b).median.toFixed(1)} [jobs/s]\n${cpuLine(poolRow.cpu!)}` +
        `speed-up: ${ratioText(poolRow.ratios[inlineRow.peer]!)}\n`,
    );
    return { name: 'batch', status: 'ok', rows: [inlineRow, poolRow] };
  } finally {
    await omq.close();
  }
}
