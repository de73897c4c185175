/**
 * The worker_threads pool behind `Batch.addWorkerJob`: results, and one typed error per failure
 * (throw, timeout, non-cloneable argument/result, missing module/export). Results only, no timing
 * assertions; timeouts run on a ManualClock.
 */
import { expect } from 'chai';
import { ManualClock } from '../../zmtp/clock.js';
import { OmqError, OmqErrorCode, WorkerJobError } from '../../lib/errors.js';
import { Batch, type JobResult, Scheduler, type SchedulerOptions } from '../../lib/jobs/index.js';
import { WorkerPool } from '../../lib/jobs/worker-pool.js';
import { countPrimes } from './fixtures/worker-jobs.js';

const JOBS = new URL('./fixtures/worker-jobs.js', import.meta.url);
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Submits `batch` and resolves with its results when the completion runs. */
function runBatch<R>(s: Scheduler, batch: Batch<R>): Promise<JobResult<R>[]> {
  return new Promise((resolve) => {
    batch.completion(resolve);
    s.batch(batch);
  });
}

/** The error a failed result holds, checked to be a WorkerJobError with `code`. */
function failure(r: JobResult<unknown>, code: string): WorkerJobError {
  expect(r.ok).to.equal(false);
  let caught: unknown;
  try {
    r.get();
  } catch (err) {
    caught = err;
  }
  expect(caught).to.be.instanceOf(WorkerJobError);
  expect(caught).to.be.instanceOf(OmqError);
  const e = caught as WorkerJobError;
  expect(e.code).to.equal(code);
  return e;
}

describe('WorkerPool', () => {
  const open: Array<Scheduler | WorkerPool> = [];
  function scheduler(options: SchedulerOptions = {}): Scheduler {
    const s = new Scheduler({ generalThreads: 2, workerThreads: 2, workerPool: (o) => new WorkerPool(o), ...options });
    open.push(s);
    s.start();
    return s;
  }
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  it('runs a CPU-heavy batch on worker threads with correct results, in order', async () => {
    const s = scheduler();
    const limits = [20_000, 30_000, 40_000, 50_000, 60_000, 70_000];
    const b = new Batch<number>();
    for (const limit of limits) b.addWorkerJob({ module: JOBS, export: 'countPrimes', args: [limit] });
    b.addJob(() => -1); // in-process and worker jobs mix in one batch
    const results = await runBatch(s, b);
    expect(results.map((r) => r.get())).to.deep.equal([...limits.map(countPrimes), -1]);
  });

  it('accepts async exports, the default export, path strings and file: URL strings', async () => {
    const s = scheduler();
    const results = await runBatch(
      s,
      new Batch<number>()
        .addWorkerJob({ module: JOBS, export: 'asyncDouble', args: [21] })
        .addWorkerJob({ module: JOBS.href, args: [2, 3] })
        .addWorkerJob({ module: decodeURIComponent(JOBS.pathname), export: 'countPrimes', args: [10] }),
    );
    expect(results.map((r) => r.get())).to.deep.equal([42, 5, 4]);
  });

  it('a job that throws fails with ERR_OMQ_JOB_FAILED keeping the original name and message', async () => {
    const s = scheduler();
    const [thrown, rejected, after] = await runBatch(
      s,
      new Batch<number>()
        .addWorkerJob({ module: JOBS, export: 'fail', args: ['too big'] })
        .addWorkerJob({ module: JOBS, export: 'rejectWith', args: ['bad'] })
        .addWorkerJob({ module: JOBS, export: 'countPrimes', args: [100] }),
    );
    const e = failure(thrown!, OmqErrorCode.JOB_FAILED);
    expect(e.originalName).to.equal('RangeError');
    expect(e.message).to.contain('RangeError: too big');
    expect((e.cause as Error).name).to.equal('RangeError');
    expect((e.cause as Error).message).to.equal('too big');
    expect(failure(rejected!, OmqErrorCode.JOB_FAILED).originalName).to.equal('SyntaxError');
    // The worker survives a throwing job.
    expect(after!.get()).to.equal(25);
  });

  it('a job that hangs past its timeout fails with ERR_OMQ_JOB_TIMEOUT and its worker is replaced', async () => {
    const clock = new ManualClock();
    const s = scheduler({ clock, workerThreads: 1 });
    const pending = runBatch(s, new Batch<number>().addWorkerJob({ module: JOBS, export: 'hang', timeoutMs: 1000 }));
    let settled = false;
    void pending.then(() => (settled = true));
    while (clock.pending === 0) await flush();
    clock.advance(999);
    await flush();
    expect(settled).to.equal(false);
    clock.advance(1);
    const [r] = await pending;
    const e = failure(r!, OmqErrorCode.JOB_TIMEOUT);
    expect(e.message).to.contain('1000 ms');
    // The single worker was terminated; a fresh one serves the next job.
    const [next] = await runBatch(s, new Batch<number>().addWorkerJob({ module: JOBS, export: 'countPrimes', args: [30] }));
    expect(next!.get()).to.equal(10);
  });

  it('non-cloneable arguments and results are typed errors', async () => {
    const s = scheduler();
    const [arg, result] = await runBatch(
      s,
      new Batch<unknown>()
        .addWorkerJob({ module: JOBS, export: 'countPrimes', args: [() => 1] })
        .addWorkerJob({ module: JOBS, export: 'returnsFunction' }),
    );
    failure(arg!, OmqErrorCode.JOB_NOT_CLONEABLE);
    expect(failure(result!, OmqErrorCode.JOB_NOT_CLONEABLE).message).to.contain('returnsFunction');
  });

  it('a missing export or module is ERR_OMQ_JOB_MISSING_EXPORT or ERR_OMQ_JOB_MISSING_MODULE', async () => {
    const s = scheduler();
    const [noExport, notFunction, noModule, relative] = await runBatch(
      s,
      new Batch<unknown>()
        .addWorkerJob({ module: JOBS, export: 'nope' })
        .addWorkerJob({ module: JOBS, export: 'notAFunction' })
        .addWorkerJob({ module: new URL('./fixtures/does-not-exist.js', import.meta.url), export: 'x' })
        .addWorkerJob({ module: './fixtures/worker-jobs.js', export: 'countPrimes' }),
    );
    expect(failure(noExport!, OmqErrorCode.JOB_MISSING_EXPORT).message).to.contain('"nope"');
    failure(notFunction!, OmqErrorCode.JOB_MISSING_EXPORT);
    failure(noModule!, OmqErrorCode.JOB_MISSING_MODULE);
    failure(relative!, OmqErrorCode.JOB_MISSING_MODULE);
  });

  it('offers a one-job shortcut with a completion', async () => {
    const s = scheduler();
    const r = await new Promise<JobResult<number>>((resolve) =>
      s.workerJob<number>({ module: JOBS, export: 'countPrimes', args: [1000] }, resolve),
    );
    expect(r.get()).to.equal(168);
  });

  describe('standalone', () => {
    it('runs more jobs than workers, FIFO, never growing past its size', async () => {
      const pool = new WorkerPool({ size: 2 });
      open.push(pool);
      const jobs = Array.from({ length: 7 }, (_, i) => pool.run<number>({ module: JOBS, export: 'countPrimes', args: [1000 * (i + 1)] }));
      expect(pool.stats()).to.deep.equal({ workers: 2, busy: 2, queued: 5 });
      expect(await Promise.all(jobs)).to.deep.equal(Array.from({ length: 7 }, (_, i) => countPrimes(1000 * (i + 1))));
      expect(pool.stats()).to.deep.equal({ workers: 2, busy: 0, queued: 0 });
    });

    it('close() fails running and waiting jobs with ERR_OMQ_CLOSED and terminates the workers', async () => {
      const pool = new WorkerPool({ size: 1 });
      const running = pool.run({ module: JOBS, export: 'hang' });
      const waiting = pool.run({ module: JOBS, export: 'countPrimes', args: [10] });
      const settled = Promise.allSettled([running, waiting]);
      await pool.close();
      await pool.close();
      for (const r of await settled) {
        expect(r.status).to.equal('rejected');
        expect((r as PromiseRejectedResult).reason).to.include({ code: OmqErrorCode.CLOSED });
      }
      expect(pool.stats().workers).to.equal(0);
      await pool.run({ module: JOBS, export: 'countPrimes', args: [10] }).then(
        () => expect.fail('ran after close'),
        (err: unknown) => expect(err).to.include({ code: OmqErrorCode.CLOSED }),
      );
    });

    it('validates its size', () => {
      expect(() => new WorkerPool({ size: 0 })).to.throw(RangeError);
    });
  });
});
