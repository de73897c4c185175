/**
 * The injectable clock behind every timer of the wire layer (handshake timeout, heartbeats,
 * reconnect back-off), so that liveness tests advance time by hand instead of sleeping.
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** The few time primitives the wire layer uses. */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /**
   * Calls `fn` once after `ms` milliseconds. The timer does not keep the process alive unless
   * `keepAlive` is set (for pending work with no socket open, such as a reconnect back-off).
   */
  setTimeout(fn: () => void, ms: number, keepAlive?: boolean): TimerHandle;
  /** Cancels a timer from {@link Clock.setTimeout}; a handle that already fired is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock: `performance.now()` and the runtime's timers, unref'ed where they can be (Node,
 * Bun, Deno: a timer that is not `keepAlive` does not hold the process open; a browser's timers
 * have no such notion).
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms, keepAlive = false) {
    const t: unknown = setTimeout(fn, ms);
    if (!keepAlive) (t as { unref?: () => void }).unref?.();
    return t as TimerHandle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0]);
  },
};

/**
 * A manual clock for tests: time moves only when {@link ManualClock.advance} is called, and due
 * timers fire in deadline order during the advance.
 */
export class ManualClock implements Clock {
  private current = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  /** The manual time in ms: 0 at construction, moved only by advance(). */
  now(): number {
    return this.current;
  }

  /** Arms `fn` to run once the manual time has advanced `ms` from now. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return id;
  }

  /** Disarms a timer; a handle that already fired is ignored. */
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Number of timers still armed. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (t.at < nextAt || (t.at === nextAt && id < nextId))) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const t = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.current = Math.max(this.current, t.at);
      t.fn();
    }
    this.current = end;
  }
}
