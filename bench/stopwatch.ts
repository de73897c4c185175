/** The bench's two clocks: wall time, and the CPU time this process spends. */
import { performance } from 'node:perf_hooks';

/** CPU time (user + system, every thread) this process has used so far, in µs. */
export function cpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

/**
 * Wall time and this process's CPU time (user + system, all threads: libzmq's I/O thread counts
 * for zeromq, worker threads for the batch case) from construction: what a trial took, and what
 * it cost.
 */
export class Stopwatch {
  private readonly t0 = performance.now();
  private readonly cpu0 = cpuUs();

  /** Wall ns up to `now`, and CPU µs up to this call. */
  read(now = performance.now()): { elapsedNs: number; cpuUs: number } {
    return { elapsedNs: (now - this.t0) * 1e6, cpuUs: cpuUs() - this.cpu0 };
  }
}
