/**
 * The job scheduler: PROTOCOL.md §6 (pools and limits §6.1, admission §6.2, draining order §6.3,
 * queues §6.4, batches §6.6, tagged threads §6.7, timers §6.8, inject_task §6.9).
 *
 * C++ OxenMQ runs callbacks on worker threads; here a "worker" is a *slot*: a job holds one from
 * the moment it is admitted until it returns or, if it returns a promise, until that promise
 * settles. The counters of §6.1 (`active`, `a_c`, `q_c`, `a_B`, `a_R`) and the rules that move
 * them are kept exactly, so the README's four examples give the same concurrency as upstream.
 *
 * Re-entrancy: admission is decided synchronously (so `submitCommand` can report
 * started/queued/dropped and the counters are exact when the next command arrives), but a job's
 * function is always *invoked* from a microtask, never inside the caller's `submit…` stack.
 * A job that submits more work, or a handler that dispatches a reply, therefore never finds
 * itself re-entered. Draining runs synchronously whenever work is added or a job settles; it
 * only moves counters and schedules invocations, so it never calls user code either.
 *
 * CPU-bound batch jobs can be sent to a `worker_threads` pool ({@link Batch.addWorkerJob}); they
 * hold their batch slot until the worker's result arrives.
 */
import * as os from 'node:os';
import { type Clock, RingQueue, type TimerHandle, systemClock } from '../zmtp/index.js';
import { OmqError, OmqErrorCode } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { WorkerPool, type WorkerJobSpec } from './worker-pool.js';

declare const taggedThreadBrand: unique symbol;
declare const timerBrand: unique symbol;

/** Identifies a tagged thread (1..N), or {@link RUN_IN_PROXY} (−1). */
export type TaggedThreadID = number & { readonly [taggedThreadBrand]: true };

/** Identifies a timer created by {@link Scheduler.addTimer}. */
export type TimerID = number & { readonly [timerBrand]: true };

/**
 * The pseudo-thread "the proxy loop itself": a batch completion or timer sent here runs directly
 * when it becomes due, holding no slot. It must be trivial (it delays everything else).
 */
export const RUN_IN_PROXY = -1 as TaggedThreadID;

/** Outcome of admitting a command or injected task (§6.2). */
export type SubmitResult = 'started' | 'queued' | 'dropped';

/** What kind of job failed, for {@link SchedulerOptions.onError}. */
export type JobKind = 'command' | 'reply' | 'batch' | 'completion' | 'job' | 'timer' | 'tagged-start';

/** Context passed to {@link SchedulerOptions.onError}. */
export interface JobErrorInfo {
  kind: JobKind;
  /** The command label, timer id or similar, for logs. */
  label: string;
}

/** Options of a {@link Scheduler}; thread counts can also be set later, until `start()`. */
export interface SchedulerOptions {
  /** `G`: general slots, ≥ 1. Default `max(1, os.availableParallelism())`. */
  generalThreads?: number;
  /** `B`: slots reserved for batch jobs, ≥ 0. Default ⌈G/2⌉. */
  batchThreads?: number;
  /** `R`: slots reserved for reply jobs, ≥ 0. Default ⌈G/8⌉. */
  replyThreads?: number;
  /** Worker threads for {@link Batch.addWorkerJob} jobs. Default `os.availableParallelism()`. */
  workerThreads?: number;
  /** Timeout for worker jobs that set none; 0 (default) none. */
  workerTimeoutMs?: number;
  /** Clock for timers and worker-job timeouts. Default the system clock. */
  clock?: Clock;
  /** Where failures and drops are logged. Default silent. */
  logger?: Logger;
  /** Called (after logging) for every error a job throws or rejects with that no JobResult captured. */
  onError?: (err: unknown, info: JobErrorInfo) => void;
}

/** Per-category counters in {@link SchedulerStats}. */
export interface CategoryStats {
  /** `a_c`: running commands (and injected tasks). */
  active: number;
  /** `q_c`: queued commands. */
  queued: number;
  /** Commands dropped because the queue was full. */
  dropped: number;
  reserved: number;
  maxQueue: number;
}

/** A snapshot of the scheduler's counters (§6.1 symbols in brackets). */
export interface SchedulerStats {
  started: boolean;
  /** `G`, `B`, `R` as configured (defaults resolved). */
  generalThreads: number;
  batchThreads: number;
  replyThreads: number;
  /** `M = G + B + R + Σ r_c`. */
  maxThreads: number;
  /** `active`: slots in use (tagged threads excluded). */
  active: number;
  /** High-water mark of `active` since construction or {@link Scheduler.resetMaxActive}. */
  maxActive: number;
  /** `a_B`, `a_R`. */
  batchActive: number;
  replyActive: number;
  batchQueued: number;
  replyQueued: number;
  /** Σ `q_c`. */
  commandsQueued: number;
  /** `batchQueued + replyQueued + commandsQueued`. */
  queued: number;
  /** Commands dropped on a full queue, all categories. */
  dropped: number;
  perCategory: Record<string, CategoryStats>;
  tagged: Record<string, { busy: boolean; queued: number }>;
}

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

type BatchEntry<R> =
  | { fn: () => R | Promise<R>; worker?: undefined; thread: TaggedThreadID | undefined }
  | { fn?: undefined; worker: WorkerJobSpec; thread: TaggedThreadID | undefined };

/** What {@link Scheduler.batch} takes out of a {@link Batch} when it seals it. */
interface BatchPlan<R> {
  entries: BatchEntry<R>[];
  completion: ((results: JobResult<R>[]) => unknown) | undefined;
  completionThread: TaggedThreadID | undefined;
  /** A `job()`: no completion, and errors are logged instead of captured. */
  single: boolean;
}

const SEAL = Symbol('Batch.seal');

function checkJobThread(thread: TaggedThreadID | undefined): void {
  if (thread === undefined) return;
  if (thread === RUN_IN_PROXY) {
    throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'batch jobs cannot run in the proxy; only a completion can');
  }
  if (!Number.isInteger(thread) || thread < 1) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'invalid tagged thread id');
}

/**
 * A set of jobs whose results are collected, in the order added, for one optional completion
 * that runs after the last job finishes (§6.6). Jobs run in any order, possibly in parallel.
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

/** One unit of work on some queue. */
interface Task {
  run: () => unknown;
  /** Receives the outcome; without it a failure is reported through the logger and onError. */
  settle: ((ok: boolean, valueOrError: unknown) => void) | undefined;
  kind: JobKind;
  label: string;
}

interface Category {
  name: string;
  reserved: number;
  maxQueue: number;
  active: number;
  dropped: number;
  /** This category's share of the pending-command FIFO; `seq` restores the global order. */
  queue: RingQueue<{ seq: number; task: Task }>;
}

interface TaggedThread {
  id: TaggedThreadID;
  name: string;
  startTask: Task | undefined;
  queue: RingQueue<Task>;
  busy: boolean;
}

interface Timer {
  id: TimerID;
  fn: () => unknown;
  interval: number;
  squelch: boolean;
  thread: TaggedThreadID | undefined;
  /** A run is queued or running (only consulted with squelch). */
  running: boolean;
  handle: TimerHandle | undefined;
  cancelled: boolean;
  /** Fired before start(): processed on start (§6.8 "fires on the first iteration"). */
  due: boolean;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function checkCount(what: string, n: number, min: number): void {
  if (!Number.isInteger(n) || n < min) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `${what} must be an integer ≥ ${min}`);
}

/**
 * Admits, queues and runs jobs under the limits of PROTOCOL.md §6: incoming commands and
 * injected tasks per category, reply callbacks, batch jobs, tagged threads and timers.
 */
export class Scheduler {
  /** Error hook; may also be set after construction. */
  onError: ((err: unknown, info: JobErrorInfo) => void) | undefined;

  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly workerOptions: { size?: number; defaultTimeoutMs?: number };
  private pool: WorkerPool | undefined;

  private general: number;
  private batchReserved: number | undefined;
  private replyReserved: number | undefined;
  /** `M`, fixed at start(). */
  private max = 0;

  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  private active = 0;
  private maxActive = 0;
  private batchActive = 0;
  private replyActive = 0;
  private commandsQueued = 0;
  private droppedTotal = 0;
  private seq = 0;

  private readonly categories = new Map<string, Category>();
  /** The same categories as an array, for the allocation-free pending-command walk. */
  private readonly categoryList: Category[] = [];
  private readonly batchQueue = new RingQueue<Task>();
  private readonly replyQueue = new RingQueue<Task>();
  /** Commands submitted before start(), admitted in order when it runs. */
  private readonly preStart = new RingQueue<{ category: Category; task: Task }>();
  private readonly threads: TaggedThread[] = [];
  private readonly timers = new Map<number, Timer>();
  private nextTimerId = 1;

  constructor(options: SchedulerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.onError = options.onError;
    this.workerOptions = { size: options.workerThreads, defaultTimeoutMs: options.workerTimeoutMs };
    this.general = Math.max(1, os.availableParallelism());
    if (options.generalThreads !== undefined) this.setGeneralThreads(options.generalThreads);
    if (options.batchThreads !== undefined) this.setBatchThreads(options.batchThreads);
    if (options.replyThreads !== undefined) this.setReplyThreads(options.replyThreads);
  }

  // ---- configuration (before start) -------------------------------------------------------

  /** Sets `G` (≥ 1). Before `start()` only. */
  setGeneralThreads(n: number): void {
    this.checkNotStarted('setGeneralThreads');
    checkCount('general threads', n, 1);
    this.general = n;
  }

  /** Sets `B` (≥ 0), the slots reserved for batch jobs. Before `start()` only. */
  setBatchThreads(n: number): void {
    this.checkNotStarted('setBatchThreads');
    checkCount('batch threads', n, 0);
    this.batchReserved = n;
  }

  /** Sets `R` (≥ 0), the slots reserved for reply callbacks. Before `start()` only. */
  setReplyThreads(n: number): void {
    this.checkNotStarted('setReplyThreads');
    checkCount('reply threads', n, 0);
    this.replyReserved = n;
  }

  /**
   * Registers a command category with `reservedThreads` (`r_c` ≥ 0) and `maxQueue`
   * (−1 unlimited, 0 never queue). Before `start()` only; a duplicate name throws.
   */
  addCategory(name: string, reservedThreads = 0, maxQueue = 200): void {
    this.checkNotStarted('addCategory');
    if (typeof name !== 'string' || name === '') throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'category name must be a non-empty string');
    if (this.categories.has(name)) throw new OmqError(OmqErrorCode.REGISTRATION, `category ${JSON.stringify(name)} already exists`);
    checkCount('reserved threads', reservedThreads, 0);
    checkCount('maxQueue', maxQueue, -1);
    const c: Category = { name, reserved: reservedThreads, maxQueue, active: 0, dropped: 0, queue: new RingQueue() };
    this.categories.set(name, c);
    this.categoryList.push(c);
  }

  /**
   * Adds a tagged thread: a named serial queue that runs only jobs sent to it, in order, one at a
   * time, outside the `G`/`M` accounting (§6.7). `start` runs on it once `start()` was called.
   * Before `start()` only.
   */
  addTaggedThread(name: string, start?: () => unknown): TaggedThreadID {
    this.checkNotStarted('addTaggedThread');
    if (typeof name !== 'string' || name === '' || name === '_proxy' || name.includes('\0')) {
      throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'tagged thread name must be non-empty, not "_proxy", without NUL');
    }
    if (this.threads.some((t) => t.name === name)) {
      throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `tagged thread ${JSON.stringify(name)} already exists`);
    }
    if (start !== undefined && typeof start !== 'function') throw new TypeError('tagged thread start callback must be a function');
    const id = (this.threads.length + 1) as TaggedThreadID;
    this.threads.push({
      id,
      name,
      startTask: start ? { run: start, settle: undefined, kind: 'tagged-start', label: name } : undefined,
      queue: new RingQueue(),
      busy: false,
    });
    return id;
  }

  /**
   * Fixes the limits (`B`, `R` defaults, `M`), runs tagged threads' start callbacks, admits
   * commands submitted earlier, processes timers that fell due, and starts draining.
   */
  start(): void {
    if (this.closed) throw new OmqError(OmqErrorCode.CLOSED, 'scheduler is closed');
    if (this.started) throw new OmqError(OmqErrorCode.INVALID_STATE, 'scheduler already started');
    this.batchReserved ??= Math.ceil(this.general / 2);
    this.replyReserved ??= Math.ceil(this.general / 8);
    let m = this.general + this.batchReserved + this.replyReserved;
    for (const c of this.categoryList) m += c.reserved;
    this.max = m;
    this.started = true;
    for (let p = this.preStart.shift(); p; p = this.preStart.shift()) this.admit(p.category, p.task);
    for (const t of this.timers.values()) {
      if (t.due) {
        t.due = false;
        this.fireTimer(t);
      }
    }
    this.drain();
  }

  /**
   * Stops everything: cancels timers, discards queued jobs (their batches' completions never
   * run), stops admitting work and terminates the worker pool. Jobs already started run to
   * their end but start nothing further. Idempotent; resolves once the pool's threads exited.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const t of this.timers.values()) {
      t.cancelled = true;
      if (t.handle !== undefined) this.clock.clearTimeout(t.handle);
    }
    this.timers.clear();
    this.batchQueue.clear();
    this.replyQueue.clear();
    this.preStart.clear();
    for (const c of this.categoryList) c.queue.clear();
    this.commandsQueued = 0;
    for (const t of this.threads) {
      t.queue.clear();
      t.startTask = undefined;
    }
    const pool = this.pool;
    this.closing = pool ? pool.close() : Promise.resolve();
    return this.closing;
  }

  // ---- submission -------------------------------------------------------------------------

  /**
   * Admits a command of `category` (§6.2): started at once if the category is under its
   * reservation or fewer than `G` slots are busy, else queued, or dropped (logged, nothing
   * else) when the category's queue is full. Before `start()` it is held and admitted at start.
   * The job runs from a microtask, never inside this call.
   */
  submitCommand(category: string, job: () => unknown, label?: string): SubmitResult {
    const c = this.categories.get(category);
    if (!c) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `unknown category ${JSON.stringify(category)}`);
    if (typeof job !== 'function') throw new TypeError('submitCommand: job must be a function');
    const task: Task = { run: job, settle: undefined, kind: 'command', label: label ?? category };
    if (this.closed) {
      this.logger.debug?.(`scheduler: closed, dropping ${task.label}`);
      return 'dropped';
    }
    if (!this.started) {
      this.preStart.push({ category: c, task });
      return 'queued';
    }
    return this.admit(c, task);
  }

  /**
   * `inject_task` (§6.9): runs `fn` as if it were a command of `category`, with the same
   * admission, reservation and max-queue rules. `command`/`remote` only label logs. An unknown
   * category throws; a null `fn` is ignored (reported as `'dropped'`).
   */
  injectTask(category: string, command: string, remote: string, fn: (() => unknown) | null | undefined): SubmitResult {
    if (!this.categories.has(category)) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `unknown category ${JSON.stringify(category)}`);
    if (fn == null) return 'dropped';
    return this.submitCommand(category, fn, `${command} (injected from ${remote})`);
  }

  /** Queues a job on the reply queue (request callbacks on REPLY, connect successes; §6.4). */
  submitReply(job: () => unknown, label = 'reply'): void {
    this.enqueue(this.replyQueue, { run: job, settle: undefined, kind: 'reply', label });
  }

  /** Queues a raw job on the batch queue (request TIMEOUTs, send failures; §6.4). */
  submitBatchJob(job: () => unknown, label = 'batch job'): void {
    this.enqueue(this.batchQueue, { run: job, settle: undefined, kind: 'batch', label });
  }

  /**
   * Submits a batch (§6.6): each job goes to the batch queue or its tagged thread; the
   * completion, if any, is queued when the last job finished. Zero jobs, resubmission or an
   * unknown tagged thread throws.
   */
  batch<R>(batch: Batch<R>): void {
    this.checkOpen();
    this.submitPlan(batch[SEAL](false, (t) => this.checkThread(t)));
  }

  /**
   * Runs `fn` once on the batch queue (or tagged thread): a one-job batch without completion.
   * Its errors are logged and swallowed. {@link RUN_IN_PROXY} is refused.
   */
  job(fn: () => unknown, thread?: TaggedThreadID): void {
    this.checkOpen();
    if (typeof fn !== 'function') throw new TypeError('job: fn must be a function');
    checkJobThread(thread);
    this.checkThread(thread);
    const b = new Batch<unknown>().addJob(fn, thread);
    this.submitPlan(b[SEAL](true, (t) => this.checkThread(t)));
  }

  /** Shortcut for a one-job worker-pool batch with a completion receiving its result. */
  workerJob<R>(spec: WorkerJobSpec, completion: (result: JobResult<R>) => unknown, thread?: TaggedThreadID): void {
    this.batch(new Batch<R>().addWorkerJob(spec).completion(([r]) => completion(r!), thread));
  }

  // ---- timers -----------------------------------------------------------------------------

  /**
   * Calls `fn` every `intervalMs` (§6.8): first `intervalMs` after this call, then `intervalMs`
   * after each firing was processed (no catch-up). With `squelch` (default) a firing is skipped
   * while the previous run is still queued or running. Runs as a batch job, on `thread`, or
   * directly in the proxy for {@link RUN_IN_PROXY}. Works before `start()` (due firings then
   * happen at start).
   */
  addTimer(fn: () => unknown, intervalMs: number, options: { squelch?: boolean; thread?: TaggedThreadID } = {}): TimerID {
    this.checkOpen();
    if (typeof fn !== 'function') throw new TypeError('addTimer: fn must be a function');
    // A 0 ms timer would re-arm for "now" forever and starve everything else.
    if (typeof intervalMs !== 'number' || !(intervalMs > 0) || !Number.isFinite(intervalMs)) {
      throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, 'timer interval must be a finite number > 0');
    }
    const thread = options.thread;
    if (thread !== undefined && thread !== RUN_IN_PROXY) {
      checkJobThread(thread);
      this.checkThread(thread);
    }
    const t: Timer = {
      id: this.nextTimerId++ as TimerID,
      fn,
      interval: intervalMs,
      squelch: options.squelch ?? true,
      thread,
      running: false,
      handle: undefined,
      cancelled: false,
      due: false,
    };
    this.timers.set(t.id, t);
    this.armTimer(t);
    return t.id;
  }

  /** Stops future firings of a timer; runs already queued still happen. Idempotent. */
  cancelTimer(id: TimerID): void {
    const t = this.timers.get(id);
    if (!t) return;
    t.cancelled = true;
    if (t.handle !== undefined) this.clock.clearTimeout(t.handle);
    t.handle = undefined;
    this.timers.delete(id);
  }

  // ---- observability ----------------------------------------------------------------------

  /** A snapshot of all counters. */
  stats(): SchedulerStats {
    const perCategory: Record<string, CategoryStats> = {};
    for (const c of this.categoryList) {
      perCategory[c.name] = { active: c.active, queued: c.queue.length, dropped: c.dropped, reserved: c.reserved, maxQueue: c.maxQueue };
    }
    const tagged: Record<string, { busy: boolean; queued: number }> = {};
    for (const t of this.threads) tagged[t.name] = { busy: t.busy, queued: t.queue.length + (t.startTask ? 1 : 0) };
    const batchReserved = this.batchReserved ?? Math.ceil(this.general / 2);
    const replyReserved = this.replyReserved ?? Math.ceil(this.general / 8);
    let m = this.general + batchReserved + replyReserved;
    for (const c of this.categoryList) m += c.reserved;
    const preStartQueued = this.preStart.length;
    return {
      started: this.started,
      generalThreads: this.general,
      batchThreads: batchReserved,
      replyThreads: replyReserved,
      maxThreads: this.started ? this.max : m,
      active: this.active,
      maxActive: this.maxActive,
      batchActive: this.batchActive,
      replyActive: this.replyActive,
      batchQueued: this.batchQueue.length,
      replyQueued: this.replyQueue.length,
      commandsQueued: this.commandsQueued + preStartQueued,
      queued: this.batchQueue.length + this.replyQueue.length + this.commandsQueued + preStartQueued,
      dropped: this.droppedTotal,
      perCategory,
      tagged,
    };
  }

  /** Resets the `maxActive` high-water mark to the current `active`. */
  resetMaxActive(): void {
    this.maxActive = this.active;
  }

  // ---- admission and draining (§6.2, §6.3) ------------------------------------------------

  private admit(c: Category, task: Task): SubmitResult {
    if (c.active < c.reserved || this.active < this.general) {
      this.startCommand(c, task);
      return 'started';
    }
    if (c.maxQueue >= 0 && c.queue.length >= c.maxQueue) {
      c.dropped++;
      this.droppedTotal++;
      this.logger.warn(`scheduler: dropping ${task.label}: category ${c.name} queue is full (${c.maxQueue})`);
      return 'dropped';
    }
    c.queue.push({ seq: this.seq++, task });
    this.commandsQueued++;
    return 'queued';
  }

  private enqueue(queue: RingQueue<Task>, task: Task): void {
    if (this.closed) {
      this.logger.debug?.(`scheduler: closed, dropping ${task.label}`);
      return;
    }
    queue.push(task);
    this.drain();
  }

  /** §6.3, in order: tagged threads, batch FIFO, reply FIFO, then the pending-command walk. */
  private drain(): void {
    if (!this.started || this.closed) return;

    for (const t of this.threads) {
      if (t.busy) continue;
      const task = t.startTask ?? t.queue.shift();
      if (!task) continue;
      t.startTask = undefined;
      t.busy = true;
      this.invoke(task, () => {
        t.busy = false;
      });
    }

    const g = this.general;
    const m = this.max;
    const b = this.batchReserved!;
    const r = this.replyReserved!;
    while (this.batchQueue.length > 0 && this.active < m && (this.batchActive < b || this.active < g)) {
      this.take();
      this.batchActive++;
      this.invoke(this.batchQueue.shift()!, () => {
        this.batchActive--;
        this.active--;
      });
    }
    while (this.replyQueue.length > 0 && this.active < m && (this.replyActive < r || this.active < g)) {
      this.take();
      this.replyActive++;
      this.invoke(this.replyQueue.shift()!, () => {
        this.replyActive--;
        this.active--;
      });
    }

    // The pending-command FIFO is kept per category, each entry stamped with its global arrival
    // order. Within one walk `active` and every `a_c` only grow, so once a category's head is
    // blocked every later entry of it is blocked too; the front-to-back walk that skips blocked
    // entries is therefore "repeatedly start the oldest head among unblocked categories" —
    // O(categories) per start instead of re-scanning thousands of blocked entries.
    while (this.commandsQueued > 0 && this.active < m) {
      let best: Category | undefined;
      let bestSeq = Infinity;
      const overG = this.active >= g;
      for (const c of this.categoryList) {
        const head = c.queue.peek();
        if (head === undefined || head.seq >= bestSeq) continue;
        if (overG && c.active >= c.reserved) continue;
        best = c;
        bestSeq = head.seq;
      }
      if (!best) break;
      const entry = best.queue.shift()!;
      this.commandsQueued--;
      this.startCommand(best, entry.task);
    }
  }

  private startCommand(c: Category, task: Task): void {
    this.take();
    c.active++;
    this.invoke(task, () => {
      c.active--;
      this.active--;
    });
  }

  /** Counts one more busy slot. */
  private take(): void {
    if (++this.active > this.maxActive) this.maxActive = this.active;
  }

  /**
   * Runs `task` from a microtask (never inside the submitter's stack); when it has returned or
   * its promise settled, hands the outcome on, frees the slot via `release` and drains again.
   */
  private invoke(task: Task, release: () => void): void {
    queueMicrotask(() => {
      let done = false;
      const finish = (ok: boolean, value: unknown) => {
        if (done) return;
        done = true;
        // Free the slot first: a batch's completion queued from `settle` then competes for it
        // like any new job, and one run in the proxy sees the batch's slots already returned.
        release();
        if (task.settle) {
          try {
            task.settle(ok, value);
          } catch (err) {
            this.report(err, task.kind, task.label);
          }
        } else if (!ok) {
          this.report(value, task.kind, task.label);
        }
        this.drain();
      };
      let result: unknown;
      try {
        result = task.run();
      } catch (err) {
        finish(false, err);
        return;
      }
      if (!isThenable(result)) {
        finish(true, result);
        return;
      }
      try {
        result.then(
          (v) => finish(true, v),
          (e) => finish(false, e),
        );
      } catch (err) {
        finish(false, err);
      }
    });
  }

  private report(err: unknown, kind: JobKind, label: string): void {
    this.logger.error(`scheduler: ${kind} ${label} failed`, err);
    const hook = this.onError;
    if (!hook) return;
    try {
      hook(err, { kind, label });
    } catch (hookErr) {
      this.logger.error('scheduler: onError hook threw', hookErr);
    }
  }

  // ---- batches ----------------------------------------------------------------------------

  private submitPlan<R>(plan: BatchPlan<R>): void {
    const n = plan.entries.length;
    const results: (JobResult<R> | undefined)[] = new Array(n);
    let remaining = n;
    const onJobDone = (i: number, ok: boolean, v: unknown) => {
      results[i] = new JobResult<R>(ok, v);
      // Without a completion nobody will look at the JobResult (job() is the common case:
      // §6.6 "exceptions are swallowed"), so the error is logged and reported instead.
      if (!ok && !plan.completion) this.report(v, plan.single ? 'job' : 'batch', plan.single ? 'job' : 'batch job');
      if (--remaining === 0 && plan.completion) this.runCompletion(plan, results as JobResult<R>[]);
    };
    for (let i = 0; i < n; i++) {
      const e = plan.entries[i]!;
      const run = e.worker ? () => this.workerPool().run(e.worker) : e.fn;
      const task: Task = { run, settle: (ok, v) => onJobDone(i, ok, v), kind: 'batch', label: e.worker ? `worker job ${e.worker.export ?? 'default'}` : 'batch job' };
      this.route(task, e.thread);
    }
  }

  private runCompletion<R>(plan: BatchPlan<R>, results: JobResult<R>[]): void {
    if (this.closed) return;
    const fn = plan.completion!;
    const task: Task = { run: () => fn(results), settle: undefined, kind: 'completion', label: 'batch completion' };
    if (plan.completionThread === RUN_IN_PROXY) this.runInProxy(task);
    else this.route(task, plan.completionThread);
  }

  /** Sends a task to its tagged thread or the batch queue. */
  private route(task: Task, thread: TaggedThreadID | undefined): void {
    if (thread === undefined) {
      this.enqueue(this.batchQueue, task);
    } else {
      this.enqueue(this.threads[thread - 1]!.queue, task);
    }
  }

  /** Runs a trivial callback right here, holding no slot; async ones are awaited only for errors. */
  private runInProxy(task: Task): void {
    let result: unknown;
    try {
      result = task.run();
    } catch (err) {
      this.report(err, task.kind, task.label);
      task.settle?.(false, err);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (v) => task.settle?.(true, v),
        (e) => {
          this.report(e, task.kind, task.label);
          task.settle?.(false, e);
        },
      );
    } else {
      task.settle?.(true, result);
    }
  }

  private workerPool(): WorkerPool {
    if (this.closed) throw new OmqError(OmqErrorCode.CLOSED, 'scheduler is closed');
    this.pool ??= new WorkerPool({ ...this.workerOptions, clock: this.clock, logger: this.logger });
    return this.pool;
  }

  // ---- timers (internals) -----------------------------------------------------------------

  private armTimer(t: Timer): void {
    t.handle = this.clock.setTimeout(() => {
      t.handle = undefined;
      if (t.cancelled || this.closed) return;
      if (!this.started) {
        t.due = true;
        return;
      }
      this.fireTimer(t);
    }, t.interval);
  }

  /** Processes one firing, then re-arms `interval` from now (drift accumulates by design). */
  private fireTimer(t: Timer): void {
    if (!(t.squelch && t.running)) {
      const task: Task = {
        run: t.fn,
        settle: (ok, v) => {
          t.running = false;
          if (!ok) this.report(v, 'timer', `timer ${t.id}`);
        },
        kind: 'timer',
        label: `timer ${t.id}`,
      };
      t.running = true;
      if (t.thread === RUN_IN_PROXY) {
        // runInProxy reports errors itself; only the squelch flag needs clearing.
        this.runInProxy({ ...task, settle: () => void (t.running = false) });
      } else {
        this.route(task, t.thread);
      }
    }
    if (!t.cancelled && !this.closed) this.armTimer(t);
  }

  // ---- guards -----------------------------------------------------------------------------

  private checkNotStarted(what: string): void {
    if (this.started || this.closed) throw new OmqError(OmqErrorCode.INVALID_STATE, `${what} must be called before start()`);
  }

  private checkOpen(): void {
    if (this.closed) throw new OmqError(OmqErrorCode.CLOSED, 'scheduler is closed');
  }

  private checkThread(thread: TaggedThreadID | undefined): void {
    if (thread === undefined || thread === RUN_IN_PROXY) return;
    if (!this.threads[thread - 1]) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `no tagged thread with id ${thread}`);
  }
}
