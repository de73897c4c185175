/**
 * The job layer: the scheduler that runs every handler, reply callback, batch job and timer under
 * C++ oxenmq's slot limits, batches with their results, and the worker-thread pool for CPU-bound
 * batch jobs.
 */
export { Batch, JobResult, RUN_IN_PROXY, type TaggedThreadID } from './batch.js';
export {
  Scheduler,
  type CategoryStats,
  type JobErrorInfo,
  type JobKind,
  type SchedulerOptions,
  type SchedulerStats,
  type SubmitResult,
  type TimerID,
} from './scheduler.js';
export type { WorkerJobSpec, WorkerPool, WorkerPoolOptions, WorkerPoolStats } from './worker-pool.js';
