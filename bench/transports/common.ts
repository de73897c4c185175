/**
 * Pieces every transport shares: the sink's bookkeeping, the trial budget (duration or count),
 * round-trip time recording, and concurrent loops for the handshake case.
 */
import { performance } from 'node:perf_hooks';
import { ACK, END, checkPayload } from '../payload.js';
import type { SinkReport } from '../protocol.js';
import { percentileSorted } from '../stats.js';
import { Stopwatch } from '../stopwatch.js';

/** A listening bench server. */
export interface RunningServer {
  endpoint: string;
  close(): Promise<void>;
}

/** When a trial stops: after `durationMs` or after exactly `count` items. */
export class Budget {
  private deadline = 0;
  constructor(
    private readonly durationMs: number,
    private readonly count: number | null,
  ) {}

  /** Starts the clock (duration mode). */
  start(): void {
    this.deadline = performance.now() + this.durationMs;
  }

  /** Whether item number `n` (0-based) should still be started. */
  more(n: number): boolean {
    if (this.count !== null) return n < this.count;
    return performance.now() < this.deadline;
  }

  /**
   * Cheaper variant for tight send loops: reads the clock only every 256 items, which overshoots
   * a duration by at most 255 messages (microseconds), never a count.
   */
  moreCoarse(n: number): boolean {
    if (this.count !== null) return n < this.count;
    return (n & 255) !== 0 || performance.now() < this.deadline;
  }
}

/** Counts one-way messages from one sender and answers its END marker (libzmq local_thr's job). */
export class Sink {
  private received = 0;
  private bytes = 0;
  private bad = 0;
  private t0 = 0;

  constructor(
    private readonly size: number,
    private readonly verbose: boolean,
  ) {}

  /** Takes one incoming message; returns the ACK frames once END arrives, else null. */
  onMessage(frames: Buffer[]): Buffer[] | null {
    if (frames.length === 1) {
      if (this.received === 0) this.t0 = performance.now();
      const body = frames[0]!;
      if (!checkPayload(body, this.received, this.size)) this.bad++;
      this.received++;
      this.bytes += body.length;
      return null;
    }
    if (frames.length === 2 && frames[0]!.equals(END)) {
      const report: SinkReport = {
        received: this.received,
        bytes: this.bytes,
        elapsedNs: this.received === 0 ? 0 : (performance.now() - this.t0) * 1e6,
        bad: this.bad,
      };
      if (this.verbose) printLocalThr(report, this.size);
      return [ACK, Buffer.from(JSON.stringify(report))];
    }
    this.bad++;
    return null;
  }
}

/** The receiver-side block libzmq's local_thr prints, for --bind runs. */
export function printLocalThr(r: SinkReport, size: number): void {
  const secs = r.elapsedNs / 1e9;
  const thr = secs > 0 ? r.received / secs : 0;
  process.stdout.write(
    `message size: ${size} [B]\nmessage count: ${r.received}\nmean throughput: ${Math.round(thr)} [msg/s]\n` +
      `mean throughput: ${((thr * size * 8) / 1e6).toFixed(3)} [Mb/s]\n${r.bad ? `BAD messages: ${r.bad}\n` : ''}\n`,
  );
}

/** Parses the sink's ACK answer. */
export function parseAck(frames: Buffer[]): SinkReport | null {
  if (frames.length !== 2 || !frames[0]!.equals(ACK)) return null;
  return JSON.parse(frames[1]!.toString()) as SinkReport;
}

/** Round-trip times in ns, summarised by percentile. */
export class RttRecorder {
  // Capped so a long --duration run cannot grow without bound; 4M samples is far beyond a
  // sensible trial at the rates seen here.
  private samples = new Float64Array(1 << 12);
  private n = 0;

  record(ns: number): void {
    if (this.n === this.samples.length) {
      if (this.n >= 1 << 22) return;
      const bigger = new Float64Array(this.n * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ns;
  }

  summary(): { p50: number; p99: number; mean: number } {
    const s = this.samples.subarray(0, this.n).sort();
    let sum = 0;
    for (let i = 0; i < s.length; i++) sum += s[i]!;
    return { p50: percentileSorted(s, 50), p99: percentileSorted(s, 99), mean: s.length ? sum / s.length : NaN };
  }
}

/**
 * Runs `one()` with `concurrency` calls outstanding until the budget is spent; returns how many
 * were started and finished, the elapsed ns and the CPU µs. A failure rejects the whole run.
 */
export async function runConcurrent(
  budget: Budget,
  concurrency: number,
  one: () => Promise<void>,
): Promise<{ started: number; completed: number; elapsedNs: number; cpuUs: number }> {
  let started = 0;
  let completed = 0;
  const sw = new Stopwatch();
  budget.start();
  const lane = async () => {
    while (budget.more(started)) {
      started++;
      await one();
      completed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { started, completed, ...sw.read() };
}

/** Rejects after `ms` with `what` timed out, so a wedged peer fails the case instead of hanging. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
