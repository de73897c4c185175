/**
 * Batches (C++ `oxenmq::Batch`): a set of jobs whose results are collected, in the order added,
 * for one optional completion that runs after the last job finished; and the tagged-thread ids
 * jobs and completions can be sent to. The scheduler (scheduler.ts) runs them.
 */
import { OmqError, OmqErrorCode } from '../errors.js';
import type { WorkerJobSpec } from './worker-pool.js';

declare const taggedThreadBrand: unique symbol;

/** Identifies a tagged thread (1..N), or {@link RUN_IN_PROXY} (−1). */
export type TaggedThreadID = number & { readonly [taggedThreadBrand]: true };

/**
 * The pseudo-thread "the proxy loop itself": a batch completion or timer sent here runs directly
 * when it becomes due, holding no slot. It must be trivial (it delays everything else).
 */
export const RUN_IN_PROXY = -1 as TaggedThreadID;

/** The captured outcome of one batch job (C++ `job_result<R>`). */
export class JobResult<R> {
  readonly #ok: boolean;
  readonly #value: unknown;

  /** @internal */
  constructor(ok: boolean, valueOrError: unknown) {
    this.#ok = ok;
    this.#value = valueOrError;
  }

  /** True if the job returned (or resolved) normally. */
  get ok(): boolean {
    return this.#ok;
  }

  /** The job's value, or undefined if it failed. */
  get value(): R | undefined {
    return this.#ok ? (this.#value as R) : undefined;
  }

  /** What the job threw or rejected with, or undefined if it succeeded. */
  get error(): unknown {
    return this.#ok ? undefined : this.#value;
  }

  /** Returns the job's value, or rethrows what the job threw. */
  get(): R {
    if (!this.#ok) throw this.#value;
    return this.#value as R;
  }
}

export type BatchEntry<R> =
  | { fn: () => R | Promise<R>; worker?: undefined; thread: TaggedThreadID | undefined }
  | { fn?: undefined; worker: WorkerJobSpec; thread: TaggedThreadID | undefined };

/** What {@link Scheduler.batch} takes out of a {@link Batch} when it seals it. */
export interface BatchPlan<R> {
  entries: BatchEntry<R>[];
  completion: ((results: JobResult<R>[]) => unknown) | undefined;
  completionThread: TaggedThreadID | undefined;
  /** A `job()`: no completion, and errors are logged instead of captured. */
  single: boolean;
}

export const SEAL = Symbol('Batch.seal');

export function checkJobThread(thread: TaggedThreadID | undefined): void {
  if (thread === undefined) return;
  if (thread === RUN_IN_PROXY) {
    throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'batch jobs cannot run in the proxy; only a completion can');
  }
  if (!Number.isInteger(thread) || thread < 1) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'invalid tagged thread id');
}

/**
 * A set of jobs whose results are collected, in the order added, for one optional completion
 * that runs after the last job finishes. Jobs run in any order, possibly in parallel.
 */
export class Batch<R = unknown> {
  #entries: BatchEntry<R>[] = [];
  #completion: ((results: JobResult<R>[]) => unknown) | undefined;
  #completionThread: TaggedThreadID | undefined;
  #completionSet = false;
  #sealed = false;

  /** Number of jobs added so far. */
  get size(): number {
    return this.#entries.length;
  }

  /** Capacity hint, kept for parity with C++ `reserve()`; JS arrays grow on their own. */
  reserve(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('reserve: n must be a non-negative integer');
    return this;
  }

  /** Adds an in-process job; `thread` sends it to a tagged thread (not {@link RUN_IN_PROXY}). */
  addJob(fn: () => R | Promise<R>, thread?: TaggedThreadID): this {
    this.#checkOpen();
    if (typeof fn !== 'function') throw new TypeError('addJob: fn must be a function');
    checkJobThread(thread);
    this.#entries.push({ fn, thread });
    return this;
  }

  /**
   * Adds a CPU-bound job run on the scheduler's worker pool:
   * `(await import(spec.module))[spec.export](...spec.args)`. Its result (or a
   * `WorkerJobError`) is captured like an in-process job's.
   */
  addWorkerJob(spec: WorkerJobSpec): this {
    this.#checkOpen();
    if (typeof spec !== 'object' || spec === null) throw new TypeError('addWorkerJob: spec must be an object');
    this.#entries.push({ worker: { ...spec }, thread: undefined });
    return this;
  }

  /**
   * Sets the callback that receives all results once the last job finished. It runs on the
   * batch queue, on `thread` if a tagged thread is named, or directly in the proxy for
   * {@link RUN_IN_PROXY}. Can be set once, before submission.
   */
  completion(fn: (results: JobResult<R>[]) => unknown, thread?: TaggedThreadID): this {
    this.#checkOpen();
    if (this.#completionSet) throw new OmqError(OmqErrorCode.INVALID_STATE, 'batch completion already set');
    if (typeof fn !== 'function') throw new TypeError('completion: fn must be a function');
    if (thread !== undefined && thread !== RUN_IN_PROXY) checkJobThread(thread);
    this.#completion = fn;
    this.#completionThread = thread;
    this.#completionSet = true;
    return this;
  }

  /** @internal Marks the batch submitted and hands its contents to the scheduler. */
  [SEAL](single: boolean, checkThread: (thread: TaggedThreadID | undefined) => void): BatchPlan<R> {
    this.#checkOpen();
    if (this.#entries.length === 0) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'cannot submit a batch with no jobs');
    // Validate before sealing, so a batch naming an unknown thread can be fixed and resubmitted.
    for (const e of this.#entries) checkThread(e.thread);
    checkThread(this.#completionThread);
    this.#sealed = true;
    const plan = { entries: this.#entries, completion: this.#completion, completionThread: this.#completionThread, single };
    this.#entries = [];
    return plan;
  }

  #checkOpen(): void {
    if (this.#sealed) throw new OmqError(OmqErrorCode.INVALID_STATE, 'batch already submitted');
  }
}
