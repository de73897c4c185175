/**
 * A CPU-bound job for the batch case, loaded by worker threads by URL (dist/bench/jobs.js).
 * Pure integer work (xorshift32) so it neither allocates nor touches I/O: the time it takes is
 * the time a core spends on it, and the result proves the job really ran.
 */

/** Runs `iterations` xorshift32 steps from `seed` and returns the final state. */
export function spin(iterations: number, seed = 0x9e3779b9): number {
  let x = seed | 0 || 1;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x >>> 0;
}
