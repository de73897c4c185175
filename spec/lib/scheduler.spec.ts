/**
 * The job scheduler, with C++ oxenmq's worker accounting (oxen-mq `oxenmq/proxy.cpp`,
 * `worker.cpp`, `jobs.cpp`): the four admission examples of the oxen-mq README, the upstream
 * test_inject / test_tagged_threads / test_batch / test_timer semantics, max-queue drops,
 * floods, and error containment. Jobs are promises resolved by hand and timers run on a
 * ManualClock, so nothing here sleeps or depends on timing.
 */
import { expect } from 'chai';
import { availableParallelism } from 'node:os';
import { ManualClock } from '../../zmtp/clock.js';
import { OmqError, OmqErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { Batch, type JobErrorInfo, type JobResult, RUN_IN_PROXY, Scheduler, type SchedulerOptions } from '../../lib/jobs/index.js';
import { OxenMQ } from '../../lib/oxenmq.js';

/** Lets every queued microtask and promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Gate {
  promise: Promise<void>;
  open(): void;
  fail(err: unknown): void;
}

function gate(): Gate {
  let open!: () => void;
  let fail!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

/** Blocking jobs by name: records which are running and the most ever running together. */
class Blockers {
  readonly running = new Set<string>();
  readonly started: string[] = [];
  maxRunning = 0;
  private readonly gates = new Map<string, Gate>();

  job(name: string): () => Promise<void> {
    const g = gate();
    this.gates.set(name, g);
    return () => {
      this.running.add(name);
      this.started.push(name);
      this.maxRunning = Math.max(this.maxRunning, this.running.size);
      return g.promise.then(() => {
        this.running.delete(name);
      });
    };
  }

  async release(name: string): Promise<void> {
    this.gates.get(name)!.open();
    await flush();
  }

  names(): string[] {
    return [...this.running].sort();
  }
}

function captureLogger(): Logger & { warnings: string[]; errors: unknown[][] } {
  const warnings: string[] = [];
  const errors: unknown[][] = [];
  return {
    warnings,
    errors,
    warn: (msg: string) => void warnings.push(msg),
    error: (...args: unknown[]) => void errors.push(args),
  };
}

function expectOmqError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(OmqError);
    expect((err as OmqError).code).to.equal(code);
    return;
  }
  expect.fail(`expected an OmqError ${code}`);
}

describe('Scheduler', () => {
  const open: Scheduler[] = [];
  function make(options: SchedulerOptions = {}): Scheduler {
    const s = new Scheduler(options);
    open.push(s);
    return s;
  }
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  describe('configuration', () => {
    it('defaults B = ⌈G/2⌉ and R = ⌈G/8⌉ and M = G + B + R + Σ r_c', () => {
      const s = make({ generalThreads: 9 });
      s.addCategory('a', 2, 10);
      s.addCategory('b', 1);
      const st = s.stats();
      expect([st.generalThreads, st.batchThreads, st.replyThreads, st.maxThreads]).to.deep.equal([9, 5, 2, 19]);
      expect(st.perCategory.b).to.include({ reserved: 1, maxQueue: 200 });
    });

    it('defaults G to the parallelism it is given (≥ 1), and to 1 without one', () => {
      expect(make({ parallelism: 6 }).stats().generalThreads).to.equal(6);
      expect(make({ parallelism: 0 }).stats().generalThreads).to.equal(1);
      expect(make().stats().generalThreads).to.equal(1);
    });

    it('an instance under Node plans for the available parallelism', async () => {
      const omq = new OxenMQ();
      try {
        expect(omq.stats().generalThreads).to.equal(Math.max(1, availableParallelism()));
      } finally {
        await omq.close();
      }
    });

    it('without a worker pool a worker job fails with ERR_OMQ_UNSUPPORTED and the batch completes', async () => {
      const s = make();
      s.start();
      const results = await new Promise<JobResult<unknown>[]>((resolve) => {
        const b = new Batch<unknown>();
        b.addWorkerJob({ module: new URL('file:///nowhere.js') });
        b.completion(resolve);
        s.batch(b);
      });
      expect(results).to.have.length(1);
      expect(() => results[0]!.get()).to.throw().with.property('code', 'ERR_OMQ_UNSUPPORTED');
      await s.close();
    });

    it('refuses thread settings, categories and tagged threads after start()', () => {
      const s = make({ generalThreads: 1 });
      s.start();
      expectOmqError(() => s.setGeneralThreads(2), OmqErrorCode.INVALID_STATE);
      expectOmqError(() => s.setBatchThreads(2), OmqErrorCode.INVALID_STATE);
      expectOmqError(() => s.setReplyThreads(2), OmqErrorCode.INVALID_STATE);
      expectOmqError(() => s.addCategory('x', 0, 1), OmqErrorCode.INVALID_STATE);
      expectOmqError(() => s.addTaggedThread('t'), OmqErrorCode.INVALID_STATE);
      expectOmqError(() => s.start(), OmqErrorCode.INVALID_STATE);
    });

    it('validates counts, category names and tagged thread names', () => {
      const s = make();
      expectOmqError(() => s.setGeneralThreads(0), OmqErrorCode.INVALID_ARGUMENT);
      expectOmqError(() => s.setBatchThreads(-1), OmqErrorCode.INVALID_ARGUMENT);
      expectOmqError(() => s.setReplyThreads(1.5), OmqErrorCode.INVALID_ARGUMENT);
      expectOmqError(() => s.addCategory('q', 0, -2), OmqErrorCode.INVALID_ARGUMENT);
      s.addCategory('dup', 0, 1);
      expectOmqError(() => s.addCategory('dup', 0, 1), OmqErrorCode.REGISTRATION);
      expectOmqError(() => s.addTaggedThread(''), OmqErrorCode.INVALID_ARGUMENT);
      expectOmqError(() => s.addTaggedThread('_proxy'), OmqErrorCode.INVALID_ARGUMENT);
      expectOmqError(() => s.addTaggedThread('a\0b'), OmqErrorCode.INVALID_ARGUMENT);
      expect(s.addTaggedThread('one')).to.equal(1);
      expect(s.addTaggedThread('two')).to.equal(2);
    });

    it('throws for an unknown category', () => {
      const s = make();
      s.start();
      expectOmqError(() => s.submitCommand('nope', () => {}), OmqErrorCode.INVALID_ARGUMENT);
      expectOmqError(() => s.injectTask('nope', 'cmd', 'remote', () => {}), OmqErrorCode.INVALID_ARGUMENT);
    });
  });

  describe('admission: the oxen-mq README examples (G = 4, A reserves 2, B none)', () => {
    function setup(): { s: Scheduler; jobs: Blockers; submit: (order: string) => string[]; actives: number[] } {
      const s = make({ generalThreads: 4 });
      s.addCategory('A', 2, 200);
      s.addCategory('B', 0, 200);
      s.start();
      const jobs = new Blockers();
      const actives: number[] = [];
      const counts: Record<string, number> = { A: 0, B: 0 };
      const submit = (order: string) =>
        [...order].map((cat) => {
          const name = `${cat}${++counts[cat]!}`;
          const r = s.submitCommand(cat, jobs.job(name), name);
          actives.push(s.stats().active);
          return r;
        });
      return { s, jobs, submit, actives };
    }

    it('runs the job from a microtask, never inside submitCommand', async () => {
      const { s } = setup();
      let ran = false;
      expect(s.submitCommand('A', () => void (ran = true))).to.equal('started');
      expect(ran).to.equal(false);
      await flush();
      expect(ran).to.equal(true);
    });

    it('AABBBB → max 4', async () => {
      const { s, jobs, submit, actives } = setup();
      expect(submit('AABBBB')).to.deep.equal(['started', 'started', 'started', 'started', 'queued', 'queued']);
      expect(actives).to.deep.equal([1, 2, 3, 4, 4, 4]);
      await flush();
      expect(jobs.names()).to.deep.equal(['A1', 'A2', 'B1', 'B2']);
      // B3 only starts when a slot below G frees up.
      await jobs.release('A1');
      expect(jobs.names()).to.deep.equal(['A2', 'B1', 'B2', 'B3']);
      for (const n of ['A2', 'B1', 'B2', 'B3', 'B4']) await jobs.release(n);
      expect(jobs.started).to.have.length(6);
      expect(jobs.maxRunning).to.equal(4);
      expect(s.stats()).to.include({ maxActive: 4, active: 0, commandsQueued: 0 });
    });

    it('AABBAA → max 4', async () => {
      const { s, jobs, submit, actives } = setup();
      expect(submit('AABBAA')).to.deep.equal(['started', 'started', 'started', 'started', 'queued', 'queued']);
      expect(actives).to.deep.equal([1, 2, 3, 4, 4, 4]);
      await flush();
      expect(jobs.names()).to.deep.equal(['A1', 'A2', 'B1', 'B2']);
      expect(s.stats().perCategory.A).to.include({ active: 2, queued: 2 });
      await jobs.release('B1');
      expect(jobs.names()).to.deep.equal(['A1', 'A2', 'A3', 'B2']);
      for (const n of ['A1', 'A2', 'A3', 'A4', 'B2']) await jobs.release(n);
      expect(jobs.maxRunning).to.equal(4);
      expect(s.stats().maxActive).to.equal(4);
    });

    it('BBBAAA → max 5', async () => {
      const { s, jobs, submit, actives } = setup();
      expect(submit('BBBAAA')).to.deep.equal(['started', 'started', 'started', 'started', 'started', 'queued']);
      expect(actives).to.deep.equal([1, 2, 3, 4, 5, 5]);
      await flush();
      expect(jobs.names()).to.deep.equal(['A1', 'A2', 'B1', 'B2', 'B3']);
      // A3 is blocked by A's reservation (a_A = 2) and by active ≥ G, until an A finishes.
      await jobs.release('B1');
      expect(jobs.names()).to.deep.equal(['A1', 'A2', 'B2', 'B3']);
      await jobs.release('A1');
      expect(jobs.names()).to.deep.equal(['A2', 'A3', 'B2', 'B3']);
      for (const n of ['A2', 'A3', 'B2', 'B3']) await jobs.release(n);
      expect(jobs.maxRunning).to.equal(5);
      expect(s.stats().maxActive).to.equal(5);
    });

    it('BBBBBBAAA → max 6; A3 overtakes the blocked B5 as soon as an A finishes', async () => {
      const { s, jobs, submit, actives } = setup();
      expect(submit('BBBBBBAAA')).to.deep.equal([
        'started', 'started', 'started', 'started', 'queued', 'queued', 'started', 'started', 'queued',
      ]);
      expect(actives).to.deep.equal([1, 2, 3, 4, 4, 4, 5, 6, 6]);
      await flush();
      expect(jobs.names()).to.deep.equal(['A1', 'A2', 'B1', 'B2', 'B3', 'B4']);

      await jobs.release('A1');
      // a_A dropped to 1 < 2: the walk skips B5 (B has no reservation, active 5 ≥ 4) and starts A3.
      expect(jobs.names()).to.deep.equal(['A2', 'A3', 'B1', 'B2', 'B3', 'B4']);
      expect(s.stats().perCategory.B).to.include({ active: 4, queued: 2 });

      // The queued B's wait until active drops below G = 4, i.e. three jobs running.
      await jobs.release('B1');
      expect(jobs.running.size).to.equal(5);
      await jobs.release('B2');
      expect(jobs.running.size).to.equal(4);
      expect(jobs.running.has('B5')).to.equal(false);
      await jobs.release('B3');
      expect(jobs.names()).to.deep.equal(['A2', 'A3', 'B4', 'B5']);
      await jobs.release('B4');
      expect(jobs.names()).to.deep.equal(['A2', 'A3', 'B5', 'B6']);
      for (const n of ['A2', 'A3', 'B5', 'B6']) await jobs.release(n);
      expect(jobs.started).to.have.length(9);
      expect(jobs.maxRunning).to.equal(6);
      expect(s.stats()).to.include({ maxActive: 6, active: 0 });
    });
  });

  describe('inject_task (upstream test_inject.cpp)', () => {
    it('G = 1, category reserving 3: 3 run, the 4th after a release; injected tasks share the limit', async () => {
      const s = make({ generalThreads: 1 });
      s.addCategory('public', 3, 200);
      s.start();
      const jobs = new Blockers();
      const r1 = ['h1', 'h2', 'h3', 'h4'].map((n) => s.submitCommand('public', jobs.job(n), `public.hello`));
      expect(r1).to.deep.equal(['started', 'started', 'started', 'queued']);
      await flush();
      expect(jobs.names()).to.deep.equal(['h1', 'h2', 'h3']);
      await jobs.release('h1');
      expect(jobs.names()).to.deep.equal(['h2', 'h3', 'h4']);
      for (const n of ['h2', 'h3', 'h4']) await jobs.release(n);
      expect(s.stats().active).to.equal(0);

      // One command, one injected task, one command: all under the reservation of 3.
      const r2 = [
        s.submitCommand('public', jobs.job('c1')),
        s.injectTask('public', 'inj1', 'local', jobs.job('i1')),
        s.submitCommand('public', jobs.job('c2')),
      ];
      expect(r2).to.deep.equal(['started', 'started', 'started']);
      // The next three injected tasks queue: category at its reservation and active ≥ G.
      const r3 = ['i2', 'i3', 'i4'].map((n) => s.injectTask('public', n, 'local', jobs.job(n)));
      expect(r3).to.deep.equal(['queued', 'queued', 'queued']);
      expect(s.stats().perCategory.public).to.include({ active: 3, queued: 3 });
      await flush();
      expect(jobs.names()).to.deep.equal(['c1', 'c2', 'i1']);
      await jobs.release('i1');
      expect(jobs.names()).to.deep.equal(['c1', 'c2', 'i2']);
      for (const n of ['c1', 'c2', 'i2', 'i3', 'i4']) await jobs.release(n);
      expect(jobs.started).to.deep.equal(['h1', 'h2', 'h3', 'h4', 'c1', 'i1', 'c2', 'i2', 'i3', 'i4']);
      expect(s.stats().maxActive).to.equal(3);
    });

    it('ignores a null task and counts nothing', () => {
      const s = make({ generalThreads: 1 });
      s.addCategory('public', 0, 200);
      s.start();
      expect(s.injectTask('public', 'x', 'y', null)).to.equal('dropped');
      expect(s.stats().perCategory.public).to.include({ active: 0, queued: 0, dropped: 0 });
    });

    it('holds commands submitted before start() and admits them at start', async () => {
      const s = make({ generalThreads: 1 });
      s.addCategory('c', 0, 200);
      const ran: number[] = [];
      expect(s.submitCommand('c', () => void ran.push(1))).to.equal('queued');
      expect(s.injectTask('c', 'x', 'y', () => void ran.push(2))).to.equal('queued');
      await flush();
      expect(ran).to.deep.equal([]);
      s.start();
      await flush();
      expect(ran).to.deep.equal([1, 2]);
    });
  });

  describe('max queue', () => {
    it('drops commands beyond maxQueue silently, with a warning and a count', async () => {
      const logger = captureLogger();
      const s = make({ generalThreads: 1, logger });
      s.addCategory('q', 0, 2);
      s.start();
      const jobs = new Blockers();
      const results = ['q1', 'q2', 'q3', 'q4', 'q5', 'q6'].map((n) => s.submitCommand('q', jobs.job(n), n));
      expect(results).to.deep.equal(['started', 'queued', 'queued', 'dropped', 'dropped', 'dropped']);
      expect(s.stats().perCategory.q).to.include({ active: 1, queued: 2, dropped: 3 });
      expect(s.stats().dropped).to.equal(3);
      expect(logger.warnings).to.have.length(3);
      expect(logger.warnings[0]).to.match(/dropping q4.*queue is full/);
      for (const n of ['q1', 'q2', 'q3']) await jobs.release(n);
      expect(jobs.started).to.deep.equal(['q1', 'q2', 'q3']);
    });

    it('maxQueue 0 never queues', async () => {
      const s = make({ generalThreads: 1 });
      s.addCategory('z', 1, 0);
      s.addCategory('other', 0, 200);
      s.start();
      const jobs = new Blockers();
      expect(s.submitCommand('other', jobs.job('o1'))).to.equal('started');
      // Reservation still admits one above G; the next has nowhere to wait.
      expect(s.submitCommand('z', jobs.job('z1'))).to.equal('started');
      expect(s.submitCommand('z', jobs.job('z2'))).to.equal('dropped');
      expect(s.stats().perCategory.z).to.include({ queued: 0, dropped: 1 });
    });

    it('maxQueue −1 queues without limit', async () => {
      const s = make({ generalThreads: 1 });
      s.addCategory('u', 0, -1);
      s.start();
      const first = gate();
      s.submitCommand('u', () => first.promise);
      let ran = 0;
      for (let i = 0; i < 1000; i++) expect(s.submitCommand('u', () => void ran++)).to.equal('queued');
      expect(s.stats().perCategory.u).to.include({ queued: 1000, dropped: 0 });
      first.open();
      await flush();
      expect(ran).to.equal(1000);
    });
  });

  describe('flood', () => {
    it('keeps serving a reserved category while thousands of commands flood another', async () => {
      const s = make({ generalThreads: 2, batchThreads: 0, replyThreads: 0 });
      s.addCategory('flood', 0, -1);
      s.addCategory('sys', 1, 200);
      s.start();
      const floodOrder: number[] = [];
      const N = 4000;
      for (let i = 0; i < N; i++) {
        // Each flood job takes one event-loop turn, so the flood lasts N/2 turns.
        s.submitCommand('flood', () => new Promise<void>((res) => setImmediate(() => (floodOrder.push(i), res()))));
      }
      expect(s.stats().perCategory.flood.queued).to.equal(N - 2);

      let sysServed = 0;
      let rounds = 0;
      while (s.stats().perCategory.flood.queued > 100) {
        expect(s.submitCommand('sys', () => void sysServed++)).to.equal('started');
        await flush();
        rounds++;
      }
      expect(sysServed).to.equal(rounds);
      expect(rounds).to.be.greaterThan(100);

      // A second sys command queued behind the backlog overtakes it as soon as the first ends.
      const sys1 = gate();
      let sys2 = false;
      expect(s.submitCommand('sys', () => sys1.promise)).to.equal('started');
      expect(s.submitCommand('sys', () => void (sys2 = true))).to.equal('queued');
      await flush();
      expect(sys2).to.equal(false);
      sys1.open();
      await flush();
      expect(sys2).to.equal(true);
      expect(s.stats().perCategory.flood.queued).to.be.greaterThan(0);

      while (floodOrder.length < N) await flush();
      expect(floodOrder.every((v, i) => v === i)).to.equal(true);
      expect(s.stats().maxActive).to.equal(3);
    });
  });

  describe('reply queue', () => {
    it('G = 1 with 0 batch and 0 reply threads still serves successive replies', async () => {
      const s = make({ generalThreads: 1, batchThreads: 0, replyThreads: 0 });
      s.addCategory('sn', 0, 200);
      s.start();
      let answered = 0;
      // Each "request" is a command whose handler's reply is processed as a reply job.
      for (let i = 0; i < 20; i++) {
        s.submitCommand('sn', () => s.submitReply(() => void answered++));
        await flush();
        expect(answered).to.equal(i + 1);
      }
      // A reply arriving while the only slot is busy waits for it, then runs.
      const busy = gate();
      s.submitCommand('sn', () => busy.promise);
      s.submitReply(() => void answered++);
      await flush();
      expect(s.stats().replyQueued).to.equal(1);
      busy.open();
      await flush();
      expect(answered).to.equal(21);
    });

    it('a reply may run above G on its reserved slot', async () => {
      const s = make({ generalThreads: 1, batchThreads: 0, replyThreads: 1 });
      s.addCategory('c', 0, 200);
      s.start();
      const busy = gate();
      s.submitCommand('c', () => busy.promise);
      let replied = false;
      s.submitReply(() => void (replied = true));
      await flush();
      expect(replied).to.equal(true);
      busy.open();
    });
  });

  describe('tagged threads (upstream test_tagged_threads.cpp)', () => {
    it('G = 2, B = 2: two long job()s block a third while tagged jobs run at once and in order', async () => {
      const s = make({ generalThreads: 2, batchThreads: 2 });
      const t1 = s.addTaggedThread('t1');
      s.start();
      const jobs = new Blockers();
      s.job(jobs.job('long1'));
      s.job(jobs.job('long2'));
      s.job(jobs.job('third'));
      await flush();
      expect(jobs.names()).to.deep.equal(['long1', 'long2']);
      expect(s.stats()).to.include({ batchActive: 2, batchQueued: 1 });

      const order: number[] = [];
      let concurrent = 0;
      let maxConcurrent = 0;
      for (let i = 0; i < 100; i++) {
        s.job(async () => {
          maxConcurrent = Math.max(maxConcurrent, ++concurrent);
          await Promise.resolve();
          order.push(i);
          concurrent--;
        }, t1);
      }
      while (order.length < 100) await flush();
      expect(order).to.deep.equal([...Array(100).keys()]);
      expect(maxConcurrent).to.equal(1);
      expect(jobs.names()).to.deep.equal(['long1', 'long2']);
      // Tagged threads are outside active / G / M.
      expect(s.stats().active).to.equal(2);

      await jobs.release('long1');
      expect(jobs.names()).to.deep.equal(['long2', 'third']);
      await jobs.release('long2');
      await jobs.release('third');
    });

    it('runs the start callback only after start(), before jobs already sent to the thread', async () => {
      const s = make({ generalThreads: 1 });
      const seen: string[] = [];
      const t = s.addTaggedThread('worker', () => void seen.push('start'));
      s.job(() => void seen.push('job'), t);
      await flush();
      expect(seen).to.deep.equal([]);
      expect(s.stats().tagged.worker).to.deep.equal({ busy: false, queued: 2 });
      s.start();
      await flush();
      expect(seen).to.deep.equal(['start', 'job']);
    });

    it('closing an unstarted instance with tagged threads is clean and never starts them', async () => {
      const s = make();
      let started = false;
      s.addTaggedThread('never', () => void (started = true));
      await s.close();
      await s.close();
      await flush();
      expect(started).to.equal(false);
    });

    it('runs a batch completion on the named tagged thread (sum 45)', async () => {
      const s = make({ generalThreads: 2 });
      const t = s.addTaggedThread('collector');
      s.start();
      // Occupy the thread: a completion routed there must wait behind this.
      const hold = gate();
      s.job(() => hold.promise, t);
      let sum = -1;
      const b = new Batch<number>();
      for (let i = 0; i < 10; i++) b.addJob(() => i);
      b.completion((results) => {
        sum = results.reduce((acc, r) => acc + r.get(), 0);
      }, t);
      s.batch(b);
      await flush();
      expect(sum).to.equal(-1);
      hold.open();
      await flush();
      expect(sum).to.equal(45);
    });

    it('runs a timer targeted at a tagged thread on that thread', async () => {
      const clock = new ManualClock();
      const s = make({ generalThreads: 2, clock });
      const t = s.addTaggedThread('ticker');
      s.start();
      const hold = gate();
      s.job(() => hold.promise, t);
      let ticks = 0;
      s.addTimer(() => void ticks++, 5, { thread: t });
      clock.advance(5);
      await flush();
      expect(ticks).to.equal(0);
      expect(s.stats().tagged.ticker.queued).to.equal(1);
      hold.open();
      await flush();
      expect(ticks).to.equal(1);
    });

    it('refuses unknown tagged threads and the proxy for jobs', () => {
      const s = make();
      s.start();
      expectOmqError(() => s.job(() => {}, 7 as never), OmqErrorCode.INVALID_ARGUMENT);
      expectOmqError(() => s.job(() => {}, RUN_IN_PROXY), OmqErrorCode.INVALID_ARGUMENT);
      const b = new Batch().addJob(() => 1, 3 as never);
      expectOmqError(() => s.batch(b), OmqErrorCode.INVALID_ARGUMENT);
    });
  });

  describe('batches (upstream test_batch.cpp)', () => {
    function doMyTask(input: number): number {
      if (input % 10 === 7) throw new RangeError("I don't do '7s, sorry");
      if (input === 1) return 5;
      return 3 * input;
    }

    it('32 jobs: sum 1337 and 3 exceptions, errors through get()', async () => {
      const s = make({ generalThreads: 4 });
      s.start();
      const b = new Batch<number>();
      b.reserve(32);
      for (let i = 0; i < 32; i++) b.addJob(() => doMyTask(i));
      expect(b.size).to.equal(32);
      let sum = 0;
      const errors: string[] = [];
      let done = false;
      b.completion((results) => {
        expect(results).to.have.length(32);
        for (const r of results) {
          try {
            sum += r.get();
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
        done = true;
      });
      s.batch(b);
      while (!done) await flush();
      expect(sum).to.equal(1337);
      expect(errors).to.deep.equal(Array(3).fill("I don't do '7s, sorry"));
    });

    it('captures values and errors of async jobs in order, with ok/value/error accessors', async () => {
      const s = make({ generalThreads: 2 });
      s.start();
      const boom = new TypeError('boom');
      let results: JobResult<string>[] = [];
      const b = new Batch<string>()
        .addJob(async () => 'a')
        .addJob(() => Promise.reject(boom))
        .addJob(() => 'c')
        .addJob(() => {
          throw boom;
        })
        .completion((r) => void (results = r));
      s.batch(b);
      while (results.length === 0) await flush();
      expect(results.map((r) => r.ok)).to.deep.equal([true, false, true, false]);
      expect(results[0]!.get()).to.equal('a');
      expect(results[0]!.value).to.equal('a');
      expect(results[0]!.error).to.equal(undefined);
      expect(() => results[1]!.get()).to.throw(TypeError, 'boom');
      expect(results[1]!.error).to.equal(boom);
      expect(results[1]!.value).to.equal(undefined);
      expect(results[2]!.get()).to.equal('c');
      expect(() => results[3]!.get()).to.throw(TypeError, 'boom');
    });

    it('void batches propagate exceptions through get() too', async () => {
      const s = make({ generalThreads: 1 });
      s.start();
      let results: JobResult<void>[] = [];
      s.batch(
        new Batch<void>()
          .addJob(() => {})
          .addJob(() => {
            throw new Error('void failure');
          })
          .completion((r) => void (results = r)),
      );
      while (results.length === 0) await flush();
      expect(results[0]!.get()).to.equal(undefined);
      expect(() => results[1]!.get()).to.throw('void failure');
    });

    it('enforces the batch rules: no empty batch, one completion, nothing after submission', () => {
      const s = make();
      s.start();
      expectOmqError(() => s.batch(new Batch()), OmqErrorCode.INVALID_ARGUMENT);
      const b = new Batch().addJob(() => 1).completion(() => {});
      expectOmqError(() => b.completion(() => {}), OmqErrorCode.INVALID_STATE);
      s.batch(b);
      expectOmqError(() => b.addJob(() => 2), OmqErrorCode.INVALID_STATE);
      expectOmqError(() => s.batch(b), OmqErrorCode.INVALID_STATE);
      const c = new Batch().addJob(() => 1);
      s.batch(c);
      expectOmqError(() => c.completion(() => {}), OmqErrorCode.INVALID_STATE);
      expectOmqError(() => new Batch().addJob(() => 1, RUN_IN_PROXY), OmqErrorCode.INVALID_ARGUMENT);
    });

    it('runs a RUN_IN_PROXY completion directly, holding no slot', async () => {
      const s = make({ generalThreads: 2, batchThreads: 0, replyThreads: 0 });
      s.start();
      let seen: { batchActive: number; active: number } | undefined;
      s.batch(
        new Batch<number>()
          .addJob(() => 1)
          .addJob(() => 2)
          .completion(() => {
            const st = s.stats();
            seen = { batchActive: st.batchActive, active: st.active };
          }, RUN_IN_PROXY),
      );
      await flush();
      // A completion on the batch queue would itself hold a batch slot while running.
      expect(seen).to.deep.equal({ batchActive: 0, active: 0 });
    });

    it('queues a batch completion on the batch queue by default', async () => {
      const s = make({ generalThreads: 2, batchThreads: 0, replyThreads: 0 });
      s.start();
      let batchActive = -1;
      s.batch(
        new Batch<number>().addJob(() => 1).completion(() => {
          batchActive = s.stats().batchActive;
        }),
      );
      await flush();
      expect(batchActive).to.equal(1);
    });

    it('holds batch jobs submitted before start() until start()', async () => {
      const s = make({ generalThreads: 1 });
      let ran = 0;
      s.job(() => void ran++);
      s.submitBatchJob(() => void ran++);
      s.submitReply(() => void ran++);
      await flush();
      expect(ran).to.equal(0);
      s.start();
      await flush();
      expect(ran).to.equal(3);
    });
  });

  describe('timers (upstream test_timer.cpp)', () => {
    /** Advances a manual clock 1 ms at a time, letting jobs run in between. */
    async function tick(clock: ManualClock, ms: number): Promise<void> {
      for (let i = 0; i < ms; i++) {
        clock.advance(1);
        await flush();
      }
    }

    it('a 5 ms timer ticks more than 3 times within 50 ms', async () => {
      const clock = new ManualClock();
      const s = make({ generalThreads: 2, clock });
      s.start();
      let ticks = 0;
      s.addTimer(() => void ticks++, 5);
      await tick(clock, 4);
      expect(ticks).to.equal(0);
      await tick(clock, 46);
      expect(ticks).to.be.greaterThan(3);
      expect(ticks).to.equal(10);
    });

    it('squelch: a 5 ms timer whose first run takes 30 ms ticks once; unsquelched it keeps ticking', async () => {
      async function run(squelch: boolean): Promise<number> {
        const clock = new ManualClock();
        const s = make({ generalThreads: 4, clock });
        s.start();
        let first = true;
        let done = false;
        let ticks = 0;
        const id = s.addTimer(
          () => {
            if (first) {
              first = false;
              // The 30 ms run is timed on the test's ManualClock, not a real timer.
              return new Promise<void>((res) =>
                clock.setTimeout(() => {
                  ticks++;
                  done = true;
                  res();
                }, 30),
              );
            }
            if (!done) ticks++;
            return undefined;
          },
          5,
          { squelch },
        );
        while (!done) await tick(clock, 1);
        await tick(clock, 20);
        s.cancelTimer(id);
        return ticks;
      }
      expect(await run(true)).to.equal(1);
      expect(await run(false)).to.be.greaterThan(2);
    });

    it('a timer cancelled before start() never fires; cancel is idempotent', async () => {
      const clock = new ManualClock();
      const s = make({ clock });
      let ticks = 0;
      const id = s.addTimer(() => void ticks++, 5);
      s.cancelTimer(id);
      s.cancelTimer(id);
      s.start();
      await tick(clock, 50);
      expect(ticks).to.equal(0);
      expect(clock.pending).to.equal(0);
    });

    it('a timer that cancels itself on its 3rd tick ticks exactly 3 times', async () => {
      const clock = new ManualClock();
      const s = make({ clock });
      s.start();
      let ticks = 0;
      const id = s.addTimer(() => {
        if (++ticks === 3) s.cancelTimer(id);
      }, 5);
      await tick(clock, 100);
      expect(ticks).to.equal(3);
    });

    it('a timer added before start() whose first firing passed fires at start', async () => {
      const clock = new ManualClock();
      const s = make({ clock });
      let ticks = 0;
      s.addTimer(() => void ticks++, 5);
      clock.advance(20);
      await flush();
      expect(ticks).to.equal(0);
      s.start();
      await flush();
      expect(ticks).to.equal(1);
      // The next firing is counted from that processing, not caught up.
      await tick(clock, 4);
      expect(ticks).to.equal(1);
      await tick(clock, 1);
      expect(ticks).to.equal(2);
    });

    it('reschedules from the processed firing (no catch-up) and keeps already-queued runs after cancel', async () => {
      const clock = new ManualClock();
      const s = make({ generalThreads: 1, batchThreads: 0, replyThreads: 0, clock });
      s.addCategory('c', 0, 200);
      s.start();
      const busy = gate();
      s.submitCommand('c', () => busy.promise);
      let ticks = 0;
      const id = s.addTimer(() => void ticks++, 5);
      clock.advance(5);
      // The firing is queued as a batch job behind the busy slot; squelch skips later firings.
      clock.advance(5);
      clock.advance(5);
      expect(s.stats().batchQueued).to.equal(1);
      s.cancelTimer(id);
      busy.open();
      await flush();
      expect(ticks).to.equal(1);
      await tick(clock, 20);
      expect(ticks).to.equal(1);
    });

    it('refuses a non-positive or non-finite interval', () => {
      const s = make();
      for (const ms of [0, -1, Infinity, NaN]) expectOmqError(() => s.addTimer(() => {}, ms), OmqErrorCode.INVALID_ARGUMENT);
      expectOmqError(() => s.addTimer(() => {}, 5, { thread: 9 as never }), OmqErrorCode.INVALID_ARGUMENT);
    });

    it('runs a RUN_IN_PROXY timer directly when it fires', () => {
      const clock = new ManualClock();
      const s = make({ generalThreads: 1, clock });
      s.start();
      let ticks = 0;
      s.addTimer(() => void ticks++, 5, { thread: RUN_IN_PROXY });
      clock.advance(5);
      expect(ticks).to.equal(1);
      clock.advance(5);
      expect(ticks).to.equal(2);
      expect(s.stats().maxActive).to.equal(0);
    });
  });

  describe('errors', () => {
    it('catches, logs and reports thrown and rejected errors from every kind of job', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (err: unknown) => void unhandled.push(err);
      process.on('unhandledRejection', onUnhandled);
      try {
        const clock = new ManualClock();
        const logger = captureLogger();
        const reported: JobErrorInfo['kind'][] = [];
        const s = make({ generalThreads: 2, clock, logger, onError: (_err, info) => void reported.push(info.kind) });
        s.addCategory('c', 0, 200);
        const t = s.addTaggedThread('t', () => {
          throw new Error('start');
        });
        s.start();
        const fail = () => {
          throw new Error('sync');
        };
        const reject = () => Promise.reject(new Error('async'));
        s.submitCommand('c', fail);
        s.submitCommand('c', reject);
        s.injectTask('c', 'x', 'y', reject);
        s.submitReply(fail);
        s.submitReply(reject);
        s.submitBatchJob(reject);
        s.job(fail);
        s.job(reject, t);
        s.batch(new Batch().addJob(reject)); // no completion: nobody else would see it
        s.batch(new Batch().addJob(() => 1).completion(reject));
        s.batch(new Batch().addJob(() => 1).completion(fail, RUN_IN_PROXY));
        s.addTimer(fail, 5);
        s.addTimer(reject, 5, { thread: RUN_IN_PROXY });
        clock.advance(5);
        for (let i = 0; i < 5; i++) await flush();
        expect(reported.sort()).to.deep.equal(
          [
            'batch',
            'batch',
            'command',
            'command',
            'command',
            'completion',
            'completion',
            'job',
            'job',
            'reply',
            'reply',
            'tagged-start',
            'timer',
            'timer',
          ].sort(),
        );
        expect(logger.errors).to.have.length(14);
        expect(s.stats().active).to.equal(0);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      expect(unhandled).to.deep.equal([]);
    });

    it('survives an onError hook that throws', async () => {
      const logger = captureLogger();
      const s = make({
        generalThreads: 1,
        logger,
        onError: () => {
          throw new Error('hook');
        },
      });
      s.start();
      let after = false;
      s.job(() => {
        throw new Error('job');
      });
      s.job(() => void (after = true));
      await flush();
      await flush();
      expect(after).to.equal(true);
      expect(logger.errors.map((e) => e[0])).to.deep.equal(['scheduler: job job failed', 'scheduler: onError hook threw']);
    });
  });

  describe('close()', () => {
    it('cancels timers, discards queued work, stops admitting, and is idempotent', async () => {
      const clock = new ManualClock();
      const s = make({ generalThreads: 1, batchThreads: 0, replyThreads: 0, clock });
      s.addCategory('c', 0, 200);
      s.start();
      const busy = gate();
      let ran = 0;
      s.submitCommand('c', () => busy.promise);
      s.submitCommand('c', () => void ran++);
      s.submitReply(() => void ran++);
      s.job(() => void ran++);
      s.addTimer(() => void ran++, 5);
      const p = s.close();
      expect(s.close()).to.equal(p);
      await p;
      expect(clock.pending).to.equal(0);
      expect(s.stats().queued).to.equal(0);
      busy.open();
      await flush();
      clock.advance(50);
      await flush();
      expect(ran).to.equal(0);
      expect(s.submitCommand('c', () => void ran++)).to.equal('dropped');
      s.submitReply(() => void ran++);
      expectOmqError(() => s.job(() => {}), OmqErrorCode.CLOSED);
      expectOmqError(() => s.addTimer(() => {}, 5), OmqErrorCode.CLOSED);
      expectOmqError(() => s.start(), OmqErrorCode.CLOSED);
      await flush();
      expect(ran).to.equal(0);
    });
  });
});
