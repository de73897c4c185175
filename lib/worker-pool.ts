/**
 * A `worker_threads` pool for CPU-bound batch jobs (PROTOCOL.md §6.6: batch jobs "run in any
 * order, possibly in parallel"). In-process jobs share the one event loop, so a job that computes
 * for 50 ms stalls every socket for 50 ms; a job named by module and export instead runs on a
 * real thread while the scheduler's batch slot waits for its result.
 *
 * Jobs are named, not passed as closures, because functions cannot cross a thread boundary:
 * `{ module, export, args }`, with `args` and the result structured-cloned. Workers are created
 * lazily, one task at a time each, `ref`'d only while busy (an idle pool never keeps the process
 * alive), and terminated on {@link WorkerPool.close}.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type Clock, RingQueue, type TimerHandle, systemClock } from '../zmtp/index.js';
import { OmqError, OmqErrorCode } from './errors.js';
import { type Logger, silentLogger } from './logger.js';

/** A CPU-bound job for the worker pool: `(await import(module))[export](...args)`. */
export interface WorkerJobSpec {
  /**
   * The module to load in the worker: a `URL`, a `file:`/`data:`/`node:` URL string, or an
   * absolute path. Relative paths are refused because they would resolve against this library,
   * not the caller: use `new URL('./jobs.js', import.meta.url)`.
   */
  module: string | URL;
  /** The exported function to call; default `'default'`. It may be async. */
  export?: string;
  /** Arguments, structured-cloned into the worker. Default none. */
  args?: readonly unknown[];
  /** Give up after this many ms, terminating and replacing the worker. 0 / absent: the pool default. */
  timeoutMs?: number;
}

/** Why a worker job failed (finer than the error `code`). */
export const WorkerJobFailure = {
  /** The job threw or rejected inside the worker (code `ERR_OMQ_JOB_FAILED`). */
  THREW: 'threw',
  /** The job ran past its timeout; its worker was terminated (code `ERR_OMQ_JOB_TIMEOUT`). */
  TIMEOUT: 'timeout',
  /** An argument (code `ERR_OMQ_INVALID_ARGUMENT`) or the result (`ERR_OMQ_JOB_FAILED`) cannot be structured-cloned. */
  NOT_CLONEABLE: 'not-cloneable',
  /** The module cannot be loaded (code `ERR_OMQ_INVALID_ARGUMENT`). */
  MISSING_MODULE: 'missing-module',
  /** The module has no such exported function (code `ERR_OMQ_INVALID_ARGUMENT`). */
  MISSING_EXPORT: 'missing-export',
  /** The worker died while running the job (code `ERR_OMQ_JOB_FAILED`). */
  WORKER_EXITED: 'worker-exited',
  /** The pool was closed before the job finished (code `ERR_OMQ_CLOSED`). */
  CLOSED: 'closed',
} as const;

export type WorkerJobFailure = (typeof WorkerJobFailure)[keyof typeof WorkerJobFailure];

/**
 * A failed worker job. `code` is the stable OxenMQ code; `reason` says which failure; for a job
 * that threw, `cause` is an `Error` carrying the original `name`, `message` and worker stack.
 */
export class WorkerJobError extends OmqError {
  override readonly name: string = 'WorkerJobError';
  readonly reason: WorkerJobFailure;
  /** The `name` of the error the job threw in the worker (e.g. `'RangeError'`), when it threw one. */
  readonly originalName: string | undefined;

  constructor(
    code: OmqErrorCode,
    reason: WorkerJobFailure,
    message: string,
    options?: { cause?: unknown; originalName?: string },
  ) {
    super(code, message, options);
    this.reason = reason;
    this.originalName = options?.originalName;
  }
}

/** Options of a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Most worker threads; default `os.availableParallelism()`. */
  size?: number;
  /** Timeout for jobs that set none; 0 (default): no timeout. */
  defaultTimeoutMs?: number;
  /** Clock for job timeouts (tests use a manual one). */
  clock?: Clock;
  logger?: Logger;
}

/** Counters of a {@link WorkerPool}. */
export interface WorkerPoolStats {
  /** Live worker threads. */
  workers: number;
  /** Workers running a job. */
  busy: number;
  /** Jobs waiting for a free worker. */
  queued: number;
}

/** Message to the worker entry. */
export interface WorkerRequest {
  id: number;
  module: string;
  export: string;
  args: readonly unknown[];
}

/** Message back from the worker entry. */
export type WorkerResponse =
  | { id: number; ok: true; value: unknown }
  | {
      id: number;
      ok: false;
      reason: 'threw' | 'not-cloneable' | 'missing-module' | 'missing-export';
      name?: string;
      message: string;
      stack?: string;
    };

interface Task {
  request: WorkerRequest;
  timeoutMs: number;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  timer: TimerHandle | undefined;
  /** Set once we stop caring about this worker (terminated, crashed): late events are ignored. */
  dead: boolean;
}

/**
 * Where the compiled worker entry lives: next to this file in the ESM build. The CJS bundle
 * (`dist/cjs/index.cjs`) has no `import.meta.url`, so it points at the ESM build beside it.
 */
function entryUrl(): URL {
  const base = import.meta.url as string | undefined;
  if (base) return new URL('./worker-pool-entry.js', base);
  return pathToFileURL(path.join(__dirname, '..', 'lib', 'worker-pool-entry.js'));
}

/** Normalises a job's module to a URL string the worker can `import()`. */
function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module === '') {
    throw new TypeError('worker job: module must be a URL or an absolute path');
  }
  if (/^(file|data|node):/.test(module)) return module;
  if (path.isAbsolute(module)) return pathToFileURL(module).href;
  throw new WorkerJobError(
    OmqErrorCode.INVALID_ARGUMENT,
    WorkerJobFailure.MISSING_MODULE,
    'worker job: module must be a URL or an absolute path (use new URL(rel, import.meta.url))',
  );
}

function isDataCloneError(err: unknown): boolean {
  return err instanceof Error && err.name === 'DataCloneError';
}

/**
 * A lazily grown pool of `worker_threads`, one job per worker at a time, FIFO among waiting jobs.
 */
export class WorkerPool {
  private readonly size: number;
  private readonly defaultTimeoutMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly slots: Slot[] = [];
  private readonly waiting = new RingQueue<Task>();
  private nextId = 1;
  private closed = false;

  constructor(options: WorkerPoolOptions = {}) {
    const size = options.size ?? os.availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new RangeError('worker pool size must be an integer ≥ 1');
    const t = options.defaultTimeoutMs ?? 0;
    if (!(t >= 0)) throw new RangeError('defaultTimeoutMs must be ≥ 0');
    this.size = size;
    this.defaultTimeoutMs = t;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * Runs `spec` on a worker; resolves with its (cloned) result, rejects with a
   * {@link WorkerJobError} (or `TypeError` for a malformed spec).
   */
  run<R = unknown>(spec: WorkerJobSpec): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.closed) {
        reject(new WorkerJobError(OmqErrorCode.CLOSED, WorkerJobFailure.CLOSED, 'worker pool is closed'));
        return;
      }
      const exportName = spec.export ?? 'default';
      if (typeof exportName !== 'string' || exportName === '') throw new TypeError('worker job: export must be a non-empty string');
      const args = spec.args ?? [];
      if (!Array.isArray(args)) throw new TypeError('worker job: args must be an array');
      const timeoutMs = spec.timeoutMs ?? this.defaultTimeoutMs;
      if (!(timeoutMs >= 0)) throw new RangeError('worker job: timeoutMs must be ≥ 0');
      const task: Task = {
        request: { id: this.nextId++, module: moduleHref(spec.module), export: exportName, args },
        timeoutMs,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      this.waiting.push(task);
      this.pump();
    });
  }

  /** Live counters. */
  stats(): WorkerPoolStats {
    let busy = 0;
    for (const s of this.slots) if (s.task) busy++;
    return { workers: this.slots.length, busy, queued: this.waiting.length };
  }

  /** Fails every pending job with `ERR_OMQ_CLOSED` and terminates all workers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closedError = () => new WorkerJobError(OmqErrorCode.CLOSED, WorkerJobFailure.CLOSED, 'worker pool closed');
    for (let t = this.waiting.shift(); t; t = this.waiting.shift()) t.reject(closedError());
    const exits: Promise<unknown>[] = [];
    for (const slot of this.slots.splice(0)) {
      const task = this.release(slot);
      slot.dead = true;
      task?.reject(closedError());
      exits.push(slot.worker.terminate().catch(() => undefined));
    }
    await Promise.all(exits);
  }

  /** Hands waiting jobs to idle workers, spawning workers up to `size`. */
  private pump(): void {
    while (this.waiting.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.task === undefined);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      this.dispatch(slot, this.waiting.shift()!);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(entryUrl());
    const slot: Slot = { worker, task: undefined, timer: undefined, dead: false };
    worker.unref();
    worker.on('message', (msg: WorkerResponse) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.onDeath(slot, err));
    worker.on('exit', (code) => this.onDeath(slot, new Error(`worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private dispatch(slot: Slot, task: Task): void {
    try {
      slot.worker.postMessage(task.request);
    } catch (err) {
      // The worker never saw the job: fail it and keep the worker.
      task.reject(
        isDataCloneError(err)
          ? new WorkerJobError(
              OmqErrorCode.INVALID_ARGUMENT,
              WorkerJobFailure.NOT_CLONEABLE,
              `worker job ${task.request.export}: an argument cannot be structured-cloned`,
              { cause: err },
            )
          : err,
      );
      return;
    }
    slot.task = task;
    // Busy workers keep the process alive so that a batch's completion is not lost on exit.
    slot.worker.ref();
    if (task.timeoutMs > 0) slot.timer = this.clock.setTimeout(() => this.onTimeout(slot, task), task.timeoutMs);
  }

  /** Detaches the slot's task and timer; returns the task. */
  private release(slot: Slot): Task | undefined {
    const task = slot.task;
    slot.task = undefined;
    if (slot.timer !== undefined) {
      this.clock.clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    if (!slot.dead) slot.worker.unref();
    return task;
  }

  private onMessage(slot: Slot, msg: WorkerResponse): void {
    if (slot.dead || !slot.task || slot.task.request.id !== msg.id) return;
    const task = this.release(slot)!;
    if (msg.ok) {
      task.resolve(msg.value);
    } else {
      task.reject(this.failure(task.request, msg));
    }
    this.pump();
  }

  private failure(req: WorkerRequest, msg: Extract<WorkerResponse, { ok: false }>): WorkerJobError {
    const what = `worker job ${req.export}`;
    switch (msg.reason) {
      case 'threw': {
        const cause = new Error(msg.message);
        if (msg.name) cause.name = msg.name;
        if (msg.stack) cause.stack = msg.stack;
        return new WorkerJobError(
          OmqErrorCode.JOB_FAILED,
          WorkerJobFailure.THREW,
          `${what} threw ${msg.name ?? 'a non-Error value'}: ${msg.message}`,
          { cause, originalName: msg.name },
        );
      }
      case 'not-cloneable':
        return new WorkerJobError(
          OmqErrorCode.JOB_FAILED,
          WorkerJobFailure.NOT_CLONEABLE,
          `${what}: its result cannot be structured-cloned (${msg.message})`,
        );
      case 'missing-module':
        return new WorkerJobError(
          OmqErrorCode.INVALID_ARGUMENT,
          WorkerJobFailure.MISSING_MODULE,
          `${what}: cannot load module (${msg.message})`,
        );
      case 'missing-export':
        return new WorkerJobError(
          OmqErrorCode.INVALID_ARGUMENT,
          WorkerJobFailure.MISSING_EXPORT,
          `${what}: the module exports no function named ${JSON.stringify(req.export)}`,
        );
    }
  }

  private onTimeout(slot: Slot, task: Task): void {
    slot.timer = undefined;
    if (slot.dead || slot.task !== task) return;
    // A hung job cannot be interrupted any other way: drop the worker, a new one is spawned on demand.
    this.retire(slot);
    task.reject(
      new WorkerJobError(
        OmqErrorCode.JOB_TIMEOUT,
        WorkerJobFailure.TIMEOUT,
        `worker job ${task.request.export} ran past its ${task.timeoutMs} ms timeout`,
      ),
    );
    this.pump();
  }

  private onDeath(slot: Slot, err: unknown): void {
    if (slot.dead) return;
    this.logger.warn('worker pool: a worker died', err);
    const task = this.retire(slot);
    task?.reject(
      new WorkerJobError(OmqErrorCode.JOB_FAILED, WorkerJobFailure.WORKER_EXITED, 'worker pool: the worker running this job died', {
        cause: err,
      }),
    );
    this.pump();
  }

  /** Removes a slot from the pool and terminates its worker; returns its task, if any. */
  private retire(slot: Slot): Task | undefined {
    const task = this.release(slot);
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.worker.terminate().catch(() => undefined);
    return task;
  }
}
