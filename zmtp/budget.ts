/**
 * A byte budget shared by many connections: the per-process half of the wire layer's memory
 * limits (the per-connection half is a number in the options). libzmq has no such thing: its
 * limits are per pipe and count messages (`src/pipe.cpp`, `pipe_t::check_write` against
 * ZMQ_SNDHWM / ZMQ_RCVHWM), so memory grows with message size × peers. Here the bytes that
 * peers make us hold are counted, per direction, in one of these:
 *
 * - output: bytes of messages accepted for sending and not yet handed to a socket (the send
 *   queues); past the budget a send fails with QUEUE_FULL, as at libzmq's mark;
 * - input: bytes of frames and multipart messages received in part; past the budget connections
 *   stop reading (TCP backpressure) until the total falls back under it.
 *
 * Every transport's connection charges the same budget the same way: the accounting lives in
 * the connection, its decoder and its send queue, never in TCP-specific code.
 */

/** Bytes counted against a limit, with callbacks for whoever waits for room. */
export class ByteBudget {
  /** Bytes counted now (read it; {@link ByteBudget.charge} and {@link ByteBudget.release} move it). */
  used = 0;
  readonly #waiters = new Set<() => void>();
  /** True while someone waits: keeps {@link ByteBudget.release} to one subtraction otherwise. */
  #waiting = false;

  /** Most bytes counted at once; −1 for no limit (then it only counts). */
  readonly limit: number;

  /** @param limit most bytes counted at once; −1 for no limit (then it only counts). */
  constructor(limit: number) {
    if (!(limit === -1 || (Number.isSafeInteger(limit) && limit >= 0))) {
      throw new RangeError('a byte budget must be -1 or a non-negative integer');
    }
    this.limit = limit;
  }

  /** True when `n` more bytes stay within the limit. */
  fits(n: number): boolean {
    return this.limit < 0 || this.used + n <= this.limit;
  }

  /** True while the count is above the limit. */
  get over(): boolean {
    return this.limit >= 0 && this.used > this.limit;
  }

  /** Counts `n` more bytes (the caller has checked {@link ByteBudget.fits} where it must). */
  charge(n: number): void {
    this.used += n;
  }

  /** Stops counting `n` bytes; wakes the waiters once the count is within the limit. */
  release(n: number): void {
    this.used -= n;
    if (this.#waiting && !this.over) {
      const all = [...this.#waiters];
      this.#waiters.clear();
      this.#waiting = false;
      for (const w of all) w();
    }
  }

  /** Calls `cb` once, the next time the count falls within the limit. */
  waitForRoom(cb: () => void): void {
    this.#waiters.add(cb);
    this.#waiting = true;
  }

  /** Forgets a callback given to {@link ByteBudget.waitForRoom}. */
  cancelWait(cb: () => void): void {
    this.#waiters.delete(cb);
    this.#waiting = this.#waiters.size > 0;
  }
}

/** A budget that never refuses (for callers that give none). */
export function unlimitedBudget(): ByteBudget {
  return new ByteBudget(-1);
}
