/**
 * The job scheduler: C++ oxenmq's worker pool and its limits (upstream `oxenmq/worker.cpp` for
 * admission and draining, `oxenmq/jobs.cpp` for batches, timers and reply jobs), kept exactly so
 * the README's four examples give the same concurrency as upstream.
 *
 * C++ OxenMQ runs callbacks on worker threads; here a "worker" is a *slot*: a job holds one from
 * the moment it is admitted until it returns or, if it returns a promise, until that promise
 * settles. Upstream's counters are kept by name: `G` general slots, `B`/`R` slots reserved for
 * batch and reply jobs, `r_c` reserved per category, `M = G + B + R + Σ r_c` slots in all,
 * `active` busy slots, `a_c`/`q_c` running/queued commands per category, `a_B`/`a_R` running
 * batch/reply jobs.
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
import { type Clock, LogThrottle, RingQueue, type TimerHandle, systemClock } from '../../zmtp/index.js';
import { OmqError, OmqErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { Batch, type BatchPlan, JobResult, RUN_IN_PROXY, SEAL, type TaggedThreadID, checkJobThread } from './batch.js';
import type { WorkerJobSpec, WorkerPool, WorkerPoolOptions } from './worker-pool.js';

declare const timerBrand: unique symbol;

/** Identifies a timer created by {@link Scheduler.addTimer}. */
export type TimerID = number & { readonly [timerBrand]: true };

/** Outcome of admitting a command or injected task. */
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
  /** `G`: general slots, ≥ 1. Default `max(1, parallelism)`. */
  generalThreads?: number;
  /** `B`: slots reserved for batch jobs, ≥ 0. Default ⌈G/2⌉. */
  batchThreads?: number;
  /** `R`: slots reserved for reply jobs, ≥ 0. Default ⌈G/8⌉. */
  replyThreads?: number;
  /** The CPUs to plan for (the default of `G` and of the worker threads). Default 1. */
  parallelism?: number;
  /** Makes the pool that runs worker jobs; without it worker jobs fail with ERR_OMQ_UNSUPPORTED. */
  workerPool?: (options: WorkerPoolOptions) => WorkerPool;
  /** Worker threads for {@link Batch.addWorkerJob} jobs. Default `parallelism`. */
  workerThreads?: number;
  /** Timeout for worker jobs that set none; 0 (default) none. */
  workerTimeoutMs?: number;
  /** The worker threads' entry file, where the default (see WorkerPoolOptions.entry) does not fit. */
  workerEntry?: string | URL;
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
  /** `r_c`: slots reserved for this category. */
  reserved: number;
  /** Most commands that may wait (−1 unlimited, 0 never queue). */
  maxQueue: number;
}

/** A snapshot of the scheduler's counters (upstream's symbols in brackets). */
export interface SchedulerStats {
  /** True once start() ran. */
  started: boolean;
  /** `G`: general slots. */
  generalThreads: number;
  /** `B`: slots reserved for batch jobs (default resolved). */
  batchThreads: number;
  /** `R`: slots reserved for reply callbacks (default resolved). */
  replyThreads: number;
  /** `M = G + B + R + Σ r_c`. */
  maxThreads: number;
  /** `active`: slots in use (tagged threads excluded). */
  active: number;
  /** High-water mark of `active` since construction or {@link Scheduler.resetMaxActive}. */
  maxActive: number;
  /** `a_B`: running batch jobs. */
  batchActive: number;
  /** `a_R`: running reply callbacks. */
  replyActive: number;
  /** Batch jobs waiting for a slot. */
  batchQueued: number;
  /** Reply callbacks waiting for a slot. */
  replyQueued: number;
  /** Σ `q_c`. */
  commandsQueued: number;
  /** `batchQueued + replyQueued + commandsQueued`. */
  queued: number;
  /** Commands dropped on a full queue, all categories. */
  dropped: number;
  /** Per category, keyed by the category's name as registered. */
  perCategory: Record<string, CategoryStats>;
  /** Per tagged thread, by name: running something, and how many jobs wait. */
  tagged: Record<string, { busy: boolean; queued: number }>;
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
  /** Fired before start(): processed on start (upstream fires it on the proxy's first iteration). */
  due: boolean;
}

/** The batch or the reply queue with the slots reserved for it and its running jobs. */
interface ReservedQueue {
  readonly queue: RingQueue<Task>;
  /** `B` or `R` as set; undefined until start() for the default. */
  reserved: number | undefined;
  /** `a_B` or `a_R`. */
  active: number;
  /** The default reservation is ⌈G / defaultDivisor⌉. */
  readonly defaultDivisor: number;
}

function newReservedQueue(defaultDivisor: number): ReservedQueue {
  return { queue: new RingQueue(), reserved: undefined, active: 0, defaultDivisor };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function checkCount(what: string, n: number, min: number): void {
  if (!Number.isInteger(n) || n < min) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `${what} must be an integer ≥ ${min}`);
}

/**
 * Admits, queues and runs jobs under C++ oxenmq's limits: incoming commands and
 * injected tasks per category, reply callbacks, batch jobs, tagged threads and timers.
 */
export class Scheduler {
  /** Error hook; may also be set after construction. */
  onError: ((err: unknown, info: JobErrorInfo) => void) | undefined;

  private readonly clock: Clock;
  private readonly logger: Logger;
  /** Drops under a command flood are logged rate limited, per category. */
  private readonly throttle: LogThrottle;
  private readonly workerOptions: { size?: number; defaultTimeoutMs?: number; entry?: string | URL };
  private pool: WorkerPool | undefined;
  private readonly newPool: ((o: WorkerPoolOptions) => WorkerPool) | undefined;

  private general: number;
  /** Batch jobs (`B` reserved, `a_B` running) and reply jobs (`R`, `a_R`). */
  private readonly batchJobs = newReservedQueue(2);
  private readonly replyJobs = newReservedQueue(8);
  /** `M`, fixed at start(). */
  private max = 0;

  private started = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  private active = 0;
  private maxActive = 0;
  private commandsQueued = 0;
  private droppedTotal = 0;
  private seq = 0;

  private readonly categories = new Map<string, Category>();
  /** The same categories as an array, for the allocation-free pending-command walk. */
  private readonly categoryList: Category[] = [];
  /** Commands submitted before start(), admitted in order when it runs. */
  private readonly preStart = new RingQueue<{ category: Category; task: Task }>();
  private readonly threads: TaggedThread[] = [];
  private readonly timers = new Map<number, Timer>();
  private nextTimerId = 1;

  constructor(options: SchedulerOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.throttle = new LogThrottle(this.logger, this.clock);
    this.onError = options.onError;
    this.workerOptions = { size: options.workerThreads, defaultTimeoutMs: options.workerTimeoutMs, entry: options.workerEntry };
    this.general = Math.max(1, options.parallelism ?? 1);
    this.newPool = options.workerPool;
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
    this.batchJobs.reserved = n;
  }

  /** Sets `R` (≥ 0), the slots reserved for reply callbacks. Before `start()` only. */
  setReplyThreads(n: number): void {
    this.checkNotStarted('setReplyThreads');
    checkCount('reply threads', n, 0);
    this.replyJobs.reserved = n;
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
   * time, outside the `G`/`M` accounting. `start` runs on it once `start()` was called.
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
    this.batchJobs.reserved = this.reservedFor(this.batchJobs);
    this.replyJobs.reserved = this.reservedFor(this.replyJobs);
    this.max = this.slotTotal();
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
    this.batchJobs.queue.clear();
    this.replyJobs.queue.clear();
    this.preStart.clear();
    for (const c of this.categoryList) c.queue.clear();
    this.commandsQueued = 0;
    for (const t of this.threads) {
      t.queue.clear();
      t.startTask = undefined;
    }
    this.throttle.close();
    const pool = this.pool;
    this.closing = pool ? pool.close() : Promise.resolve();
    return this.closing;
  }

  // ---- submission -------------------------------------------------------------------------

  /**
   * Admits a command of `category`: started at once if the category is under its
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
   * `inject_task`: runs `fn` as if it were a command of `category`, with the same
   * admission, reservation and max-queue rules. `command`/`remote` only label logs. An unknown
   * category throws; a null `fn` is ignored (reported as `'dropped'`).
   */
  injectTask(category: string, command: string, remote: string, fn: (() => unknown) | null | undefined): SubmitResult {
    if (!this.categories.has(category)) throw new OmqError(OmqErrorCode.INVALID_ARGUMENT, `unknown category ${JSON.stringify(category)}`);
    if (fn == null) return 'dropped';
    return this.submitCommand(category, fn, `${command} (injected from ${remote})`);
  }

  /** Queues a job on the reply queue (request callbacks on REPLY, connect successes). */
  submitReply(job: () => unknown, label = 'reply'): void {
    this.enqueue(this.replyJobs.queue, { run: job, settle: undefined, kind: 'reply', label });
  }

  /** Queues a raw job on the batch queue (request TIMEOUTs, send failures, as upstream). */
  submitBatchJob(job: () => unknown, label = 'batch job'): void {
    this.enqueue(this.batchJobs.queue, { run: job, settle: undefined, kind: 'batch', label });
  }

  /**
   * Submits a batch: each job goes to the batch queue or its tagged thread; the
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
   * Calls `fn` every `intervalMs`: first `intervalMs` after this call, then `intervalMs`
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
    const preStartQueued = this.preStart.length;
    const batchQueued = this.batchJobs.queue.length;
    const replyQueued = this.replyJobs.queue.length;
    return {
      started: this.started,
      generalThreads: this.general,
      batchThreads: this.reservedFor(this.batchJobs),
      replyThreads: this.reservedFor(this.replyJobs),
      maxThreads: this.started ? this.max : this.slotTotal(),
      active: this.active,
      maxActive: this.maxActive,
      batchActive: this.batchJobs.active,
      replyActive: this.replyJobs.active,
      batchQueued,
      replyQueued,
      commandsQueued: this.commandsQueued + preStartQueued,
      queued: batchQueued + replyQueued + this.commandsQueued + preStartQueued,
      dropped: this.droppedTotal,
      perCategory,
      tagged,
    };
  }

  /** Resets the `maxActive` high-water mark to the current `active`. */
  resetMaxActive(): void {
    this.maxActive = this.active;
  }

  // ---- admission and draining (upstream `oxenmq/worker.cpp`) ------------------------------

  private admit(c: Category, task: Task): SubmitResult {
    if (c.active < c.reserved || this.active < this.general) {
      this.startCommand(c, task);
      return 'started';
    }
    if (c.maxQueue >= 0 && c.queue.length >= c.maxQueue) {
      c.dropped++;
      this.droppedTotal++;
      this.throttle.warn('queue-full', c.name, `scheduler: dropping ${task.label}: category ${c.name} queue is full (${c.maxQueue})`);
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

  /** Upstream's order: tagged threads, batch FIFO, reply FIFO, then the pending-command walk. */
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

    this.drainReserved(this.batchJobs);
    this.drainReserved(this.replyJobs);
    const g = this.general;
    const m = this.max;

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

  /** Starts queued batch or reply jobs while a slot is free: under their reservation, or under `G`. */
  private drainReserved(q: ReservedQueue): void {
    const reserved = q.reserved!;
    while (q.queue.length > 0 && this.active < this.max && (q.active < reserved || this.active < this.general)) {
      this.take();
      q.active++;
      this.invoke(q.queue.shift()!, () => {
        q.active--;
        this.active--;
      });
    }
  }

  /** `B` or `R`: as set, or the default share of `G` (⌈G/2⌉, ⌈G/8⌉). */
  private reservedFor(q: ReservedQueue): number {
    return q.reserved ?? Math.ceil(this.general / q.defaultDivisor);
  }

  /** `M = G + B + R + Σ r_c`: every slot there is. */
  private slotTotal(): number {
    let m = this.general + this.reservedFor(this.batchJobs) + this.reservedFor(this.replyJobs);
    for (const c of this.categoryList) m += c.reserved;
    return m;
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
      // upstream swallows its exceptions), so the error is logged and reported instead.
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
      this.enqueue(this.batchJobs.queue, task);
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
    if (this.newPool === undefined) throw new OmqError(OmqErrorCode.UNSUPPORTED, 'worker jobs need worker threads, which this runtime does not have');
    this.pool ??= this.newPool({ ...this.workerOptions, clock: this.clock, logger: this.logger });
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
